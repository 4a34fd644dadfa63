//! Account lockout: after `MAX_FAILURES` failed sign-ins within
//! `WINDOW`, an account is locked for `LOCK`, even for the right
//! password. Per network, the login endpoint is rate limited as well
//! (`http::rate_limit`), so guessing across accounts is slow too.

use std::collections::HashMap;
use std::sync::Mutex;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW_SECONDS: i64 = 15 * 60;
pub const LOCK_SECONDS: i64 = 15 * 60;
/// Accounts tracked at most (names that do not exist count too).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    failures: u32,
    first_failure: i64,
    locked_until: i64,
}

#[derive(Default)]
pub struct Lockout {
    records: Mutex<HashMap<String, Record>>,
}

impl Lockout {
    /// Whether `account` is locked at `now`.
    pub fn is_locked(&self, account: &str, now: i64) -> bool {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records
            .get(account)
            .is_some_and(|record| record.locked_until > now)
    }

    /// Counts a failure; true when it locked the account.
    pub fn fail(&self, account: &str, now: i64) -> bool {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() >= MAX_TRACKED && !records.contains_key(account) {
            records.retain(|_, record| {
                record.locked_until > now || now - record.first_failure < WINDOW_SECONDS
            });
        }
        let record = records.entry(account.to_owned()).or_default();
        if now - record.first_failure >= WINDOW_SECONDS {
            *record = Record {
                failures: 0,
                first_failure: now,
                locked_until: record.locked_until,
            };
        }
        record.failures += 1;
        if record.failures >= MAX_FAILURES {
            record.locked_until = now + LOCK_SECONDS;
            record.failures = 0;
            return true;
        }
        false
    }

    pub fn succeed(&self, account: &str) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_an_account_for_fifteen_minutes() {
        let lockout = Lockout::default();
        for attempt in 1..MAX_FAILURES {
            assert!(!lockout.fail("anna", attempt as i64), "{attempt}");
        }
        assert!(!lockout.is_locked("anna", 10));
        assert!(lockout.fail("anna", 10));
        assert!(lockout.is_locked("anna", 10 + LOCK_SECONDS - 1));
        assert!(!lockout.is_locked("anna", 10 + LOCK_SECONDS));
        assert!(!lockout.is_locked("bram", 10), "others are not touched");
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let lockout = Lockout::default();
        for attempt in 0..10 {
            assert!(!lockout.fail("anna", attempt * (WINDOW_SECONDS / 3)));
        }
    }
}
