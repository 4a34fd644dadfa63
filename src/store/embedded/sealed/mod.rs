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

mod month;
mod open;
mod retention;

use super::by_prefix::site_range;
use super::operation;
use super::segment::{Dictionary, SealedRow, Table, encode_table, row_count};
use crate::store::StoreError;
use crate::store::schema::{Counts, Dim, Granularity, RowPrefix, encoded_bucket, split_row};

pub(super) use month::{month_unit, write_month};
pub(super) use open::{WINDOW_DAYS, open_days, seal_window};
pub(super) use retention::purge;

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

/// A unit ready to store: its dictionary and a block per shape.
pub(super) struct Encoded {
    dictionary: Dictionary,
    tables: Vec<(Shape, Vec<u8>)>,
}

/// Encodes `rows` as a unit; `None` when there are none.
fn encode_unit(rows: &Rows) -> Option<Encoded> {
    let texts: BTreeSet<&str> = rows
        .values()
        .flat_map(|rows| rows.keys())
        .flat_map(|(filter, _, value)| [filter.as_str(), value.as_str()])
        .collect();
    if texts.is_empty() {
        return None;
    }
    let dictionary = Dictionary::of_sorted(texts.iter().copied());
    let number = |text: &str| dictionary.id_of(text).unwrap_or_default();
    let tables = rows
        .iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(shape, rows)| {
            let mut sealed: Vec<SealedRow> = rows
                .iter()
                .map(|((filter, offset, value), counts)| SealedRow {
                    filter: number(filter),
                    offset: *offset,
                    value: number(value),
                    counts: *counts,
                })
                .collect();
            (*shape, encode_table(&mut sealed))
        })
        .collect();
    Some(Encoded { dictionary, tables })
}

/// Writes `rows` as the whole of `unit`, replacing what it held.
fn write_unit(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    rows: &Rows,
) -> Result<(), StoreError> {
    put_unit(write, site, unit, encode_unit(rows).as_ref())
}

/// Stores an encoded unit in place of what `unit` held (nothing for `None`).
fn put_unit(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    encoded: Option<&Encoded>,
) -> Result<(), StoreError> {
    delete_unit(write, site, unit)?;
    let Some(encoded) = encoded else {
        return Ok(());
    };
    let mut segments = write.open_table(SEGMENTS).map_err(operation)?;
    for (shape, block) in &encoded.tables {
        segments
            .insert(segment_key(site, unit, *shape).as_slice(), block.as_slice())
            .map_err(operation)?;
    }
    write
        .open_table(DICTIONARIES)
        .map_err(operation)?
        .insert(
            unit_key(site, unit).as_slice(),
            encoded.dictionary.encode().as_slice(),
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
