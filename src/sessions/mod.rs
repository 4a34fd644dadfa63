//! Hot per-visitor state (promises 3 and 4).
//!
//! Owns, per visitor hash: the local day it belongs to, the open visit
//! (entry page, last page, pageviews, first and last seen, and the
//! engagement so far of its last two pageviews: deepest scroll point,
//! reported or not; handed over as an `EndedVisit` when it times out, is
//! swept or evicted) and the set of
//! counting scopes this visitor has already been credited to today.
//! Lives only in memory, owned by the aggregator task; a visitor's entry
//! is swept once its day is over and its visit has ended, which is never
//! later than the end of that day's salt. Two caps bound memory: on
//! visitors, and on the credit fingerprints they hold together (on
//! average `CREDITS_PER_VISITOR` each, since returning visitors gather
//! more scopes through the day); past either, the least recently seen
//! of a small random sample is evicted.
//! Invariant: nothing here is written anywhere; it holds hashes, cleaned
//! pages and classes, never an IP address or a user agent.

mod credits;
mod interned;
pub mod shared;
mod table;
mod visit;

use crate::ingest::hit::{Hit, HitKind};
use crate::sites::{Moment, SiteIdx};
use interned::Interned;
use table::Table;

pub use credits::{CreditCheck, Credits};
pub(crate) use visit::Visit;
pub use visit::{EndedVisit, PageEngagement, VisitAttrs, VisitChange};

/// Credit fingerprints the hot state holds per visitor of its cap, on
/// average: a full hot state in the soak test held about 17 per visitor
/// (one visit each; 23 before a pair of values became one test whichever
/// is the filter, when this budget was 32), and room is left for visitors
/// who come back through the day. Each costs 4 bytes: at the default cap
/// the budget is 92 MiB, the largest part of the hot state (BENCHMARKS.md,
/// "What the memory holds"); past it the least recently seen visitors
/// make room.
pub const CREDITS_PER_VISITOR: usize = 24;

struct VisitorState {
    site: SiteIdx,
    day: i32,
    last_seen: i64,
    credits: Credits,
    visit: Option<Box<Visit>>,
}

/// What one hit did to its visitor's state.
pub struct Observation<'a> {
    /// The visitor's credits for today.
    pub credits: CreditCheck<'a>,
    /// How the open visit changed; `None` for anonymous hits.
    pub visit: Option<VisitChange>,
}

pub struct Sessions {
    visitors: Table<VisitorState>,
    max_visitors: usize,
    /// Fingerprints all visitors' credits hold, and the most they may.
    credits_held: usize,
    max_credits: usize,
    timeout_seconds: i64,
    evicted: u64,
    sample_seed: u64,
    /// Visits that ended since `take_ended`: timed out, swept or evicted.
    ended: Vec<EndedVisit>,
    /// The pages and attributions the open visits share.
    interned: Interned,
}

impl Sessions {
    pub fn new(max_visitors: usize, timeout_seconds: i64) -> Sessions {
        let max_visitors = max_visitors.clamp(1, Table::<VisitorState>::MAX_LEN);
        Sessions {
            visitors: Table::default(),
            max_visitors,
            credits_held: 0,
            max_credits: max_visitors.saturating_mul(CREDITS_PER_VISITOR),
            timeout_seconds,
            evicted: 0,
            sample_seed: 0x9E37_79B9_7F4A_7C15,
            ended: Vec::new(),
            interned: Interned::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.visitors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visitors.is_empty()
    }

    /// Visitors evicted because the cap was reached since the last call.
    pub(crate) fn take_evicted(&mut self) -> u64 {
        std::mem::take(&mut self.evicted)
    }

    pub fn observe(&mut self, hit: &Hit) -> Observation<'_> {
        let Some(visitor) = hit.visitor else {
            return Observation {
                credits: CreditCheck::Anonymous,
                visit: None,
            };
        };
        let key = visitor.today.value();
        if !self.visitors.contains_key(key) {
            let carried = visitor
                .yesterday
                .and_then(|previous| self.visitors.swap_remove(previous.value()));
            let state = carried.unwrap_or_else(|| VisitorState {
                site: hit.site,
                day: hit.at.day,
                last_seen: hit.at.unix,
                credits: Credits::default(),
                visit: None,
            });
            self.make_room();
            self.grow_for_one();
            self.visitors.insert_new(key, state);
        }
        let timeout = self.timeout_seconds;
        let state = self.visitors.get_mut(key).expect("inserted above");
        if state.day != hit.at.day {
            // A new local day: a new visitor for counting, the visit may go on.
            state.day = hit.at.day;
            self.credits_held -= state.credits.len();
            state.credits = Credits::default();
        }
        state.last_seen = state.last_seen.max(hit.at.unix);
        let (change, ended) = visit::advance(&mut state.visit, hit, timeout, &mut self.interned);
        if let Some(ended) = ended {
            self.ended.push(ended.end(state.site));
        }
        Observation {
            credits: CreditCheck::Local {
                credits: &mut state.credits,
                held: &mut self.credits_held,
            },
            visit: Some(change),
        }
    }

