//! Stats answers as values: each figure as the audience may see it, with
//! the metrics in the order asked. The stats API writes an `Answer` as
//! JSON and its exports write the same `Answer` as CSV, so the two can
//! never differ in what they show.
//!
//! This module decides what is shown (a figure, or withheld) and whether
//! a figure is a whole number or a decimal; it does not know how either
//! form spells them.

use super::comparison::{Change, Compared};
use super::params::{Endpoint, Metric, Property, StatsQuery};
use super::stats::Stats;
use crate::store::{Counts, StoreError};

/// A figure as one audience sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// Not for this audience (fewer than k people or visits), or nothing
    /// to show (a page without engagement reports).
    Withheld,
    /// Counts, and the rates and durations given rounded to a whole.
    Whole(i64),
    /// Views per visit and conversion rates.
    Decimal(f64),
}

impl Figure {
    /// A metric's value as its figure (`None`: withheld).
    pub(crate) fn of(metric: Metric, value: Option<f64>) -> Figure {
        match (metric, value) {
            (_, None) => Figure::Withheld,
            (Metric::ViewsPerVisit | Metric::ConversionRate, Some(value)) => Figure::Decimal(value),
            (_, Some(value)) => Figure::Whole(value as i64),
        }
    }
}

/// One metric over the whole period.
#[derive(Debug, Clone, PartialEq)]
pub struct Total {
    pub metric: Metric,
    pub value: Figure,
    /// Against the previous period: `None` when not asked, or not known
    /// to this audience.
    pub change: Option<Change>,
}

/// The totals of a period, and what they were compared over.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// One per metric of `Answer::metrics`, in its order.
    pub totals: Vec<Total>,
    pub compared: Option<Compared>,
}

/// One bucket of a series: `YYYY-MM-DD`, or `YYYY-MM-DD HH:00:00` for
/// hours, with a figure per metric of `Answer::metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub date: String,
    pub figures: Vec<Figure>,
}

/// One value of a breakdown's property, with a figure per metric of
/// `Answer::metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub value: String,
    pub figures: Vec<Figure>,
}

/// What an answer holds, by endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Results {
    Aggregate(Aggregate),
    Timeseries(Vec<Point>),
    Breakdown { property: Property, rows: Vec<Row> },
}

/// A stats answer: its metrics, each once in the order first asked, and
/// its results.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub metrics: Vec<Metric>,
    pub results: Results,
}

impl Answer {
    /// The metrics of a row or point with their figures, in `metrics`' order.
    pub fn named<'a>(
        &'a self,
        figures: &'a [Figure],
    ) -> impl Iterator<Item = (Metric, Figure)> + 'a {
        self.metrics.iter().copied().zip(figures.iter().copied())
    }
}

/// `metrics` with each metric once, where first asked.
fn each_once(metrics: &[Metric]) -> Vec<Metric> {
    let mut once: Vec<Metric> = Vec::with_capacity(metrics.len());
    for metric in metrics {
        if !once.contains(metric) {
            once.push(*metric);
        }
    }
    once
}

