//! What the computations hand on: a breakdown's rows and a series'
//! points of summed counts, and a metric's value from such counts.
//! Pure, and below everything else in `query` that reads them.

use super::params::Metric;
use crate::store::Counts;

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    /// `YYYY-MM-DD`, or `YYYY-MM-DD HH:00:00` for hourly series.
    pub label: String,
    /// `None`: withheld from this audience.
    pub counts: Option<Counts>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BreakdownRow {
    pub value: String,
    pub counts: Counts,
}

/// A metric's value from summed counts; `base` is the visitors a
/// conversion rate divides by (see `conversion`).
pub(crate) fn metric_value(metric: Metric, counts: &Counts, base: i64) -> f64 {
    let per_visit = |total: i64, scale: f64| {
        if counts.visits <= 0 {
            0.0
        } else {
            total as f64 * scale / counts.visits as f64
        }
    };
    match metric {
        Metric::Visitors => counts.visitors as f64,
        Metric::Visits => counts.visits as f64,
        Metric::Pageviews => counts.pageviews as f64,
        Metric::Events => counts.events as f64,
        Metric::ViewsPerVisit => (per_visit(counts.pageviews, 1.0) * 100.0).round() / 100.0,
        Metric::BounceRate => per_visit(counts.bounces, 100.0).round(),
        Metric::VisitDuration => per_visit(counts.duration, 1.0).round(),
        Metric::ConversionRate => rate(counts.visitors, base),
        // Read from the page's engagement sums instead (`engagement::value`).
        Metric::ScrollDepth | Metric::TimeOnPage => 0.0,
    }
}

/// Percent with one decimal; 0 where nobody was there to convert.
fn rate(converted: i64, visitors: i64) -> f64 {
    if visitors <= 0 {
        return 0.0;
    }
    (converted as f64 * 1000.0 / visitors as f64).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(metric: Metric, counts: Counts, expected: f64) {
        assert_eq!(metric_value(metric, &counts, 8), expected, "{metric:?}");
    }

    #[test]
    fn rates_come_from_summed_counts() {
        let counts = Counts {
            visitors: 3,
            visits: 4,
            pageviews: 9,
            bounces: 1,
            duration: 610,
            events: 10,
        };
        check(Metric::Visitors, counts, 3.0);
        check(Metric::ViewsPerVisit, counts, 2.25);
        check(Metric::BounceRate, counts, 25.0);
        check(Metric::VisitDuration, counts, 153.0);
        check(Metric::BounceRate, Counts::default(), 0.0);
        check(Metric::ConversionRate, counts, 37.5);
        check(Metric::ConversionRate, Counts::default(), 0.0);
    }

    #[test]
    fn rates_are_percent_with_one_decimal() {
        assert_eq!(rate(1, 3), 33.3);
        assert_eq!(rate(2, 3), 66.7);
        assert_eq!(rate(3, 3), 100.0);
        assert_eq!(rate(0, 5), 0.0);
        assert_eq!(rate(0, 0), 0.0, "nobody to convert");
    }
}
