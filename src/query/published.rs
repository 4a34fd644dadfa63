//! What the public reads, built from published cells (the rules are in
//! `fold`): every figure over a range is the sum of its days' published
//! cells, so a day withheld alone stays withheld inside any range.
//!
//! The public always reads daily rows, never a rolled-up month: a month's
//! row would hold the days withheld inside it. A filtered day is published
//! only where the unfiltered breakdown of the filter's property shows the
//! value by name that day, so a filter cannot bring back a cell that the
//! breakdown hid to protect another.

use std::collections::HashMap;

use super::compute::{BreakdownRow, SeriesPoint, Stats, happened, hour_label, per_key, sort_rows};
use super::fold::{OTHER, OtherRow};
use super::params::{Filter, Interval, Property, StatsQuery};
use super::period::{DateRange, date_of, month_key};
use crate::store::{Counts, Dim, Granularity, StoreError};

type Values = HashMap<String, Counts, foldhash::fast::RandomState>;

impl Stats<'_> {
    /// Each day of the range with its total under the filter, `None` where
    /// the day is not published.
    pub(super) fn published_days(
        &self,
        filter: &Option<Filter>,
        range: DateRange,
    ) -> Result<Vec<(i32, Option<Counts>)>, StoreError> {
        let prefix = self.prefix(filter, Dim::None, Granularity::Day);
        let mut stored = self.sums_by(&prefix, (range.first, range.last), |day| day)?;
        let mut days = Vec::with_capacity(usize::try_from(range.days()).unwrap_or(0));
        for day in range.first..=range.last {
            let counts = stored.remove(&day).unwrap_or_default();
            let published = !self.audience.withholds(&counts)
                && match filter {
                    None => true,
                    Some(filter) => self.names_on(filter, day)?,
                };
            days.push((day, published.then_some(counts)));
        }
        Ok(days)
    }

    /// The sum of the range's published days.
    pub(super) fn published_total(
        &self,
        filter: &Option<Filter>,
        range: DateRange,
    ) -> Result<Counts, StoreError> {
        let mut total = Counts::default();
        for (_, counts) in self.published_days(filter, range)? {
            total += counts.unwrap_or_default();
        }
        Ok(total)
    }

    /// Whether the unfiltered breakdown of the filter's property shows the
    /// filter's value by name on `day`.
    fn names_on(&self, filter: &Filter, day: i32) -> Result<bool, StoreError> {
        let [(_, total)] = self.published_days(
            &None,
            DateRange {
                first: day,
                last: day,
            },
        )?[..] else {
            return Ok(false);
        };
        let Some(total) = total else {
            return Ok(false);
        };
        let rows = self.day_rows(&None, &Property::Plain(filter.dim), day)?;
        let folded = self.audience.fold_day(rows, &total, OtherRow::Allowed);
        Ok(folded.shown.iter().any(|row| row.value == filter.value))
    }

    /// One day's rows of a property under a filter, largest first.
    fn day_rows(
        &self,
        filter: &Option<Filter>,
        property: &Property,
        day: i32,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let mut grouped = Values::default();
        self.values_in(filter, property, (Granularity::Day, day, day), &mut grouped)?;
        let mut rows: Vec<BreakdownRow> = grouped
            .into_iter()
            .filter(|(_, counts)| happened(counts))
            .map(|(value, counts)| BreakdownRow { value, counts })
            .collect();
        if *property == Property::EventPropKeys {
            rows = per_key(rows);
        }
        // Largest by people first, so secondary suppression hides the
        // smallest cells.
        rows.sort_by(|a, b| {
            (b.counts.visitors, b.counts.visits, b.counts.events)
                .cmp(&(a.counts.visitors, a.counts.visits, a.counts.events))
                .then_with(|| a.value.cmp(&b.value))
        });
        Ok(rows)
    }

    /// A breakdown summed from each published day's folded cells, with
    /// the days' published "(other)" cells last.
    pub(super) fn published_breakdown(
        &self,
        query: &StatsQuery,
        property: &Property,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let mut sums = Values::default();
        let mut other = Counts::default();
        for (day, total) in self.published_days(&query.filter, query.range)? {
            let Some(total) = total else { continue };
            let rows = self.day_rows(&query.filter, property, day)?;
            let folded = self.audience.fold_day(rows, &total, OtherRow::Allowed);
            for row in folded.shown {
                *sums.entry(row.value).or_default() += row.counts;
            }
            other += folded.other.unwrap_or_default();
        }
        let mut rows: Vec<BreakdownRow> = sums
            .into_iter()
            .map(|(value, counts)| BreakdownRow { value, counts })
            .collect();
        sort_rows(&mut rows, property);
        if happened(&other) {
            rows.push(BreakdownRow {
                value: OTHER.to_owned(),
                counts: other,
            });
        }
        Ok(rows)
    }

    /// A series of published cells: days as published, months as the sum
    /// of their published days, hours folded against their day's total.
    pub(super) fn published_series(
        &self,
        query: &StatsQuery,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let days = self.published_days(&query.filter, query.range)?;
        let shown = |counts: Counts| (!self.audience.withholds(&counts)).then_some(counts);
        Ok(match query.interval {
            Interval::Day => days
                .into_iter()
                .map(|(day, counts)| SeriesPoint {
                    label: date_of(day).to_string(),
                    counts,
                })
                .collect(),
            Interval::Month => {
                let mut months: Vec<(i32, Counts)> = Vec::new();
                for (day, counts) in days {
                    let month = month_key(day);
                    if months.last().is_none_or(|(last, _)| *last != month) {
                        months.push((month, Counts::default()));
                    }
                    if let Some((_, sum)) = months.last_mut() {
                        *sum += counts.unwrap_or_default();
                    }
                }
                months
                    .into_iter()
                    .map(|(month, sum)| SeriesPoint {
                        label: date_of(month).to_string(),
                        counts: shown(sum),
                    })
                    .collect()
            }
            Interval::Hour => self.published_hours(&query.filter, query.range, days)?,
        })
    }

    /// Each hour of the range: a day's hours are its cells, folded
    /// against the day's total without an "(other)", so the hours hidden
    /// cannot be read off the day.
    fn published_hours(
        &self,
        filter: &Option<Filter>,
        range: DateRange,
        days: Vec<(i32, Option<Counts>)>,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let (first, last) = (range.first * 24, range.last * 24 + 23);
        let prefix = self.prefix(filter, Dim::None, Granularity::Hour);
        let stored = self.sums_by(&prefix, (first, last), |hour| hour)?;
        let mut points = Vec::with_capacity(days.len() * 24);
        for (day, total) in days {
            let hours = day * 24..=day * 24 + 23;
            let mut shown: HashMap<i32, Counts> = HashMap::new();
            if let Some(total) = total {
                let mut cells: Vec<BreakdownRow> = hours
                    .clone()
                    .filter_map(|hour| stored.get(&hour).map(|counts| (hour, *counts)))
                    .map(|(hour, counts)| BreakdownRow {
                        value: hour.to_string(),
                        counts,
                    })
                    .collect();
                cells.sort_by_key(|cell| {
                    std::cmp::Reverse((cell.counts.visitors, cell.counts.visits))
                });
                let folded = self.audience.fold_day(cells, &total, OtherRow::Never);
                for cell in folded.shown {
                    if let Ok(hour) = cell.value.parse::<i32>() {
                        shown.insert(hour, cell.counts);
                    }
                }
            }
            points.extend(hours.map(|hour| SeriesPoint {
                label: hour_label(hour),
                counts: shown.get(&hour).copied(),
            }));
        }
        Ok(points)
    }
}
