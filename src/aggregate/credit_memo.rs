//! What this instance already knows of its visitors' credits in the
//! shared state, to ask Redis less.
//!
//! Within a visitor's day credits only grow, so a scope the shared state
//! once answered for a visitor ("first time" or "already") is credited for
//! the rest of that day, whichever instance asks: it needs no question
//! again. Only a cache: forgetting costs questions, never counts.
//! Invariant: holds visitor hashes of the current day only — it is
//! emptied when any site's day changes, before that site's yesterday's
//! salt ends — and at most `cap` visitors.

use std::collections::HashMap;

use crate::sessions::Credits;

pub(super) struct CreditMemo {
    visitors: HashMap<u64, Credits, foldhash::fast::RandomState>,
    /// Each site's local day when the memo was last emptied.
    days: Vec<i32>,
    cap: usize,
}

impl CreditMemo {
    pub(super) fn new(cap: usize) -> CreditMemo {
        CreditMemo {
            visitors: HashMap::default(),
            days: Vec::new(),
            cap: cap.max(1),
        }
    }

    /// Starts afresh when any site's local day (`today`, by site) moves.
    pub(super) fn enter_days(&mut self, today: impl Iterator<Item = i32>) {
        let mut changed = false;
        let mut count = 0;
        for (index, day) in today.enumerate() {
            count = index + 1;
            match self.days.get_mut(index) {
                Some(known) if *known == day => {}
                Some(known) => {
                    *known = day;
                    changed = true;
                }
                None => {
                    self.days.push(day);
                    changed = true;
                }
            }
        }
        self.days.truncate(count);
        if changed {
            self.visitors.clear();
        }
    }

    pub(super) fn knows(&self, visitor: u64, scope: u32) -> bool {
        self.visitors
            .get(&visitor)
            .is_some_and(|credits| credits.contains(scope))
    }

    /// Notes scopes the shared state has answered for `visitor`.
    pub(super) fn learn(&mut self, visitor: u64, scopes: &[u32]) {
        if scopes.is_empty() {
            return;
        }
        if self.visitors.len() >= self.cap && !self.visitors.contains_key(&visitor) {
            self.visitors.clear();
        }
        let credits = self.visitors.entry(visitor).or_default();
        for scope in scopes {
            credits.first_time(*scope);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.visitors.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.visitors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_scopes_are_known_until_the_day_moves() {
        let mut memo = CreditMemo::new(10);
        memo.enter_days([100, 99].into_iter());
        memo.learn(1, &[5, 9]);
        assert!(memo.knows(1, 5) && memo.knows(1, 9));
        assert!(!memo.knows(1, 6) && !memo.knows(2, 5));
        memo.enter_days([100, 99].into_iter());
        assert!(memo.knows(1, 5), "the same days keep what is known");
        memo.enter_days([100, 100].into_iter());
        assert!(!memo.knows(1, 5) && memo.is_empty(), "one site's midnight");
    }

    #[test]
    fn past_the_cap_it_starts_afresh() {
        let mut memo = CreditMemo::new(2);
        memo.enter_days([1].into_iter());
        memo.learn(1, &[1]);
        memo.learn(2, &[1]);
        memo.learn(2, &[2]);
        assert_eq!(
            memo.len(),
            2,
            "a known visitor does not count against the cap"
        );
        memo.learn(3, &[1]);
        assert_eq!(memo.len(), 1);
        assert!(memo.knows(3, 1) && !memo.knows(1, 1));
    }
}
