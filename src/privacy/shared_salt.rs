//! The shared daily salt on Redis (promise 3, across instances).
//!
//! One key per site and day, `<prefix>:{site}:salt:<day>`, set once by whichever
//! instance offers first and read by the rest; it expires when the salt's
//! life ends (the end of its day plus the visit timeout). The next day's
//! salt is fetched during the last hour before midnight, so every instance
//! switches at midnight without a round trip. If Redis cannot be reached
//! at midnight an instance goes on with a salt of its own and offers it
//! once Redis returns; if another instance's salt won, it adopts that one.
//! Invariant: the salt is written only to Redis, with an expiry.

use jiff::Timestamp;
use redis::Script;

use crate::privacy::salt::{SaltBook, SaltKey};
use crate::sites::{Site, Sites};
use crate::store::StoreError;
use crate::store::redis::Pool;

/// How long before midnight the next day's salt is fetched.
const FETCH_AHEAD_SECONDS: i64 = 3_600;

pub(crate) struct SharedSalts {
    pool: std::sync::Arc<Pool>,
    script: Script,
    /// The visit timeout: how long a day's salt outlives its day.
    grace_seconds: i64,
}

impl SharedSalts {
    pub(crate) fn new(pool: std::sync::Arc<Pool>, grace_seconds: i64) -> SharedSalts {
        SharedSalts {
            pool,
            script: Script::new(include_str!("shared_salt.lua")),
            grace_seconds,
        }
    }

    /// Makes sure every site holds the shared salt for today, and for
    /// tomorrow in the last hour of today. Cheap when nothing is due.
    pub(crate) fn sync(
        &self,
        book: &SaltBook,
        sites: &Sites,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for site in sites.iter() {
            let at = site.moment(now);
            let tomorrow_starts = site.start_of_day(at.day + 1).as_second();
            let mut due = vec![at.day];
            if tomorrow_starts - at.unix <= FETCH_AHEAD_SECONDS {
                due.push(at.day + 1);
            }
            for day in due {
                if book.has_shared(site, day) {
                    continue;
                }
                let offer = book.offer(site, day, at);
                let key = self.fetch(site, day, &offer, at.unix)?;
                book.install_shared(site, day, key, at);
            }
        }
        Ok(())
    }

    fn fetch(
        &self,
        site: &Site,
        day: i32,
        offer: &SaltKey,
        now: i64,
    ) -> Result<SaltKey, StoreError> {
        let ends = site.start_of_day(day + 1).as_second() + self.grace_seconds;
        let life_ms = (ends - now).max(1) * 1_000;
        let mut call = self.script.prepare_invoke();
        call.key(format!(
            "{}salt:{day}",
            self.pool.site_prefix(site.id.as_str())
        ))
        .arg(offer.bytes().as_slice())
        .arg(life_ms);
        let bytes: Vec<u8> = self.pool.with(|conn| call.invoke(conn))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("a shared salt is not 32 bytes"))?;
        Ok(SaltKey::from_shared(bytes))
    }
}
