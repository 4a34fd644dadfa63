//! Sealed days on Redis: where counts go once a day is over.
//!
//! Flushes add to open hashes (`HINCRBY`, cheap to add to). Once a day has
//! passed, `seal` moves its hashes into a unit, as the embedded store does
//! (`store::unit`): one Redis hash per unit (`…u:d<day>`, or `…u:m<first
//! day>` for a rolled-up month) whose field `d` is the dictionary of the
//! unit's texts and whose other fields, three bytes naming a shape, are its
//! tables. A read takes the dictionary and the one table it needs with one
//! `HMGET`; retention deletes a unit, dictionary and tables, with one `DEL`.
//! A sorted set (`…units`, scored by day) lists a site's units.
//!
//! A day is sealed without a lock on the flushes: the sealer first sets
//! `…sealing` to the day and a token of its own, reads the day's hashes
//! and the unit they join, builds the new unit, and hands it to
//! `seal_commit.lua`, which writes it and deletes the hashes only if the
//! mark is still its own. A flush that writes to that day in between takes
//! the mark away (`apply.lua`), and the day is read again. A row written to
//! a sealed day later opens a new hash: reads add it to the sealed row, and
//! the next seal merges it in. `…sealedto` holds the latest day sealed, so
//! a flush indexes again a hash of a day up to it even when it indexed the
//! same hash lately: the seal took its index entry along.
//! Invariant: a unit's dictionary and tables are only ever replaced
//! together, and a dictionary holds only texts its unit's rows name.

use std::collections::BTreeMap;

use super::{RedisStore, add_counter, index_key};
use crate::store::schema::{Counts, Granularity, RowPrefix, decode_key};
use crate::store::segment::Dictionary;
use crate::store::unit::{self, Rows, Shape, Unit};
use crate::store::{Row, StoreError};

const COMMIT: &str = include_str!("seal_commit.lua");
const REPLACE: &str = include_str!("unit_replace.lua");
/// Times a day is read again when flushes keep writing to it.
const ATTEMPTS: usize = 5;
/// Hashes read per round trip.
const HASHES_PER_PIPELINE: usize = 512;
/// The field of a unit's hash holding its dictionary; a table's field is
/// three bytes, so never this one.
const DICTIONARY: &[u8] = b"d";
/// How long a sealing mark lasts if its sealer stops: the roll-up claim's life.
const MARK_MS: u64 = 10 * 60 * 1_000;

pub(super) fn sealing_key(site_prefix: &str) -> String {
    format!("{site_prefix}sealing")
}

pub(super) fn horizon_key(site_prefix: &str) -> String {
    format!("{site_prefix}sealedto")
}

/// The site's count of moves of rows from open hashes into units: a
/// reader that met both may have met a row twice if it changed meanwhile.
pub(super) fn moves_key(site_prefix: &str) -> String {
    format!("{site_prefix}moves")
}

pub(super) fn units_key(site_prefix: &str) -> String {
    format!("{site_prefix}units")
}

fn unit_key(site_prefix: &str, unit: Unit) -> String {
    match unit {
        Unit::Day(day) => format!("{site_prefix}u:d{day}"),
        Unit::Month(first) => format!("{site_prefix}u:m{first}"),
    }
}

/// The unit named by a key of `units_key`'s set.
fn unit_of(site_prefix: &str, key: &[u8]) -> Option<Unit> {
    let rest = key.strip_prefix(format!("{site_prefix}u:").as_bytes())?;
    let (&kind, period) = rest.split_first()?;
    let period: i32 = std::str::from_utf8(period).ok()?.parse().ok()?;
    match kind {
        b'd' => Some(Unit::Day(period)),
        b'm' => Some(Unit::Month(period)),
        _ => None,
    }
}

/// A unit's dictionary and one of its tables, as `HMGET` answers.
type UnitBlocks = (Option<Vec<u8>>, Option<Vec<u8>>);

fn corrupt(message: &'static str) -> StoreError {
    StoreError::Corrupt(message)
}

/// Adds the rows of open hashes (their keys and `HGETALL` replies) to
/// `into`, by unit; the rows read.
pub(super) fn add_hashes(
    head: &[u8],
    hashes: &[Vec<u8>],
    replies: Vec<Vec<(Vec<u8>, i64)>>,
    into: &mut BTreeMap<Unit, Rows>,
) -> Result<u64, StoreError> {
    let mut read = 0;
    for (key, fields) in hashes.iter().zip(replies) {
        if fields.is_empty() {
            continue;
        }
        let rest = key
            .strip_prefix(head)
            .ok_or(corrupt("indexed key of another site"))?;
        let (prefix, row) = decode_key(rest).map_err(corrupt)?;
        let (unit, offset) = Unit::of(prefix.granularity, row.bucket);
        let shape = Shape {
            filter: prefix.filter.0,
            breakdown: prefix.breakdown,
            granularity: prefix.granularity,
        };
        let rows = into.entry(unit).or_default().entry(shape).or_default();
        let mut values: BTreeMap<String, Counts> = BTreeMap::new();
        for (field, number) in fields {
            let (&index, value) = field.split_first().ok_or(corrupt("empty counter field"))?;
            let value =
                std::str::from_utf8(value).map_err(|_| corrupt("counter field is not UTF-8"))?;
            let counts = values.entry(value.to_owned()).or_default();
            if !add_counter(counts, index.wrapping_sub(b'0'), number) {
                return Err(corrupt("unknown counter field"));
            }
        }
        for (value, counts) in values {
            *rows
                .entry((prefix.filter.1.clone(), offset, value))
                .or_default() += counts;
            read += 1;
        }
    }
    Ok(read)
}

