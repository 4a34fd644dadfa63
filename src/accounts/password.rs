//! Password hashes: argon2id with the argon2 crate's defaults (19 MiB,
//! two passes, one lane: OWASP's recommendation), in PHC string form.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub(crate) const MIN_LENGTH: usize = 12;
pub(crate) const MAX_LENGTH: usize = 1024;

/// A hash no password matches, verified for unknown users so that a
/// wrong name takes as long as a wrong password.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash("no account has this password").unwrap_or_default());

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must be {MIN_LENGTH} to {MAX_LENGTH} characters")]
    Length,
    #[error("hashing failed: {0}")]
    Hash(String),
}

pub(crate) fn hash(password: &str) -> Result<String, PasswordError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(PasswordError::Length);
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|error| PasswordError::Hash(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hash(error.to_string()))
}

/// Whether `password` matches `stored`; `None` (no such user) checks
/// against a hash nothing matches, taking the same time.
pub(crate) fn verify(stored: Option<&str>, password: &str) -> bool {
    let stored = stored.unwrap_or(DUMMY.as_str());
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Whether `stored` is an argon2id hash in PHC form.
pub(crate) fn is_hash(stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| parsed.algorithm.as_str() == "argon2id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_and_matches_only_its_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(is_hash(&stored));
        assert!(verify(Some(&stored), "correct horse battery"));
        assert!(!verify(Some(&stored), "correct horse batterY"));
        assert!(!verify(None, "correct horse battery"));
        assert_ne!(hash("correct horse battery").unwrap(), stored, "salted");
        assert!(matches!(hash("short"), Err(PasswordError::Length)));
    }
}
