//! Sealed days: where the embedded store keeps counts once a day is over.
//!
//! Counts are first written as open rows (`COUNTS`, one redb row per key,
//! cheap to add to). Once a day has passed (`Embedded::seal`), its rows move
//! into a unit: one dictionary of the day's texts (`DICTIONARIES`) and one
//! compact table per shape (filter dimension, breakdown dimension,
//! granularity) in `SEGMENTS`, encoded by `segment`. A rolled-up month is a
//! unit of the same kind. A row written to a sealed day later (a late hit,
//! a clock set back) waits as an open row; reads add it to the sealed row
//! of the same key, and the next seal merges it in.
//!
//! A unit is only ever replaced whole, its dictionary and tables in one
//! transaction, so a reader never pairs a table with another dictionary.
//! Retention deletes units whole; with each day's dictionary deleted along
//! with its tables, no text outlives the last count that names it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::by_prefix::{after, at_bucket, next_prefix, site_range};
use super::segment::{Dictionary, SealedRow, Table, encode_table, row_count};
use super::{COUNTS, operation};
use crate::query::period::month_end;
use crate::store::StoreError;
use crate::store::schema::{Counts, Dim, Granularity, RowPrefix, encoded_bucket, split_row};

/// `[site len][site][unit kind][period][filter dim][breakdown dim][granularity]` → table block.
pub(super) const SEGMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("segments");
/// `[site len][site][unit kind][period]` → dictionary block.
pub(super) const DICTIONARIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("dictionaries");

/// A day (its hourly and daily rows) or a rolled-up month (its monthly rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Unit {
    Day(i32),
    Month(i32),
}

/// The tables of a unit: one per shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    filter: Dim,
    breakdown: Dim,
    granularity: Granularity,
}

/// A row with its texts, while a unit is being rebuilt.
type Texts = (String, u32, String);
/// A unit's rows by shape, while it is being rebuilt.
type Rows = HashMap<Shape, BTreeMap<Texts, Counts>>;

impl Unit {
    /// The unit a row belongs to, and its hour within the unit's day.
    pub(super) fn of(granularity: Granularity, bucket: i32) -> (Unit, u32) {
        match granularity {
            Granularity::Hour => (
                Unit::Day(bucket.div_euclid(24)),
                bucket.rem_euclid(24) as u32,
            ),
            Granularity::Day => (Unit::Day(bucket), 0),
            Granularity::Month => (Unit::Month(bucket), 0),
        }
    }

    fn kind(self) -> Granularity {
        match self {
            Unit::Day(_) => Granularity::Day,
            Unit::Month(_) => Granularity::Month,
        }
    }

    fn period(self) -> i32 {
        match self {
            Unit::Day(day) | Unit::Month(day) => day,
        }
    }

    fn granularities(self) -> &'static [Granularity] {
        match self {
            Unit::Day(_) => &[Granularity::Hour, Granularity::Day],
            Unit::Month(_) => &[Granularity::Month],
        }
    }

    /// The open-row buckets of `granularity` in this unit: `first..end`.
    fn buckets(self, granularity: Granularity) -> (i32, i32) {
        match (self, granularity) {
            (Unit::Day(day), Granularity::Hour) => (day * 24, (day + 1) * 24),
            (Unit::Month(month), _) => (month, month + 1),
            (Unit::Day(day), _) => (day, day + 1),
        }
    }

    /// The first bucket of `granularity` after this unit.
    fn next_bucket(self, granularity: Granularity) -> i32 {
        match self {
            Unit::Month(month) => month_end(month) + 1,
            Unit::Day(_) => self.buckets(granularity).1,
        }
    }

    fn bucket(self, granularity: Granularity, offset: u32) -> i32 {
        match granularity {
            Granularity::Hour => self.period() * 24 + offset as i32,
            _ => self.period(),
        }
    }
}

fn unit_key(site: &str, unit: Unit) -> Vec<u8> {
    let (mut key, _) = site_range(site);
    key.push(unit.kind() as u8);
    key.extend_from_slice(&encoded_bucket(unit.period()));
    key
}

