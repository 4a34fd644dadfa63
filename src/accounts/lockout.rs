//! Account lockout that an outsider cannot turn against the account's
//! owner.
//!
//! Failed sign-ins are counted per (account, network): five within 15
//! minutes lock the account for 15 minutes *from that network only*, so
//! guessing from one place stops while the official, signing in from
//! elsewhere, is not shut out. A slower limit counts the account's failures
//! from every network together: 50 within an hour lock it for 15 minutes
//! from every network that has not signed in to it successfully in the last
//! 30 days, so guessing spread over many networks stops too, and the
//! networks the official works from still get in. Known networks are kept
//! in memory only (at most eight per account), like every record here.
//!
//! `kruimel user unlock` writes the moment of unlocking into the users file;
//! failures and locks from before it no longer count. Per network, the
//! sign-in endpoint is rate limited as well (`http::rate_limit`), so
//! guessing across accounts is slow too.
//!
//! Deliberately not here: the audit log (the caller writes each verdict),
//! and sharing between instances (each instance counts its own failures).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::privacy::ip::TruncatedIp;

pub(crate) const MAX_FAILURES: u32 = 5;
pub(crate) const WINDOW_SECONDS: i64 = 15 * 60;
pub(crate) const LOCK_SECONDS: i64 = 15 * 60;
pub(crate) const ACCOUNT_MAX_FAILURES: u32 = 50;
pub(crate) const ACCOUNT_WINDOW_SECONDS: i64 = 60 * 60;
/// How long a network that signed in stays exempt from the account-wide lock.
pub(crate) const KNOWN_NETWORK_SECONDS: i64 = 30 * 24 * 60 * 60;
const KNOWN_NETWORKS_PER_ACCOUNT: usize = 8;
/// Records kept at most in each table (names that do not exist count too).
const MAX_TRACKED: usize = 100_000;

/// What a failed attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Counted; nothing is locked yet.
    Counted,
    /// The account is now locked from this network.
    LockedFromNetwork,
    /// The account is now locked from every network it has not signed in from.
    LockedFromUnknownNetworks,
}

/// Failures within a window, and the lock they led to.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    failures: u32,
    first_failure: i64,
    locked_at: i64,
    locked_until: i64,
}

impl Window {
    /// Forgets what happened before `unlocked_at`.
    fn since(&mut self, unlocked_at: i64) {
        if self.first_failure < unlocked_at {
            self.failures = 0;
        }
        if self.locked_at < unlocked_at {
            self.locked_until = 0;
        }
    }

    fn is_locked(&self, now: i64) -> bool {
        self.locked_until > now
    }

    /// Counts a failure; true when it locks.
    fn fail(&mut self, now: i64, max: u32, window: i64) -> bool {
        if now - self.first_failure >= window || self.failures == 0 {
            self.failures = 0;
            self.first_failure = now;
        }
        self.failures += 1;
        if self.failures < max {
            return false;
        }
        self.failures = 0;
        self.locked_at = now;
        self.locked_until = now + LOCK_SECONDS;
        true
    }

    fn matters(&self, now: i64, window: i64) -> bool {
        self.is_locked(now) || (self.failures > 0 && now - self.first_failure < window)
    }
}

#[derive(Debug, Default)]
struct Account {
    everywhere: Window,
    /// Networks that signed in, with when they last did.
    known: Vec<(TruncatedIp, i64)>,
}

impl Account {
    fn knows(&self, network: TruncatedIp, now: i64) -> bool {
        self.known
            .iter()
            .any(|(known, at)| *known == network && now - at < KNOWN_NETWORK_SECONDS)
    }
}

#[derive(Default)]
struct Tables {
    by_network: HashMap<(String, TruncatedIp), Window>,
    accounts: HashMap<String, Account>,
}

#[derive(Default)]
pub(crate) struct Lockout {
    tables: Mutex<Tables>,
}

