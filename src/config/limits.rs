//! What an unauthenticated client may make the server store: distinct
//! values per property and day, and beacons per network.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Beacons one network (the truncated address) may send per window;
    /// past it they are answered 202 and dropped (`rate_limited`).
    /// 0 turns the limit off.
    pub(crate) ingest_per_network: u32,
    pub(crate) ingest_window_seconds: u64,
    /// Networks remembered per window; past it, newcomers share one
    /// budget of four networks' (memory stays bounded, about 24 bytes a
    /// network).
    pub(crate) ingest_networks: usize,
    /// Distinct values each site may gain per property and local day;
    /// past it new values count under "(other)".
    pub(crate) distinct_values_per_day: DistinctValues,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            // 50 a second from one /24 (or /48), sustained, twice that at a
            // window's edge: a person sends a few a minute, so a large
            // office or a carrier's NAT behind one network stays whole.
            ingest_per_network: 500,
            ingest_window_seconds: 10,
            ingest_networks: 250_000,
            distinct_values_per_day: DistinctValues::default(),
        }
    }
}

/// Per site, property and local day. Entry and exit pages are pages, so
/// the page cap bounds them too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistinctValues {
    pub pages: usize,
    /// Referrer hosts.
    pub referrers: usize,
    pub sources: usize,
    /// Each of utm_source, utm_medium and utm_campaign.
    pub utm: usize,
    pub(crate) event_names: usize,
    pub(crate) prop_keys: usize,
    /// Distinct (key, value) pairs of custom properties, all keys together.
    pub(crate) prop_values: usize,
    /// Outbound link and file download targets.
    pub link_targets: usize,
    /// Paths of 404 events.
    pub(crate) not_found_paths: usize,
}

impl Default for DistinctValues {
    fn default() -> Self {
        DistinctValues {
            pages: 10_000,
            referrers: 2_000,
            sources: 1_000,
            utm: 1_000,
            event_names: 200,
            prop_keys: 200,
            prop_values: 2_000,
            link_targets: 2_000,
            not_found_paths: 1_000,
        }
    }
}