fn segment_key(site: &str, unit: Unit, shape: Shape) -> Vec<u8> {
    let mut key = unit_key(site, unit);
    key.extend_from_slice(&[
        shape.filter as u8,
        shape.breakdown as u8,
        shape.granularity as u8,
    ]);
    key
}

/// The shape named by a segment key's last three bytes.
fn shape_of(key: &[u8]) -> Result<Shape, StoreError> {
    let [filter, breakdown, granularity] = key
        .last_chunk::<3>()
        .copied()
        .ok_or(StoreError::Corrupt("segment key"))?;
    Ok(Shape {
        filter: Dim::from_byte(filter).ok_or(StoreError::Corrupt("segment filter"))?,
        breakdown: Dim::from_byte(breakdown).ok_or(StoreError::Corrupt("segment breakdown"))?,
        granularity: Granularity::from_byte(granularity)
            .ok_or(StoreError::Corrupt("segment granularity"))?,
    })
}

/// The unit named by a segment or dictionary key (after the site).
fn unit_from(key: &[u8], site_len: usize) -> Result<Unit, StoreError> {
    let head = key
        .get(site_len..site_len + 5)
        .ok_or(StoreError::Corrupt("unit key"))?;
    let (period, _) = split_row(&head[1..]).map_err(StoreError::Corrupt)?;
    match Granularity::from_byte(head[0]) {
        Some(Granularity::Day) => Ok(Unit::Day(period)),
        Some(Granularity::Month) => Ok(Unit::Month(period)),
        _ => Err(StoreError::Corrupt("unit kind")),
    }
}

fn corrupt(message: &'static str) -> StoreError {
    StoreError::Corrupt(message)
}

/// Hands the sealed rows under `prefix` with a bucket in `first..=last` to
/// `each`, in bucket and value order.
pub(super) fn each_sealed(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &RowPrefix,
    (first, last): (i32, i32),
    mut each: impl FnMut(i32, &str, Counts),
) -> Result<(), StoreError> {
    let shape = Shape {
        filter: prefix.filter.0,
        breakdown: prefix.breakdown,
        granularity: prefix.granularity,
    };
    let (from, _) = Unit::of(prefix.granularity, first);
    let (to, _) = Unit::of(prefix.granularity, last);
    let (start, end) = (unit_key(&prefix.site, from), unit_key(&prefix.site, to));
    let site_len = start.len() - 5;
    // Units are found by their dictionaries, so a wide range costs nothing
    // for the days that were never sealed.
    for entry in dictionaries
        .range(start.as_slice()..=end.as_slice())
        .map_err(operation)?
    {
        let (key, block) = entry.map_err(operation)?;
        let unit = unit_from(key.value(), site_len)?;
        let Some(table) = segments
            .get(segment_key(&prefix.site, unit, shape).as_slice())
            .map_err(operation)?
        else {
            continue;
        };
        let dictionary = Dictionary::decode(block.value()).map_err(corrupt)?;
        let Some(filter) = dictionary.id_of(&prefix.filter.1) else {
            continue;
        };
        let table = Table::decode(table.value()).map_err(corrupt)?;
        let mut missing = false;
        table
            .rows_of(filter, |row| {
                let bucket = unit.bucket(prefix.granularity, row.offset);
                match dictionary.get(row.value) {
                    Some(value) if (first..=last).contains(&bucket) => {
                        each(bucket, value, row.counts);
                    }
                    Some(_) => {}
                    None => missing = true,
                }
            })
            .map_err(corrupt)?;
        if missing {
            return Err(corrupt("sealed row names no text"));
        }
    }
    Ok(())
}

fn dictionary_of(
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
) -> Result<Option<Dictionary>, StoreError> {
    let Some(block) = dictionaries
        .get(unit_key(site, unit).as_slice())
        .map_err(operation)?
    else {
        return Ok(None);
    };
    Dictionary::decode(block.value()).map(Some).map_err(corrupt)
}

