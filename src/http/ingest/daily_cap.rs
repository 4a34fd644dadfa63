//! A per-site cap on how many things an unauthenticated client may make the
//! server store in one local day: consent choices. Each instance counts its
//! own, in memory; the cap is the operator's bound on disk, written down in
//! docs/embedding.md as choices × bytes × retention.
//!
//! Deliberately not shared between instances: with N instances a site can
//! store up to N times its cap a day, which the documented bound states.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct DailyCap {
    /// Per configured site: the local day counted, and how many were taken.
    taken: Mutex<HashMap<String, (i32, u32)>>,
}

impl DailyCap {
    /// Takes one from the site's budget for `day`; false when `cap` is spent.
    pub(crate) fn take(&self, site: &str, day: i32, cap: u32) -> bool {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        let entry = taken.entry(site.to_owned()).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        if entry.1 >= cap {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_takes_its_cap_a_day_and_others_are_not_touched() {
        let cap = DailyCap::default();
        let (a, b) = ("a.example", "b.example");
        assert!((0..3).all(|_| cap.take(a, 100, 3)));
        assert!(!cap.take(a, 100, 3));
        assert!(cap.take(b, 100, 3), "another site");
        assert!(cap.take(a, 101, 3), "the next day");
    }
}
