//! The Redis backend for the aggregate counts.
//!
//! One hash per (site, filter, breakdown dimension, granularity, bucket);
//! its fields are a counter number followed by the breakdown value, so a
//! flush is `HINCRBY` only, one for each counter a row's delta moves
//! (see `counters` for the numbers). Every key carries the site as its Redis
//! Cluster hash tag (`<prefix>:{site}:…`, the prefix `kr` by default): a site's rows, index and markers sit
//! on one slot, so one script call per site per flush does everything.
//! A flush is applied exactly once: its script first sets a marker for
//! the batch id, and a retried batch finds the marker and adds nothing.
//! Retention reads a per-site index of hashes by bucket day; a hash is
//! added to it when this process has not added it within the last minute.
//! Invariant: like the embedded store, only sums are written here.

pub(crate) mod conn;
mod consent;
mod logins;
mod rollup;
mod sealed;
mod sharing;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::Script;

use crate::calendar::Day;
use crate::config::RedisConfig;
use crate::store::schema::decode_key;
use crate::store::{Counts, Granularity, Row, RowPrefix, StoreError};

pub(crate) use conn::Conn;
pub use conn::Pool;

/// How long a batch's done marker outlives the batch: a retry after a lost
/// reply comes well within this.
const MARKER_LIFE_MS: u64 = 15 * 60 * 1_000;
/// Rows per script call, so Redis is never blocked for long.
const ROWS_PER_CALL: usize = 4_096;
/// Buckets read per pipeline when scanning.
const BUCKETS_PER_PIPELINE: usize = 512;
/// Reads of a prefix's rows before giving up while rows keep moving
/// into sealed units between the open hashes and the units.
const READ_ATTEMPTS: usize = 8;
const COUNTERS: usize = 6;
/// How long the memo of indexed hashes is trusted.
const INDEX_MEMO_LIFE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct IndexMemo {
    keys: HashSet<Vec<u8>>,
    since: Option<Instant>,
}

impl IndexMemo {
    fn fresh(&mut self) -> &mut HashSet<Vec<u8>> {
        if self
            .since
            .is_none_or(|since| since.elapsed() >= INDEX_MEMO_LIFE)
        {
            self.keys.clear();
            self.since = Some(Instant::now());
        }
        &mut self.keys
    }
}

fn count_key(pool: &Pool, prefix: &RowPrefix, bucket: i32) -> Vec<u8> {
    let mut key = pool.site_prefix(&prefix.site).into_bytes();
    key.extend_from_slice(b"n:");
    key.extend_from_slice(&prefix.bucket_start(bucket));
    key
}

fn index_key(pool: &Pool, site: &str) -> String {
    format!("{}idx", pool.site_prefix(site))
}

fn bucket_day(granularity: Granularity, bucket: i32) -> i32 {
    match granularity {
        Granularity::Day | Granularity::Month => bucket,
        Granularity::Hour => bucket.div_euclid(24),
    }
}

/// The counter fields a flush writes, by number: visitors `0`, visits
/// `1`, bounces `3`, duration `4`, custom events `6` and pageviews `7`.
/// A pageview is also an event, so a row that only gained pageviews moves
/// one field, not two. Fields `2` (pageviews) and `5` (all events) are the
/// first format's: still read, never written, so hashes written before and
/// after the change add up exactly.
fn counters(counts: &Counts) -> [(u8, i64); COUNTERS] {
    [
        (0, counts.visitors),
        (1, counts.visits),
        (3, counts.bounces),
        (4, counts.duration),
        (6, counts.events - counts.pageviews),
        (7, counts.pageviews),
    ]
}

/// Adds a counter field's number to `counts`; false for a field number
/// no format writes.
#[must_use]
fn add_counter(counts: &mut Counts, field: u8, value: i64) -> bool {
    match field {
        0 => counts.visitors += value,
        1 => counts.visits += value,
        2 => counts.pageviews += value,
        3 => counts.bounces += value,
        4 => counts.duration += value,
        5 | 6 => counts.events += value,
        7 => {
            counts.pageviews += value;
            counts.events += value;
        }
        _ => return false,
    }
    true
}

pub struct RedisStore {
    counts: Arc<Pool>,
    /// Hashes this process added to the bucket index lately, so a flush
    /// does not add them again; forgotten every `INDEX_MEMO_LIFE`, so a
    /// hash whose index entry Redis lost is indexed again soon.
    indexed: Mutex<IndexMemo>,
    /// Salts and visitor state; the same pool as `counts` unless configured apart.
    hot: Arc<Pool>,
    apply: Script,
    purge: Script,
    receipt_append: Script,
}

