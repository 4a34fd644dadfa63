//! A month's unit: the sums of its days, sealed and open, by shape.
//!
//! Rows are summed by dictionary number, one shape at a time: each day's
//! numbers are translated once into the month's dictionary (the union of
//! its days' texts), so summing a month of a large site allocates nothing
//! per row and holds one shape's sums at a time.
//!
//! Each shape is read in a snapshot of its own, so no snapshot lasts the
//! whole sum: pages a flush frees meanwhile can be used again at once,
//! instead of the file growing by every flush of a long roll-up. This is
//! consistent because only the roll-up thread seals days, between its
//! roll-ups, and a flush that writes one of the month's days meanwhile
//! takes the month off its pending list, so it is summed again.

use std::collections::{BTreeSet, HashMap, HashSet};

use redb::WriteTransaction;

use super::open::{ByUnit, open_rows_in};
use super::{
    DICTIONARIES, Encoded, SEGMENTS, Shape, Unit, corrupt, dictionary_of, each_table_under,
    put_unit, table_of,
};
use crate::store::StoreError;
use crate::store::embedded::{COUNTS, operation};
use crate::store::schema::{Counts, Granularity, prefix_of};
use crate::store::segment::{Dictionary, SealedRow, encode_table};

/// The unit of the month `first..=last`, and the number of its rows.
/// `begin` opens a read snapshot: one for the month's texts and open
/// rows, then one for each shape.
pub(in crate::store::embedded) fn month_unit(
    begin: impl Fn() -> Result<redb::ReadTransaction, StoreError>,
    site: &str,
    (first, last): (i32, i32),
) -> Result<(Option<Encoded>, u64), StoreError> {
    let read = begin()?;
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
        let Some((layout, dictionary)) = dictionary_of(&segments, &dictionaries, site, unit)?
        else {
            continue;
        };
        each_table_under(
            &segments,
            site,
            unit,
            &layout,
            Some(Granularity::Day),
            |shape, _| {
                shapes.insert(shape);
                Ok(())
            },
        )?;
        days.push((unit, layout, dictionary));
    }
    drop((segments, dictionaries, read));
    shapes.extend(open.iter().map(|(shape, _)| *shape));
    let texts: BTreeSet<&str> = days
        .iter()
        .flat_map(|(_, _, dictionary)| dictionary.texts())
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
        .map(|(_, _, dictionary)| dictionary.texts().map(number).collect())
        .collect::<Result<Vec<Vec<u32>>, StoreError>>()?;
    let mut tables = Vec::new();
    let mut written = 0;
    for shape in shapes {
        let read = begin()?;
        let segments = read.open_table(SEGMENTS).map_err(operation)?;
        let mut sums: HashMap<(u32, u32), Counts> = HashMap::new();
        for ((unit, layout, _), translation) in days.iter().zip(&translations) {
            let Some(table) = table_of(&segments, site, *unit, layout, shape)? else {
                continue;
            };
            let mut missing = false;
            table
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
