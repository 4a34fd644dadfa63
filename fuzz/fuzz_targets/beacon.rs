//! `POST /api/event` bodies: whatever a browser (or anyone) sends.
//!
//! Properties: the parser answers a beacon or one of its two error codes, never panics; an
//! accepted beacon respects every bound the edge promises the pipeline; and writing the beacon
//! back as wire JSON parses to the same beacon (nothing is lost or reinterpreted on the way).
#![no_main]

use kruimel::fuzzing::parse_beacon;
use kruimel::ingest::beacon::{Beacon, Engagement, EventName, Interaction, MAX_PROPS};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

fuzz_target!(|body: &[u8]| {
    let beacon = match parse_beacon(body) {
        Ok(beacon) => beacon,
        Err(code) => {
            assert!(matches!(code, "invalid_json" | "invalid_event"), "{code}");
            return;
        }
    };
    check_bounds(&beacon);
    let again = parse_beacon(&to_wire(&beacon)).expect("a parsed beacon parses again");
    assert_eq!(summary(&again), summary(&beacon));
});

fn check_bounds(beacon: &Beacon) {
    if let EventName::Custom(name) = &beacon.name {
        assert_eq!(name.trim(), name);
        assert!((1..=120).contains(&name.chars().count()));
        assert!(!name.chars().any(char::is_control));
        assert_ne!(name, "pageview");
    }
    assert!(beacon.url.len() <= 4096);
    assert!((1..=10).contains(&beacon.domains.len()));
    for domain in &beacon.domains {
        assert!(!domain.is_empty() && domain.len() <= 253);
        assert!(!domain.contains(','));
        assert_eq!(domain.trim(), domain);
        assert_eq!(&domain.to_ascii_lowercase(), domain);
    }
    if let Some(referrer) = &beacon.referrer {
        assert!(!referrer.trim().is_empty() && referrer.len() <= 4096);
    }
    assert!(beacon.screen_width.is_none_or(|width| width <= 100_000));
    assert!(beacon.props.len() <= MAX_PROPS);
    for (key, value) in &beacon.props {
        assert!((1..=300).contains(&key.chars().count()) && !key.contains('\0'));
        assert!(value.chars().count() <= 2000 && !value.contains('\0'));
    }
}

/// The beacon as the script would send it.
fn to_wire(beacon: &Beacon) -> Vec<u8> {
    let props: Map<String, Value> = beacon
        .props
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    let wire = json!({
        "n": match &beacon.name {
            EventName::Pageview => "pageview",
            EventName::Engagement => "engagement",
            EventName::Custom(name) => name,
        },
        "u": beacon.url,
        "d": beacon.domains.join(","),
        "r": beacon.referrer,
        "w": beacon.screen_width,
        "p": props,
        "h": beacon.hash_routing,
        "i": beacon.interaction == Interaction::Interactive,
        "sd": beacon.engagement.scroll_depth,
        "e": beacon.engagement.engaged_ms,
    });
    serde_json::to_vec(&wire).expect("JSON values serialise")
}

/// `Beacon` has no `PartialEq` (the pipeline never compares beacons); its fields do.
#[allow(clippy::type_complexity)]
fn summary(
    beacon: &Beacon,
) -> (
    &EventName,
    &str,
    &[String],
    Option<&str>,
    Option<u32>,
    &[(String, String)],
    bool,
    Interaction,
    Engagement,
) {
    (
        &beacon.name,
        &beacon.url,
        &beacon.domains,
        beacon.referrer.as_deref(),
        beacon.screen_width,
        &beacon.props,
        beacon.hash_routing,
        beacon.interaction,
        beacon.engagement,
    )
}