/// Every row of a stored unit, with its texts, added to `rows` by shape.
fn unit_rows(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    rows: &mut Rows,
) -> Result<(), StoreError> {
    let Some(dictionary) = dictionary_of(dictionaries, site, unit)? else {
        return Ok(());
    };
    let start = unit_key(site, unit);
    for entry in segments.range(start.as_slice()..).map_err(operation)? {
        let (key, block) = entry.map_err(operation)?;
        if !key.value().starts_with(&start) {
            break;
        }
        let shape = shape_of(key.value())?;
        let table = Table::decode(block.value()).map_err(corrupt)?;
        let into = rows.entry(shape).or_default();
        let mut missing = false;
        table
            .each_row(
                |row| match (dictionary.get(row.filter), dictionary.get(row.value)) {
                    (Some(filter), Some(value)) => {
                        *into
                            .entry((filter.to_owned(), row.offset, value.to_owned()))
                            .or_default() += row.counts;
                    }
                    _ => missing = true,
                },
            )
            .map_err(corrupt)?;
        if missing {
            return Err(corrupt("sealed row names no text"));
        }
    }
    Ok(())
}

/// Adds the open rows of `unit` to `rows`; their keys.
fn open_rows(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    rows: &mut Rows,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let (mut cursor, end) = site_range(site);
    let mut keys = Vec::new();
    while let Some((prefix, granularity)) = next_prefix(table, &cursor, &end)? {
        cursor = after(&prefix);
        if !unit.granularities().contains(&granularity) {
            continue;
        }
        let (decoded, _) = crate::store::schema::decode_key(&at_bucket(&prefix, 0))
            .map_err(StoreError::Corrupt)?;
        let into = rows
            .entry(Shape {
                filter: decoded.filter.0,
                breakdown: decoded.breakdown,
                granularity,
            })
            .or_default();
        let (from, to) = unit.buckets(granularity);
        let (from, to) = (at_bucket(&prefix, from), at_bucket(&prefix, to));
        for entry in table
            .range(from.as_slice()..to.as_slice())
            .map_err(operation)?
        {
            let (key, value) = entry.map_err(operation)?;
            let (bucket, text) =
                split_row(&key.value()[prefix.len()..]).map_err(StoreError::Corrupt)?;
            let counts = Counts::decode(value.value()).ok_or(corrupt("counts length"))?;
            let (_, offset) = Unit::of(granularity, bucket);
            *into
                .entry((decoded.filter.1.clone(), offset, text.to_owned()))
                .or_default() += counts;
            keys.push(key.value().to_vec());
        }
    }
    rows.retain(|_, rows| !rows.is_empty());
    Ok(keys)
}

/// Takes the open rows of `unit` out of `COUNTS` into `rows`; the number taken.
fn take_open_rows(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    rows: &mut Rows,
) -> Result<u64, StoreError> {
    let mut table = write.open_table(COUNTS).map_err(operation)?;
    let keys = open_rows(&table, site, unit, rows)?;
    for key in &keys {
        table.remove(key.as_slice()).map_err(operation)?;
    }
    Ok(keys.len() as u64)
}

/// Writes `rows` as the whole of `unit`, replacing what it held.
fn write_unit(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    rows: &Rows,
) -> Result<(), StoreError> {
    delete_unit(write, site, unit)?;
    let texts: BTreeSet<&str> = rows
        .values()
        .flat_map(|rows| rows.keys())
        .flat_map(|(filter, _, value)| [filter.as_str(), value.as_str()])
        .collect();
    if texts.is_empty() {
        return Ok(());
    }
    let dictionary = Dictionary::of_sorted(texts.iter().copied());
    let number = |text: &str| dictionary.id_of(text).unwrap_or_default();
    let mut segments = write.open_table(SEGMENTS).map_err(operation)?;
    for (shape, rows) in rows {
        let mut sealed: Vec<SealedRow> = rows
            .iter()
            .map(|((filter, offset, value), counts)| SealedRow {
                filter: number(filter),
                offset: *offset,
                value: number(value),
                counts: *counts,
            })
            .collect();
        segments
            .insert(
                segment_key(site, unit, *shape).as_slice(),
                encode_table(&mut sealed).as_slice(),
            )
            .map_err(operation)?;
    }
    write
        .open_table(DICTIONARIES)
        .map_err(operation)?
        .insert(
            unit_key(site, unit).as_slice(),
            dictionary.encode().as_slice(),
        )
        .map_err(operation)?;
    Ok(())
}

