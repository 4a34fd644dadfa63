//! Referrers through the classifier (promise 5: "reduced to their host and mapped to a
//! source name").
//!
//! Properties: what leaves is a bare host: lower case, non-empty, no scheme, user info, port,
//! path, query or fragment (an IPv6 literal keeps its brackets and colons), no leading `www.` (one is removed),
//! no control character, at most a DNS name's length; and naming the source of any text, a host or not, answers without
//! panicking, with a non-empty name for known hosts.
#![no_main]

use kruimel::fuzzing::{referrer_host, source_for_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // Any text, as a host list lookup must survive it.
    let _ = source_for_host(raw);
    let Some(host) = referrer_host(raw) else {
        return;
    };
    assert!(!host.is_empty() && host.len() <= 253, "{raw:?}");
    assert_eq!(host, host.to_lowercase(), "{raw:?}");
    // One leading `www.` goes; `www.www.example.nl` keeps the second.
    if host.starts_with("www.") {
        let sent = url::Url::parse(raw.trim()).expect("a host came from a URL");
        let sent = sent.host_str().expect("a host");
        assert!(sent.starts_with("www.www."), "{host:?} of {raw:?}");
    }
    let ipv6 = host.starts_with('[') && host.ends_with(']');
    let forbidden: &[char] = if ipv6 {
        &['/', '?', '#', '@', ' ', '\\']
    } else {
        &['/', '?', '#', '@', ':', ' ', '\\', '[', ']']
    };
    assert!(!host.contains(forbidden), "{host:?} of {raw:?}");
    assert!(!host.chars().any(char::is_control), "{host:?} of {raw:?}");
    if let Some(found) = source_for_host(&host) {
        assert!(!found.name.is_empty());
        assert!(!found.medium.as_str().is_empty());
    }
});