impl RedisStore {
    pub fn open(config: &RedisConfig) -> Result<RedisStore, StoreError> {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let prefix = config.key_prefix.as_str();
        let counts = Arc::new(Pool::new(&config.urls, config.cluster, timeout, prefix)?);
        let hot = if config.hot_urls.is_empty() {
            counts.clone()
        } else {
            Arc::new(Pool::new(
                &config.hot_urls,
                config.cluster,
                timeout,
                prefix,
            )?)
        };
        Ok(RedisStore {
            counts,
            hot,
            indexed: Mutex::new(IndexMemo::default()),
            apply: Script::new(include_str!("apply.lua")),
            purge: Script::new(include_str!("purge.lua")),
            receipt_append: consent::append_script(),
        })
    }

    pub(crate) fn hot_pool(&self) -> Arc<Pool> {
        self.hot.clone()
    }

    /// Adds a batch, exactly once per `batch_id` (see the module docs).
    pub fn apply(&self, batch_id: u64, batch: &[(Vec<u8>, Counts)]) -> Result<(), StoreError> {
        let mut by_site: BTreeMap<String, Vec<(RowPrefix, Row)>> = BTreeMap::new();
        for (key, counts) in batch {
            let (prefix, mut row) = decode_key(key).map_err(StoreError::Corrupt)?;
            row.counts = *counts;
            by_site
                .entry(prefix.site.clone())
                .or_default()
                .push((prefix, row));
        }
        let mut memo = self
            .indexed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let indexed = memo.fresh();
        let pool = &self.counts;
        for (site, rows) in by_site {
            let site_prefix = pool.site_prefix(&site);
            for (chunk_no, chunk) in rows.chunks(ROWS_PER_CALL).enumerate() {
                let marker = format!("{site_prefix}done:{batch_id:016x}:{chunk_no}");
                let months = rollup::months_touched(chunk);
                let mut call = self.apply.prepare_invoke();
                call.key(marker)
                    .key(index_key(pool, &site))
                    .key(rollup::rolled_key(&site_prefix))
                    .key(rollup::pending_key(&site_prefix))
                    .key(sealed::sealing_key(&site_prefix))
                    .key(sealed::horizon_key(&site_prefix))
                    .arg(MARKER_LIFE_MS)
                    .arg(months.len())
                    .arg(&months);
                let added = append_rows(pool, &mut call, chunk, indexed);
                pool.with(|conn| call.invoke::<i64>(conn))?;
                indexed.extend(added);
            }
        }
        Ok(())
    }

    /// A prefix's rows in `first..=last`: its open hashes, and its sealed
    /// rows added in. A seal moves rows from open hashes into a unit in one
    /// step, but the two are read one after the other: a read that met the
    /// open hashes before a move and the unit after it would count those
    /// rows twice, so it is read again whenever the site's count of moves
    /// changed in between (and it met any sealed row at all).
    pub fn scan(&self, prefix: &RowPrefix, first: i32, last: i32) -> Result<Vec<Row>, StoreError> {
        let moves = sealed::moves_key(&self.counts.site_prefix(&prefix.site));
        let moved = || -> Result<Option<u64>, StoreError> {
            self.counts
                .with(|conn| redis::cmd("GET").arg(&moves).query(conn))
        };
        for _ in 0..READ_ATTEMPTS {
            let before = moved()?;
            let rows = self.open_rows(prefix, first, last)?;
            let sealed = self.sealed_rows(prefix, (first, last))?;
            if sealed.is_empty() {
                return Ok(rows);
            }
            if moved()? == before {
                return Ok(merge_rows(sealed, rows));
            }
        }
        Err(StoreError::Operation(format!(
            "rows kept moving into sealed units over {READ_ATTEMPTS} reads"
        )))
    }

    /// The rows of a prefix's open hashes in `first..=last`.
    fn open_rows(&self, prefix: &RowPrefix, first: i32, last: i32) -> Result<Vec<Row>, StoreError> {
        // Monthly buckets are first days of months; only those can exist.
        let buckets: Vec<i32> = (first..=last)
            .filter(|&bucket| {
                prefix.granularity != Granularity::Month
                    || Day::new(bucket).first_of_month() == Day::new(bucket)
            })
            .collect();
        let mut rows = Vec::new();
        for chunk in buckets.chunks(BUCKETS_PER_PIPELINE) {
            let mut pipe = redis::pipe();
            for bucket in chunk {
                pipe.cmd("HGETALL")
                    .arg(count_key(&self.counts, prefix, *bucket));
            }
            let hashes: Vec<Vec<(Vec<u8>, i64)>> = self.counts.with(|conn| pipe.query(conn))?;
            for (bucket, fields) in chunk.iter().zip(hashes) {
                let mut values: BTreeMap<String, Counts> = BTreeMap::new();
                for (field, number) in fields {
                    let Some((&index, value)) = field.split_first() else {
                        return Err(StoreError::Corrupt("empty counter field"));
                    };
                    let value = std::str::from_utf8(value)
                        .map_err(|_| StoreError::Corrupt("counter field is not UTF-8"))?;
                    let counts = values.entry(value.to_owned()).or_default();
                    if !add_counter(counts, index.wrapping_sub(b'0'), number) {
                        return Err(StoreError::Corrupt("unknown counter field"));
                    }
                }
                rows.extend(values.into_iter().map(|(value, counts)| Row {
                    bucket: *bucket,
                    value,
                    counts,
                }));
            }
        }
        Ok(rows)
    }