/// One sign-in attempt: who, from where, when, and when the account was
/// last unlocked by an administrator (0 if never).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub account: &'a str,
    pub network: TruncatedIp,
    pub now: i64,
    pub(crate) unlocked_at: i64,
}

impl Lockout {
    /// Whether the attempt is refused before its password is looked at.
    pub(crate) fn is_locked(&self, attempt: Attempt<'_>) -> bool {
        let mut tables = self.lock();
        let Attempt {
            account,
            network,
            now,
            unlocked_at,
        } = attempt;
        let from_network = tables
            .by_network
            .get_mut(&(account.to_owned(), network))
            .is_some_and(|window| {
                window.since(unlocked_at);
                window.is_locked(now)
            });
        let everywhere = tables.accounts.get_mut(account).is_some_and(|record| {
            record.everywhere.since(unlocked_at);
            record.everywhere.is_locked(now) && !record.knows(network, now)
        });
        from_network || everywhere
    }

    /// Counts a failed attempt, and says whether it locked something.
    pub(crate) fn fail(&self, attempt: Attempt<'_>) -> Failure {
        let mut tables = self.lock();
        let Attempt {
            account,
            network,
            now,
            unlocked_at,
        } = attempt;
        if tables.by_network.len() >= MAX_TRACKED {
            tables
                .by_network
                .retain(|_, window| window.matters(now, WINDOW_SECONDS));
        }
        if tables.accounts.len() >= MAX_TRACKED {
            tables.accounts.retain(|_, record| {
                record.everywhere.matters(now, ACCOUNT_WINDOW_SECONDS) || !record.known.is_empty()
            });
        }
        let window = tables
            .by_network
            .entry((account.to_owned(), network))
            .or_default();
        window.since(unlocked_at);
        let locked_here = window.fail(now, MAX_FAILURES, WINDOW_SECONDS);
        let record = tables.accounts.entry(account.to_owned()).or_default();
        record.everywhere.since(unlocked_at);
        let locked_everywhere =
            record
                .everywhere
                .fail(now, ACCOUNT_MAX_FAILURES, ACCOUNT_WINDOW_SECONDS);
        if locked_everywhere {
            Failure::LockedFromUnknownNetworks
        } else if locked_here {
            Failure::LockedFromNetwork
        } else {
            Failure::Counted
        }
    }