impl RedisStore {
    /// Seals a site's open hashes of days before `before_day`, a day at a
    /// time, oldest first; the rows moved, or none while another instance
    /// holds the site's roll-up claim.
    pub fn seal(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        let moved = self.claimed(site, |site_prefix| {
            let index = index_key(&self.counts, site);
            let mut moved = 0;
            loop {
                let first: Vec<(Vec<u8>, f64)> = self.counts.with(|conn| {
                    redis::cmd("ZRANGEBYSCORE")
                        .arg(&index)
                        .arg("-inf")
                        .arg(format!("({before_day}"))
                        .arg("WITHSCORES")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(1)
                        .query(conn)
                })?;
                let Some((_, day)) = first.first() else {
                    return Ok(moved);
                };
                let Some(rows) = self.seal_day(site_prefix, &index, *day as i32)? else {
                    // Hits of that day still arrive (a backlog catching
                    // up): a later pass seals it.
                    tracing::info!(day, "day still written to; sealed on a later pass");
                    return Ok(moved);
                };
                moved += rows;
            }
        })?;
        Ok(moved.unwrap_or(0))
    }

    /// Seals one day's open hashes (and the monthly hashes of a month it
    /// starts) into their units, read again while flushes write to it;
    /// the rows moved, or `None` when flushes kept writing to it.
    fn seal_day(
        &self,
        site_prefix: &str,
        index: &str,
        day: i32,
    ) -> Result<Option<u64>, StoreError> {
        let pool = &self.counts;
        let sealing = sealing_key(site_prefix);
        let head = format!("{site_prefix}n:").into_bytes();
        for _ in 0..ATTEMPTS {
            let mark = format!("{day}:{:016x}", rand::random::<u64>());
            pool.with(|conn| {
                redis::cmd("SET")
                    .arg(&sealing)
                    .arg(&mark)
                    .arg("PX")
                    .arg(MARK_MS)
                    .query::<()>(conn)
            })?;
            let hashes: Vec<Vec<u8>> = pool.with(|conn| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(index)
                    .arg(day)
                    .arg(day)
                    .query(conn)
            })?;
            let mut units: BTreeMap<Unit, Rows> = BTreeMap::new();
            let mut moved = 0;
            for chunk in hashes.chunks(HASHES_PER_PIPELINE) {
                let mut read = redis::pipe();
                for hash in chunk {
                    read.cmd("HGETALL").arg(hash);
                }
                let replies = pool.with(|conn| read.query(conn))?;
                moved += add_hashes(&head, chunk, replies, &mut units)?;
            }
            let script = redis::Script::new(COMMIT);
            let mut commit = script.prepare_invoke();
            commit
                .key(&sealing)
                .key(index)
                .key(units_key(site_prefix))
                .key(horizon_key(site_prefix))
                .key(moves_key(site_prefix))
                .arg(&mark)
                .arg(day)
                .arg(units.len());
            for (unit, rows) in &mut units {
                self.unit_rows(site_prefix, *unit, rows)?;
                commit.key(unit_key(site_prefix, *unit));
                add_unit_args(&mut commit, *unit, rows);
            }
            for hash in &hashes {
                commit.key(hash.as_slice());
            }
            if pool.with(|conn| commit.invoke::<i64>(conn))? == 1 {
                return Ok(Some(moved));
            }
        }
        Ok(None)
    }

    /// Adds every row of a stored unit, with its texts, to `rows`.
    pub(super) fn unit_rows(
        &self,
        site_prefix: &str,
        unit: Unit,
        rows: &mut Rows,
    ) -> Result<(), StoreError> {
        let fields: Vec<(Vec<u8>, Vec<u8>)> = self.counts.with(|conn| {
            redis::cmd("HGETALL")
                .arg(unit_key(site_prefix, unit))
                .query(conn)
        })?;
        let Some((_, dictionary)) = fields.iter().find(|(field, _)| field == DICTIONARY) else {
            return Ok(());
        };
        let dictionary = Dictionary::decode(dictionary).map_err(corrupt)?;
        for (field, table) in &fields {
            let Ok(bytes) = <[u8; 3]>::try_from(field.as_slice()) else {
                continue;
            };
            let shape = Shape::from_bytes(bytes).map_err(corrupt)?;
            unit::add_table(&dictionary, shape, table, rows).map_err(corrupt)?;
        }
        Ok(())
    }

    /// Writes `rows` as the whole of `unit`, and deletes `replaced` (open
    /// hashes its rows came from, which nothing writes to), in one step.
    pub(super) fn replace_unit(
        &self,
        site_prefix: &str,
        unit: Unit,
        rows: &Rows,
        replaced: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let script = redis::Script::new(REPLACE);
        let mut call = script.prepare_invoke();
        call.key(unit_key(site_prefix, unit))
            .key(units_key(site_prefix))
            .key(format!("{site_prefix}idx"))
            .key(moves_key(site_prefix));
        for key in replaced {
            call.key(key.as_slice());
        }
        add_unit_args(&mut call, unit, rows);
        self.counts.with(|conn| call.invoke::<()>(conn))
    }

    /// The sealed rows under `prefix` with a bucket in `first..=last`, in
    /// bucket and value order.
    pub(super) fn sealed_rows(
        &self,
        prefix: &RowPrefix,
        (first, last): (i32, i32),
    ) -> Result<Vec<Row>, StoreError> {
        let site_prefix = self.counts.site_prefix(&prefix.site);
        let (Unit::Day(from) | Unit::Month(from), _) = Unit::of(prefix.granularity, first);
        let (Unit::Day(to) | Unit::Month(to), _) = Unit::of(prefix.granularity, last);
        let keys: Vec<Vec<u8>> = self.counts.with(|conn| {
            redis::cmd("ZRANGEBYSCORE")
                .arg(units_key(&site_prefix))
                .arg(from)
                .arg(to)
                .query(conn)
        })?;
        let want_month = prefix.granularity == Granularity::Month;
        let units: Vec<(Unit, Vec<u8>)> = keys
            .into_iter()
            .filter_map(|key| Some((unit_of(&site_prefix, &key)?, key)))
            .filter(|(unit, _)| matches!(unit, Unit::Month(_)) == want_month)
            .collect();
        let shape = Shape {
            filter: prefix.filter.0,
            breakdown: prefix.breakdown,
            granularity: prefix.granularity,
        }
        .to_bytes();
        let mut rows = Vec::new();
        for chunk in units.chunks(HASHES_PER_PIPELINE) {
            let mut read = redis::pipe();
            for (_, key) in chunk {
                read.cmd("HMGET").arg(key).arg(DICTIONARY).arg(&shape[..]);
            }
            let blocks: Vec<UnitBlocks> = self.counts.with(|conn| read.query(conn))?;
            for ((unit, _), blocks) in chunk.iter().zip(blocks) {
                let (Some(dictionary), Some(table)) = blocks else {
                    continue;
                };
                let dictionary = Dictionary::decode(&dictionary).map_err(corrupt)?;
                unit::each_row_of(
                    (*unit, prefix.granularity),
                    &dictionary,
                    &table,
                    &prefix.filter.1,
                    (first, last),
                    |bucket, value, counts| {
                        rows.push(Row {
                            bucket,
                            value: value.to_owned(),
                            counts,
                        })
                    },
                )
                .map_err(corrupt)?;
            }
        }
        Ok(rows)
    }

    /// The memory of a site's units, by `MEMORY USAGE` counting every field.
    pub(super) fn units_bytes(&self, site_prefix: &str) -> Result<u64, StoreError> {
        let keys: Vec<Vec<u8>> = self.counts.with(|conn| {
            redis::cmd("ZRANGE")
                .arg(units_key(site_prefix))
                .arg(0)
                .arg(-1)
                .query(conn)
        })?;
        let mut bytes = 0;
        for chunk in keys.chunks(HASHES_PER_PIPELINE) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("MEMORY")
                    .arg("USAGE")
                    .arg(key)
                    .arg("SAMPLES")
                    .arg(0);
            }
            let usages: Vec<Option<u64>> = self.counts.with(|conn| pipe.query(conn))?;
            bytes += usages.into_iter().flatten().sum::<u64>();
        }
        Ok(bytes)
    }
}

/// A unit's part of a script's arguments: its period, how many fields
/// follow, then field and block pairs (none for a unit left empty).
fn add_unit_args(call: &mut redis::ScriptInvocation<'_>, unit: Unit, rows: &Rows) {
    call.arg(unit.period());
    let Some(encoded) = unit::encode(rows) else {
        call.arg(0);
        return;
    };
    call.arg(encoded.tables.len() + 1)
        .arg(DICTIONARY)
        .arg(encoded.dictionary);
    for (shape, table) in encoded.tables {
        call.arg(&shape.to_bytes()[..]).arg(table);
    }
}
