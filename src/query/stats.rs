//! The reader of one site's stored counts for one audience, which the
//! computations (`compute`, `comparison`, `conversion`, `engagement`,
//! `published`, `answer`) extend with their own methods.

use super::fold::Audience;
use super::params::Filter;
use crate::store::{Dim, Granularity, RowPrefix, Store};

pub struct Stats<'a> {
    pub store: &'a Store,
    pub site: &'a str,
    /// Who reads: small counts are folded or withheld for the public.
    pub audience: Audience,
}

impl Stats<'_> {
    /// The stored rows of this site under `filter`, by `breakdown`, at
    /// `granularity`.
    pub(super) fn prefix(
        &self,
        filter: &Option<Filter>,
        breakdown: Dim,
        granularity: Granularity,
    ) -> RowPrefix {
        RowPrefix {
            site: self.site.to_owned(),
            filter: filter
                .as_ref()
                .map_or((Dim::None, String::new()), |f| (f.dim, f.value.clone())),
            breakdown,
            granularity,
        }
    }
}
