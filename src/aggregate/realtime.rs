//! Visitors in the last five minutes, per site.
//!
//! The aggregator records when it last saw each visitor hash and, at every
//! tick, forgets those older than the window and publishes the count into
//! an atomic the stats API reads without locking anything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::privacy::visitor::VisitorId;
use crate::sites::SiteIdx;

pub const WINDOW_SECONDS: i64 = 300;

pub struct Realtime {
    recent: Mutex<Vec<HashMap<VisitorId, i64, foldhash::fast::RandomState>>>,
    published: Vec<AtomicU64>,
}

impl Realtime {
    pub fn new(site_count: usize) -> Realtime {
        Realtime {
            recent: Mutex::new((0..site_count).map(|_| HashMap::default()).collect()),
            published: (0..site_count).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn seen(&self, site: SiteIdx, visitor: VisitorId, unix: i64) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let last = recent[site.index()].entry(visitor).or_insert(unix);
        *last = (*last).max(unix);
    }

    pub fn publish(&self, now: i64) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for (site, visitors) in recent.iter_mut().enumerate() {
            visitors.retain(|_, last| now - *last < WINDOW_SECONDS);
            self.published[site].store(visitors.len() as u64, Ordering::Relaxed);
        }
    }

    /// Publishes counts taken from the shared visit state.
    pub fn publish_shared(&self, counts: &[u64]) {
        for (published, count) in self.published.iter().zip(counts) {
            published.store(*count, Ordering::Relaxed);
        }
    }

    pub fn visitors(&self, site: SiteIdx) -> u64 {
        self.published[site.index()].load(Ordering::Relaxed)
    }
}
