//! Consent on Redis: receipts, archived notices and daily consent counts.
//!
//! A receipt is a list `<prefix>:{#<id>}:receipt` (site, created, then
//! one JSON choice per entry) with an expiry at the end of its retention;
//! the sorted set `<prefix>:{#receipts}:expiry` holds every receipt's
//! expiry so the retention job deletes them by the server's clock too.
//! (`#` cannot occur in a site id, so these hash tags never meet a site's.) Notices and
//! counts live under the site's hash tag: `notice:<banner>` (kept for as
//! long as the deployment), `consent:<day>` (a hash of `<banner>|<item>`
//! counts) and `consent:days`, the index retention reads.

use redis::{Commands, Script};

use super::{Conn, RedisStore};
use crate::consent::receipt::{MAX_HISTORY, tally_items};
use crate::consent::{Choice, Receipt, ReceiptId};
use crate::store::StoreError;
use crate::store::consent::{Recorded, Tally};

/// Receipts deleted per round of the retention job.
const PURGE_ROUND: isize = 500;

fn receipt_key(prefix: &str, id: &ReceiptId) -> String {
    receipt_key_hex(prefix, &id.hex())
}

fn receipt_key_hex(prefix: &str, hex: &str) -> String {
    format!("{prefix}:{{#{hex}}}:receipt")
}

fn expiry_key(prefix: &str) -> String {
    format!("{prefix}:{{#receipts}}:expiry")
}

fn corrupt(_: serde_json::Error) -> StoreError {
    StoreError::Corrupt("consent receipt entry")
}

impl RedisStore {
    fn consent_prefix(&self, site: &str) -> String {
        format!("{}consent:", self.counts.site_prefix(site))
    }

    pub(crate) fn archive_notice(
        &self,
        site: &str,
        banner_version: &str,
        json: &str,
    ) -> Result<bool, StoreError> {
        let key = format!("{}notice:{banner_version}", self.consent_prefix(site));
        self.counts
            .with(|conn| conn.set_nx::<_, _, bool>(key.as_str(), json))
    }

    pub(crate) fn archived_notice(
        &self,
        site: &str,
        banner_version: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = format!("{}notice:{banner_version}", self.consent_prefix(site));
        self.counts.with(|conn| conn.get(key.as_str()))
    }

    pub(crate) fn record_choice(
        &self,
        site: &str,
        continues: Option<ReceiptId>,
        choice: Choice,
        day: i32,
        expires: i64,
    ) -> Result<Recorded, StoreError> {
        let prefix = self.counts.key_prefix().to_owned();
        let entry = serde_json::to_string(&choice).map_err(corrupt)?;
        let expires_ms = expires.saturating_mul(1_000);
        let appended = match continues {
            Some(id) => {
                let mut call = self.receipt_append.prepare_invoke();
                call.key(receipt_key(&prefix, &id))
                    .arg(site)
                    .arg(&entry)
                    .arg(expires_ms)
                    .arg(MAX_HISTORY);
                let length = self.counts.with(|conn| call.invoke::<usize>(conn))?;
                (length > 0).then_some(id)
            }
            None => None,
        };
        let (id, created) = match appended {
            Some(id) => (id, false),
            None => {
                let id = ReceiptId::random();
                let key = receipt_key(&prefix, &id);
                self.counts.with(|conn| {
                    redis::pipe()
                        .atomic()
                        .rpush(&key, &[site, &choice.at.to_string(), &entry])
                        .ignore()
                        .pexpire_at(&key, expires_ms)
                        .ignore()
                        .query::<()>(conn)
                })?;
                (id, true)
            }
        };
        self.counts
            .with(|conn| conn.zadd::<_, _, _, ()>(expiry_key(&prefix), id.hex(), expires))?;
        self.tally(site, &choice, day)?;
        let receipt = self.receipt(id)?.ok_or(StoreError::Operation(
            "a receipt vanished as it was written".to_owned(),
        ))?;
        Ok(Recorded { receipt, created })
    }

