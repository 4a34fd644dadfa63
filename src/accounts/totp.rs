//! Second factors: TOTP (RFC 6238; SHA-1, six digits, 30-second steps,
//! what authenticator apps expect), one step of clock skew allowed.

use totp_rs::{Algorithm, Secret, TOTP};

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
pub fn new_secret() -> String {
    Secret::Raw(rand::random::<[u8; 20]>().to_vec())
        .to_encoded()
        .to_string()
}

/// The `otpauth://` URI an authenticator app reads (often from a QR code).
pub fn uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|totp| totp.get_url())
}

/// Whether `code` is right at `unix` seconds (or one step either side).
pub fn check(secret: &str, code: &str, unix: i64) -> bool {
    let Ok(time) = u64::try_from(unix) else {
        return false;
    };
    code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && totp(secret, "check").is_some_and(|totp| totp.check(code, time))
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
    fn the_rfc_6238_vector_holds() {
        // RFC 6238, appendix B: SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits: 287082.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
    }
}