    /// Deletes a site's hashes in buckets before the given day, and its
    /// units of days before it (a unit's dictionary with its tables).
    /// Hourly buckets are indexed by their day, so `before_hour` is
    /// implied; monthly ones and months' units by their first day.
    pub fn purge(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        let mut call = self.purge.prepare_invoke();
        let site_prefix = self.counts.site_prefix(site);
        call.key(index_key(&self.counts, site))
            .key(rollup::rolled_key(&site_prefix))
            .key(rollup::pending_key(&site_prefix))
            .key(sealed::units_key(&site_prefix))
            .key(sealed::sealing_key(&site_prefix))
            .arg(before_day);
        self.counts.with(|conn| call.invoke::<u64>(conn))
    }

    /// The memory of the site's count hashes (those its bucket index
    /// lists) and units, by `MEMORY USAGE`, a pipeline of 512 keys at a time.
    pub(crate) fn site_bytes(&self, site: &str) -> Result<u64, StoreError> {
        let index = index_key(&self.counts, site);
        let keys: Vec<Vec<u8>> = self
            .counts
            .with(|conn| redis::cmd("ZRANGE").arg(&index).arg(0).arg(-1).query(conn))?;
        let mut bytes = 0;
        for chunk in keys.chunks(BUCKETS_PER_PIPELINE) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("MEMORY").arg("USAGE").arg(key);
            }
            let usages: Vec<Option<u64>> = self.counts.with(|conn| pipe.query(conn))?;
            bytes += usages.into_iter().flatten().sum::<u64>();
        }
        Ok(bytes + self.units_bytes(&self.counts.site_prefix(site))?)
    }

    pub fn ping(&self) -> Result<(), StoreError> {
        let ping = |conn: &mut Conn| redis::cmd("PING").query::<String>(conn);
        self.counts.with(ping)?;
        if !Arc::ptr_eq(&self.counts, &self.hot) {
            self.hot.with(ping)?;
        }
        Ok(())
    }
}

/// Groups rows that share a hash (sorted batches keep them adjacent);
/// returns the hashes this call adds to the index.
fn append_rows(
    pool: &Pool,
    call: &mut redis::ScriptInvocation<'_>,
    rows: &[(RowPrefix, Row)],
    indexed: &HashSet<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let mut added = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let (prefix, row) = &rows[start];
        let end = start
            + rows[start..]
                .iter()
                .take_while(|(other, other_row)| other == prefix && other_row.bucket == row.bucket)
                .count();
        let fields: Vec<(Vec<u8>, i64)> = rows[start..end]
            .iter()
            .flat_map(|(_, row)| {
                counters(&row.counts)
                    .into_iter()
                    .filter(|(_, value)| *value != 0)
                    .map(|(number, value)| {
                        let mut field = vec![b'0' + number];
                        field.extend_from_slice(row.value.as_bytes());
                        (field, value)
                    })
            })
            .collect();
        let key = count_key(pool, prefix, row.bucket);
        call.arg(&key)
            .arg(bucket_day(prefix.granularity, row.bucket));
        if indexed.contains(&key) {
            call.arg("1");
        } else {
            call.arg("");
            added.push(key);
        }
        call.arg(fields.len());
        for (field, value) in fields {
            call.arg(field).arg(value);
        }
        start = end;
    }
    added
}

/// Sealed rows with the open rows written to their days since, added up.
fn merge_rows(sealed: Vec<Row>, open: Vec<Row>) -> Vec<Row> {
    let mut merged: BTreeMap<(i32, String), Counts> = BTreeMap::new();
    for row in sealed.into_iter().chain(open) {
        *merged.entry((row.bucket, row.value)).or_default() += row.counts;
    }
    merged
        .into_iter()
        .map(|((bucket, value), counts)| Row {
            bucket,
            value,
            counts,
        })
        .collect()
}
