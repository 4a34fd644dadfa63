//! Flushes written as they come, added to the open rows now and then.
//!
//! Adding a flush's deltas to their open rows costs a get and an insert in
//! the B-tree per row, and at full rate most rows change again within the
//! next second. So a flush is appended to `JOURNAL` as one compressed
//! record, in one short transaction, and its deltas join `Pending`: the
//! sums not yet in the open rows, sorted like them and kept in memory,
//! which readers add to what they read. Every `FOLD_EVERY`, or once
//! `FOLD_ROWS` rows wait, the pending sums are added to the open rows and
//! the records they came from deleted, in one transaction: a row touched by
//! many flushes is written once. A process that stops between folds leaves
//! its records in the file, and opening the file folds them, so a flush
//! counts once whether or not a fold followed it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::{Duration, Instant};

use redb::TableDefinition;

use crate::store::StoreError;
use crate::store::schema::{Counts, RowPrefix};
use crate::store::segment::{Cursor, put_varint};

/// Record number → one flush's deltas (see `encode`).
pub(super) const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");

/// How long flushes wait in the journal before their sums reach the open rows.
pub(super) const FOLD_EVERY: Duration = Duration::from_secs(10);
/// Pending rows past which they are folded at once, bounding the memory
/// they take (about 150 bytes a row).
pub(super) const FOLD_ROWS: usize = 400_000;

/// zstd's level 1: records live for seconds, so writing them must cost little.
const LEVEL: i32 = 1;

/// Sums written to the journal and not yet to the open rows.
#[derive(Default)]
pub(super) struct Pending {
    rows: BTreeMap<Vec<u8>, Counts>,
    /// The last record whose deltas `rows` holds.
    through: Option<u64>,
    /// When the oldest record `rows` holds was added.
    since: Option<Instant>,
}

impl Pending {
    pub(super) fn add(&mut self, record: u64, batch: &[(Vec<u8>, Counts)]) {
        for (key, delta) in batch {
            match self.rows.get_mut(key.as_slice()) {
                Some(sum) => *sum += *delta,
                None => {
                    self.rows.insert(key.clone(), *delta);
                }
            }
        }
        self.through = Some(self.through.map_or(record, |through| through.max(record)));
        self.since.get_or_insert_with(Instant::now);
    }

    pub(super) fn is_due(&self) -> bool {
        self.rows.len() >= FOLD_ROWS
            || self
                .since
                .is_some_and(|since| since.elapsed() >= FOLD_EVERY)
    }

    /// The last record the sums hold, when there are any.
    pub(super) fn through(&self) -> Option<u64> {
        self.through
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn rows(&self) -> impl Iterator<Item = (&[u8], &Counts)> {
        self.rows
            .iter()
            .map(|(key, counts)| (key.as_slice(), counts))
    }

    /// The pending rows under `prefix` with a bucket in `first..=last`, in key order.
    pub(super) fn each_in(
        &self,
        prefix: &RowPrefix,
        (first, last): (i32, i32),
        mut each: impl FnMut(i32, &str, Counts),
    ) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let encoded = prefix.encode();
        let (start, end) = super::bucket_range(prefix, (first, last));
        let upper = match &end {
            Some(end) => Bound::Excluded(end.as_slice()),
            None => Bound::Unbounded,
        };
        let range = self
            .rows
            .range::<[u8], _>((Bound::Included(start.as_slice()), upper));
        for (key, counts) in range {
            let Some(row) = super::row_under(&encoded, key) else {
                break;
            };
            let (bucket, text) = row?;
            each(bucket, text, *counts);
        }
        Ok(())
    }
}

/// What writes records: the next record's number, and buffers and a
/// zstd context kept from flush to flush (fresh ones, megabytes a second,
/// cost the kernel more in zeroed pages than the compression itself).
#[derive(Default)]
pub(super) struct Writer {
    pub(super) next: u64,
    raw: Vec<u8>,
    compressed: Vec<u8>,
    record: Vec<u8>,
    compressor: Option<zstd::bulk::Compressor<'static>>,
}

/// A record's first byte: how the rest is stored.
const RAW: u8 = 0;
const ZSTD: u8 = 1;