/// Deletes a unit's tables and dictionary; the rows they held.
fn delete_unit(write: &WriteTransaction, site: &str, unit: Unit) -> Result<u64, StoreError> {
    let start = unit_key(site, unit);
    let mut end = start.clone();
    end.push(0xFF);
    let mut removed = 0;
    write
        .open_table(SEGMENTS)
        .map_err(operation)?
        .retain_in(start.as_slice()..end.as_slice(), |_, block| {
            removed += row_count(block).unwrap_or_default();
            false
        })
        .map_err(operation)?;
    write
        .open_table(DICTIONARIES)
        .map_err(operation)?
        .remove(start.as_slice())
        .map_err(operation)?;
    Ok(removed)
}

/// Merges a unit's open rows into its sealed tables, in the caller's
/// transaction; the number of open rows moved.
pub(super) fn reseal(write: &WriteTransaction, site: &str, unit: Unit) -> Result<u64, StoreError> {
    let mut rows = HashMap::new();
    let moved = take_open_rows(write, site, unit, &mut rows)?;
    if moved == 0 {
        return Ok(0);
    }
    {
        let segments = write.open_table(SEGMENTS).map_err(operation)?;
        let dictionaries = write.open_table(DICTIONARIES).map_err(operation)?;
        unit_rows(&segments, &dictionaries, site, unit, &mut rows)?;
    }
    write_unit(write, site, unit, &rows)?;
    Ok(moved)
}

/// The units with open rows before `before_day` (months before it too),
/// one seek per prefix and unit.
pub(super) fn open_units(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    before_day: i32,
) -> Result<BTreeSet<Unit>, StoreError> {
    let mut units = BTreeSet::new();
    let (mut cursor, end) = site_range(site);
    while let Some((prefix, granularity)) = next_prefix(table, &cursor, &end)? {
        cursor = after(&prefix);
        let limit = match granularity {
            Granularity::Hour => before_day.saturating_mul(24),
            Granularity::Day | Granularity::Month => before_day,
        };
        let mut from = i32::MIN;
        loop {
            let (start, stop) = (at_bucket(&prefix, from), at_bucket(&prefix, limit));
            let Some(entry) = table
                .range(start.as_slice()..stop.as_slice())
                .map_err(operation)?
                .next()
            else {
                break;
            };
            let (key, _) = entry.map_err(operation)?;
            let (bucket, _) =
                split_row(&key.value()[prefix.len()..]).map_err(StoreError::Corrupt)?;
            let (unit, _) = Unit::of(granularity, bucket);
            units.insert(unit);
            from = unit.next_bucket(granularity);
        }
    }
    Ok(units)
}

/// Deletes a site's sealed units before the limits: days (with their
/// hours) before `before_day`, hours before `before_hour`, months whose
/// first day is before `before_day`. The rows deleted.
pub(super) fn purge(
    write: &WriteTransaction,
    site: &str,
    before_day: i32,
    before_hour: i32,
) -> Result<u64, StoreError> {
    let hour_day = before_hour.div_euclid(24);
    // The first day no retention limit reaches into.
    let untouched = before_day.max(hour_day + i32::from(before_hour.rem_euclid(24) != 0));
    let mut removed = 0;
    for unit in units_between(write, site, Unit::Day(i32::MIN), Unit::Day(untouched))? {
        removed += match unit {
            Unit::Day(day) if day < before_day && day < hour_day => delete_unit(write, site, unit)?,
            _ => trim_day(write, site, unit, before_day, before_hour)?,
        };
    }
    for unit in units_between(write, site, Unit::Month(i32::MIN), Unit::Month(before_day))? {
        removed += delete_unit(write, site, unit)?;
    }
    Ok(removed)
}

