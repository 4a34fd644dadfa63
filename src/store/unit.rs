//! A sealed unit as both backends see it: a finished day (its hourly and
//! daily rows) or a rolled-up month (its monthly rows), held as one
//! dictionary of texts and one table per shape (`segment`).
//!
//! This module turns a unit's rows, with their texts, into those blocks and
//! back, and reads one filter value's rows of a table. Where the blocks are
//! kept (redb tables, Redis hashes) is the backends' business.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::schema::{Counts, Dim, Granularity};
use crate::store::segment::{Corrupt, Dictionary, SealedRow, Table, encode_table};

/// A day (its hourly and daily rows) or a rolled-up month (its monthly rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Unit {
    Day(i32),
    Month(i32),
}

/// The tables of a unit: one per shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    pub filter: Dim,
    pub breakdown: Dim,
    pub granularity: Granularity,
}

/// A row with its texts, while a unit is being rebuilt: the filter value,
/// the hour within the day (0 but for hourly rows) and the breakdown value.
pub(super) type Texts = (String, u32, String);
/// A unit's rows by shape, while it is being rebuilt.
pub(super) type Rows = HashMap<Shape, BTreeMap<Texts, Counts>>;

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

    /// `Day` for a day's unit, `Month` for a month's.
    pub(super) fn kind(self) -> Granularity {
        match self {
            Unit::Day(_) => Granularity::Day,
            Unit::Month(_) => Granularity::Month,
        }
    }

    /// The day, or the month's first day.
    pub(super) fn period(self) -> i32 {
        match self {
            Unit::Day(day) | Unit::Month(day) => day,
        }
    }

    /// The bucket of a row of `granularity` at `offset` in this unit.
    pub(super) fn bucket(self, granularity: Granularity, offset: u32) -> i32 {
        match granularity {
            Granularity::Hour => self.period() * 24 + offset as i32,
            _ => self.period(),
        }
    }
}

impl Shape {
    /// Three bytes: filter dimension, breakdown dimension, granularity.
    pub(super) fn to_bytes(self) -> [u8; 3] {
        [
            self.filter as u8,
            self.breakdown as u8,
            self.granularity as u8,
        ]
    }

    pub(super) fn from_bytes([filter, breakdown, granularity]: [u8; 3]) -> Result<Shape, Corrupt> {
        Ok(Shape {
            filter: Dim::from_byte(filter).ok_or("segment filter")?,
            breakdown: Dim::from_byte(breakdown).ok_or("segment breakdown")?,
            granularity: Granularity::from_byte(granularity).ok_or("segment granularity")?,
        })
    }
}

/// A unit's blocks: its dictionary and a table per shape.
pub(super) struct Encoded {
    pub(crate) dictionary: Vec<u8>,
    pub tables: Vec<(Shape, Vec<u8>)>,
}

/// The blocks of a unit holding `rows`; `None` when it holds no row.
pub(super) fn encode(rows: &Rows) -> Option<Encoded> {
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
    Some(Encoded {
        dictionary: dictionary.encode(),
        tables,
    })
}

/// Adds every row of a table of `shape`, with its texts, to `rows`.
pub(super) fn add_table(
    dictionary: &Dictionary,
    shape: Shape,
    table: &[u8],
    rows: &mut Rows,
) -> Result<(), Corrupt> {
    add_rows(dictionary, shape, &Table::decode(table)?, rows)
}

/// Adds every row of a decoded table of `shape`, with its texts, to `rows`.
pub(super) fn add_rows(
    dictionary: &Dictionary,
    shape: Shape,
    table: &Table,
    rows: &mut Rows,
) -> Result<(), Corrupt> {
    let into = rows.entry(shape).or_default();
    let mut missing = false;
    table.each_row(
        |row| match (dictionary.get(row.filter), dictionary.get(row.value)) {
            (Some(filter), Some(value)) => {
                *into
                    .entry((filter.to_owned(), row.offset, value.to_owned()))
                    .or_default() += row.counts;
            }
            _ => missing = true,
        },
    )?;
    match missing {
        true => Err("sealed row names no text"),
        false => Ok(()),
    }
}

/// Hands the rows of `table` (of a unit's shape with `granularity`) under
/// the filter value `filter` with a bucket in `first..=last` to `each`, in
/// bucket and value order.
pub(super) fn each_row_of(
    (unit, granularity): (Unit, Granularity),
    dictionary: &Dictionary,
    table: &[u8],
    filter: &str,
    (first, last): (i32, i32),
    each: impl FnMut(i32, &str, Counts),
) -> Result<(), Corrupt> {
    if dictionary.id_of(filter).is_none() {
        return Ok(());
    }
    let table = Table::decode(table)?;
    each_row_in(
        (unit, granularity),
        dictionary,
        &table,
        filter,
        (first, last),
        each,
    )
}

/// As `each_row_of`, for a table already decoded.
pub(super) fn each_row_in(
    (unit, granularity): (Unit, Granularity),
    dictionary: &Dictionary,
    table: &Table,
    filter: &str,
    (first, last): (i32, i32),
    mut each: impl FnMut(i32, &str, Counts),
) -> Result<(), Corrupt> {
    let Some(filter) = dictionary.id_of(filter) else {
        return Ok(());
    };
    let mut missing = false;
    table.rows_of(filter, |row| {
        let bucket = unit.bucket(granularity, row.offset);
        match dictionary.get(row.value) {
            Some(value) if (first..=last).contains(&bucket) => each(bucket, value, row.counts),
            Some(_) => {}
            None => missing = true,
        }
    })?;
    match missing {
        true => Err("sealed row names no text"),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pageviews: i64) -> Counts {
        Counts {
            pageviews,
            events: pageviews,
            ..Counts::default()
        }
    }

    #[test]
    fn a_units_rows_come_back_from_its_blocks_and_one_filter_reads_alone() {
        let hours = Shape {
            filter: Dim::Page,
            breakdown: Dim::None,
            granularity: Granularity::Hour,
        };
        let pages = Shape {
            filter: Dim::None,
            breakdown: Dim::Page,
            granularity: Granularity::Day,
        };
        let mut rows = Rows::new();
        for (shape, texts, pageviews) in [
            (hours, ("/b", 3, ""), 2),
            (hours, ("/a", 5, ""), 1),
            (hours, ("/a", 3, ""), 4),
            (pages, ("", 0, "/b"), 2),
            (pages, ("", 0, "/a"), 5),
        ] {
            let (filter, offset, value) = texts;
            rows.entry(shape)
                .or_default()
                .insert((filter.into(), offset, value.into()), counts(pageviews));
        }
        let encoded = encode(&rows).unwrap();
        let dictionary = Dictionary::decode(&encoded.dictionary).unwrap();
        let mut back = Rows::new();
        for (shape, table) in &encoded.tables {
            add_table(&dictionary, *shape, table, &mut back).unwrap();
        }
        assert_eq!(back, rows);

        let (_, table) = encoded.tables.iter().find(|(s, _)| *s == hours).unwrap();
        let mut found = Vec::new();
        each_row_of(
            (Unit::Day(100), Granularity::Hour),
            &dictionary,
            table,
            "/a",
            (2_400, 2_404),
            |bucket, value, counts| found.push((bucket, value.to_owned(), counts.pageviews)),
        )
        .unwrap();
        assert_eq!(found, vec![(2_403, String::new(), 4)]);
        assert!(encode(&Rows::new()).is_none());
    }
}
