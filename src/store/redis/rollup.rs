//! Monthly rows on Redis: a finished month's daily hashes summed per
//! prefix into one hash per prefix, indexed under the month's first day so
//! retention removes it with the days before it.
//!
//! The months done are a sorted set per site (`…rolled`, scored by the
//! month's first day); a flush that writes a day of a listed month takes
//! the month off it. A month being summed is first put in `…rollpending`,
//! which such a flush also takes it off; the month is listed at the end
//! only if it is still pending, so a flush the sum may have missed never
//! hides behind a listed month. One instance at a time rolls a site's
//! month up: it holds `…rolling` (with a token of its own) while it works,
//! and skips a month another instance listed meanwhile. A roll-up cut
//! short is run again: each monthly hash is replaced whole, in one script
//! call.

use std::collections::{BTreeMap, HashMap};

use super::{RedisStore, index_key};
use crate::query::period::month_key;
use crate::store::schema::{Granularity, encoded_bucket, prefix_of};
use crate::store::{Row, RowPrefix, StoreError};

const REPLACE: &str = include_str!("rollup_replace.lua");
const RELEASE: &str = include_str!("claim_release.lua");
const LIST: &str = include_str!("rollup_list.lua");
/// Prefixes summed per round trip.
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
        .map(|(_, row)| month_key(row.bucket))
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

    /// Sums the daily hashes of the month `first..=last` into monthly
    /// hashes and lists the month as rolled up. Returns the number of
    /// monthly hashes written, or `None` when another instance is at it.
    pub fn roll_up(&self, site: &str, first: i32, last: i32) -> Result<Option<u64>, StoreError> {
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
        let rolled: Option<f64> = pool.with(|conn| {
            redis::cmd("ZSCORE")
                .arg(rolled_key(&site_prefix))
                .arg(first)
                .query(conn)
        })?;
        let result = match rolled {
            // Listed by another instance since this one looked.
            Some(_) => Ok(0),
            None => self.roll_up_claimed(site, &site_prefix, (first, last)),
        };
        let released = pool.with(|conn| {
            redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(&claim)
                .arg(&token)
                .query::<i64>(conn)
        });
        let written = result?;
        released?;
        Ok(Some(written))
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
        // One day's indexed hashes per reply (hourly ones included), so no
        // reply holds a whole month of a large site.
        let mut groups: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
        for day in first..=last {
            let keys: Vec<Vec<u8>> = pool.with(|conn| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&index)
                    .arg(day)
                    .arg(day)
                    .query(conn)
            })?;
            add_daily(&mut groups, &head, keys);
        }
        let groups: Vec<(Vec<u8>, Vec<Vec<u8>>)> = groups.into_iter().collect();
        let mut written = 0;
        for chunk in groups.chunks(PREFIXES_PER_PIPELINE) {
            let mut read = redis::pipe();
            for (_, hashes) in chunk {
                for hash in hashes {
                    read.cmd("HGETALL").arg(hash);
                }
            }
            let replies: Vec<Vec<(Vec<u8>, i64)>> = pool.with(|conn| read.query(conn))?;
            let mut replies = replies.into_iter();
            let mut write = redis::pipe();
            for (prefix, hashes) in chunk {
                let mut sums: HashMap<Vec<u8>, i64> = HashMap::new();
                for fields in replies.by_ref().take(hashes.len()) {
                    for (field, number) in fields {
                        *sums.entry(field).or_default() += number;
                    }
                }
                let mut monthly = head.clone();
                monthly.extend_from_slice(prefix);
                if let Some(granularity) = monthly.last_mut() {
                    *granularity = Granularity::Month as u8;
                }
                monthly.extend_from_slice(&encoded_bucket(first));
                // EVAL, not EVALSHA: a pipeline cannot load a missing script.
                let replace = write.cmd("EVAL").arg(REPLACE).arg(2);
                replace.arg(&monthly).arg(&index).arg(first);
                for (field, number) in &sums {
                    replace.arg(field.as_slice()).arg(*number);
                }
                replace.ignore();
                written += u64::from(!sums.is_empty());
            }
            pool.with(|conn| write.query::<()>(conn))?;
        }
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

/// Adds the daily hashes among `keys` (indexed hashes of a site) to
/// `groups`, by prefix: each key is `head`, the prefix, then the bucket.
fn add_daily(groups: &mut BTreeMap<Vec<u8>, Vec<Vec<u8>>>, head: &[u8], keys: Vec<Vec<u8>>) {
    for key in keys {
        let Some(rest) = key.strip_prefix(head) else {
            continue;
        };
        let Some((len, Granularity::Day)) = prefix_of(rest) else {
            continue;
        };
        if rest.len() != len + 4 {
            continue;
        }
        groups.entry(rest[..len].to_vec()).or_default().push(key);
    }
}
