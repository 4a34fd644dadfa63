//! Sealed days: where the embedded store keeps counts once a day is over.
//!
//! Counts are first written as open rows (`COUNTS`, one redb row per key,
//! cheap to add to). Once a day has passed (`Embedded::seal`), its rows move
//! into a unit: one dictionary of the day's texts (`DICTIONARIES`) and one
//! compact table per shape (filter dimension, breakdown dimension,
//! granularity) in `SEGMENTS`, encoded by `segment`. A rolled-up month is a
//! unit of the same kind.
//!
//! A row written to a sealed day later (a late hit, a clock set back)
//! waits as an open row; reads add it to the sealed row of the same key,
//! and the next seal merges it in.
//!
//! A day keeps the breakdown tables of one filter dimension and
//! granularity together in one group block (compressed together, a few
//! large values a day instead of a hundred small ones): a breakdown of a
//! day decompresses its filter dimension's group. A day's totals (no
//! breakdown), which series and aggregates read from every day, and a
//! month's tables each keep a block of their own, so a year's query
//! decompresses only the tables it reads. Readers take either layout for
//! either kind of unit, so units are rewritten in the current layout
//! whenever they are written, and none needs a migration.
//!
//! A unit is written as one stream of these blocks cut into page-sized
//! pieces, with a head that says where each block lies (`pieces`): redb
//! rounds a value larger than a page up to a power of two of pages, which
//! took a quarter of a small site's bytes. Units written before keep one
//! block per key (their dictionary under the unit's key in
//! `DICTIONARIES`), and readers take both (`Layout`).
//!
//! A unit is only ever replaced whole, its dictionary and tables in one
//! transaction, so a reader never pairs a table with another dictionary.
//! Retention deletes units whole; with each day's dictionary deleted along
//! with its tables, no text outlives the last count that names it.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

mod month;
mod open;
mod pieces;
mod repack;
mod retention;

use super::operation;
use crate::store::StoreError;
use crate::store::schema::{
    Counts, Dim, Granularity, RowPrefix, encoded_bucket, site_range, split_row,
};
use crate::store::segment::{Dictionary, Table, decode_group, encode_group, row_count};
use crate::store::unit::{Encoded, add_rows, each_row_in, encode};
pub(super) use crate::store::unit::{Rows, Shape, Unit};

pub(super) use month::{month_unit, write_month};
pub(super) use open::{WINDOW_DAYS, open_days, seal_window};
pub(super) use repack::{repack, units_in_blocks};
pub(super) use retention::purge;

/// `[site len][site][unit kind][period][PIECE][piece number]` → a piece of
/// the unit's stream; in units written before pieces,
/// `…[period][filter dim][breakdown dim][granularity]` → table block, or
/// with `GROUPED` for the breakdown → group block.
pub(super) const SEGMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("segments");
/// `[site len][site][unit kind][period]` → the unit's head; in units
/// written before pieces, its dictionary block.
pub(super) const DICTIONARIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("dictionaries");

fn unit_key(site: &str, unit: Unit) -> Vec<u8> {
    let (mut key, _) = site_range(site);
    key.push(unit.kind() as u8);
    key.extend_from_slice(&encoded_bucket(unit.period()));
    key
}

/// The breakdown byte of a key whose block is a group: every table of its
/// unit with the key's filter dimension and granularity. No dimension has
/// this number.
const GROUPED: u8 = 0xFF;

/// Whether `shape`'s table in `unit` is written in a group (see the
/// module's head). A day's totals (no breakdown) stay alone: a series or
/// an aggregate over a year reads them from every day, and would
/// otherwise decompress each day's breakdowns with them.
fn grouped(unit: Unit, shape: Shape) -> bool {
    matches!(unit, Unit::Day(_)) && shape.breakdown != Dim::None
}

/// The key of the block that holds `shape`'s table in `unit`, written in
/// the layout of its kind (`grouped`) or the other one.
fn segment_key(site: &str, unit: Unit, shape: Shape, group: bool) -> Vec<u8> {
    let mut key = unit_key(site, unit);
    let mut bytes = shape.to_bytes();
    if group {
        bytes[1] = GROUPED;
    }
    key.extend_from_slice(&bytes);
    key
}

