//! What the public reads, built from published cells (the rules are in
//! `fold`): every figure over a range is the sum of its days' published
//! cells, so a day withheld alone stays withheld inside any range.
//!
//! The public always reads daily rows, never a rolled-up month: a month's
//! row would hold the days withheld inside it. A filtered day is published
//! only where the unfiltered breakdown of the filter's property shows the
//! value by name that day, and it is that cell: its visit figures only
//! where the breakdown shows them, so a filter cannot bring back a cell
//! that the breakdown hid to protect another.
//!
//! Tables are published one property at a time. A filter broken down by
//! another property (or by hour) would be a table of two properties, and
//! two such tables ("desktop" by page, "/afval" by device) make different
//! choices of what to hide to protect a small cell, so one could be
//! subtracted from the other: the public reads a filter's own cell only.

use std::collections::{HashMap, HashSet};

use super::compute::{happened, hour_label, per_key, sort_rows};
use super::fold::{FoldedDay, OTHER, OtherRow, without_visits};
use super::params::{Filter, Interval, Property, StatsQuery};
use super::period::DateRange;
use super::rows::{BreakdownRow, SeriesPoint};
use super::stats::Stats;
use crate::calendar::Day;
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
            let published = match self.audience.withholds(&counts) {
                true => None,
                false => match filter {
                    None => Some(self.audience.publish_visits(counts)),
                    Some(filter) => self.named_on(filter, day)?.map(|cell| {
                        // The filtered figures, with visit figures only
                        // where the breakdown shows them.
                        match cell.visits > 0 {
                            true => self.audience.publish_visits(counts),
                            false => without_visits(counts),
                        }
                    }),
                },
            };
            days.push((day, published));
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

    /// The filter's value as the unfiltered breakdown of its property
    /// shows it on `day`, if it shows it by name.
    fn named_on(&self, filter: &Filter, day: i32) -> Result<Option<Counts>, StoreError> {
        let [(_, Some(total))] = self.published_days(
            &None,
            DateRange {
                first: day,
                last: day,
            },
        )?[..] else {
            return Ok(None);
        };
        let table = self.day_table(&Property::Plain(filter.dim), day, &total)?;
        Ok(table
            .shown
            .into_iter()
            .find(|row| row.value == filter.value)
            .map(|row| row.counts))
    }

    /// One day's unfiltered table of a property as the public sees it.
    /// A page's visit figures are those of the visits that entered on it,
    /// which the entry pages' table publishes too: a page shows them only
    /// where that table does, so one table cannot be set against the other.
    fn day_table(
        &self,
        property: &Property,
        day: i32,
        total: &Counts,
    ) -> Result<FoldedDay, StoreError> {
        let rows = self.day_rows(property, day)?;
        let mut table = self.audience.fold_day(rows, total, OtherRow::Allowed);
        if *property == Property::Plain(Dim::Page) {
            let entries = self.day_rows(&Property::Plain(Dim::EntryPage), day)?;
            let entries = self.audience.fold_day(entries, total, OtherRow::Allowed);
            let entered: HashSet<&str> = entries
                .shown
                .iter()
                .filter(|row| row.counts.visits > 0)
                .map(|row| row.value.as_str())
                .collect();
            for row in &mut table.shown {
                if !entered.contains(row.value.as_str()) {
                    row.counts = without_visits(row.counts);
                }
            }
            table.other = table.other.map(without_visits);
        }
        Ok(table)
    }

    /// One day's unfiltered rows of a property, largest first.
    fn day_rows(&self, property: &Property, day: i32) -> Result<Vec<BreakdownRow>, StoreError> {
        let mut grouped = Values::default();
        self.values_in(&None, property, (Granularity::Day, day, day), &mut grouped)?;
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
    /// the days' published "(other)" cells last; nothing under a filter
    /// (see the module's note on tables of two properties).
    pub(super) fn published_breakdown(
        &self,
        query: &StatsQuery,
        property: &Property,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        if query.filter.is_some() {
            return Ok(Vec::new());
        }
        let mut sums = Values::default();
        let mut other = Counts::default();
        for (day, total) in self.published_days(&None, query.range)? {
            let Some(total) = total else { continue };
            let folded = self.day_table(property, day, &total)?;
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
                    label: Day::new(day).to_string(),
                    counts,
                })
                .collect(),
            Interval::Month => {
                let mut months: Vec<(i32, Counts)> = Vec::new();
                for (day, counts) in days {
                    let month = Day::new(day).first_of_month().number();
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
                        label: Day::new(month).to_string(),
                        counts: shown(sum),
                    })
                    .collect()
            }
            // Hours under a filter would be a table of two properties.
            Interval::Hour if query.filter.is_some() => (query.range.first * 24
                ..=query.range.last * 24 + 23)
                .map(|hour| SeriesPoint {
                    label: hour_label(hour),
                    counts: None,
                })
                .collect(),
            Interval::Hour => self.published_hours(query.range, days)?,
        })
    }

    /// The sum of one day's published hours `first..=last` (unfiltered):
    /// the part of a day a running period is compared by.
    pub(super) fn published_hours_until(
        &self,
        first: i32,
        last: i32,
    ) -> Result<Counts, StoreError> {
        let day = first.div_euclid(24);
        let range = DateRange {
            first: day,
            last: day,
        };
        let days = self.published_days(&None, range)?;
        let mut total = Counts::default();
        for (at, point) in self.published_hours(range, days)?.into_iter().enumerate() {
            let hour = day * 24 + i32::try_from(at).unwrap_or(i32::MAX);
            if (first..=last).contains(&hour) {
                total += point.counts.unwrap_or_default();
            }
        }
        Ok(total)
    }

    /// Each hour of the range: a day's hours are its cells, folded
    /// against the day's total without an "(other)", so the hours hidden
    /// cannot be read off the day.
    fn published_hours(
        &self,
        range: DateRange,
        days: Vec<(i32, Option<Counts>)>,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let (first, last) = (range.first * 24, range.last * 24 + 23);
        let prefix = self.prefix(&None, Dim::None, Granularity::Hour);
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
