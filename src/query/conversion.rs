//! Conversion rates: the people who sent a goal (a custom event, filtered
//! by `event:goal==NAME`), in percent of the people of the same row,
//! bucket or period without the goal filter, as Plausible defines
//! `conversion_rate`. Both are visitors of one local day summed over the
//! range, so a rate is a quotient of two sums of the same kind.
//!
//! Under `event:name` (no filter, or the goal's own row) each name is a
//! goal and divides by all the period's visitors. The divisor is read by
//! the same audience as the goal's figures: for the public it is itself a
//! sum of published cells, so a rate tells nothing the two figures do not.
//! The percentage itself is `rows::rate`.

use std::collections::HashMap;

use super::fold::Audience;
use super::params::{Metric, Property, StatsQuery};
use super::period::DateRange;
use super::stats::Stats;
use crate::store::{Dim, StoreError};

/// What each breakdown row's conversion rate divides by.
pub(crate) enum Bases {
    /// No rate was asked for.
    None,
    /// The same visitors for every row: the period's.
    All(i64),
    /// The visitors of each value without the goal filter.
    Each(HashMap<String, i64>),
}

impl Bases {
    pub(crate) fn of(&self, value: &str) -> Option<i64> {
        match self {
            Bases::None => None,
            Bases::All(visitors) => Some(*visitors),
            Bases::Each(visitors) => Some(visitors.get(value).copied().unwrap_or(0)),
        }
    }
}

fn wants_rate(query: &StatsQuery) -> bool {
    query.metrics.contains(&Metric::ConversionRate)
}

fn without_filter(query: &StatsQuery) -> StatsQuery {
    StatsQuery {
        filter: None,
        ..query.clone()
    }
}

impl Stats<'_> {
    /// The visitors of `range` without the filter, when a rate is asked.
    pub(super) fn base_total(
        &self,
        query: &StatsQuery,
        range: DateRange,
    ) -> Result<Option<i64>, StoreError> {
        if !wants_rate(query) {
            return Ok(None);
        }
        Ok(Some(self.totals(&None, range)?.visitors))
    }

    /// Per point of the query's series, the visitors without the filter
    /// (`None` where this audience may not see them).
    pub(crate) fn series_bases(&self, query: &StatsQuery) -> Result<Vec<Option<i64>>, StoreError> {
        if !wants_rate(query) {
            return Ok(Vec::new());
        }
        let series = self.timeseries(&without_filter(query))?;
        Ok(series
            .into_iter()
            .map(|point| point.counts.map(|counts| counts.visitors))
            .collect())
    }

    /// What each row of the query's breakdown by `property` divides by.
    pub(crate) fn row_bases(
        &self,
        query: &StatsQuery,
        property: &Property,
    ) -> Result<Bases, StoreError> {
        // The public reads no goal broken down by another property (see
        // `published`), so there is nothing to divide.
        let public_goal = self.audience != Audience::Owner && query.filter.is_some();
        if !wants_rate(query) || public_goal {
            return Ok(Bases::None);
        }
        if property.dim() == Dim::EventName {
            return Ok(Bases::All(self.totals(&None, query.range)?.visitors));
        }
        let unfiltered = StatsQuery {
            limit: usize::MAX,
            page: 1,
            ..without_filter(query)
        };
        let rows = self.breakdown(&unfiltered, property)?;
        Ok(Bases::Each(
            rows.into_iter()
                .map(|row| (row.value, row.counts.visitors))
                .collect(),
        ))
    }
}
