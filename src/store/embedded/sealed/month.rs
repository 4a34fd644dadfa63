//! A month's unit: the sums of its days, sealed and open, by shape.
//!
//! Rows are summed by dictionary number, one shape at a time: each day's
//! numbers are translated once into the month's dictionary (the union of
//! its days' texts), so summing a month of a large site allocates nothing
//! per row and holds one shape's sums at a time.

use std::collections::{BTreeSet, HashMap, HashSet};

use redb::WriteTransaction;

use super::open::{ByUnit, open_rows_in};
use super::{
    DICTIONARIES, Encoded, SEGMENTS, Shape, Unit, corrupt, dictionary_of, put_unit, shape_of,
    unit_key,
};
use crate::store::StoreError;
use crate::store::embedded::{COUNTS, operation};
use crate::store::schema::{Counts, Granularity, prefix_of};
use crate::store::segment::{Dictionary, SealedRow, Table, encode_table};

/// The unit of the month `first..=last`, summed from one snapshot, and
/// the number of its rows.
pub(in crate::store::embedded) fn month_unit(
    read: &redb::ReadTransaction,
    site: &str,
    (first, last): (i32, i32),
) -> Result<(Option<Encoded>, u64), StoreError> {
    let segments = read.open_table(SEGMENTS).map_err(operation)?;
    let dictionaries = read.open_table(DICTIONARIES).map_err(operation)?;
    let mut open = ByUnit::new();
    open_rows_in(
        &read.open_table(COUNTS).map_err(operation)?,
        site,
        (first, last + 1),
        &mut open,
    )?;
    let open: Vec<_> = open
        .into_iter()
        .filter(|(unit, _)| matches!(unit, Unit::Day(_)))
        .flat_map(|(_, rows)| rows)
        .filter(|(shape, _)| shape.granularity == Granularity::Day)
        .collect();
    let mut days = Vec::new();
    let mut shapes = HashSet::new();
    for day in first..=last {
        let unit = Unit::Day(day);
        let Some(dictionary) = dictionary_of(&dictionaries, site, unit)? else {
            continue;
        };
        let start = unit_key(site, unit);
        for entry in segments.range(start.as_slice()..).map_err(operation)? {
            let (key, _) = entry.map_err(operation)?;
            if !key.value().starts_with(&start) {
                break;
            }
            let shape = shape_of(key.value())?;
            if shape.granularity == Granularity::Day {
                shapes.insert(shape);
            }
        }
        days.push((unit, dictionary));
    }
    shapes.extend(open.iter().map(|(shape, _)| *shape));
    let texts: BTreeSet<&str> = days
        .iter()
        .flat_map(|(_, dictionary)| dictionary.texts())
        .chain(
            open.iter()
                .flat_map(|(_, rows)| rows.keys())
                .flat_map(|(filter, _, value)| [filter.as_str(), value.as_str()]),
        )
        .collect();
    if texts.is_empty() {
        return Ok((None, 0));
    }
    let month = Dictionary::of_sorted(texts.iter().copied());
    let number = |text: &str| {
        month
            .id_of(text)
            .ok_or(corrupt("text missing from its month"))
    };
    let translations = days
        .iter()
        .map(|(_, dictionary)| dictionary.texts().map(number).collect())
        .collect::<Result<Vec<Vec<u32>>, StoreError>>()?;
    let mut tables = Vec::new();
    let mut written = 0;
    for shape in shapes {
        let mut sums: HashMap<(u32, u32), Counts> = HashMap::new();
        for ((unit, _), translation) in days.iter().zip(&translations) {
            let key = super::segment_key(site, *unit, shape);
            let Some(block) = segments.get(key.as_slice()).map_err(operation)? else {
                continue;
            };
            let mut missing = false;
            Table::decode(block.value())
                .map_err(corrupt)?
                .each_row(|row| {
                    match (
                        translation.get(row.filter as usize),
                        translation.get(row.value as usize),
                    ) {
                        (Some(&filter), Some(&value)) => {
                            *sums.entry((filter, value)).or_default() += row.counts;
                        }
                        _ => missing = true,
                    }
                })
                .map_err(corrupt)?;
            if missing {
                return Err(corrupt("sealed row names no text"));
            }
        }
        for (_, rows) in open.iter().filter(|(open_shape, _)| *open_shape == shape) {
            for ((filter, _, value), counts) in rows {
                *sums.entry((number(filter)?, number(value)?)).or_default() += *counts;
            }
        }
        let mut rows: Vec<SealedRow> = sums
            .into_iter()
            .map(|((filter, value), counts)| SealedRow {
                filter,
                offset: 0,
                value,
                counts,
            })
            .collect();
        written += rows.len() as u64;
        let monthly = Shape {
            granularity: Granularity::Month,
            ..shape
        };
        tables.push((monthly, encode_table(&mut rows)));
    }
    Ok((
        Some(Encoded {
            dictionary: month.encode(),
            tables,
        }),
        written,
    ))
}

/// Stores a month's unit, replacing the unit and any monthly open rows
/// (written before days were sealed).
pub(in crate::store::embedded) fn write_month(
    write: &WriteTransaction,
    site: &str,
    first: i32,
    unit: Option<&Encoded>,
) -> Result<(), StoreError> {
    {
        let mut table = write.open_table(COUNTS).map_err(operation)?;
        let mut replaced = ByUnit::new();
        let keys = open_rows_in(&table, site, (first, first + 1), &mut replaced)?;
        for key in keys {
            let (_, granularity) = prefix_of(&key).ok_or(corrupt("key prefix"))?;
            if granularity == Granularity::Month {
                table.remove(key.as_slice()).map_err(operation)?;
            }
        }
    }
    put_unit(write, site, Unit::Month(first), unit)
}
