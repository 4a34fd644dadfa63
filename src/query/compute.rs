//! Computing answers from stored rows.
//!
//! Visitors over a range are the sum of daily unique visitors: visitor
//! hashes change every day by design, so one person on two days is two
//! visitors. Rates are computed from summed counts, never averaged.

use std::collections::HashMap;

use super::comparison::{Change, Compared};
use super::fold::Audience;
use super::params::{Filter, Interval, Metric, Property, StatsQuery};
use super::period::{DateRange, compared, read_plan, spans_a_whole_month};
use super::rows::{BreakdownRow, SeriesPoint};
use super::stats::Stats;
use crate::calendar::Day;
use crate::store::{Counts, Dim, Granularity, RowPrefix, StoreError};

/// A metric, its value (`None`: withheld from this audience) and, when
/// asked, its change against the previous period (`None`: not asked, or
/// not known to this audience).
pub(crate) type AggregateValue = (Metric, Option<f64>, Option<Change>);

impl Stats<'_> {
    /// The range's totals as this audience may see them: every stored day
    /// for the site's own readers, the published days for the public.
    pub fn totals(&self, filter: &Option<Filter>, range: DateRange) -> Result<Counts, StoreError> {
        if self.audience != Audience::Owner {
            return self.published_total(filter, range);
        }
        let mut total = Counts::default();
        self.each_total(filter, range, |_, counts| total += counts)?;
        Ok(total)
    }

    /// Each stored total of the range under the filter, with the first day
    /// of its bucket: whole rolled-up months from their monthly row, other
    /// days from their daily rows (the same sums; a year is twelve reads
    /// instead of 365).
    fn each_total(
        &self,
        filter: &Option<Filter>,
        range: DateRange,
        mut each: impl FnMut(i32, Counts),
    ) -> Result<(), StoreError> {
        let rolled = match spans_a_whole_month(range) {
            true => self.store.rolled_months(self.site)?,
            false => Vec::new(),
        };
        for (granularity, first, last) in read_plan(range, &rolled) {
            let prefix = self.prefix(filter, Dim::None, granularity);
            self.store
                .scan_each(&prefix, first, last, |bucket, _, counts| {
                    each(bucket, counts)
                })?;
        }
        Ok(())
    }

    /// Sums of a series' rows per key of their bucket (an hour, a day, the
    /// first day of a month).
    pub(super) fn sums_by(
        &self,
        prefix: &RowPrefix,
        (first, last): (i32, i32),
        key: impl Fn(i32) -> i32,
    ) -> Result<HashMap<i32, Counts>, StoreError> {
        let mut sums: HashMap<i32, Counts> = HashMap::new();
        self.store
            .scan_each(prefix, first, last, |bucket, _, counts| {
                *sums.entry(key(bucket)).or_default() += counts;
            })?;
        Ok(sums)
    }

    /// Each metric with its value and, when asked, its change; `None`
    /// where the audience may not see it (fewer than k people, or for a
    /// figure per visit fewer than k visits). The value covers the whole
    /// period; the change compares the stretches `period::compared` sets
    /// side by side, and needs both of them shown to the audience.
    pub fn aggregate(
        &self,
        query: &StatsQuery,
    ) -> Result<(Vec<AggregateValue>, Option<Compared>), StoreError> {
        let current = self.totals(&query.filter, query.range)?;
        let base = self.base_total(query, query.range)?;
        // Only a page filter lets these through (`params::check_engagement`).
        let engaged = match (&query.filter, self.engagement_of(query)?) {
            (Some(filter), Some(mut pages)) => pages.remove(&filter.value),
            _ => None,
        };
        let compared = query.compare.then(|| {
            let (current, previous) = compared(query.range, query.now_hour);
            Compared { current, previous }
        });
        let sides = match compared {
            Some(compared) => self.compared_sides(query, compared)?,
            None => None,
        };
        let values = query
            .metrics
            .iter()
            .map(|metric| {
                if metric.is_engagement_metric() {
                    let value = super::engagement::value(self.audience, *metric, engaged.as_ref());
                    return (*metric, value, None);
                }
                let value = self.audience.metric(*metric, &current, base);
                let changed = sides
                    .as_ref()
                    .and_then(|sides| self.change_of(*metric, value, sides));
                (*metric, value, changed)
            })
            .collect();
        Ok((values, compared))
    }

    /// Whether a filtered view as a whole is not published to the
    /// audience: then every answer under it is withheld, since the filter
    /// itself names the value. A value never seen answers the same.
    pub(crate) fn filter_withheld(&self, query: &StatsQuery) -> Result<bool, StoreError> {
        if self.audience == Audience::Owner || query.filter.is_none() {
            return Ok(false);
        }
        Ok(self
            .audience
            .withholds(&self.totals(&query.filter, query.range)?))
    }

    /// The period's points up to now: buckets still to come (later hours
    /// of today, later days of a running period, later months) are not
    /// returned, so nothing draws them as zero.
    pub fn timeseries(&self, query: &StatsQuery) -> Result<Vec<SeriesPoint>, StoreError> {
        let mut points = match self.audience {
            Audience::Owner => self.stored_series(query)?,
            Audience::Public { .. } => self.published_series(query)?,
        };
        points.truncate(points_until_now(query));
        Ok(points)
    }

    fn stored_series(&self, query: &StatsQuery) -> Result<Vec<SeriesPoint>, StoreError> {
        let range = query.range;
        match query.interval {
            Interval::Hour => {
                let (first, last) = (range.first * 24, range.last * 24 + 23);
                let prefix = self.prefix(&query.filter, Dim::None, Granularity::Hour);
                let sums = self.sums_by(&prefix, (first, last), |hour| hour)?;
                Ok(fill(&sums, first..=last, hour_label))
            }
            Interval::Day => {
                let prefix = self.prefix(&query.filter, Dim::None, Granularity::Day);
                let sums = self.sums_by(&prefix, (range.first, range.last), |day| day)?;
                Ok(fill(&sums, range.first..=range.last, |day| {
                    Day::new(day).to_string()
                }))
            }
            Interval::Month => {
                let mut sums: HashMap<i32, Counts> = HashMap::new();
                self.each_total(&query.filter, range, |bucket, counts| {
                    *sums.entry(month_key(bucket)).or_default() += counts;
                })?;
                let months = (range.first..=range.last).map(month_key);
                let mut keys: Vec<i32> = months.collect();
                keys.dedup();
                Ok(keys
                    .into_iter()
                    .map(|month| SeriesPoint {
                        label: Day::new(month).to_string(),
                        counts: Some(sums.get(&month).copied().unwrap_or_default()),
                    })
                    .collect())
            }
        }
    }

    pub fn breakdown(
        &self,
        query: &StatsQuery,
        property: &Property,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let skip = (query.page - 1).saturating_mul(query.limit);
        // Broken down by the filter's own property there is one row: the
        // filtered totals (not stored twice, see `aggregate::scopes`).
        if let Some(filter) = query
            .filter
            .as_ref()
            .filter(|f| Property::Plain(f.dim) == *property)
        {
            let counts = self.totals(&query.filter, query.range)?;
            let visible = counts.visitors > 0 || counts.visits > 0 || counts.events > 0;
            return Ok(visible
                .then(|| BreakdownRow {
                    value: filter.value.clone(),
                    counts,
                })
                .into_iter()
                .skip(skip)
                .collect());
        }
        // Folded day by day before pagination, so "(other)" is one row, on
        // the last page.
        let result = match self.audience {
            Audience::Owner => {
                let grouped = self.sums_per_value(query, property)?;
                let mut rows: Vec<BreakdownRow> = grouped
                    .into_iter()
                    .filter(|(_, counts)| happened(counts))
                    .map(|(value, counts)| BreakdownRow { value, counts })
                    .collect();
                if *property == Property::EventPropKeys {
                    rows = per_key(rows);
                }
                sort_rows(&mut rows, property);
                rows
            }
            Audience::Public { .. } => self.published_breakdown(query, property)?,
        };
        Ok(result.into_iter().skip(skip).take(query.limit).collect())
    }

    /// Counts per stored value of the property's dimension (for
    /// `event:props:KEY` the values of that key; for `event:props` every
    /// `key\0value`) under a filter, in buckets `first..=last` of one
    /// granularity.
    pub(super) fn values_in(
        &self,
        filter: &Option<Filter>,
        property: &Property,
        (granularity, first, last): (Granularity, i32, i32),
        grouped: &mut HashMap<String, Counts, foldhash::fast::RandomState>,
    ) -> Result<(), StoreError> {
        // A value is allocated once, when first met, not once per row:
        // a year of pages is hundreds of thousands of rows.
        let mut add = |value: &str, counts: Counts| {
            let value = match property {
                Property::EventProp(key) => match value.split_once('\0') {
                    Some((found, value)) if found == key => value,
                    _ => return,
                },
                Property::EventPropKeys | Property::Plain(_) => value,
            };
            match grouped.get_mut(value) {
                Some(sum) => *sum += counts,
                None => {
                    grouped.insert(value.to_owned(), counts);
                }
            }
        };
        self.store.scan_each(
            &self.prefix(filter, property.dim(), granularity),
            first,
            last,
            |_, value, counts| add(value, counts),
        )
    }

    /// The period's counts per stored value of the property's dimension,
    /// under the query's filter.
    fn sums_per_value(
        &self,
        query: &StatsQuery,
        property: &Property,
    ) -> Result<HashMap<String, Counts, foldhash::fast::RandomState>, StoreError> {
        let mut grouped: HashMap<String, Counts, foldhash::fast::RandomState> = HashMap::default();
        // Whole past months come from their monthly rows: a year is twelve
        // rows of each value instead of 365.
        let rolled = match spans_a_whole_month(query.range) {
            true => self.store.rolled_months(self.site)?,
            false => Vec::new(),
        };
        for part in read_plan(query.range, &rolled) {
            self.values_in(&query.filter, property, part, &mut grouped)?;
        }
        Ok(grouped)
    }
}

