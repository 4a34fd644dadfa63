//! Moving open rows into sealed units: sealing finished days.
//!
//! Open rows are walked prefix by prefix (one seek each) over a window of
//! days, so a store with a long history of open rows (a file written before
//! days were sealed) is sealed a few days at a time, in bounded memory.

use std::collections::BTreeMap;

use redb::{ReadableTable, WriteTransaction};

use super::{DICTIONARIES, Rows, SEGMENTS, Shape, Unit, corrupt, unit_rows, write_unit};
use crate::store::StoreError;
use crate::store::embedded::by_prefix::{after, at_bucket, next_prefix};
use crate::store::embedded::{COUNTS, operation};
use crate::store::schema::site_range;
use crate::store::schema::{Counts, Granularity, decode_key, split_row};

/// Days sealed per transaction.
pub(in crate::store::embedded) const WINDOW_DAYS: i32 = 4;

/// Rows of several units, while they are being rebuilt.
pub(super) type ByUnit = BTreeMap<Unit, Rows>;

/// The open-row buckets of `granularity` for the days `first..end`.
fn buckets(granularity: Granularity, (first, end): (i32, i32)) -> (i32, i32) {
    match granularity {
        Granularity::Hour => (first.saturating_mul(24), end.saturating_mul(24)),
        Granularity::Day | Granularity::Month => (first, end),
    }
}

/// Adds the open rows of the days `first..end` (their hours, and months
/// whose first day is among them) to `into`, by unit; their keys.
pub(super) fn open_rows_in(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    days: (i32, i32),
    into: &mut ByUnit,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let (mut cursor, end) = site_range(site);
    let mut keys = Vec::new();
    while let Some((prefix, granularity)) = next_prefix(table, &cursor, &end)? {
        cursor = after(&prefix);
        let (from, to) = buckets(granularity, days);
        let (from, to) = (at_bucket(&prefix, from), at_bucket(&prefix, to));
        let mut range = table
            .range(from.as_slice()..to.as_slice())
            .map_err(operation)?
            .peekable();
        if range.peek().is_none() {
            continue;
        }
        let (decoded, _) = decode_key(&at_bucket(&prefix, 0)).map_err(StoreError::Corrupt)?;
        let shape = Shape {
            filter: decoded.filter.0,
            breakdown: decoded.breakdown,
            granularity,
        };
        for entry in range {
            let (key, value) = entry.map_err(operation)?;
            let (bucket, text) =
                split_row(&key.value()[prefix.len()..]).map_err(StoreError::Corrupt)?;
            let counts = Counts::decode(value.value()).ok_or(corrupt("counts length"))?;
            let (unit, offset) = Unit::of(granularity, bucket);
            *into
                .entry(unit)
                .or_default()
                .entry(shape)
                .or_default()
                .entry((decoded.filter.1.clone(), offset, text.to_owned()))
                .or_default() += counts;
            keys.push(key.value().to_vec());
        }
    }
    Ok(keys)
}

/// The first and last day with open rows before `before_day`, if any.
pub(in crate::store::embedded) fn open_days(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    before_day: i32,
) -> Result<Option<(i32, i32)>, StoreError> {
    let (mut cursor, end) = site_range(site);
    let mut days: Option<(i32, i32)> = None;
    while let Some((prefix, granularity)) = next_prefix(table, &cursor, &end)? {
        cursor = after(&prefix);
        let (_, limit) = buckets(granularity, (0, before_day));
        let (from, to) = (at_bucket(&prefix, i32::MIN), at_bucket(&prefix, limit));
        let mut range = table
            .range(from.as_slice()..to.as_slice())
            .map_err(operation)?;
        let day =
            |entry: Option<Result<_, redb::StorageError>>| -> Result<Option<i32>, StoreError> {
                let Some(entry) = entry else {
                    return Ok(None);
                };
                let (key, _): (redb::AccessGuard<&[u8]>, _) = entry.map_err(operation)?;
                let (bucket, _) =
                    split_row(&key.value()[prefix.len()..]).map_err(StoreError::Corrupt)?;
                Ok(Some(match granularity {
                    Granularity::Hour => bucket.div_euclid(24),
                    _ => bucket,
                }))
            };
        let Some(first) = day(range.next())? else {
            continue;
        };
        let last = day(range.next_back())?.unwrap_or(first);
        days = Some(match days {
            Some((low, high)) => (low.min(first), high.max(last)),
            None => (first, last),
        });
    }
    Ok(days)
}

/// Seals the open rows of the days `first..end` (and months starting in
/// them) into their units, merged with what those units held, in the
/// caller's transaction; the number of open rows moved.
pub(in crate::store::embedded) fn seal_window(
    write: &WriteTransaction,
    site: &str,
    days: (i32, i32),
) -> Result<u64, StoreError> {
    let mut units = ByUnit::new();
    {
        let mut table = write.open_table(COUNTS).map_err(operation)?;
        let keys = open_rows_in(&table, site, days, &mut units)?;
        for key in &keys {
            table.remove(key.as_slice()).map_err(operation)?;
        }
    }
    let mut moved = 0;
    for (unit, mut rows) in units {
        moved += rows.values().map(|rows| rows.len() as u64).sum::<u64>();
        {
            let segments = write.open_table(SEGMENTS).map_err(operation)?;
            let dictionaries = write.open_table(DICTIONARIES).map_err(operation)?;
            unit_rows(&segments, &dictionaries, site, unit, &mut rows)?;
        }
        write_unit(write, site, unit, &rows)?;
    }
    Ok(moved)
}
