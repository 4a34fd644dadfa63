//! The daily salts (promise 3).
//!
//! Each site has a salt of 32 random bytes for its current local day,
//! created on first use and replaced at local midnight. The previous day's
//! salt is kept only while a visit from before midnight may still continue
//! (the visit timeout), then erased. Salts live in this struct and nowhere
//! else: never on disk, never in a log or a metric. With the Redis backend
//! the salt of each day is shared by every instance: `shared_salt` fetches
//! it ahead of need and installs it here, so the request path never waits.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

use crate::sites::{Moment, Site, Sites};

/// 32 secret bytes that key the visitor hash for one site and one day.
#[derive(Clone)]
pub(crate) struct SaltKey([u8; 32]);

impl SaltKey {
    pub(crate) fn random() -> SaltKey {
        SaltKey(rand::random())
    }

    /// The deployment's salt as read from Redis.
    pub(crate) fn from_shared(bytes: [u8; 32]) -> SaltKey {
        SaltKey(bytes)
    }

    /// A fixed key, for tests of what the key is used for.
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> SaltKey {
        SaltKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn erase(&mut self) {
        self.0 = [0; 32];
    }
}

impl std::fmt::Debug for SaltKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SaltKey(***)")
    }
}

/// The salts a beacon at one moment may use.
#[derive(Debug, Clone)]
pub(crate) struct DaySalts {
    pub current: SaltKey,
    /// Yesterday's salt, during the grace period after midnight only.
    pub previous: Option<SaltKey>,
}

struct DaySalt {
    day: i32,
    key: SaltKey,
}

#[derive(Default)]
struct SiteSalts {
    current: Option<DaySalt>,
    /// Yesterday's salt and the unix second it must be gone by.
    previous: Option<(DaySalt, i64)>,
    /// A later day's shared salt, fetched before its midnight.
    upcoming: Option<DaySalt>,
    /// The day whose current salt is the deployment's shared one.
    shared_day: Option<i32>,
}

pub(crate) struct SaltBook {
    sites: RwLock<Vec<SiteSalts>>,
    grace_seconds: i64,
    rotations: AtomicU64,
}

impl SaltBook {
    /// `grace_seconds` is the visit timeout: how long after midnight a visit
    /// that began yesterday may continue.
    pub(crate) fn new(site_count: usize, grace_seconds: i64) -> SaltBook {
        SaltBook {
            sites: RwLock::new((0..site_count).map(|_| SiteSalts::default()).collect()),
            grace_seconds,
            rotations: AtomicU64::new(0),
        }
    }

    /// Salts created since the last call.
    pub(crate) fn take_rotations(&self) -> u64 {
        self.rotations.swap(0, Ordering::Relaxed)
    }

    pub(crate) fn salts_for(&self, site: &Site, at: Moment) -> DaySalts {
        {
            let sites = self
                .sites
                .read()
                .unwrap_or_else(|poison| poison.into_inner());
            if let Some(salts) = sites
                .get(site.idx.index())
                .and_then(|entry| entry.usable(at))
            {
                return salts;
            }
        }
        let mut sites = self
            .sites
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = entry_mut(&mut sites, site);
        if entry.usable(at).is_none() {
            self.rotate(entry, site, at.day, None);
        }
        entry
            .usable(at)
            .expect("a salt for today exists after rotation")
    }

    fn rotate(&self, entry: &mut SiteSalts, site: &Site, today: i32, shared: Option<SaltKey>) {
        let until = site.start_of_day(today).as_second() + self.grace_seconds;
        let old = entry.current.take();
        if let Some((mut stale, _)) = entry.previous.take() {
            stale.key.erase();
        }
        entry.previous = match old {
            Some(yesterday) if yesterday.day == today - 1 => Some((yesterday, until)),
            Some(mut older) => {
                older.key.erase();
                None
            }
            None => None,
        };
        if let Some(mut stale) = entry.upcoming.take_if(|salt| salt.day < today) {
            stale.key.erase();
        }
        let key = match (shared, entry.upcoming.take_if(|salt| salt.day == today)) {
            (Some(key), _) | (None, Some(DaySalt { key, .. })) => {
                entry.shared_day = Some(today);
                key
            }
            (None, None) => SaltKey::random(),
        };
        entry.current = Some(DaySalt { day: today, key });
        self.rotations.fetch_add(1, Ordering::Relaxed);
        tracing::info!(site = %site.id, day = today, "salt rotated");
    }