/// How many of a series' points have begun by now.
fn points_until_now(query: &StatsQuery) -> usize {
    let range = query.range;
    let today = query.now_hour.div_euclid(24);
    let count = match query.interval {
        Interval::Hour => query.now_hour - range.first * 24 + 1,
        Interval::Day => today - range.first + 1,
        Interval::Month => {
            let mut months = 0;
            let mut month = month_key(range.first);
            while month <= month_key(today.min(range.last)) {
                months += 1;
                month = Day::new(month).last_of_month().number() + 1;
            }
            match range.first > today {
                true => 0,
                false => months,
            }
        }
    };
    usize::try_from(count.max(0)).unwrap_or(0)
}

/// Whether anything happened in a row: a row of nothing is not listed.
pub(super) fn happened(counts: &Counts) -> bool {
    counts.visitors > 0 || counts.visits > 0 || counts.events > 0
}

/// Rows largest first; property keys by their events, since their
/// visitors are a bound, not a count.
pub(super) fn sort_rows(rows: &mut [BreakdownRow], property: &Property) {
    if *property == Property::EventPropKeys {
        rows.sort_by(|a, b| {
            b.counts
                .events
                .cmp(&a.counts.events)
                .then_with(|| a.value.cmp(&b.value))
        });
    } else {
        rows.sort_by(|a, b| {
            (b.counts.visitors, b.counts.visits, b.counts.events)
                .cmp(&(a.counts.visitors, a.counts.visits, a.counts.events))
                .then_with(|| a.value.cmp(&b.value))
        });
    }
}

