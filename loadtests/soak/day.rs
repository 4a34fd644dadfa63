//! Which visitor each new visit comes from, in a day with a million
//! visitors compressed into the run.
//!
//! The run starts where the busy part of such a day starts: the day's
//! first million visitors all arrive first (every visit is from a new
//! visitor until there are `day_visitors` of them), which fills
//! Kruimel's hot state to its default cap of a million. From then on new
//! visitors keep arriving at `new_per_second`, by default another
//! `day_visitors` over the run, each pushing the least recently seen
//! visitor out of the full hot state; every other visit comes back from
//! one of the latest `day_visitors` visitors, drawn uniformly. So the run
//! sees about twice as many distinct visitors as the hot state may hold:
//! a hot state that leaked would grow by half again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand::Rng;
use rand::rngs::StdRng;

pub struct Day {
    started: Instant,
    day_visitors: u64,
    new_per_second: f64,
    distinct: AtomicU64,
}

impl Day {
    pub fn new(day_visitors: u64, new_per_second: f64) -> Day {
        Day {
            started: Instant::now(),
            day_visitors: day_visitors.max(1),
            new_per_second,
            distinct: AtomicU64::new(0),
        }
    }

    /// Distinct visitors so far.
    pub fn distinct(&self) -> u64 {
        self.distinct.load(Ordering::Relaxed)
    }

    /// The visitor of a new visit: a new one while the day is behind its
    /// arrivals, otherwise one of the latest `day_visitors`.
    pub fn next_visitor(&self, rng: &mut StdRng) -> u64 {
        let elapsed = self.started.elapsed().as_secs_f64();
        let arrived = self.day_visitors + (self.new_per_second * elapsed) as u64;
        let distinct = self.distinct();
        if distinct < arrived {
            return self.distinct.fetch_add(1, Ordering::Relaxed);
        }
        let window = distinct.min(self.day_visitors);
        distinct - 1 - rng.random_range(0..window)
    }
}