    /// Erases salts whose life has ended even when no beacon arrives.
    pub(crate) fn sweep(&self, sites: &Sites, now: Timestamp) {
        let mut book = self
            .sites
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        for site in sites.iter() {
            let entry = entry_mut(&mut book, site);
            let at = site.moment(now);
            let expired = entry
                .previous
                .as_ref()
                .is_some_and(|(_, until)| *until <= at.unix);
            if expired && let Some((mut salt, _)) = entry.previous.take() {
                salt.key.erase();
            }
            if entry.current.as_ref().is_some_and(|salt| salt.day < at.day) {
                self.rotate(entry, site, at.day, None);
            }
        }
    }

    /// The salt to offer as the shared one for `day`: for today, the one
    /// this instance hashes with, made now if no beacon has made it yet, so
    /// the beacons hashed while the offer is on its way use the salt offered
    /// (a fresh key offered beside it would replace it on arrival, and the
    /// same person would count twice); for a later day, a fresh one.
    pub(crate) fn offer(&self, site: &Site, day: i32, at: Moment) -> SaltKey {
        if day == at.day {
            return self.salts_for(site, at).current;
        }
        self.current_key(site, day).unwrap_or_else(SaltKey::random)
    }

    /// The salt this instance uses for `day`, to offer as the shared one.
    pub(crate) fn current_key(&self, site: &Site, day: i32) -> Option<SaltKey> {
        let book = self
            .sites
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        book.get(site.idx.index())?
            .current
            .as_ref()
            .filter(|salt| salt.day == day)
            .map(|salt| salt.key.clone())
    }

    /// Whether `day`'s salt is known to be the shared one (today's, or
    /// fetched ahead for a later day).
    pub(crate) fn has_shared(&self, site: &Site, day: i32) -> bool {
        let book = self
            .sites
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        book.get(site.idx.index()).is_some_and(|entry| {
            entry.shared_day == Some(day)
                || entry.upcoming.as_ref().is_some_and(|salt| salt.day == day)
        })
    }

    /// Installs the deployment's shared salt for `day` at moment `at`.
    pub(crate) fn install_shared(&self, site: &Site, day: i32, key: SaltKey, at: Moment) {
        let mut book = self
            .sites
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = entry_mut(&mut book, site);
        if day > at.day {
            if let Some(mut old) = entry.upcoming.replace(DaySalt { day, key }) {
                old.key.erase();
            }
            return;
        }
        if entry.current.as_ref().is_none_or(|salt| salt.day != day) {
            self.rotate(entry, site, day, Some(key));
            return;
        }
        if let Some(current) = entry.current.as_mut()
            && current.key.0 != key.0
        {
            tracing::warn!(
                site = %site.id,
                day,
                "adopted the shared salt in place of this instance's own"
            );
            current.key.erase();
            current.key = key;
        }
        entry.shared_day = Some(day);
    }

    /// Seconds since the start of the day of the oldest salt in use: past a
    /// day plus the visit timeout, rotation is stuck. 0 with no salt yet.
    pub(crate) fn oldest_age(&self, sites: &Sites, now: Timestamp) -> i64 {
        let book = self
            .sites
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        sites
            .iter()
            .filter_map(|site| {
                let current = book.get(site.idx.index())?.current.as_ref()?;
                Some(now.as_second() - site.start_of_day(current.day).as_second())
            })
            .max()
            .unwrap_or(0)
    }

    /// True when every site's salt for its current day is the shared one.
    pub(crate) fn all_shared(&self, sites: &Sites, now: Timestamp) -> bool {
        sites
            .iter()
            .all(|site| self.has_shared(site, site.moment(now).day))
    }

    /// How many salts are held for a site (0, 1 or 2).
    #[cfg(test)]
    pub(crate) fn held(&self, site: &Site) -> usize {
        let book = self
            .sites
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        book.get(site.idx.index()).map_or(0, |entry| {
            usize::from(entry.current.is_some()) + usize::from(entry.previous.is_some())
        })
    }
}

