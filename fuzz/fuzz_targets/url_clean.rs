//! Page URLs through the cleaner (promise 5).
//!
//! Properties of every cleaned URL: a lower-case host; a path that starts with `/`, fits
//! `MAX_PATH_BYTES` and holds no control character; no query key but the allow-list (never a
//! `utm_*` key); no fragment unless routing by hash, and no empty route or query; and, decoded
//! piece by piece as a dashboard shows it, no e-mail address and no BSN (nine digits passing
//! the elfproef), also where the path was cut. Campaign values are plain text: trimmed, bounded
//! and free of both as well. The first input byte picks the routing.
#![no_main]

use std::sync::LazyLock;

use kruimel::fuzzing::{MAX_CAMPAIGN_BYTES, MAX_PATH_BYTES, Routing, UrlPolicy, clean_url};
use kruimel::privacy::pii::PiiPattern;
use libfuzzer_sys::fuzz_target;
use regex::Regex;

const ALLOWED: [&str; 2] = ["q", "page"];

static POLICY: LazyLock<UrlPolicy> = LazyLock::new(|| {
    let zaak = PiiPattern::new("zaaknummer", r"Z-\d{6}").expect("valid pattern");
    let allowed: Vec<String> = ALLOWED.iter().map(|key| key.to_string()).collect();
    UrlPolicy::new(&allowed, vec![zaak])
});

/// Deliberately simpler than the cleaner's own rule: plain ASCII addresses.
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+").unwrap());

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let routing = if flags & 1 == 1 {
        Routing::Hash
    } else {
        Routing::Path
    };
    let Ok(cleaned) = clean_url(raw, &POLICY, routing) else {
        return;
    };
    assert!(!cleaned.host().is_empty());
    assert_eq!(cleaned.host(), cleaned.host().to_ascii_lowercase());
    let path = cleaned.path();
    assert!(path.starts_with('/'), "{path:?}");
    assert!(path.len() <= MAX_PATH_BYTES, "{}", path.len());
    assert!(!path.chars().any(char::is_control), "{path:?}");
    // Cutting to the limit may leave a prefix of a key at the end.
    let cut = path.len() + 8 > MAX_PATH_BYTES;
    let (page, route) = match path.split_once('#') {
        Some((page, route)) => (page, Some(route)),
        None => (path.as_str(), None),
    };
    assert!(route.is_none() || routing == Routing::Hash, "{path:?}");
    check_part(page, cut && route.is_none(), path);
    if let Some(route) = route {
        assert!(route.starts_with('/'), "{path:?}");
        assert!(!route.contains('#'), "{path:?}");
        check_part(route, cut, path);
    }
    let campaign = cleaned.campaign();
    for value in [&campaign.source, &campaign.medium, &campaign.campaign]
        .into_iter()
        .flatten()
    {
        assert!(!value.is_empty() && value.len() <= MAX_CAMPAIGN_BYTES);
        assert_eq!(value.trim(), value);
        assert!(!value.chars().any(char::is_control), "{value:?}");
        check_text(value, raw);
    }
});

/// One path with its query: `/a/b?k=v&k2`.
fn check_part(part: &str, cut: bool, whole: &str) {
    let (segments, query) = match part.split_once('?') {
        Some((segments, query)) => (segments, Some(query)),
        None => (part, None),
    };
    for segment in segments.split('/') {
        check_text(&decode(segment), whole);
    }
    let Some(query) = query else {
        return;
    };
    // A `?` is written only before a kept parameter, also where the path was cut.
    assert!(!query.is_empty(), "{whole:?}");
    let pair_count = query.split('&').count();
    for (index, pair) in query.split('&').enumerate() {
        let last = cut && index + 1 == pair_count;
        let (key, value) = match pair.split_once('=') {
            Some((key, value)) => (decode(key), Some(decode(value))),
            None => (decode(pair), None),
        };
        let allowed = if last && value.is_none() {
            ALLOWED
                .iter()
                .any(|allowed| allowed.starts_with(key.as_str()))
        } else {
            ALLOWED.contains(&key.as_str())
        };
        assert!(allowed, "query key {key:?} kept in {whole:?}");
        if let Some(value) = value {
            // An empty value is written as the bare key, also where the path was cut.
            assert!(!value.is_empty(), "{whole:?}");
            check_text(&value, whole);
        }
    }
}

fn check_text(text: &str, whole: &str) {
    assert!(
        !EMAIL.is_match(text),
        "e-mail address in {text:?} of {whole:?}"
    );
    for run in digit_runs(text) {
        assert!(
            run.len() != 9 || !passes_elfproef(run),
            "BSN {run} in {text:?} of {whole:?}"
        );
    }
}

/// Percent-decoding as a reader of the dashboard would, lossy for bytes that are not UTF-8.
fn decode(text: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && at + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[at + 1]), hex(bytes[at + 2]))
        {
            decoded.push(high << 4 | low);
            at += 3;
            continue;
        }
        decoded.push(bytes[at]);
        at += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Maximal runs of ASCII digits.
fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && !bytes[at].is_ascii_digit() {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        (at > start).then(|| &text[start..at])
    })
}

fn passes_elfproef(run: &str) -> bool {
    let digits: Vec<i32> = run.bytes().map(|b| i32::from(b - b'0')).collect();
    let weighted: i32 = digits
        .iter()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(digit, weight)| digit * weight)
        .sum();
    weighted % 11 == 0 && digits.iter().any(|digit| *digit != 0)
}
