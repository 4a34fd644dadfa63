//! Sign-in sessions: the browser holds a random 256-bit token in a
//! cookie; the store keeps only its BLAKE3 hash, the user, a CSRF token,
//! and when the session began and was last used (`store::logins`), so
//! every instance sharing the store knows the session and a restart
//! keeps it. A session ends after `idle` without use, after `absolute`
//! whatever happens, or at sign-out.
//!
//! Use is written down at most once a minute, so a dashboard that loads
//! many panels does not write for each: a session may therefore end up
//! to a minute before `idle` has passed since its last use.
//! Calls block: callers run them on a blocking thread.

use std::sync::Arc;

use crate::store::logins::{LoginKey, StoredLogin};
use crate::store::{Store, StoreError};

/// Sessions kept at most (on the embedded store); past it the least
/// recently used is dropped.
const MAX_SESSIONS: usize = 10_000;
/// A use is written down when the last one written is this old.
const TOUCH_EVERY_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginSession {
    pub user: String,
    /// Sent back by the dashboard with every change (`X-CSRF-Token`).
    pub csrf: String,
    pub created: i64,
    pub(crate) last_used: i64,
    /// The user's `User::credential` when the session began.
    pub(crate) credential: [u8; 8],
}

#[derive(Clone)]
pub(crate) struct LoginSessions {
    store: Arc<Store>,
    idle_seconds: i64,
    absolute_seconds: i64,
}

/// The store's key of a token; `None` for a value no token of ours has
/// (so a forged cookie costs no store call).
fn key(token: &str) -> Option<LoginKey> {
    let ours = token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ours.then(|| *blake3::hash(token.as_bytes()).as_bytes())
}

fn session(stored: StoredLogin) -> LoginSession {
    LoginSession {
        csrf: hex::encode(stored.csrf),
        user: stored.user,
        created: stored.created,
        last_used: stored.last_used,
        credential: stored.credential,
    }
}

impl LoginSessions {
    pub(crate) fn new(
        store: Arc<Store>,
        idle_seconds: i64,
        absolute_seconds: i64,
    ) -> LoginSessions {
        LoginSessions {
            store,
            idle_seconds,
            absolute_seconds,
        }
    }

    fn alive(&self, login: &StoredLogin, now: i64) -> bool {
        now - login.last_used < self.idle_seconds && now - login.created < self.absolute_seconds
    }

    /// Starts a session for `user`; returns the cookie's token. Ended
    /// sessions are swept first, and the least recently used past the cap.
    pub(crate) fn start(
        &self,
        user: &str,
        credential: [u8; 8],
        now: i64,
    ) -> Result<(String, LoginSession), StoreError> {
        self.sweep(now)?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        let stored = StoredLogin {
            user: user.to_owned(),
            csrf: rand::random(),
            created: now,
            last_used: now,
            credential,
        };
        let key = key(&token).expect("a token of ours");
        self.store.put_login(&key, &stored, self.absolute_seconds)?;
        Ok((token, session(stored)))
    }

    /// The session of `token`; `None` when unknown or over (an ended one
    /// is removed). Its use is written down when the last is a minute old.
    pub(crate) fn use_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<LoginSession>, StoreError> {
        let Some(key) = key(token) else {
            return Ok(None);
        };
        let Some(mut stored) = self.store.login(&key)? else {
            return Ok(None);
        };
        if !self.alive(&stored, now) {
            self.store.end_login(&key)?;
            return Ok(None);
        }
        if now - stored.last_used >= TOUCH_EVERY_SECONDS {
            stored.last_used = now;
            // The session was found alive; a failed note of its use
            // shortens its idle life at most, so the request goes on.
            if let Err(error) = self.store.touch_login(&key, &stored) {
                tracing::warn!(%error, "sign-in session use not written");
            }
        }
        Ok(Some(session(stored)))
    }

    /// Ends the session of `token`; true when there was one.
    pub(crate) fn end(&self, token: &str) -> Result<bool, StoreError> {
        match key(token) {
            Some(key) => self.store.end_login(&key),
            None => Ok(false),
        }
    }

    /// Removes ended sessions (on Redis they expire by themselves) and
    /// makes room for one more under the cap; the number removed.
    pub(crate) fn sweep(&self, now: i64) -> Result<u64, StoreError> {
        self.store
            .sweep_logins(|login| !self.alive(login, now), MAX_SESSIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(idle_seconds: i64, absolute_seconds: i64) -> (tempfile::TempDir, LoginSessions) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_embedded(dir.path(), 8 << 20).unwrap());
        (
            dir,
            LoginSessions::new(store, idle_seconds, absolute_seconds),
        )
    }

    #[test]
    fn a_session_ends_when_idle_too_long_or_too_old() {
        let (_dir, sessions) = sessions(30 * 60, 12 * 3600);
        let (token, started) = sessions.start("anna", [0; 8], 1_000).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(started.csrf.len(), 64);
        assert_ne!(started.csrf, token);
        let used = sessions.use_token(&token, 1_000 + 29 * 60).unwrap();
        assert_eq!(used.unwrap().user, "anna");
        let late = sessions.use_token(&token, 1_000 + 29 * 60 + 30 * 60);
        assert!(late.unwrap().is_none(), "idle");
        let (token, _) = sessions.start("anna", [0; 8], 0).unwrap();
        let mut now = 0;
        while now < 12 * 3600 - 600 {
            now += 600;
            assert!(sessions.use_token(&token, now).unwrap().is_some());
        }
        assert!(
            sessions.use_token(&token, 12 * 3600).unwrap().is_none(),
            "absolute"
        );
        assert!(sessions.use_token("not a token", 0).unwrap().is_none());
    }

    #[test]
    fn use_is_written_down_at_most_once_a_minute() {
        let (_dir, sessions) = sessions(30 * 60, 12 * 3600);
        let (token, _) = sessions.start("anna", [0; 8], 0).unwrap();
        let seen = |now| sessions.use_token(&token, now).unwrap().unwrap().last_used;
        assert_eq!(seen(59), 0, "not yet written");
        assert_eq!(seen(60), 60);
        assert_eq!(seen(90), 60);
        assert_eq!(seen(130), 130);
    }

    #[test]
    fn signing_out_ends_the_session_and_the_sweep_removes_ended_ones() {
        let (_dir, sessions) = sessions(60, 600);
        let (token, _) = sessions.start("anna", [0; 8], 0).unwrap();
        let (other, _) = sessions.start("anna", [0; 8], 0).unwrap();
        assert!(sessions.end(&token).unwrap());
        assert!(sessions.use_token(&token, 1).unwrap().is_none());
        assert!(!sessions.end(&token).unwrap());
        assert_eq!(sessions.sweep(30).unwrap(), 0, "the other is alive");
        assert_eq!(sessions.sweep(60).unwrap(), 1, "now idle too long");
        assert!(sessions.use_token(&other, 1).unwrap().is_none());
    }

    #[test]
    fn past_the_cap_the_least_recently_used_session_makes_room() {
        let (_dir, sessions) = sessions(3600, 3600);
        let tokens: Vec<String> = (0..3)
            .map(|at| sessions.start("anna", [0; 8], at).unwrap().0)
            .collect();
        let removed = sessions.store.sweep_logins(|_| false, 3).unwrap();
        assert_eq!(removed, 1);
        assert!(
            sessions.use_token(&tokens[0], 3).unwrap().is_none(),
            "the oldest went"
        );
        assert!(sessions.use_token(&tokens[2], 3).unwrap().is_some());
    }
}