/// The sealed units of one kind in `from..limit`, by their dictionaries.
fn units_between(
    write: &WriteTransaction,
    site: &str,
    from: Unit,
    limit: Unit,
) -> Result<Vec<Unit>, StoreError> {
    let table = write.open_table(DICTIONARIES).map_err(operation)?;
    let (start, end) = (unit_key(site, from), unit_key(site, limit));
    let site_len = start.len() - 5;
    let mut units = Vec::new();
    for entry in table
        .range(start.as_slice()..end.as_slice())
        .map_err(operation)?
    {
        let (key, _) = entry.map_err(operation)?;
        units.push(unit_from(key.value(), site_len)?);
    }
    Ok(units)
}

/// Removes from a day the rows retention has reached (its daily rows when
/// the day is before `before_day`, its hours before `before_hour`).
fn trim_day(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    before_day: i32,
    before_hour: i32,
) -> Result<u64, StoreError> {
    let mut rows = HashMap::new();
    {
        let segments = write.open_table(SEGMENTS).map_err(operation)?;
        let dictionaries = write.open_table(DICTIONARIES).map_err(operation)?;
        unit_rows(&segments, &dictionaries, site, unit, &mut rows)?;
    }
    let mut removed = 0;
    rows.retain(|shape, rows| {
        rows.retain(|(_, offset, _), _| {
            let bucket = unit.bucket(shape.granularity, *offset);
            let gone = match shape.granularity {
                Granularity::Hour => bucket < before_hour,
                _ => bucket < before_day,
            };
            removed += u64::from(gone);
            !gone
        });
        !rows.is_empty()
    });
    if removed > 0 {
        write_unit(write, site, unit, &rows)?;
    }
    Ok(removed)
}

/// The monthly rows of the month `first..=last`: the sums of its sealed
/// and open daily rows, read from one snapshot.
pub(super) fn month_rows(
    read: &redb::ReadTransaction,
    site: &str,
    (first, last): (i32, i32),
) -> Result<Rows, StoreError> {
    let segments = read.open_table(SEGMENTS).map_err(operation)?;
    let dictionaries = read.open_table(DICTIONARIES).map_err(operation)?;
    let open = read.open_table(COUNTS).map_err(operation)?;
    let mut month: Rows = HashMap::new();
    for day in first..=last {
        let mut rows = HashMap::new();
        unit_rows(&segments, &dictionaries, site, Unit::Day(day), &mut rows)?;
        open_rows(&open, site, Unit::Day(day), &mut rows)?;
        for (shape, rows) in rows {
            if shape.granularity != Granularity::Day {
                continue;
            }
            let monthly = Shape {
                granularity: Granularity::Month,
                ..shape
            };
            let into = month.entry(monthly).or_default();
            for ((filter, _, value), counts) in rows {
                *into.entry((filter, 0, value)).or_default() += counts;
            }
        }
    }
    Ok(month)
}

/// Writes a month's rows as its unit, replacing the unit and any monthly
/// open rows (written before days were sealed); the rows written.
pub(super) fn write_month(
    write: &WriteTransaction,
    site: &str,
    first: i32,
    rows: &Rows,
) -> Result<u64, StoreError> {
    take_open_rows(write, site, Unit::Month(first), &mut HashMap::new())?;
    write_unit(write, site, Unit::Month(first), rows)?;
    Ok(rows.values().map(|rows| rows.len() as u64).sum())
}

/// The bytes of a site's sealed units: keys and blocks.
pub(super) fn bytes(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
) -> Result<u64, StoreError> {
    Ok(bytes_in(segments, site)? + bytes_in(dictionaries, site)?)
}

fn bytes_in(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
) -> Result<u64, StoreError> {
    let (start, end) = site_range(site);
    let mut bytes = 0u64;
    for entry in table
        .range(start.as_slice()..end.as_slice())
        .map_err(operation)?
    {
        let (key, block) = entry.map_err(operation)?;
        bytes += (key.value().len() + block.value().len()) as u64;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