impl Writer {
    /// A flush's deltas as one record: each key as the length it shares
    /// with the key before and the rest, then its counts; compressed with
    /// zstd. `batch` comes sorted by key from the aggregator, which keeps
    /// the shared parts long; any order decodes.
    pub(super) fn record(&mut self, batch: &[(Vec<u8>, Counts)]) -> &[u8] {
        let raw = &mut self.raw;
        raw.clear();
        put_varint(raw, batch.len() as u64);
        let mut previous: &[u8] = &[];
        for (key, counts) in batch {
            let shared = key.iter().zip(previous).take_while(|(a, b)| a == b).count();
            put_varint(raw, shared as u64);
            put_varint(raw, (key.len() - shared) as u64);
            raw.extend_from_slice(&key[shared..]);
            let counts = counts.encode();
            raw.push(counts.as_slice().len() as u8);
            raw.extend_from_slice(counts.as_slice());
            previous = key;
        }
        self.record.clear();
        if self.compressor.is_none() {
            self.compressor = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        self.compressed.clear();
        self.compressed
            .reserve(zstd::zstd_safe::compress_bound(self.raw.len()));
        let compressed = self.compressor.as_mut().is_some_and(|compressor| {
            compressor
                .compress_to_buffer(&self.raw, &mut self.compressed)
                .is_ok()
        });
        // zstd fails only without memory; the record is then kept raw.
        if compressed {
            self.record.push(ZSTD);
            self.record.extend_from_slice(&self.compressed);
        } else {
            self.record.push(RAW);
            self.record.extend_from_slice(&self.raw);
        }
        &self.record
    }
}

/// The deltas of a record `Writer::record` wrote.
pub(super) fn decode(record: &[u8]) -> Result<Vec<(Vec<u8>, Counts)>, StoreError> {
    let corrupt = |_| StoreError::Corrupt("journal record");
    let (&codec, payload) = record
        .split_first()
        .ok_or(StoreError::Corrupt("empty journal record"))?;
    let raw = match codec {
        RAW => payload.to_vec(),
        ZSTD => {
            // A record is one flush: never more than a few hundred megabytes.
            let size = zstd::zstd_safe::get_frame_content_size(payload)
                .ok()
                .flatten()
                .filter(|size| *size <= 1 << 31)
                .ok_or(StoreError::Corrupt("journal record without a fitting size"))?;
            zstd::bulk::decompress(payload, size as usize)
                .map_err(|_| StoreError::Corrupt("journal record does not decompress"))?
        }
        _ => return Err(StoreError::Corrupt("unknown journal record codec")),
    };
    let mut cursor = Cursor::new(&raw);
    let rows = cursor.number().map_err(corrupt)?;
    let mut batch = Vec::with_capacity(rows.min(1 << 20) as usize);
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..rows {
        let shared = cursor.number().map_err(corrupt)? as usize;
        let rest = cursor.number().map_err(corrupt)? as usize;
        let mut key = previous
            .get(..shared)
            .ok_or(StoreError::Corrupt("journal key"))?
            .to_vec();
        key.extend_from_slice(cursor.take(rest).map_err(corrupt)?);
        let length = *cursor.take(1).map_err(corrupt)?.first().unwrap_or(&0);
        let counts = Counts::decode(cursor.take(usize::from(length)).map_err(corrupt)?)
            .ok_or(StoreError::Corrupt("journal counts"))?;
        previous.clone_from(&key);
        batch.push((key, counts));
    }
    if !cursor.rest().is_empty() {
        return Err(StoreError::Corrupt("bytes after a journal record"));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Dim, Granularity, KeyParts};

    fn key(page: &str, bucket: i32) -> Vec<u8> {
        KeyParts {
            site: "gemeente.example",
            filter: (Dim::None, ""),
            breakdown: Dim::Page,
            granularity: Granularity::Day,
        }
        .row_key(bucket, page)
    }

    fn views(pageviews: i64) -> Counts {
        Counts {
            pageviews,
            bounces: -1,
            ..Counts::default()
        }
    }

    fn encode(batch: &[(Vec<u8>, Counts)]) -> Vec<u8> {
        Writer::default().record(batch).to_vec()
    }

    #[test]
    fn a_record_gives_back_the_deltas_it_was_made_of() {
        let mut batch = vec![
            (key("/afval", 20_000), views(3)),
            (key("/afval/grofvuil", 20_000), views(i64::MAX)),
            (key("/", 20_001), views(-7)),
            (key("/wonen", 19_000), views(0)),
        ];
        batch.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(decode(&encode(&batch)).unwrap(), batch);
        // Unsorted, too: each key is rebuilt from the one before it.
        batch.reverse();
        assert_eq!(decode(&encode(&batch)).unwrap(), batch);
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::new());
        // One writer, record after record, reusing its buffers.
        let mut writer = Writer::default();
        let long: Vec<_> = (0..5_000)
            .map(|n| (key(&format!("/p{n}"), 20_000), views(n)))
            .collect();
        for batch in [&long[..], &batch[..], &long[..10]] {
            let record = writer.record(batch).to_vec();
            assert_eq!(record[0], ZSTD);
            assert_eq!(decode(&record).unwrap(), batch);
        }
    }

    #[test]
    fn a_damaged_record_is_refused_not_misread() {
        let batch = vec![(key("/afval", 20_000), views(3))];
        let record = encode(&batch);
        assert!(decode(&record[..record.len() - 1]).is_err());
        let mut longer = record.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn pending_sums_deltas_per_row_and_reads_a_prefix_in_key_order() {
        let mut pending = Pending::default();
        assert!(!pending.is_due());
        pending.add(
            4,
            &[(key("/b", 20_000), views(1)), (key("/a", 20_000), views(2))],
        );
        pending.add(
            5,
            &[(key("/a", 20_000), views(5)), (key("/a", 20_002), views(1))],
        );
        assert_eq!(pending.through(), Some(5));
        let prefix = RowPrefix {
            site: "gemeente.example".to_owned(),
            filter: (Dim::None, String::new()),
            breakdown: Dim::Page,
            granularity: Granularity::Day,
        };
        let mut read = Vec::new();
        pending
            .each_in(&prefix, (20_000, 20_001), |bucket, page, counts| {
                read.push((bucket, page.to_owned(), counts.pageviews));
            })
            .unwrap();
        assert_eq!(
            read,
            vec![(20_000, "/a".to_owned(), 7), (20_000, "/b".to_owned(), 1)]
        );
    }
}