/// Whether a segment key names a block of `granularity`.
fn key_granularity(key: &[u8]) -> Option<Granularity> {
    key.last().copied().and_then(Granularity::from_byte)
}

/// The tables of a stored block, by shape: its one table, or a group's.
fn tables_of(key: &[u8], block: &[u8]) -> Result<Vec<(Shape, Table)>, StoreError> {
    let bytes = key
        .last_chunk::<3>()
        .copied()
        .ok_or(StoreError::Corrupt("segment key"))?;
    if bytes[1] != GROUPED {
        let shape = Shape::from_bytes(bytes).map_err(corrupt)?;
        return Ok(vec![(shape, Table::decode(block).map_err(corrupt)?)]);
    }
    decode_group(block)
        .map_err(corrupt)?
        .into_iter()
        .map(|(breakdown, table)| {
            let shape = Shape::from_bytes([bytes[0], breakdown, bytes[2]]).map_err(corrupt)?;
            Ok((shape, table))
        })
        .collect()
}

/// How a stored unit's blocks are kept.
enum Layout {
    /// One stream in pieces, placed by its head.
    Pieces(pieces::Head),
    /// One block per key (units written before pieces).
    Blocks,
}

/// A stored unit's layout, from its value in `DICTIONARIES`.
fn layout_of(value: &[u8]) -> Result<Layout, StoreError> {
    match pieces::Head::is_head(value) {
        true => pieces::Head::decode(value).map(Layout::Pieces),
        false => Ok(Layout::Blocks),
    }
}

/// A stored unit's dictionary: in its stream, or (earlier layout) its
/// value in `DICTIONARIES` itself.
fn dictionary_in(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    layout: &Layout,
    value: &[u8],
) -> Result<Dictionary, StoreError> {
    let decoded = match layout {
        Layout::Pieces(head) => Dictionary::decode(&pieces::read(
            segments,
            site,
            unit,
            head,
            head.dictionary(),
        )?),
        Layout::Blocks => Dictionary::decode(value),
    };
    decoded.map_err(corrupt)
}

/// The table of `shape` in `unit`, when it holds one.
fn table_of(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    layout: &Layout,
    shape: Shape,
) -> Result<Option<Table>, StoreError> {
    for group in [grouped(unit, shape), !grouped(unit, shape)] {
        let key = segment_key(site, unit, shape, group);
        let block = match layout {
            Layout::Pieces(head) => {
                let tag = key.last_chunk::<3>().copied().unwrap_or_default();
                match head.block(tag) {
                    Some(place) => pieces::read(segments, site, unit, head, place)?,
                    None => continue,
                }
            }
            Layout::Blocks => match segments.get(key.as_slice()).map_err(operation)? {
                Some(block) => block.value().to_vec(),
                None => continue,
            },
        };
        let table = tables_of(&key, &block)?
            .into_iter()
            .find_map(|(stored, table)| (stored == shape).then_some(table));
        if table.is_some() || group {
            return Ok(table);
        }
    }
    Ok(None)
}

/// Hands each table of `unit` of `granularity` (any, for `None`) to `each`.
fn each_table_under(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    layout: &Layout,
    granularity: Option<Granularity>,
    mut each: impl FnMut(Shape, Table) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if let Layout::Pieces(head) = layout {
        for (tag, at, length) in head.blocks(granularity) {
            let block = pieces::read(segments, site, unit, head, (at, length))?;
            for (shape, table) in tables_of(&tag, &block)? {
                each(shape, table)?;
            }
        }
        return Ok(());
    }
    let start = unit_key(site, unit);
    for entry in segments.range(start.as_slice()..).map_err(operation)? {
        let (key, block) = entry.map_err(operation)?;
        let key = key.value();
        if !key.starts_with(&start) {
            break;
        }
        if granularity.is_some_and(|wanted| key_granularity(key) != Some(wanted)) {
            continue;
        }
        for (shape, table) in tables_of(key, block.value())? {
            each(shape, table)?;
        }
    }
    Ok(())
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
        let layout = layout_of(block.value())?;
        let Some(table) = table_of(segments, &prefix.site, unit, &layout, shape)? else {
            continue;
        };
        // The dictionary is read only once the unit holds the table.
        let dictionary = dictionary_in(segments, &prefix.site, unit, &layout, block.value())?;
        each_row_in(
            (unit, prefix.granularity),
            &dictionary,
            &table,
            &prefix.filter.1,
            (first, last),
            &mut each,
        )
        .map_err(corrupt)?;
    }
    Ok(())
}

