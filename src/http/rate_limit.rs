//! A fixed-window rate limit per network (the truncated client address),
//! for endpoints where each request stores something: consent choices.
//!
//! Networks are remembered only as keyed hashes (a key this process drew
//! at random), for one window, in memory. When more networks than
//! `max_networks` appear in one window the newcomers share one budget, so
//! memory stays bounded under a flood of addresses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::privacy::ip::TruncatedIp;

pub struct RateLimit {
    per_window: u32,
    window: Duration,
    max_networks: usize,
    key: [u8; 32],
    state: Mutex<Window>,
}

struct Window {
    /// When the current window began: at the first request after the last one ended.
    started: Option<Instant>,
    counts: HashMap<u64, u32>,
}

/// A network over its budget, and how long until the window ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// The key every network shares once the table is full.
const OVERFLOW: u64 = 0;

impl RateLimit {
    pub fn new(per_window: u32, window: Duration, max_networks: usize) -> RateLimit {
        RateLimit {
            per_window,
            window,
            max_networks,
            key: rand::random(),
            state: Mutex::new(Window {
                started: None,
                counts: HashMap::new(),
            }),
        }
    }

    /// Counts one request from `network`; `Err` when it is over budget.
    pub fn check(&self, network: TruncatedIp, now: Instant) -> Result<(), Limited> {
        let hash = network.with_octets(|octets| {
            let digest = blake3::keyed_hash(&self.key, octets);
            u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes")).max(1)
        });
        let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let started = match window.started {
            Some(started) if now.duration_since(started) < self.window => started,
            _ => {
                window.counts.clear();
                *window.started.insert(now)
            }
        };
        let slot = if window.counts.len() >= self.max_networks && !window.counts.contains_key(&hash)
        {
            OVERFLOW
        } else {
            hash
        };
        let budget = if slot == OVERFLOW {
            self.per_window.saturating_mul(4)
        } else {
            self.per_window
        };
        let count = window.counts.entry(slot).or_insert(0);
        if *count >= budget {
            return Err(Limited {
                retry_after: self.window.saturating_sub(now.duration_since(started)),
            });
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::ip::{ClientIp, Truncation};

    fn network(text: &str) -> TruncatedIp {
        Truncation::new(24, 48)
            .unwrap()
            .apply(ClientIp::new(text.parse().unwrap()))
    }

    #[test]
    fn a_network_gets_its_budget_per_window_and_others_are_not_touched() {
        let limit = RateLimit::new(3, Duration::from_secs(60), 100);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.check(network("192.0.2.1"), start).is_ok());
        }
        // The same /24, another address: the same budget.
        let refused = limit.check(network("192.0.2.200"), start + Duration::from_secs(15));
        assert_eq!(
            refused,
            Err(Limited {
                retry_after: Duration::from_secs(45)
            })
        );
        assert!(limit.check(network("198.51.100.1"), start).is_ok());
        assert!(
            limit
                .check(network("192.0.2.1"), start + Duration::from_secs(60))
                .is_ok(),
            "a new window, a new budget"
        );
    }

    #[test]
    fn past_the_table_size_newcomers_share_one_budget() {
        let limit = RateLimit::new(1, Duration::from_secs(60), 2);
        let now = Instant::now();
        assert!(limit.check(network("192.0.2.1"), now).is_ok());
        assert!(limit.check(network("192.0.3.1"), now).is_ok());
        for third in 4..8 {
            assert!(
                limit
                    .check(network(&format!("192.0.{third}.1")), now)
                    .is_ok()
            );
        }
        assert!(limit.check(network("192.0.9.1"), now).is_err());
        assert_eq!(limit.state.lock().unwrap().counts.len(), 3);
    }
}
