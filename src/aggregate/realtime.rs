//! Visitors in the last five minutes, per site.
//!
//! The aggregator counts them at every tick, from the hot state (or, on
//! Redis, from the shared visit state), and publishes the counts here, in
//! a table the stats API reads without waiting for the aggregator.

use std::sync::RwLock;

pub(crate) const WINDOW_SECONDS: i64 = 300;

pub(crate) struct Realtime {
    /// Per site, by index; grows when a reload adds sites.
    published: RwLock<Vec<u64>>,
}

impl Realtime {
    pub(crate) fn new(site_count: usize) -> Realtime {
        Realtime {
            published: RwLock::new(vec![0; site_count]),
        }
    }

    /// Publishes counts per site, by index.
    pub(crate) fn publish_counts(&self, counts: &[u64]) {
        let mut published = self
            .published
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        published.clear();
        published.extend_from_slice(counts);
    }

    pub(crate) fn visitors(&self, site: crate::sites::SiteIdx) -> u64 {
        self.published
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(site.index())
            .copied()
            .unwrap_or(0)
    }
}
