//! A fixed-window rate limit per network (the truncated client address),
//! for endpoints where each request stores something: consent choices.
//!
//! Each network has its budget, and so does the wider network around it
//! (an IPv4 /16, an IPv6 /32: what one provider or one customer typically
//! holds), at [`WIDE_FACTOR`] times the budget: a client with many /24s or
//! /48s of one block cannot multiply its budget by spreading over them.
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
/// How many networks' budgets the wider network around them has.
pub(crate) const WIDE_FACTOR: u32 = 8;
const WIDE_V4_PREFIX: u32 = 16;
const WIDE_V6_PREFIX: u32 = 32;

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

    /// Counts one request from `network`; `Err` when it, or the wider
    /// network around it, is over budget.
    pub fn check(&self, network: TruncatedIp, now: Instant) -> Result<(), Limited> {
        let narrow = network.with_octets(|octets| self.hash(0, octets));
        let wide = network.with_octets(|octets| {
            let bits = if octets.len() == 4 {
                WIDE_V4_PREFIX
            } else {
                WIDE_V6_PREFIX
            };
            let mut wider = [0u8; 16];
            let bytes = usize::try_from(bits / 8).unwrap_or(0);
            wider[..bytes].copy_from_slice(&octets[..bytes]);
            self.hash(1, &wider[..octets.len()])
        });
        let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let started = match window.started {
            Some(started) if now.duration_since(started) < self.window => started,
            _ => {
                window.counts.clear();
                *window.started.insert(now)
            }
        };
        let narrow = self.slot(&window, narrow, self.per_window);
        let wide = self.slot(&window, wide, self.per_window.saturating_mul(WIDE_FACTOR));
        let over = [narrow, wide]
            .iter()
            .any(|(slot, budget)| window.counts.get(slot).is_some_and(|count| count >= budget));
        if over {
            return Err(Limited {
                retry_after: self.window.saturating_sub(now.duration_since(started)),
            });
        }
        *window.counts.entry(narrow.0).or_insert(0) += 1;
        // Past the table's size both may be the shared slot: one request.
        if wide.0 != narrow.0 {
            *window.counts.entry(wide.0).or_insert(0) += 1;
        }
        Ok(())
    }

    /// A keyed hash of the network's bytes; `kind` keeps a /16 apart from
    /// a /24 that happens to have the same bytes. Never `OVERFLOW`.
    fn hash(&self, kind: u8, octets: &[u8]) -> u64 {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(&[kind]);
        hasher.update(octets);
        let digest = hasher.finalize();
        u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes")).max(1)
    }

    /// Where a key is counted, and its budget there: past the table's size,
    /// newcomers share one slot.
    fn slot(&self, window: &Window, hash: u64, budget: u32) -> (u64, u32) {
        if window.counts.len() >= self.max_networks && !window.counts.contains_key(&hash) {
            (OVERFLOW, self.per_window.saturating_mul(4))
        } else {
            (hash, budget)
        }
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
        // Two networks in two /16s fill the table (a key each, and one for
        // each /16); newcomers then share one budget of four.
        let limit = RateLimit::new(1, Duration::from_secs(60), 4);
        let now = Instant::now();
        assert!(limit.check(network("192.0.2.1"), now).is_ok());
        assert!(limit.check(network("198.51.3.1"), now).is_ok());
        for first in 4..8 {
            let newcomer = format!("{first}.0.0.1");
            assert!(limit.check(network(&newcomer), now).is_ok(), "{newcomer}");
        }
        assert!(limit.check(network("9.0.0.1"), now).is_err());
        assert_eq!(limit.state.lock().unwrap().counts.len(), 5);
    }

    #[test]
    fn many_networks_of_one_wider_block_share_its_budget() {
        let limit = RateLimit::new(2, Duration::from_secs(60), 100_000);
        let now = Instant::now();
        let wide_budget = 2 * WIDE_FACTOR;
        // One /48 each, all in 2001:db8::/32.
        for n in 0..wide_budget {
            let from = format!("2001:db8:{n:x}::1");
            assert!(limit.check(network(&from), now).is_ok(), "{from}");
        }
        assert!(limit.check(network("2001:db8:ffff::1"), now).is_err());
        assert!(
            limit.check(network("2001:db9:1::1"), now).is_ok(),
            "another /32"
        );
        // The same for /24s of one IPv4 /16.
        for n in 0..wide_budget {
            let from = format!("203.0.{n}.1");
            assert!(limit.check(network(&from), now).is_ok(), "{from}");
        }
        assert!(limit.check(network("203.0.200.1"), now).is_err());
        assert!(limit.check(network("203.1.0.1"), now).is_ok());
    }
}