/// Rows of `key\0value` summed into one row per key. Events add up: an
/// event carries a key once. Visitors do not: one person sending two
/// values of a key is a visitor of each. So a key keeps its largest
/// value's visitors (and visits), a lower bound of the people who carried
/// it; folded with it, a key is shown to the public exactly when its own
/// breakdown (`event:props:KEY`) shows at least one value by name.
pub(super) fn per_key(values: Vec<BreakdownRow>) -> Vec<BreakdownRow> {
    let mut keys: HashMap<String, Counts, foldhash::fast::RandomState> = HashMap::default();
    for row in values {
        let key = row
            .value
            .split_once('\0')
            .map_or(row.value.as_str(), |(key, _)| key);
        let sum = match keys.get_mut(key) {
            Some(sum) => sum,
            None => keys.entry(key.to_owned()).or_default(),
        };
        sum.events += row.counts.events;
        sum.pageviews += row.counts.pageviews;
        sum.visitors = sum.visitors.max(row.counts.visitors);
        sum.visits = sum.visits.max(row.counts.visits);
    }
    keys.into_iter()
        .map(|(value, counts)| BreakdownRow { value, counts })
        .collect()
}

/// The first day of `day`'s month, by number: the key months are summed under.
fn month_key(day: i32) -> i32 {
    Day::new(day).first_of_month().number()
}

pub(super) fn hour_label(hour: i32) -> String {
    let day = hour.div_euclid(24);
    format!("{} {:02}:00:00", Day::new(day), hour.rem_euclid(24))
}

fn fill(
    sums: &HashMap<i32, Counts>,
    buckets: std::ops::RangeInclusive<i32>,
    label: impl Fn(i32) -> String,
) -> Vec<SeriesPoint> {
    buckets
        .map(|bucket| SeriesPoint {
            label: label(bucket),
            counts: Some(sums.get(&bucket).copied().unwrap_or_default()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(value: &str, visitors: i64, events: i64) -> BreakdownRow {
        BreakdownRow {
            value: value.to_owned(),
            counts: Counts {
                visitors,
                events,
                ..Counts::default()
            },
        }
    }

    #[test]
    fn keys_sum_their_values_events_and_keep_the_largest_values_visitors() {
        let mut keys = per_key(vec![
            stored("formulier\0melding", 4, 6),
            stored("formulier\0klacht", 7, 7),
            stored("taal\0nl", 1, 1),
        ]);
        keys.sort_by(|a, b| a.value.cmp(&b.value));
        let found: Vec<(&str, i64, i64)> = keys
            .iter()
            .map(|row| (row.value.as_str(), row.counts.visitors, row.counts.events))
            .collect();
        assert_eq!(found, [("formulier", 7, 13), ("taal", 1, 1)]);
    }
}