    /// A successful sign-in: this network's failures are forgotten, and it
    /// is known to the account from now on.
    pub(crate) fn succeed(&self, account: &str, network: TruncatedIp, now: i64) {
        let mut tables = self.lock();
        tables.by_network.remove(&(account.to_owned(), network));
        let record = tables.accounts.entry(account.to_owned()).or_default();
        record
            .known
            .retain(|(known, at)| *known != network && now - at < KNOWN_NETWORK_SECONDS);
        if record.known.len() >= KNOWN_NETWORKS_PER_ACCOUNT {
            // The network seen longest ago makes room.
            if let Some(oldest) = (0..record.known.len()).min_by_key(|&i| record.known[i].1) {
                record.known.swap_remove(oldest);
            }
        }
        record.known.push((network, now));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::ip::{ClientIp, Truncation};

    fn network(text: &str) -> TruncatedIp {
        let truncation = Truncation::new(24, 48).expect("default prefixes");
        truncation.apply(ClientIp::new(text.parse().expect("an address")))
    }

    fn attempt<'a>(account: &'a str, from: &str, now: i64) -> Attempt<'a> {
        Attempt {
            account,
            network: network(from),
            now,
            unlocked_at: 0,
        }
    }

    const HOME: &str = "192.0.2.0";
    const ATTACKER: &str = "198.51.100.0";

    #[test]
    fn five_failures_lock_an_account_from_that_network_for_fifteen_minutes() {
        let lockout = Lockout::default();
        for now in 1..i64::from(MAX_FAILURES) {
            assert_eq!(
                lockout.fail(attempt("anna", ATTACKER, now)),
                Failure::Counted
            );
        }
        assert!(!lockout.is_locked(attempt("anna", ATTACKER, 10)));
        assert_eq!(
            lockout.fail(attempt("anna", ATTACKER, 10)),
            Failure::LockedFromNetwork
        );
        assert!(lockout.is_locked(attempt("anna", ATTACKER, 10 + LOCK_SECONDS - 1)));
        assert!(!lockout.is_locked(attempt("anna", ATTACKER, 10 + LOCK_SECONDS)));
        assert!(
            !lockout.is_locked(attempt("anna", HOME, 10)),
            "the owner's network is not locked"
        );
        assert!(
            !lockout.is_locked(attempt("bram", ATTACKER, 10)),
            "others are not touched"
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let lockout = Lockout::default();
        for step in 0..10 {
            let now = step * (WINDOW_SECONDS / 3);
            assert_eq!(
                lockout.fail(attempt("anna", ATTACKER, now)),
                Failure::Counted
            );
        }
    }

    #[test]
    fn failures_from_many_networks_lock_out_only_networks_that_never_signed_in() {
        let lockout = Lockout::default();
        lockout.succeed("anna", network(HOME), 0);
        let mut last = Failure::Counted;
        for i in 0..ACCOUNT_MAX_FAILURES {
            let from = format!("203.0.{}.0", i % 250);
            last = lockout.fail(attempt("anna", &from, 100 + i64::from(i)));
        }
        assert_eq!(last, Failure::LockedFromUnknownNetworks);
        assert!(lockout.is_locked(attempt("anna", "203.0.113.0", 200)));
        assert!(lockout.is_locked(attempt("anna", "100.64.0.0", 200)));
        assert!(!lockout.is_locked(attempt("anna", HOME, 200)));
        assert!(!lockout.is_locked(attempt("anna", "100.64.0.0", 200 + LOCK_SECONDS)));
    }

    #[test]
    fn a_network_stops_being_known_after_thirty_days() {
        let lockout = Lockout::default();
        lockout.succeed("anna", network(HOME), 0);
        let later = KNOWN_NETWORK_SECONDS;
        for i in 0..ACCOUNT_MAX_FAILURES {
            let from = format!("203.0.{}.0", i % 250);
            lockout.fail(attempt("anna", &from, later + i64::from(i)));
        }
        assert!(lockout.is_locked(attempt("anna", HOME, later + 100)));
    }

    #[test]
    fn an_unlock_forgets_earlier_failures_and_locks() {
        let lockout = Lockout::default();
        for now in 0..i64::from(ACCOUNT_MAX_FAILURES) {
            let from = if now < 5 { ATTACKER } else { "203.0.113.0" };
            lockout.fail(attempt("anna", from, now));
        }
        assert!(lockout.is_locked(attempt("anna", ATTACKER, 60)));
        assert!(lockout.is_locked(attempt("anna", HOME, 60)));
        let unlocked = Attempt {
            unlocked_at: 60,
            ..attempt("anna", ATTACKER, 61)
        };
        assert!(!lockout.is_locked(unlocked));
        assert!(!lockout.is_locked(Attempt {
            network: network(HOME),
            ..unlocked
        }));
        // Counting starts again: four more failures do not lock.
        for now in 61..65 {
            assert_eq!(lockout.fail(Attempt { now, ..unlocked }), Failure::Counted);
        }
    }

    #[test]
    fn a_successful_sign_in_clears_only_its_own_network() {
        let lockout = Lockout::default();
        for now in 0..4 {
            lockout.fail(attempt("anna", ATTACKER, now));
            lockout.fail(attempt("anna", HOME, now));
        }
        lockout.succeed("anna", network(HOME), 5);
        assert_eq!(
            lockout.fail(attempt("anna", ATTACKER, 6)),
            Failure::LockedFromNetwork
        );
        assert_eq!(lockout.fail(attempt("anna", HOME, 6)), Failure::Counted);
    }
}
