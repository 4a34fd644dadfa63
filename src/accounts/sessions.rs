//! Sign-in sessions, in memory: the browser holds a random 256-bit token
//! in a cookie; the server keeps only its BLAKE3 hash, the user, and a
//! CSRF token. A session ends after `idle` without use, after `absolute`
//! whatever happens, at sign-out, or when the server restarts.

use std::collections::HashMap;
use std::sync::Mutex;

/// Sessions kept at most; past it the least recently used is dropped.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub user: String,
    /// Sent back by the dashboard with every change (`X-CSRF-Token`).
    pub csrf: String,
    pub created: i64,
    pub last_used: i64,
}

pub struct LoginSessions {
    idle_seconds: i64,
    absolute_seconds: i64,
    table: Mutex<HashMap<[u8; 32], LoginSession>>,
}

fn random_token() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn key(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

impl LoginSessions {
    pub fn new(idle_seconds: i64, absolute_seconds: i64) -> LoginSessions {
        LoginSessions {
            idle_seconds,
            absolute_seconds,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `user`; returns the cookie's token.
    pub fn start(&self, user: &str, now: i64) -> (String, LoginSession) {
        let token = random_token();
        let session = LoginSession {
            user: user.to_owned(),
            csrf: random_token(),
            created: now,
            last_used: now,
        };
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.retain(|_, kept| self.alive(kept, now));
        if table.len() >= MAX_SESSIONS
            && let Some(oldest) = table
                .iter()
                .min_by_key(|(_, kept)| kept.last_used)
                .map(|(key, _)| *key)
        {
            table.remove(&oldest);
        }
        table.insert(key(&token), session.clone());
        (token, session)
    }

    fn alive(&self, session: &LoginSession, now: i64) -> bool {
        now - session.last_used < self.idle_seconds && now - session.created < self.absolute_seconds
    }

    /// The session of `token`, marked as used now; `None` when unknown or
    /// expired (an expired one is removed).
    pub fn use_token(&self, token: &str, now: i64) -> Option<LoginSession> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let key = key(token);
        let session = table.get_mut(&key)?;
        if !self.alive(session, now) {
            table.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    pub fn end(&self, token: &str) -> Option<LoginSession> {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(token))
    }

    /// Ends every session of `user` (password changed, user removed).
    pub fn end_all_of(&self, user: &str) {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, session| session.user != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_too_long_or_too_old() {
        let sessions = LoginSessions::new(30 * 60, 12 * 3600);
        let (token, started) = sessions.start("anna", 1_000);
        assert_eq!(token.len(), 64);
        assert_ne!(started.csrf, token);
        assert_eq!(
            sessions.use_token(&token, 1_000 + 29 * 60).unwrap().user,
            "anna"
        );
        assert!(
            sessions
                .use_token(&token, 1_000 + 29 * 60 + 30 * 60)
                .is_none(),
            "idle"
        );
        let (token, _) = sessions.start("anna", 0);
        let mut now = 0;
        while now < 12 * 3600 - 600 {
            now += 600;
            assert!(sessions.use_token(&token, now).is_some());
        }
        assert!(sessions.use_token(&token, 12 * 3600).is_none(), "absolute");
        assert!(sessions.use_token("not a token", 0).is_none());
    }

    #[test]
    fn signing_out_ends_the_session() {
        let sessions = LoginSessions::new(60, 600);
        let (token, _) = sessions.start("anna", 0);
        let (other, _) = sessions.start("anna", 0);
        assert!(sessions.end(&token).is_some());
        assert!(sessions.use_token(&token, 1).is_none());
        sessions.end_all_of("anna");
        assert!(sessions.use_token(&other, 1).is_none());
    }
}
