//! The bytes of a sealed day: a dictionary of its texts and compact tables.
//!
//! A finished day (or a rolled-up month) is stored as one dictionary, the
//! sorted list of every filter and breakdown value its rows name, and one
//! table per (filter dimension, breakdown dimension, granularity), whose
//! rows name values by their place in that dictionary. Because the
//! dictionary is sorted, ordering rows by number orders them by text, so a
//! table reads back in the order of the row keys it replaced.
//!
//! A table's rows are grouped by filter value; each group starts with its
//! length in bytes, so a reader that wants one filter value skips the others
//! without decoding them. Within a group, rows are ordered by hour and
//! value, and each value is written as its distance from the previous one.
//! Every number is a LEB128 varint, counters zig-zagged (a bounce is taken
//! back as −1). A block larger than `COMPRESS_FROM` bytes is compressed with
//! zstd when that makes it smaller.
//!
//! The embedded store keeps a day's tables of one filter dimension and
//! granularity together in one group block (`encode_group`): compressed
//! together they take about a third less, and the database holds a few
//! large values a day instead of a hundred small ones.
//!
//! This module knows bytes only: `unit` turns a unit's rows into these
//! blocks, and each backend decides where they are kept.

use crate::store::schema::Counts;

/// Below this many bytes a block is stored as it is: zstd's frame would
/// cost more than it saves.
const COMPRESS_FROM: usize = 64;
/// A block is compressed once, when its day is sealed or its month rolled
/// up, and read many times; decompression speed does not depend on the
/// level. Level 19 took 13% less than the default 3 on a seeded year of a
/// small municipality (docs/benchmarks-journal.md, "The embedded store's
/// bytes"); the roll-up thread pays for it once a day.
const LEVEL: i32 = 19;

const RAW: u8 = 0;
const ZSTD: u8 = 1;

/// What went wrong reading stored bytes.
pub(super) type Corrupt = &'static str;

/// The sorted, distinct texts of a sealed day or month.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Dictionary {
    /// Every text one after another, checked as UTF-8 once.
    joined: String,
    /// Where each text ends in `joined`, each on a character boundary.
    ends: Vec<u32>,
}

impl Dictionary {
    /// A dictionary of `texts`, which must be sorted and distinct.
    pub(super) fn of_sorted<'a>(texts: impl IntoIterator<Item = &'a str>) -> Dictionary {
        let mut dictionary = Dictionary::default();
        for text in texts {
            debug_assert!(dictionary.len() == 0 || dictionary.text(dictionary.len() - 1) < text);
            dictionary.joined.push_str(text);
            dictionary.ends.push(dictionary.joined.len() as u32);
        }
        dictionary
    }

    pub(super) fn len(&self) -> u32 {
        self.ends.len() as u32
    }

    /// The text numbered `id`, when there is one.
    pub(super) fn get(&self, id: u32) -> Option<&str> {
        let id = id as usize;
        let end = *self.ends.get(id)? as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        self.joined.get(start..end)
    }

    fn text(&self, id: u32) -> &str {
        self.get(id).unwrap_or_default()
    }

    /// The number of `text`, when the dictionary holds it.
    pub(super) fn id_of(&self, text: &str) -> Option<u32> {
        let (mut low, mut high) = (0u32, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.text(middle).cmp(text) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(middle),
            }
        }
        None
    }

    /// Every text in order.
    pub(super) fn texts(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|id| self.text(id))
    }

    /// The count, each length, then the texts one after another.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.joined.len() + 2 * self.ends.len() + 5);
        put_varint(&mut raw, u64::from(self.len()));
        let mut start = 0;
        for &end in &self.ends {
            put_varint(&mut raw, u64::from(end - start));
            start = end;
        }
        raw.extend_from_slice(self.joined.as_bytes());
        pack(u64::from(self.len()), &raw)
    }

    pub(super) fn decode(block: &[u8]) -> Result<Dictionary, Corrupt> {
        let (_, raw) = unpack(block)?;
        let mut cursor = Cursor::new(&raw);
        let count = cursor.number()?;
        let mut ends = Vec::with_capacity(count.min(1 << 20) as usize);
        let mut end = 0u64;
        for _ in 0..count {
            end += cursor.number()?;
            ends.push(u32::try_from(end).map_err(|_| "dictionary too long")?);
        }
        let joined = std::str::from_utf8(cursor.rest())
            .map_err(|_| "dictionary text is not UTF-8")?
            .to_owned();
        if end != joined.len() as u64 {
            return Err("dictionary lengths do not match its texts");
        }
        // One check of the whole, then one of each seam, instead of a
        // UTF-8 pass over every text each time it is read.
        if !ends
            .iter()
            .all(|&end| joined.is_char_boundary(end as usize))
        {
            return Err("dictionary text is not UTF-8");
        }
        Ok(Dictionary { joined, ends })
    }
}