    /// Adds an engagement report to the open visit's pageview of its page,
    /// the current or the previous one: `None` (nothing counted) when the
    /// visitor has no open visit under today's hash, or the report is for
    /// another page. A report is no activity: it neither extends the visit
    /// nor creates a visitor.
    pub fn engage(&mut self, hit: &Hit) -> Option<PageEngagement> {
        let HitKind::Engagement(report) = hit.kind else {
            return None;
        };
        let state = self.visitors.get_mut(hit.visitor?.today.value())?;
        let visit = state
            .visit
            .as_mut()
            .filter(|visit| hit.at.unix - visit.last_seen < self.timeout_seconds)?;
        visit::engage(visit, &hit.page, report)
    }

    /// Evicts until one more visitor fits under both caps.
    fn make_room(&mut self) {
        while !self.visitors.is_empty()
            && (self.visitors.len() >= self.max_visitors || self.credits_held > self.max_credits)
        {
            let victim = self.least_recent_of_sample();
            let (_, state) = self.visitors.swap_remove_index(victim);
            self.credits_held -= state.credits.len();
            if let Some(visit) = state.visit {
                self.ended.push(visit.end(state.site));
            }
            self.evicted += 1;
        }
    }

    /// Grows the table of visitors by a quarter at a time, never past the
    /// cap: left to itself a vector doubles, and at a million visitors
    /// would hold room for two.
    fn grow_for_one(&mut self) {
        let len = self.visitors.len();
        if len == self.visitors.capacity() {
            let room = self.max_visitors.saturating_sub(len).max(1);
            self.visitors.reserve_exact((len / 4).max(1024).min(room));
        }
    }

    /// Credit fingerprints held by every visitor together.
    pub fn credits_held(&self) -> usize {
        self.credits_held
    }

    /// Approximate LRU: the oldest of eight pseudo-random entries.
    fn least_recent_of_sample(&mut self) -> usize {
        let len = self.visitors.len() as u64;
        (0..8)
            .map(|_| {
                // xorshift64: cheap, good enough to spread samples.
                self.sample_seed ^= self.sample_seed << 13;
                self.sample_seed ^= self.sample_seed >> 7;
                self.sample_seed ^= self.sample_seed << 17;
                (self.sample_seed % len) as usize
            })
            .min_by_key(|index| self.visitors.get_index(*index).last_seen)
            .unwrap_or(0)
    }

    /// Per site (by index), the visitors seen in the `window` seconds up
    /// to `now`: the realtime figure, read from the hot state itself, so it
    /// needs no memory of its own and is bounded by the same cap.
    pub(crate) fn recent_per_site(&self, now: i64, window: i64, sites: usize) -> Vec<u64> {
        let mut counts = vec![0; sites];
        for state in self.visitors.values() {
            if now - state.last_seen < window
                && let Some(count) = counts.get_mut(state.site.index())
            {
                *count += 1;
            }
        }
        counts
    }

    /// Ends idle visits and forgets visitors whose day is over.
    /// `today` gives each site's current local moment, indexed by site.
    pub fn sweep(&mut self, today: &[Moment]) {
        let timeout = self.timeout_seconds;
        let ended = &mut self.ended;
        let held = &mut self.credits_held;
        self.visitors.retain(|state| {
            let now = today[state.site.index()];
            let idle = state
                .visit
                .as_ref()
                .is_some_and(|visit| now.unix - visit.last_seen >= timeout);
            if idle && let Some(visit) = state.visit.take() {
                ended.push(visit.end(state.site));
            }
            let keep = state.day >= now.day || state.visit.is_some();
            if !keep {
                *held -= state.credits.len();
            }
            keep
        });
        self.interned.prune();
    }

    /// Ends every open visit: the hot state does not outlive the process.
    pub fn end_all(&mut self) {
        for state in self.visitors.values_mut() {
            if let Some(visit) = state.visit.take() {
                self.ended.push(visit.end(state.site));
            }
        }
    }

    /// Visits that ended since the last call.
    pub fn take_ended(&mut self) -> Vec<EndedVisit> {
        std::mem::take(&mut self.ended)
    }
}

#[cfg(test)]
mod tests;
