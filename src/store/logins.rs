//! Dashboard sign-in sessions, on either backend, so that every instance
//! behind a load balancer knows them and a restart keeps them.
//!
//! A session is found by the BLAKE3 hash of the cookie's token (the
//! token itself is never stored) and holds the user's name, a fingerprint
//! of their credentials when it began (a new password or second factor
//! ends it), the CSRF token, and when it was made and last used: nothing
//! about the browser or its address. The rules (idle and absolute life, how often use is
//! written down) belong to `accounts::sessions`; this module only keeps
//! the records. On Redis a session expires by itself at the end of its
//! absolute life; the embedded store is swept (`sweep_logins`).

use super::{Store, StoreError};

/// The BLAKE3 hash of a session's token.
pub(crate) type LoginKey = [u8; 32];

const FORMAT: u8 = 2;
/// Format, created, last used, CSRF token, credentials; the user's name follows.
const FIXED: usize = 1 + 8 + 8 + 32 + 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogin {
    pub user: String,
    /// The session's CSRF token, as random bytes (shown as hex).
    pub csrf: [u8; 32],
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; written at most once a minute.
    pub(crate) last_used: i64,
    /// `User::credential` when the session began.
    pub(crate) credential: [u8; 8],
}

impl StoredLogin {
    /// `[2][created i64 BE][last_used i64 BE][csrf 32 bytes][credential 8 bytes][user UTF-8]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(FIXED + self.user.len());
        bytes.push(FORMAT);
        bytes.extend_from_slice(&self.created.to_be_bytes());
        bytes.extend_from_slice(&self.last_used.to_be_bytes());
        bytes.extend_from_slice(&self.csrf);
        bytes.extend_from_slice(&self.credential);
        bytes.extend_from_slice(self.user.as_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<StoredLogin> {
        if bytes.len() < FIXED || bytes[0] != FORMAT {
            return None;
        }
        let number = |at: usize| Some(i64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        Some(StoredLogin {
            created: number(1)?,
            last_used: number(9)?,
            csrf: bytes.get(17..49)?.try_into().ok()?,
            credential: bytes.get(49..FIXED)?.try_into().ok()?,
            user: std::str::from_utf8(&bytes[FIXED..]).ok()?.to_owned(),
        })
    }
}

pub(super) fn corrupt() -> StoreError {
    StoreError::Corrupt("sign-in session")
}

impl Store {
    /// Stores a new session; it lives at most `life_seconds` from now.
    pub(crate) fn put_login(
        &self,
        key: &LoginKey,
        login: &StoredLogin,
        life_seconds: i64,
    ) -> Result<(), StoreError> {
        match self {
            Store::Embedded(store) => store.put_login(key, login),
            Store::Redis(store) => store.put_login(key, login, life_seconds),
        }
    }

    pub fn login(&self, key: &LoginKey) -> Result<Option<StoredLogin>, StoreError> {
        match self {
            Store::Embedded(store) => store.login(key),
            Store::Redis(store) => store.login(key),
        }
    }

    /// Writes down a later use of a session that still exists; a session
    /// ended meanwhile (on another instance) stays ended.
    pub(crate) fn touch_login(
        &self,
        key: &LoginKey,
        login: &StoredLogin,
    ) -> Result<(), StoreError> {
        match self {
            Store::Embedded(store) => store.touch_login(key, login),
            Store::Redis(store) => store.touch_login(key, login),
        }
    }

    /// Ends a session; true when there was one.
    pub(crate) fn end_login(&self, key: &LoginKey) -> Result<bool, StoreError> {
        match self {
            Store::Embedded(store) => store.end_login(key),
            Store::Redis(store) => store.end_login(key),
        }
    }

    /// Removes the sessions `over` says have ended (and any that cannot be
    /// read), then the least recently used past `keep`, so that a new one
    /// fits. Redis forgets sessions by itself: nothing to do there.
    pub(crate) fn sweep_logins(
        &self,
        over: impl Fn(&StoredLogin) -> bool,
        keep: usize,
    ) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.sweep_logins(over, keep),
            Store::Redis(_) => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_record_reads_back_as_written_and_nothing_else_is_accepted() {
        let login = StoredLogin {
            user: "anna de vries".to_owned(),
            csrf: [7; 32],
            created: 1_790_000_000,
            last_used: 1_790_000_060,
            credential: [9; 8],
        };
        let bytes = login.encode();
        assert_eq!(bytes.len(), FIXED + login.user.len());
        assert_eq!(StoredLogin::decode(&bytes), Some(login));
        assert_eq!(StoredLogin::decode(&bytes[..FIXED - 1]), None);
        let mut other_format = bytes.clone();
        other_format[0] = 1;
        assert_eq!(StoredLogin::decode(&other_format), None);
    }
}
