//! Visitors in the last five minutes, per site.
//!
//! The aggregator records when it last saw each visitor hash and, at every
//! tick, forgets those older than the window and publishes the count into
//! an atomic the stats API reads without locking anything.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use crate::privacy::visitor::VisitorId;
use crate::sites::SiteIdx;

pub const WINDOW_SECONDS: i64 = 300;

pub struct Realtime {
    recent: Mutex<Vec<HashMap<VisitorId, i64, foldhash::fast::RandomState>>>,
    /// Per site, by index; grows when a reload adds sites.
    published: RwLock<Vec<u64>>,
}

impl Realtime {
    pub fn new(site_count: usize) -> Realtime {
        Realtime {
            recent: Mutex::new((0..site_count).map(|_| HashMap::default()).collect()),
            published: RwLock::new(vec![0; site_count]),
        }
    }

    pub fn seen(&self, site: SiteIdx, visitor: VisitorId, unix: i64) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if recent.len() <= site.index() {
            recent.resize_with(site.index() + 1, HashMap::default);
        }
        let last = recent[site.index()].entry(visitor).or_insert(unix);
        *last = (*last).max(unix);
    }

    pub fn publish(&self, now: i64) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let counts: Vec<u64> = recent
            .iter_mut()
            .map(|visitors| {
                visitors.retain(|_, last| now - *last < WINDOW_SECONDS);
                visitors.len() as u64
            })
            .collect();
        self.publish_counts(&counts);
    }

    /// Publishes counts per site, by index (from the shared visit state,
    /// or from `publish`).
    pub fn publish_counts(&self, counts: &[u64]) {
        let mut published = self
            .published
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        published.clear();
        published.extend_from_slice(counts);
    }

    pub fn visitors(&self, site: SiteIdx) -> u64 {
        self.published
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(site.index())
            .copied()
            .unwrap_or(0)
    }
}
