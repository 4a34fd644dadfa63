//! `POST /api/consent` bodies checked against a notice (promise 8 and the consent rules).
//!
//! Properties: every refusal has a documented code; an accepted choice answers each category of
//! the notice exactly once, carries the notice's own versions and language and the server's
//! time, and its method fits what was granted; and a receipt id is accepted only in the form it
//! is shown in (32 lowercase hex digits).
#![no_main]

use std::sync::LazyLock;

use kruimel::fuzzing::{Method, ReceiptId, Terms, TermsCategory, check_choice};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_790_000_000;

const CODES: [&str; 7] = [
    "invalid_choice",
    "invalid_receipt_id",
    "invalid_method",
    "unknown_category",
    "invalid_categories",
    "policy_version_mismatch",
    "language_mismatch",
];

static TERMS: LazyLock<Terms> = LazyLock::new(|| Terms {
    policy_version: "2026-01".to_owned(),
    banner_version: "0123456789abcdef".to_owned(),
    language: "nl".to_owned(),
    categories: ["media", "statistics"]
        .into_iter()
        .map(|id| TermsCategory { id: id.to_owned() })
        .collect(),
});

fuzz_target!(|body: &[u8]| {
    check_receipt_id(body);
    let choice = match check_choice(body, &TERMS, NOW) {
        Ok(choice) => choice,
        Err(code) => {
            assert!(CODES.contains(&code), "{code}");
            return;
        }
    };
    assert_eq!(choice.at, NOW);
    assert_eq!(choice.policy_version, TERMS.policy_version);
    assert_eq!(choice.banner_version, TERMS.banner_version);
    assert_eq!(choice.language, TERMS.language);
    let mut answered: Vec<&str> = choice
        .granted
        .iter()
        .chain(&choice.denied)
        .map(String::as_str)
        .collect();
    answered.sort_unstable();
    let mut expected: Vec<&str> = TERMS.category_ids().collect();
    expected.sort_unstable();
    assert_eq!(answered, expected);
    match choice.method {
        Method::AcceptAll => assert!(choice.denied.is_empty()),
        Method::RejectAll | Method::Withdraw | Method::PrivacySignal => {
            assert!(choice.granted.is_empty())
        }
        Method::Custom => {}
    }
});

/// The raw input, read as a receipt id, round-trips or is refused.
fn check_receipt_id(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(id) = ReceiptId::parse(text) {
        assert_eq!(id.hex(), text);
        assert_eq!(ReceiptId::from_bytes(*id.bytes()), id);
    }
}