/// A stored unit's layout and dictionary, when the unit is stored.
fn dictionary_of(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
) -> Result<Option<(Layout, Dictionary)>, StoreError> {
    let Some(value) = dictionaries
        .get(unit_key(site, unit).as_slice())
        .map_err(operation)?
    else {
        return Ok(None);
    };
    let layout = layout_of(value.value())?;
    let dictionary = dictionary_in(segments, site, unit, &layout, value.value())?;
    Ok(Some((layout, dictionary)))
}

/// Every row of a stored unit, with its texts, added to `rows` by shape.
fn unit_rows(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    dictionaries: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    rows: &mut Rows,
) -> Result<(), StoreError> {
    let Some((layout, dictionary)) = dictionary_of(segments, dictionaries, site, unit)? else {
        return Ok(());
    };
    each_table_under(segments, site, unit, &layout, None, |shape, table| {
        add_rows(&dictionary, shape, &table, rows).map_err(corrupt)
    })
}

/// Writes `rows` as the whole of `unit`, replacing what it held.
fn write_unit(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    rows: &Rows,
) -> Result<(), StoreError> {
    put_unit(write, site, unit, encode(rows).as_ref())
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
    let mut groups: BTreeMap<[u8; 3], Vec<(u8, &[u8])>> = BTreeMap::new();
    let mut blocks: Vec<([u8; 3], Vec<u8>)> = Vec::new();
    for (shape, block) in &encoded.tables {
        let mut tag = shape.to_bytes();
        if grouped(unit, *shape) {
            tag[1] = GROUPED;
            groups
                .entry(tag)
                .or_default()
                .push((shape.breakdown as u8, block.as_slice()));
        } else {
            blocks.push((tag, block.clone()));
        }
    }
    for (tag, tables) in groups {
        blocks.push((tag, encode_group(tables).map_err(corrupt)?));
    }
    let rows = blocks
        .iter()
        .map(|(_, block)| row_count(block).unwrap_or_default())
        .sum();
    let pieces::Cut { head, pieces } = pieces::cut(site, unit, &encoded.dictionary, &blocks, rows)?;
    let mut segments = write.open_table(SEGMENTS).map_err(operation)?;
    for (key, piece) in pieces {
        segments
            .insert(key.as_slice(), piece.as_slice())
            .map_err(operation)?;
    }
    write
        .open_table(DICTIONARIES)
        .map_err(operation)?
        .insert(unit_key(site, unit).as_slice(), head.as_slice())
        .map_err(operation)?;
    Ok(())
}

/// Deletes a unit's tables and dictionary; the rows they held.
fn delete_unit(write: &WriteTransaction, site: &str, unit: Unit) -> Result<u64, StoreError> {
    let start = unit_key(site, unit);
    let mut end = start.clone();
    end.push(0xFF);
    let layout = write
        .open_table(DICTIONARIES)
        .map_err(operation)?
        .remove(start.as_slice())
        .map_err(operation)?
        .map(|value| layout_of(value.value()))
        .transpose()?;
    let mut removed = match layout {
        Some(Layout::Pieces(head)) => head.rows,
        _ => 0,
    };
    write
        .open_table(SEGMENTS)
        .map_err(operation)?
        .retain_in(start.as_slice()..end.as_slice(), |key, block| {
            // A block of the earlier layout knows its rows; a piece does not.
            if key.get(start.len()) != Some(&pieces::PIECE) {
                removed += row_count(block).unwrap_or_default();
            }
            false
        })
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