/// One row of a sealed table, by dictionary numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SealedRow {
    pub filter: u32,
    /// The hour within the day for hourly tables; 0 otherwise.
    pub offset: u32,
    pub value: u32,
    pub counts: Counts,
}

/// Encodes a table's rows (in any order; they are sorted here) as a block.
pub(super) fn encode_table(rows: &mut [SealedRow]) -> Vec<u8> {
    rows.sort_unstable_by_key(|row| (row.filter, row.offset, row.value));
    let mut raw = Vec::with_capacity(rows.len() * 10 + 8);
    put_varint(
        &mut raw,
        rows.chunk_by(|a, b| a.filter == b.filter).count() as u64,
    );
    let mut previous_filter = 0;
    let mut body = Vec::new();
    for group in rows.chunk_by(|a, b| a.filter == b.filter) {
        body.clear();
        put_varint(&mut body, group.len() as u64);
        let mut previous = (u32::MAX, 0u32);
        for row in group {
            put_varint(&mut body, u64::from(row.offset));
            let value = if row.offset == previous.0 {
                row.value - previous.1
            } else {
                row.value
            };
            put_varint(&mut body, u64::from(value));
            for field in counters(&row.counts) {
                put_varint(&mut body, ((field << 1) ^ (field >> 63)) as u64);
            }
            previous = (row.offset, row.value);
        }
        put_varint(&mut raw, u64::from(group[0].filter - previous_filter));
        put_varint(&mut raw, body.len() as u64);
        raw.extend_from_slice(&body);
        previous_filter = group[0].filter;
    }
    pack(rows.len() as u64, &raw)
}

fn counters(counts: &Counts) -> [i64; 6] {
    [
        counts.visitors,
        counts.visits,
        counts.pageviews,
        counts.bounces,
        counts.duration,
        counts.events,
    ]
}

/// How many rows a stored block holds, read from its head alone.
pub(super) fn row_count(block: &[u8]) -> Result<u64, Corrupt> {
    let mut cursor = Cursor::new(block.get(1..).ok_or("empty block")?);
    cursor.number()
}

/// A table's block, decompressed once and read as often as needed.
pub(super) struct Table {
    raw: Vec<u8>,
}

impl Table {
    pub(super) fn decode(block: &[u8]) -> Result<Table, Corrupt> {
        let (_, raw) = unpack(block)?;
        Ok(Table { raw })
    }

    /// Hands every row to `each`, in order of filter, hour and value.
    pub(super) fn each_row(&self, mut each: impl FnMut(SealedRow)) -> Result<(), Corrupt> {
        self.walk(None, |row| {
            each(row);
            true
        })
    }

    /// Hands the rows of one filter value to `each`, in order of hour and
    /// value, skipping other groups without decoding them.
    pub(super) fn rows_of(
        &self,
        filter: u32,
        mut each: impl FnMut(SealedRow),
    ) -> Result<(), Corrupt> {
        self.walk(Some(filter), |row| {
            each(row);
            true
        })
    }

    fn walk(
        &self,
        only: Option<u32>,
        mut each: impl FnMut(SealedRow) -> bool,
    ) -> Result<(), Corrupt> {
        let mut cursor = Cursor::new(&self.raw);
        let groups = cursor.number()?;
        let mut filter = 0u32;
        for _ in 0..groups {
            filter = filter
                .checked_add(cursor.small()?)
                .ok_or("filter number out of range")?;
            let length = usize::try_from(cursor.number()?).map_err(|_| "group too long")?;
            let body = cursor.take(length)?;
            match only {
                Some(wanted) if wanted > filter => continue,
                Some(wanted) if wanted < filter => break,
                _ => {}
            }
            read_group(filter, body, &mut each)?;
        }
        Ok(())
    }
}

fn read_group(
    filter: u32,
    body: &[u8],
    each: &mut impl FnMut(SealedRow) -> bool,
) -> Result<(), Corrupt> {
    let mut cursor = Cursor::new(body);
    let rows = cursor.number()?;
    let mut previous = (u32::MAX, 0u32);
    for _ in 0..rows {
        let offset = cursor.small()?;
        let step = cursor.small()?;
        let value = if offset == previous.0 {
            previous
                .1
                .checked_add(step)
                .ok_or("value number out of range")?
        } else {
            step
        };
        let mut field = || -> Result<i64, Corrupt> {
            let zigzag = cursor.number()?;
            Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
        };
        let counts = Counts {
            visitors: field()?,
            visits: field()?,
            pageviews: field()?,
            bounces: field()?,
            duration: field()?,
            events: field()?,
        };
        previous = (offset, value);
        if !each(SealedRow {
            filter,
            offset,
            value,
            counts,
        }) {
            break;
        }
    }
    Ok(())
}