    fn tally(&self, site: &str, choice: &Choice, day: i32) -> Result<(), StoreError> {
        let prefix = self.consent_prefix(site);
        let hash = format!("{prefix}{day}");
        let mut pipe = redis::pipe();
        for item in tally_items(choice) {
            pipe.hincr(&hash, format!("{}|{item}", choice.banner_version), 1)
                .ignore();
        }
        pipe.zadd(format!("{prefix}days"), day, day).ignore();
        self.counts.with(|conn| pipe.query::<()>(conn))
    }

    pub fn receipt(&self, id: ReceiptId) -> Result<Option<Receipt>, StoreError> {
        let prefix = self.counts.key_prefix().to_owned();
        let entries: Vec<String> = self
            .counts
            .with(|conn| conn.lrange(receipt_key(&prefix, &id), 0, -1))?;
        let [site, created, choices @ ..] = entries.as_slice() else {
            return Ok(None);
        };
        let history = choices
            .iter()
            .map(|entry| serde_json::from_str::<Choice>(entry))
            .collect::<Result<Vec<_>, _>>()
            .map_err(corrupt)?;
        let expires: Option<i64> = self
            .counts
            .with(|conn| conn.zscore(expiry_key(&prefix), id.hex()))?;
        Ok(Some(Receipt {
            receipt: id,
            site: site.clone(),
            created: created
                .parse()
                .map_err(|_| StoreError::Corrupt("receipt created"))?,
            updated: history.last().map_or(0, |choice| choice.at),
            expires: expires.unwrap_or(0),
            history,
        }))
    }

    pub(crate) fn erase_receipt(&self, id: ReceiptId) -> Result<bool, StoreError> {
        let prefix = self.counts.key_prefix().to_owned();
        let removed: u64 = self
            .counts
            .with(|conn| conn.del(receipt_key(&prefix, &id)))?;
        self.counts
            .with(|conn| conn.zrem::<_, _, ()>(expiry_key(&prefix), id.hex()))?;
        Ok(removed > 0)
    }

    pub(crate) fn purge_receipts(&self, now: i64) -> Result<u64, StoreError> {
        let prefix = self.counts.key_prefix().to_owned();
        let mut removed = 0;
        loop {
            let due: Vec<String> = self.counts.with(|conn| {
                conn.zrangebyscore_limit(expiry_key(&prefix), "-inf", now, 0, PURGE_ROUND)
            })?;
            if due.is_empty() {
                return Ok(removed);
            }
            for hex in &due {
                let key = receipt_key_hex(&prefix, hex);
                removed += self.counts.with(|conn| conn.del::<_, u64>(key.as_str()))?;
            }
            self.counts
                .with(|conn| conn.zrem::<_, _, ()>(expiry_key(&prefix), &due))?;
        }
    }

    pub(crate) fn consent_tallies(
        &self,
        site: &str,
        first_day: i32,
        last_day: i32,
    ) -> Result<Vec<Tally>, StoreError> {
        let prefix = self.consent_prefix(site);
        let days: Vec<i32> = self
            .counts
            .with(|conn| conn.zrangebyscore(format!("{prefix}days"), first_day, last_day))?;
        let mut tallies = Vec::new();
        for day in days {
            let fields: Vec<(String, u64)> = self
                .counts
                .with(|conn: &mut Conn| conn.hgetall(format!("{prefix}{day}")))?;
            for (field, count) in fields {
                let (banner_version, item) = field
                    .split_once('|')
                    .ok_or(StoreError::Corrupt("consent count field"))?;
                tallies.push(Tally {
                    day,
                    banner_version: banner_version.to_owned(),
                    item: item.to_owned(),
                    count,
                });
            }
        }
        Ok(tallies)
    }

    pub(crate) fn purge_tallies(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        let prefix = self.consent_prefix(site);
        let index = format!("{prefix}days");
        let days: Vec<i32> = self
            .counts
            .with(|conn| conn.zrangebyscore(&index, "-inf", format!("({before_day}")))?;
        for day in &days {
            self.counts
                .with(|conn| conn.del::<_, ()>(format!("{prefix}{day}")))?;
        }
        if !days.is_empty() {
            self.counts
                .with(|conn| conn.zrem::<_, _, ()>(&index, &days))?;
        }
        Ok(days.len() as u64)
    }
}

pub(super) fn append_script() -> Script {
    Script::new(include_str!("receipt_append.lua"))
}
