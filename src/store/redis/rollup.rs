//! Monthly rows on Redis: a finished month's daily rows, sealed and open,
//! summed into the month's unit (`sealed`), listed under the month's first
//! day so retention removes it with the days before it.
//!
//! The months done are a sorted set per site (`…rolled`, scored by the
//! month's first day); a flush that writes a day of a listed month takes
//! the month off it. A month being summed is first put in `…rollpending`,
//! which such a flush also takes it off; the month is listed at the end
//! only if it is still pending, so a flush the sum may have missed never
//! hides behind a listed month. One instance at a time rolls a site's
//! month up: it holds `…rolling` (with a token of its own) while it works,
//! and skips a month another instance listed meanwhile; sealing takes the
//! same claim. A roll-up cut short is run again: the month's unit is
//! replaced whole, in one script call, with any monthly hashes an earlier
//! version wrote.

use std::collections::BTreeMap;

use super::sealed::add_hashes;
use super::{RedisStore, index_key};
use crate::calendar::Day;
use crate::store::schema::{Granularity, prefix_of};
use crate::store::unit::{Rows, Shape, Unit};
use crate::store::{Row, RowPrefix, StoreError};

const RELEASE: &str = include_str!("claim_release.lua");
const LIST: &str = include_str!("rollup_list.lua");
/// Daily hashes read per round trip.
const PREFIXES_PER_PIPELINE: usize = 256;
/// How long one instance's claim on a site's roll-up lasts.
const CLAIM_MS: u64 = 10 * 60 * 1_000;

pub(super) fn rolled_key(site_prefix: &str) -> String {
    format!("{site_prefix}rolled")
}

/// The months being summed, scored like `rolled_key`'s.
pub(super) fn pending_key(site_prefix: &str) -> String {
    format!("{site_prefix}rollpending")
}

/// The months (first days) in which `rows`, one flush's, write a daily row.
pub(super) fn months_touched(rows: &[(RowPrefix, Row)]) -> Vec<i32> {
    let mut months: Vec<i32> = rows
        .iter()
        .filter(|(prefix, _)| prefix.granularity == Granularity::Day)
        .map(|(_, row)| Day::new(row.bucket).first_of_month().number())
        .collect();
    months.sort_unstable();
    months.dedup();
    months
}

