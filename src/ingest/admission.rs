//! The door's budget for hits on their way to Redis.
//!
//! With the Redis backend a hit waits twice before it is counted: in the
//! aggregator's queue, then in its backlog until Redis has resolved it.
//! Both are bounded together here: the request path takes one unit of
//! budget per hit before `try_send`, and the aggregator gives it back once
//! the hit is counted (or dropped and counted as dropped). A hit the door
//! accepted therefore always has room in the backlog, so the backlog never
//! has to drop an acknowledged hit to make room; when the budget is spent
//! the door sheds instead, and the beacon is answered with the drop header.
//! Whether Redis is away (its last call failed) or only slow is recorded by
//! the aggregator, so each shed hit is counted under its cause.
//! It does not bound the embedded backend, whose queue is its only wait.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Why the door shed a hit for want of budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShedCause {
    /// Redis answers, but the aggregator resolves hits against it more
    /// slowly than they arrive.
    WriterBehind,
    /// Redis did not answer the aggregator's last call: the backlog is
    /// full of hits waiting for it to come back.
    RedisAway,
}

impl ShedCause {
    pub(crate) const ALL: [ShedCause; 2] = [ShedCause::WriterBehind, ShedCause::RedisAway];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ShedCause::WriterBehind => "writer_behind",
            ShedCause::RedisAway => "redis_away",
        }
    }
}

/// Hits admitted and not yet counted, against their bound.
#[derive(Debug)]
pub(crate) struct Admission {
    limit: usize,
    admitted: AtomicUsize,
    redis_away: AtomicBool,
    /// Hits shed since the aggregator last asked, for its log lines.
    shed: AtomicU64,
}

impl Admission {
    /// A budget of `limit` hits (at least one).
    pub(crate) fn new(limit: usize) -> Admission {
        Admission {
            limit: limit.max(1),
            admitted: AtomicUsize::new(0),
            redis_away: AtomicBool::new(false),
            shed: AtomicU64::new(0),
        }
    }

    /// Takes one unit for a hit about to be queued; without one left, the
    /// cause to shed it under.
    pub(crate) fn admit(&self) -> Result<(), ShedCause> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        if before < self.limit {
            return Ok(());
        }
        self.admitted.fetch_sub(1, Ordering::AcqRel);
        self.shed.fetch_add(1, Ordering::Relaxed);
        Err(self.cause())
    }

    /// Gives back the units of `hits` hits that left: counted, dropped and
    /// counted as dropped, or never queued after all.
    pub(crate) fn release(&self, hits: usize) {
        if hits == 0 {
            return;
        }
        // Never below zero, whatever a caller miscounts.
        let _ = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |admitted| {
                Some(admitted.saturating_sub(hits))
            });
    }

    /// Hits admitted and not yet released.
    pub(crate) fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Set by the aggregator after each call to Redis.
    pub(crate) fn set_redis_away(&self, away: bool) {
        self.redis_away.store(away, Ordering::Relaxed);
    }

    pub(crate) fn cause(&self) -> ShedCause {
        if self.redis_away.load(Ordering::Relaxed) {
            ShedCause::RedisAway
        } else {
            ShedCause::WriterBehind
        }
    }

    /// Hits shed since the last call.
    pub(crate) fn take_shed(&self) -> u64 {
        self.shed.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_admits_up_to_its_limit_and_again_after_a_release() {
        let admission = Admission::new(3);
        for _ in 0..3 {
            assert_eq!(admission.admit(), Ok(()));
        }
        assert_eq!(admission.admit(), Err(ShedCause::WriterBehind));
        assert_eq!(admission.admitted(), 3, "a refused hit takes nothing");
        admission.release(2);
        assert_eq!(admission.admit(), Ok(()));
        assert_eq!(admission.admit(), Ok(()));
        assert_eq!(admission.admit(), Err(ShedCause::WriterBehind));
        assert_eq!(admission.take_shed(), 2);
        assert_eq!(admission.take_shed(), 0);
    }

    #[test]
    fn a_shed_hit_is_blamed_on_redis_being_away_only_while_it_is() {
        let admission = Admission::new(1);
        admission.admit().unwrap();
        admission.set_redis_away(true);
        assert_eq!(admission.admit(), Err(ShedCause::RedisAway));
        admission.set_redis_away(false);
        assert_eq!(admission.admit(), Err(ShedCause::WriterBehind));
    }

    #[test]
    fn releasing_more_than_was_admitted_leaves_the_budget_whole_not_negative() {
        let admission = Admission::new(2);
        admission.admit().unwrap();
        admission.release(5);
        assert_eq!(admission.admitted(), 0);
        admission.admit().unwrap();
        admission.admit().unwrap();
        assert!(admission.admit().is_err());
    }
}