impl Stats<'_> {
    /// The answer to `query` at `endpoint`, as this audience may see it.
    pub fn answer(&self, endpoint: Endpoint, query: &StatsQuery) -> Result<Answer, StoreError> {
        let metrics = each_once(&query.metrics);
        if self.filter_withheld(query)? {
            return Ok(withheld(endpoint, query, metrics));
        }
        let results = match endpoint {
            Endpoint::Aggregate => Results::Aggregate(self.aggregate_answer(query, &metrics)?),
            Endpoint::Timeseries => Results::Timeseries(self.series_answer(query, &metrics)?),
            Endpoint::Breakdown => {
                let property = query
                    .property
                    .clone()
                    .expect("breakdown queries have a property");
                let rows = self.rows_answer(query, &property, &metrics)?;
                Results::Breakdown { property, rows }
            }
        };
        Ok(Answer { metrics, results })
    }

    fn aggregate_answer(
        &self,
        query: &StatsQuery,
        metrics: &[Metric],
    ) -> Result<Aggregate, StoreError> {
        let (values, compared) = self.aggregate(query)?;
        let totals = metrics
            .iter()
            .filter_map(|metric| values.iter().find(|(found, _, _)| found == metric))
            .map(|(metric, value, change)| Total {
                metric: *metric,
                value: Figure::of(*metric, *value),
                change: *change,
            })
            .collect();
        Ok(Aggregate { totals, compared })
    }

    fn series_answer(
        &self,
        query: &StatsQuery,
        metrics: &[Metric],
    ) -> Result<Vec<Point>, StoreError> {
        let bases = self.series_bases(query)?;
        Ok(self
            .timeseries(query)?
            .into_iter()
            .enumerate()
            .map(|(at, point)| {
                let base = bases.get(at).copied().flatten();
                let figures = match &point.counts {
                    Some(counts) => self.figures(metrics, counts, base, None),
                    None => vec![Figure::Withheld; metrics.len()],
                };
                Point {
                    date: point.label,
                    figures,
                }
            })
            .collect())
    }

    fn rows_answer(
        &self,
        query: &StatsQuery,
        property: &Property,
        metrics: &[Metric],
    ) -> Result<Vec<Row>, StoreError> {
        let bases = self.row_bases(query, property)?;
        let engaged = self.engagement_of(query)?;
        Ok(self
            .breakdown(query, property)?
            .into_iter()
            .map(|row| {
                let base = bases.of(&row.value);
                let page = engaged.as_ref().and_then(|pages| pages.get(&row.value));
                let figures = self.figures(metrics, &row.counts, base, Some(page));
                Row {
                    value: row.value,
                    figures,
                }
            })
            .collect())
    }

    /// A row's or point's figures; `base` is what its conversion rate
    /// divides by, `engaged` a page row's engagement sums (`Some(None)`:
    /// a row that has none).
    fn figures(
        &self,
        metrics: &[Metric],
        counts: &Counts,
        base: Option<i64>,
        engaged: Option<Option<&Counts>>,
    ) -> Vec<Figure> {
        metrics
            .iter()
            .map(|metric| {
                let value = match engaged {
                    Some(page) if metric.is_engagement_metric() => {
                        super::engagement::value(self.audience, *metric, page)
                    }
                    _ => self.audience.metric(*metric, counts, base),
                };
                Figure::of(*metric, value)
            })
            .collect()
    }
}

/// The answer under a filter too small to show: every total withheld, no
/// points, no rows.
fn withheld(endpoint: Endpoint, query: &StatsQuery, metrics: Vec<Metric>) -> Answer {
    let results = match endpoint {
        Endpoint::Aggregate => Results::Aggregate(Aggregate {
            totals: metrics
                .iter()
                .map(|metric| Total {
                    metric: *metric,
                    value: Figure::Withheld,
                    change: None,
                })
                .collect(),
            compared: None,
        }),
        Endpoint::Timeseries => Results::Timeseries(Vec::new()),
        Endpoint::Breakdown => Results::Breakdown {
            property: query
                .property
                .clone()
                .expect("breakdown queries have a property"),
            rows: Vec::new(),
        },
    };
    Answer { metrics, results }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_whole_except_views_per_visit_and_conversion_rates() {
        assert_eq!(Figure::of(Metric::Visitors, Some(3.0)), Figure::Whole(3));
        assert_eq!(
            Figure::of(Metric::BounceRate, Some(40.0)),
            Figure::Whole(40)
        );
        assert_eq!(
            Figure::of(Metric::ViewsPerVisit, Some(2.25)),
            Figure::Decimal(2.25)
        );
        assert_eq!(
            Figure::of(Metric::ConversionRate, Some(33.3)),
            Figure::Decimal(33.3)
        );
        assert_eq!(Figure::of(Metric::Visits, None), Figure::Withheld);
    }

    #[test]
    fn each_metric_is_answered_once_where_first_asked() {
        use Metric::*;
        assert_eq!(
            each_once(&[Pageviews, Visitors, Pageviews, Events]),
            [Pageviews, Visitors, Events]
        );
    }
}