/// Several tables in one block, compressed together: `[count]`, then for
/// each table `[tag][length][table]`, its bytes as `encode_table` made
/// them before compression. `tables` are blocks of `encode_table`, each
/// with a tag (the breakdown that tells them apart).
pub(super) fn encode_group<'a>(
    tables: impl IntoIterator<Item = (u8, &'a [u8])>,
) -> Result<Vec<u8>, Corrupt> {
    let mut raw = Vec::new();
    let mut members = Vec::new();
    let mut rows = 0;
    for (tag, block) in tables {
        let (count, table) = unpack(block)?;
        rows += count;
        members.push((tag, count, table));
    }
    put_varint(&mut raw, members.len() as u64);
    for (tag, count, table) in members {
        raw.push(tag);
        put_varint(&mut raw, count);
        put_varint(&mut raw, table.len() as u64);
        raw.extend_from_slice(&table);
    }
    Ok(pack(rows, &raw))
}

/// The tables of a group block, each with its tag, in the order stored.
pub(super) fn decode_group(block: &[u8]) -> Result<Vec<(u8, Table)>, Corrupt> {
    let (_, raw) = unpack(block)?;
    let mut cursor = Cursor::new(&raw);
    let count = cursor.number()?;
    let mut tables = Vec::with_capacity(count.min(256) as usize);
    for _ in 0..count {
        let tag = *cursor.take(1)?.first().ok_or("group tag")?;
        cursor.number()?;
        let length = usize::try_from(cursor.number()?).map_err(|_| "table too long")?;
        let raw = cursor.take(length)?.to_vec();
        tables.push((tag, Table { raw }));
    }
    if !cursor.rest().is_empty() {
        return Err("bytes after a group's tables");
    }
    Ok(tables)
}

/// `[codec][rows][payload]`: the payload compressed when that pays.
fn pack(rows: u64, raw: &[u8]) -> Vec<u8> {
    let mut head = vec![RAW];
    put_varint(&mut head, rows);
    let compressed = (raw.len() >= COMPRESS_FROM)
        .then(|| zstd::bulk::compress(raw, LEVEL).ok())
        .flatten()
        .filter(|compressed| compressed.len() < raw.len());
    if let Some(compressed) = compressed {
        head[0] = ZSTD;
        head.extend_from_slice(&compressed);
        return head;
    }
    head.extend_from_slice(raw);
    head
}

thread_local! {
    /// A zstd context kept per thread: making one for each block cost a
    /// seventh of a year's query.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The row count and the payload of a block, decompressed.
fn unpack(block: &[u8]) -> Result<(u64, Vec<u8>), Corrupt> {
    let (&codec, rest) = block.split_first().ok_or("empty block")?;
    let mut cursor = Cursor::new(rest);
    let rows = cursor.number()?;
    let payload = cursor.rest();
    match codec {
        RAW => Ok((rows, payload.to_vec())),
        ZSTD => {
            let size = zstd::zstd_safe::get_frame_content_size(payload)
                .ok()
                .flatten()
                .ok_or("compressed block without its size")?;
            // A sealed block is written by this module; a size past this is
            // a damaged head, not a day of counts.
            if size > 1 << 31 {
                return Err("compressed block too large");
            }
            let raw = DECOMPRESSOR
                .with_borrow_mut(|decompressor| {
                    let decompressor = match decompressor {
                        Some(decompressor) => decompressor,
                        None => decompressor.insert(zstd::bulk::Decompressor::new().ok()?),
                    };
                    decompressor.decompress(payload, size as usize).ok()
                })
                .ok_or("compressed block does not decompress")?;
            Ok((rows, raw))
        }
        _ => Err("unknown block codec"),
    }
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut number: u64) {
    loop {
        let byte = (number & 0x7F) as u8;
        number >>= 7;
        if number == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes }
    }

    pub(super) fn number(&mut self) -> Result<u64, Corrupt> {
        let mut number = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .bytes
                .split_first()
                .ok_or("block ends inside a number")?;
            self.bytes = rest;
            number |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(number);
            }
        }
        Err("endless number")
    }

    fn small(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.number()?).map_err(|_| "number out of range")
    }

    pub(super) fn take(&mut self, length: usize) -> Result<&'a [u8], Corrupt> {
        if self.bytes.len() < length {
            return Err("block ends inside a group");
        }
        let (head, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        Ok(head)
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cfg(test)]
mod tests;
