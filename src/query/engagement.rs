//! Scroll depth and time on page, as Plausible defines them, from the
//! engagement sums stored per page and day (`store::Dim::Engagement`):
//!
//! - `scroll_depth`: the deepest point each pageview reached, in percent
//!   of the page's height, averaged over the pageviews that reported a
//!   depth, rounded to a whole percent;
//! - `time_on_page`: the time the page was visible and focused, summed
//!   over its engagement reports and divided by the pageviews that sent
//!   one, in whole seconds.
//!
//! Both are quotients of two exact sums, so a range's figure is the sum
//! of its days, never an average of averages. A page without reports has
//! no figure (`None`, `null` in the API). They are given to the site's
//! own readers only: an average of a few pageviews would describe them,
//! and the public's figures are sums of published cells.

use std::collections::HashMap;

use super::fold::Audience;
use super::params::{Metric, StatsQuery};
use super::period::{DateRange, read_plan, spans_a_whole_month};
use super::stats::Stats;
use crate::store::{Counts, Dim, StoreError};

/// A metric's value from a page's engagement sums; `None` where nothing
/// was reported, or for an audience that may not see it.
pub(crate) fn value(audience: Audience, metric: Metric, sums: Option<&Counts>) -> Option<f64> {
    if audience != Audience::Owner {
        return None;
    }
    let sums = sums?;
    let (total, count, scale) = match metric {
        Metric::ScrollDepth => (sums.bounces, sums.pageviews, 1.0),
        Metric::TimeOnPage => (sums.duration, sums.visits, 0.001),
        _ => return None,
    };
    (count > 0).then(|| (total as f64 * scale / count as f64).round())
}

/// Whether a query asks for scroll depth or time on page.
pub(crate) fn wanted(query: &StatsQuery) -> bool {
    query
        .metrics
        .iter()
        .any(|metric| metric.is_engagement_metric())
}

impl Stats<'_> {
    /// Each page's engagement sums over `range`: whole rolled-up months
    /// from their monthly rows, other days from their daily rows.
    pub fn engagement_per_page(
        &self,
        range: DateRange,
    ) -> Result<HashMap<String, Counts>, StoreError> {
        let mut pages: HashMap<String, Counts> = HashMap::new();
        let rolled = match spans_a_whole_month(range) {
            true => self.store.rolled_months(self.site)?,
            false => Vec::new(),
        };
        for (granularity, first, last) in read_plan(range, &rolled) {
            let prefix = self.prefix(&None, Dim::Engagement, granularity);
            self.store
                .scan_each(&prefix, first, last, |_, page, counts| {
                    match pages.get_mut(page) {
                        Some(sum) => *sum += counts,
                        None => {
                            pages.insert(page.to_owned(), counts);
                        }
                    }
                })?;
        }
        Ok(pages)
    }

    /// The engagement sums of the query's pages, when it asks for them and
    /// its audience may see them.
    pub fn engagement_of(
        &self,
        query: &StatsQuery,
    ) -> Result<Option<HashMap<String, Counts>>, StoreError> {
        if !wanted(query) || self.audience != Audience::Owner {
            return Ok(None);
        }
        self.engagement_per_page(query.range).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(views: i64, ms: i64, scrolled: i64, depth: i64) -> Counts {
        Counts {
            visits: views,
            duration: ms,
            pageviews: scrolled,
            bounces: depth,
            ..Counts::default()
        }
    }

    #[test]
    fn figures_are_quotients_of_the_sums_rounded() {
        let owner = Audience::Owner;
        let page = sums(3, 100_500, 2, 125);
        assert_eq!(value(owner, Metric::TimeOnPage, Some(&page)), Some(34.0));
        assert_eq!(value(owner, Metric::ScrollDepth, Some(&page)), Some(63.0));
        let unscrolled = sums(1, 2_000, 0, 0);
        assert_eq!(value(owner, Metric::ScrollDepth, Some(&unscrolled)), None);
        assert_eq!(value(owner, Metric::TimeOnPage, None), None);
        assert_eq!(value(owner, Metric::Visitors, Some(&page)), None);
        let public = Audience::Public { k: 1 };
        assert_eq!(value(public, Metric::TimeOnPage, Some(&page)), None);
    }
}
