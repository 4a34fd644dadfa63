//! `compare=previous_period`: a metric's change over the two stretches
//! `period::compared` sets side by side.
//!
//! A running period is compared up to the last whole hour, since counts
//! are stored by the hour: whole days come from daily rows, the hours left
//! of the last day from hourly rows (so visitors there are summed per
//! hour, on both sides alike). A change against nothing is not a
//! percentage.

use super::fold::Audience;
use super::params::{Filter, Metric, StatsQuery};
use super::period::Stretch;
use super::stats::Stats;
use crate::store::{Counts, Dim, Granularity, StoreError};

/// A metric's change against the previous period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Percent, or points for the rates given in percent.
    By(f64),
    /// The previous period had nothing to compare with (no visitors, or
    /// for a figure per visit no visits; for a rate per visit this period
    /// has none either): no percentage can be given.
    AgainstNothing,
}

/// What an aggregate compared: this period's stretch and the previous
/// one's (see `period::compared`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compared {
    pub current: Stretch,
    pub previous: Stretch,
}

/// One side of a comparison: its counts, and the visitors a conversion
/// rate divides by (when a rate is asked).
pub(crate) struct Side {
    counts: Counts,
    base: Option<i64>,
}

/// Change against the previous period: percent, or points for the rates
/// given in percent (bounce rate, conversion rate). A change against
/// nothing is not a percentage: a previous period without the figure's
/// population (visitors; visits for a figure per visit; the base of a
/// conversion rate) has nothing to compare with, and neither has a rate
/// per visit of a period without visits.
pub(crate) fn change(
    metric: Metric,
    (current, now): (f64, &Counts),
    (previous, before): (f64, &Counts),
    base_before: i64,
) -> Change {
    let nothing = match metric {
        Metric::ViewsPerVisit | Metric::BounceRate | Metric::VisitDuration => {
            before.visits <= 0 || now.visits <= 0
        }
        Metric::ConversionRate => base_before <= 0,
        _ => previous == 0.0,
    };
    if nothing {
        return Change::AgainstNothing;
    }
    Change::By(match metric {
        Metric::BounceRate => current - previous,
        Metric::ConversionRate => ((current - previous) * 10.0).round() / 10.0,
        _ => ((current - previous) * 100.0 / previous).round(),
    })
}

impl Stats<'_> {
    /// Both sides of a comparison; `None` where nothing can be compared
    /// (no whole hour has passed, or the audience reads no hours here).
    pub(super) fn compared_sides(
        &self,
        query: &StatsQuery,
        compared: Compared,
    ) -> Result<Option<(Side, Side)>, StoreError> {
        if compared.current.is_empty() {
            return Ok(None);
        }
        let side = |stretch| -> Result<Option<Side>, StoreError> {
            let Some(counts) = self.stretch_totals(&query.filter, stretch)? else {
                return Ok(None);
            };
            let base = match query.metrics.contains(&Metric::ConversionRate) {
                true => self.stretch_totals(&None, stretch)?.map(|all| all.visitors),
                false => None,
            };
            Ok(Some(Side { counts, base }))
        };
        Ok(side(compared.current)?.zip(side(compared.previous)?))
    }

    /// A metric's change over the two sides, where this audience sees
    /// the figure (`value`, over the whole period) and both sides' figures.
    pub(super) fn change_of(
        &self,
        metric: Metric,
        value: Option<f64>,
        (now, before): &(Side, Side),
    ) -> Option<Change> {
        let shown = self.audience.metric(metric, &now.counts, now.base);
        let before_shown = self.audience.metric(metric, &before.counts, before.base);
        value
            .and(shown)
            .zip(before_shown)
            .map(|(shown, before_shown)| {
                change(
                    metric,
                    (shown, &now.counts),
                    (before_shown, &before.counts),
                    before.base.unwrap_or(0),
                )
            })
    }

    /// A stretch's totals as this audience may see them: its whole days as
    /// `totals` reads them, then the hours left from hourly rows (for the
    /// public, the published hours of that day). `None` where the public
    /// reads no hours: under a filter (see `published`).
    fn stretch_totals(
        &self,
        filter: &Option<Filter>,
        stretch: Stretch,
    ) -> Result<Option<Counts>, StoreError> {
        let mut total = match stretch.whole_days() {
            Some(days) => self.totals(filter, days)?,
            None => Counts::default(),
        };
        let Some((first, last)) = stretch.hours_left() else {
            return Ok(Some(total));
        };
        if self.audience != Audience::Owner {
            if filter.is_some() {
                return Ok(None);
            }
            total += self.published_hours_until(first, last)?;
            return Ok(Some(total));
        }
        self.store.scan_each(
            &self.prefix(filter, Dim::None, Granularity::Hour),
            first,
            last,
            |_, _, counts| total += counts,
        )?;
        Ok(Some(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visits(visits: i64) -> Counts {
        Counts {
            visits,
            ..Counts::default()
        }
    }

    fn changed(metric: Metric, now: f64, before: f64) -> Change {
        change(metric, (now, &visits(4)), (before, &visits(4)), 10)
    }

    #[test]
    fn change_is_percent_except_for_rates_in_percent() {
        assert_eq!(changed(Metric::Visitors, 150.0, 100.0), Change::By(50.0));
        assert_eq!(changed(Metric::BounceRate, 40.0, 55.0), Change::By(-15.0));
        assert_eq!(changed(Metric::ConversionRate, 12.5, 10.2), Change::By(2.3));
    }

    #[test]
    fn a_change_against_nothing_is_no_percentage() {
        assert_eq!(changed(Metric::Visitors, 5.0, 0.0), Change::AgainstNothing);
        assert_eq!(changed(Metric::Visitors, 0.0, 0.0), Change::AgainstNothing);
        let none = Counts::default();
        for metric in [
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
        ] {
            let against_none = change(metric, (40.0, &visits(3)), (0.0, &none), 0);
            assert_eq!(against_none, Change::AgainstNothing, "{metric:?}");
            let none_now = change(metric, (0.0, &none), (40.0, &visits(3)), 0);
            assert_eq!(none_now, Change::AgainstNothing, "{metric:?} of no visits");
        }
        let nobody_before = change(Metric::ConversionRate, (60.0, &none), (0.0, &none), 0);
        assert_eq!(nobody_before, Change::AgainstNothing);
    }
}
