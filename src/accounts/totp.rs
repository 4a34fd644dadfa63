//! Second factors: TOTP (RFC 6238; SHA-1, six digits, 30-second steps,
//! what authenticator apps expect), one step of clock skew allowed.
//! A code is accepted once: [`UsedCodes`] remembers the last step each
//! user signed in with (RFC 6238 section 5.2), in memory, so a code read
//! over a shoulder or from a proxy log cannot be used again in its window.

use std::collections::HashMap;
use std::sync::Mutex;

use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: i64 = 30;
/// Users remembered at most; past it, steps that can no longer match go.
const MAX_REMEMBERED: usize = 100_000;

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Kruimel".to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// A new secret: 160 random bits, base32.
pub(crate) fn new_secret() -> String {
    Secret::Raw(rand::random::<[u8; 20]>().to_vec())
        .to_encoded()
        .to_string()
}

/// The `otpauth://` URI an authenticator app reads (often from a QR code).
pub fn uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|totp| totp.get_url())
}

/// The time step whose code `code` is, at `unix` seconds: the current one
/// or one either side.
fn matching_step(secret: &str, code: &str, unix: i64) -> Option<i64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "check")?;
    let current = unix.div_euclid(STEP_SECONDS);
    // Every candidate is compared, whichever matches, through BLAKE3
    // hashes, whose equality is constant-time.
    let sent = blake3::hash(code.as_bytes());
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let Ok(time) = u64::try_from(step * STEP_SECONDS) else {
            continue;
        };
        let expected = totp.generate(time);
        if blake3::hash(expected.as_bytes()) == sent {
            found = found.or(Some(step));
        }
    }
    found
}

/// Whether `code` is right at `unix` seconds (or one step either side).
pub fn check(secret: &str, code: &str, unix: i64) -> bool {
    matching_step(secret, code, unix).is_some()
}

/// The last time step each user signed in with.
#[derive(Default)]
pub(crate) struct UsedCodes {
    last_step: Mutex<HashMap<String, i64>>,
}

impl UsedCodes {
    /// Whether `code` is right for `user` at `unix` seconds and newer than
    /// any code the user signed in with before; if so, it is used up.
    pub(crate) fn accept(&self, user: &str, secret: &str, code: &str, unix: i64) -> bool {
        let Some(step) = matching_step(secret, code, unix) else {
            return false;
        };
        let mut last_step = self.last_step.lock().unwrap_or_else(|p| p.into_inner());
        if last_step.get(user).is_some_and(|last| *last >= step) {
            return false;
        }
        if last_step.len() >= MAX_REMEMBERED {
            let oldest_usable = unix.div_euclid(STEP_SECONDS) - 1;
            last_step.retain(|_, last| *last >= oldest_usable);
        }
        last_step.insert(user.to_owned(), step);
        true
    }
}

/// The code at `unix` seconds (tests, and `kruimel user totp --show`).
pub fn code_at(secret: &str, unix: i64) -> Option<String> {
    totp(secret, "code").map(|totp| totp.generate(u64::try_from(unix).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_right_within_one_step_and_wrong_after() {
        let secret = new_secret();
        let now = 1_790_000_000;
        let code = code_at(&secret, now).unwrap();
        assert!(check(&secret, &code, now));
        assert!(check(&secret, &code, now + 30));
        assert!(!check(&secret, &code, now + 90));
        assert!(!check(&secret, "12345", now));
        assert!(!check(&secret, "abcdef", now));
        assert!(
            uri(&secret, "anna")
                .unwrap()
                .starts_with("otpauth://totp/Kruimel:anna?secret=")
        );
    }

    #[test]
    fn a_code_signs_in_once_and_never_an_older_one_after_it() {
        let secret = new_secret();
        let now = 1_790_000_000;
        let used = UsedCodes::default();
        let code = code_at(&secret, now).unwrap();
        assert!(used.accept("anna", &secret, &code, now));
        assert!(
            !used.accept("anna", &secret, &code, now),
            "the same code again"
        );
        assert!(
            !used.accept("anna", &secret, &code, now + 30),
            "still in its window"
        );
        let previous = code_at(&secret, now - 30).unwrap();
        assert!(
            !used.accept("anna", &secret, &previous, now),
            "an older step"
        );
        let next = code_at(&secret, now + 30).unwrap();
        assert!(used.accept("anna", &secret, &next, now + 30));
        let other = new_secret();
        let theirs = code_at(&other, now).unwrap();
        assert!(used.accept("bram", &other, &theirs, now), "users are apart");
        assert!(!used.accept("anna", &secret, "000000", now + 60));
    }

    #[test]
    fn the_rfc_6238_vector_holds() {
        // RFC 6238, appendix B: SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits: 287082.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }
}