impl RedisStore {
    /// The months of a site rolled up, as the day numbers of their first days.
    pub fn rolled_months(&self, site: &str) -> Result<Vec<i32>, StoreError> {
        let key = rolled_key(&self.counts.site_prefix(site));
        self.counts
            .with(|conn| redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).query(conn))
    }

    /// Sums the daily rows of the month `first..=last`, sealed and open,
    /// into the month's unit and lists the month as rolled up. Returns the
    /// number of monthly prefixes (a filter value of a shape) written, or
    /// `None` when another instance holds the site's claim.
    pub fn roll_up(&self, site: &str, first: i32, last: i32) -> Result<Option<u64>, StoreError> {
        let pool = &self.counts;
        self.claimed(site, |site_prefix| {
            let rolled: Option<f64> = pool.with(|conn| {
                redis::cmd("ZSCORE")
                    .arg(rolled_key(site_prefix))
                    .arg(first)
                    .query(conn)
            })?;
            match rolled {
                // Listed by another instance since this one looked.
                Some(_) => Ok(0),
                None => self.roll_up_claimed(site, site_prefix, (first, last)),
            }
        })
    }

    /// Runs `work` while holding the site's roll-up claim (sealing takes it
    /// too), or answers `None` when another instance holds it.
    pub(super) fn claimed<T>(
        &self,
        site: &str,
        work: impl FnOnce(&str) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let pool = &self.counts;
        let site_prefix = pool.site_prefix(site);
        let claim = format!("{site_prefix}rolling");
        let token = format!("{:016x}", rand::random::<u64>());
        let claimed: Option<String> = pool.with(|conn| {
            redis::cmd("SET")
                .arg(&claim)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(CLAIM_MS)
                .query(conn)
        })?;
        if claimed.is_none() {
            return Ok(None);
        }
        let result = work(&site_prefix);
        let released = pool.with(|conn| {
            redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(&claim)
                .arg(&token)
                .query::<i64>(conn)
        });
        let done = result?;
        released?;
        Ok(Some(done))
    }

    fn roll_up_claimed(
        &self,
        site: &str,
        site_prefix: &str,
        (first, last): (i32, i32),
    ) -> Result<u64, StoreError> {
        let pool = &self.counts;
        // Pending before the first read: a flush after it unmarks the month.
        pool.with(|conn| {
            redis::cmd("ZADD")
                .arg(pending_key(site_prefix))
                .arg(first)
                .arg(first)
                .query::<()>(conn)
        })?;
        let index = index_key(pool, site);
        let head = format!("{site_prefix}n:").into_bytes();
        let mut month = Rows::new();
        let mut replaced = Vec::new();
        // A day at a time, so no reply holds a whole month of a large site.
        for day in first..=last {
            let keys: Vec<Vec<u8>> = pool.with(|conn| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&index)
                    .arg(day)
                    .arg(day)
                    .query(conn)
            })?;
            let (daily, monthly) = split_daily(&head, keys);
            if day == first {
                replaced = monthly;
            }
            let mut days: BTreeMap<Unit, Rows> = BTreeMap::new();
            for chunk in daily.chunks(PREFIXES_PER_PIPELINE) {
                let mut read = redis::pipe();
                for hash in chunk {
                    read.cmd("HGETALL").arg(hash);
                }
                let replies = pool.with(|conn| read.query(conn))?;
                add_hashes(&head, chunk, replies, &mut days)?;
            }
            let rows = days.entry(Unit::Day(day)).or_default();
            self.unit_rows(site_prefix, Unit::Day(day), rows)?;
            add_to_month(&mut month, days);
        }
        let written = month
            .values()
            .map(|rows| {
                let mut filters: Vec<&str> =
                    rows.keys().map(|(filter, _, _)| filter.as_str()).collect();
                filters.dedup();
                filters.len() as u64
            })
            .sum();
        self.replace_unit(site_prefix, Unit::Month(first), &month, &replaced)?;
        pool.with(|conn| {
            redis::cmd("EVAL")
                .arg(LIST)
                .arg(2)
                .arg(pending_key(site_prefix))
                .arg(rolled_key(site_prefix))
                .arg(first)
                .query::<i64>(conn)
        })?;
        Ok(written)
    }
}

/// The daily and the monthly hashes among `keys` (indexed hashes of a
/// site; each key is `head`, the prefix, then the bucket).
fn split_daily(head: &[u8], keys: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut daily, mut monthly) = (Vec::new(), Vec::new());
    for key in keys {
        let Some(rest) = key.strip_prefix(head) else {
            continue;
        };
        match prefix_of(rest) {
            Some((len, Granularity::Day)) if rest.len() == len + 4 => daily.push(key),
            Some((len, Granularity::Month)) if rest.len() == len + 4 => monthly.push(key),
            _ => {}
        }
    }
    (daily, monthly)
}

/// Adds the daily rows of `days` to a month's rows.
fn add_to_month(month: &mut Rows, days: BTreeMap<Unit, Rows>) {
    for (unit, rows) in days {
        if !matches!(unit, Unit::Day(_)) {
            continue;
        }
        for (shape, rows) in rows {
            if shape.granularity != Granularity::Day {
                continue;
            }
            let monthly = Shape {
                granularity: Granularity::Month,
                ..shape
            };
            let into = month.entry(monthly).or_default();
            for ((filter, _, value), counts) in rows {
                *into.entry((filter, 0, value)).or_default() += counts;
            }
        }
    }
}
