//! Monthly rows on Redis: a finished month's daily hashes summed per
//! prefix into one hash per prefix, indexed under the month's first day so
//! retention removes it with the days before it.
//!
//! The months done are a sorted set per site (`…rolled`, scored by the
//! month's first day). One instance at a time rolls a site up: it holds
//! `…rolling` while it works. A roll-up cut short is run again: each
//! monthly hash is replaced whole, never added to.

use std::collections::{BTreeMap, HashMap};

use super::{RedisStore, index_key};
use crate::store::StoreError;
use crate::store::schema::{Granularity, encoded_bucket, prefix_of};

/// Prefixes summed per round trip.
const PREFIXES_PER_PIPELINE: usize = 256;
/// How long one instance's claim on a site's roll-up lasts.
const CLAIM_MS: u64 = 10 * 60 * 1_000;

fn rolled_key(site_prefix: &str) -> String {
    format!("{site_prefix}rolled")
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
        let claimed: Option<String> = pool.with(|conn| {
            redis::cmd("SET")
                .arg(&claim)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(CLAIM_MS)
                .query(conn)
        })?;
        if claimed.is_none() {
            return Ok(None);
        }
        let result = self.roll_up_claimed(site, &site_prefix, (first, last));
        pool.with(|conn| redis::cmd("DEL").arg(&claim).query::<()>(conn))?;
        result.map(Some)
    }

    fn roll_up_claimed(
        &self,
        site: &str,
        site_prefix: &str,
        (first, last): (i32, i32),
    ) -> Result<u64, StoreError> {
        let pool = &self.counts;
        let index = index_key(pool, site);
        let keys: Vec<Vec<u8>> = pool.with(|conn| {
            redis::cmd("ZRANGEBYSCORE")
                .arg(&index)
                .arg(first)
                .arg(last)
                .query(conn)
        })?;
        let head = format!("{site_prefix}n:").into_bytes();
        let groups: Vec<(Vec<u8>, Vec<Vec<u8>>)> =
            daily_by_prefix(&head, keys).into_iter().collect();
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
                write.cmd("DEL").arg(&monthly).ignore();
                if sums.is_empty() {
                    continue;
                }
                let mut set = redis::cmd("HSET");
                set.arg(&monthly);
                for (field, number) in sums {
                    set.arg(field).arg(number);
                }
                write.add_command(set).ignore();
                write
                    .cmd("ZADD")
                    .arg(&index)
                    .arg(first)
                    .arg(&monthly)
                    .ignore();
                written += 1;
            }
            pool.with(|conn| write.query::<()>(conn))?;
        }
        let rolled = rolled_key(site_prefix);
        pool.with(|conn| {
            redis::cmd("ZADD")
                .arg(&rolled)
                .arg(first)
                .arg(first)
                .query::<()>(conn)
        })?;
        Ok(written)
    }

    /// Forgets the roll-ups of months whose first day is before `before_day`
    /// (retention has removed their hashes).
    pub(super) fn forget_rollups(&self, site: &str, before_day: i32) -> Result<(), StoreError> {
        let rolled = rolled_key(&self.counts.site_prefix(site));
        self.counts.with(|conn| {
            redis::cmd("ZREMRANGEBYSCORE")
                .arg(&rolled)
                .arg("-inf")
                .arg(format!("({before_day}"))
                .query::<()>(conn)
        })
    }
}

/// The daily hashes among `keys` (a site's indexed hashes), grouped by
/// their prefix: each key is `head`, the prefix, then the bucket.
fn daily_by_prefix(head: &[u8], keys: Vec<Vec<u8>>) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut groups: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
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
    groups
}