/// A site's entry, made when a reload added the site.
fn entry_mut<'a>(book: &'a mut Vec<SiteSalts>, site: &Site) -> &'a mut SiteSalts {
    let index = site.idx.index();
    if book.len() <= index {
        book.resize_with(index + 1, SiteSalts::default);
    }
    &mut book[index]
}

impl SiteSalts {
    fn usable(&self, at: Moment) -> Option<DaySalts> {
        let current = self.current.as_ref().filter(|salt| salt.day == at.day)?;
        let previous = self
            .previous
            .as_ref()
            .filter(|(_, until)| at.unix < *until)
            .map(|(salt, _)| salt.key.clone());
        Some(DaySalts {
            current: current.key.clone(),
            previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;

    fn sites() -> Sites {
        let config: SiteConfig = toml::from_str("id = \"a.example\"").unwrap();
        Sites::from_config(&[config]).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_same_day_uses_the_same_salt() {
        let sites = sites();
        let site = sites.iter().next().unwrap();
        let book = SaltBook::new(1, 1800);
        let morning = book.salts_for(site, site.moment(at("2026-11-23T08:00:00Z")));
        let evening = book.salts_for(site, site.moment(at("2026-11-23T22:00:00Z")));
        assert_eq!(morning.current.bytes(), evening.current.bytes());
        assert!(morning.previous.is_none());
    }

    #[test]
    fn midnight_brings_a_new_salt_and_keeps_the_old_one_for_the_grace_period_only() {
        let sites = sites();
        let site = sites.iter().next().unwrap();
        let book = SaltBook::new(1, 1800);
        let before = book.salts_for(site, site.moment(at("2026-11-23T22:50:00Z")));
        // 23:10Z is 00:10 in Amsterdam: a new day, inside the grace period.
        let after = book.salts_for(site, site.moment(at("2026-11-23T23:10:00Z")));
        assert_ne!(before.current.bytes(), after.current.bytes());
        assert_eq!(after.previous.unwrap().bytes(), before.current.bytes());
        // 23:40Z is 00:40: the grace period is over.
        let later = book.salts_for(site, site.moment(at("2026-11-23T23:40:00Z")));
        assert!(later.previous.is_none());
        assert_eq!(later.current.bytes(), after.current.bytes());
    }

    #[test]
    fn todays_offer_is_the_salt_beacons_are_hashed_with_before_and_after_it() {
        let sites = sites();
        let site = sites.iter().next().unwrap();
        let noon = site.moment(at("2026-11-23T11:00:00Z"));
        // The offer made before any beacon, and a beacon hashed while it is
        // on its way, use one salt; so does a beacon that came first.
        let book = SaltBook::new(1, 1800);
        let offered = book.offer(site, noon.day, noon);
        let hashed = book.salts_for(site, noon).current;
        assert_eq!(offered.bytes(), hashed.bytes());
        book.install_shared(site, noon.day, offered, noon);
        assert_eq!(book.salts_for(site, noon).current.bytes(), hashed.bytes());
        let book = SaltBook::new(1, 1800);
        let hashed = book.salts_for(site, noon).current;
        assert_eq!(book.offer(site, noon.day, noon).bytes(), hashed.bytes());
        // Tomorrow's offer is a salt of its own, used from midnight.
        let tomorrow = book.offer(site, noon.day + 1, noon);
        assert_ne!(tomorrow.bytes(), hashed.bytes());
    }

    #[test]
    fn sweeping_erases_expired_salts_without_traffic() {
        let sites = sites();
        let site = sites.iter().next().unwrap();
        let book = SaltBook::new(1, 1800);
        book.salts_for(site, site.moment(at("2026-11-23T22:50:00Z")));
        book.salts_for(site, site.moment(at("2026-11-23T23:05:00Z")));
        assert_eq!(book.held(site), 2);
        book.sweep(&sites, at("2026-11-23T23:31:00Z"));
        assert_eq!(book.held(site), 1);
        // Two days later, with no beacon in between, yesterday's salt is gone too.
        book.sweep(&sites, at("2026-11-26T12:00:00Z"));
        assert_eq!(book.held(site), 1);
        let fresh = book.salts_for(site, site.moment(at("2026-11-26T12:00:00Z")));
        assert!(fresh.previous.is_none());
    }

    #[test]
    fn salts_never_print() {
        assert_eq!(format!("{:?}", SaltKey::random()), "SaltKey(***)");
    }
}
