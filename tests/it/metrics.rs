//! `/metrics` after scripted traffic: every figure is exactly what was sent,
//! and the exposition passes `promtool check metrics`.

use std::time::Duration;

use serde_json::json;

use crate::exposition::Exposition;
use crate::helpers::{CHROME, FIREFOX, SITE, TestApp};
use crate::promtool::{promtool, report};

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
/// Distinct visitors: each its own /24 network and browser.
const VISITORS: [(&str, &str); 4] = [
    ("81.204.10.7", FIREFOX),
    ("81.204.11.7", CHROME),
    ("145.53.12.7", FIREFOX),
    ("2001:db8:1::7", CHROME),
];
const PAGEVIEWS: usize = 12;
/// The test clock's 10:00 UTC is 11:00 in Amsterdam: the salt of the day is
/// eleven hours old.
const SALT_AGE_AT_START: f64 = 11.0 * 3600.0;

/// Deliberately dropped beacons: user agent, site id, page, expected reason.
const DROPS: [(&str, &str, &str, &str); 7] = [
    (GOOGLEBOT, SITE, "https://gemeente.example/", "bot"),
    (GOOGLEBOT, SITE, "https://gemeente.example/wonen", "bot"),
    (
        FIREFOX,
        SITE,
        "https://elsewhere.example/",
        "hostname_not_allowed",
    ),
    (
        CHROME,
        SITE,
        "https://elsewhere.example/a",
        "hostname_not_allowed",
    ),
    (
        FIREFOX,
        SITE,
        "https://gemeente.example.evil/",
        "hostname_not_allowed",
    ),
    (
        FIREFOX,
        "unknown.example",
        "https://unknown.example/",
        "unknown_site",
    ),
    ("", SITE, "https://gemeente.example/", "missing_user_agent"),
];

/// Malformed beacons and the error code each is counted under.
const INVALID: [(&str, &str); 3] = [
    ("{not json", "invalid_json"),
    (r#"{"n":"pageview","u":"#, "invalid_json"),
    (
        r#"{"n":"pageview","u":"not a url","d":"gemeente.example"}"#,
        "invalid_url",
    ),
];

async fn send_scripted_traffic(app: &TestApp) {
    for index in 0..PAGEVIEWS {
        let (ip, agent) = VISITORS[index % VISITORS.len()];
        let url = format!("https://www.gemeente.example/page-{index}");
        let response = app.pageview(ip, agent, &url, None).await;
        assert_eq!(response.status(), 202);
        assert!(response.headers().get("x-kruimel-dropped").is_none());
    }
    for (index, (agent, domain, url, reason)) in DROPS.into_iter().enumerate() {
        let body = json!({ "n": "pageview", "u": url, "d": domain }).to_string();
        let ip = format!("62.45.{index}.1");
        let response = app.send(&ip, agent, &body).await;
        assert_eq!(response.status(), 202, "{reason}");
        assert_eq!(response.headers()["x-kruimel-dropped"], reason);
    }
    for (body, code) in INVALID {
        let response = app.send("62.45.99.1", FIREFOX, body).await;
        assert_eq!(response.status(), 400, "{body}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["code"], code, "{body}");
    }
}

/// Scrapes until the aggregator has stored and published today's visitors.
async fn scrape_once_visitors_are_published(app: &TestApp, visitors: f64) -> (String, Exposition) {
    let mut text = String::new();
    for _ in 0..250 {
        text = app.metrics_text().await;
        let exposition = Exposition::parse(&text);
        let published =
            exposition.find("kruimel_site_visitors_today", &[("site", SITE)]) == Some(visitors);
        if published && exposition.value("kruimel_salt_age_seconds", &[]) > 0.0 {
            return (text, exposition);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("visitors today never reached {visitors}:\n{text}");
}

#[tokio::test]
async fn metrics_count_exactly_the_beacons_sent_and_pass_promtool_lint() {
    let app = TestApp::spawn().await;
    send_scripted_traffic(&app).await;
    let (text, metrics) = scrape_once_visitors_are_published(&app, VISITORS.len() as f64).await;

    // Outcomes.
    let pageviews = PAGEVIEWS as f64;
    assert_eq!(
        metrics.value("kruimel_beacons_accepted_total", &[]),
        pageviews
    );
    for reason in [
        "bot",
        "hostname_not_allowed",
        "unknown_site",
        "missing_user_agent",
        "privacy_signal",
    ] {
        let sent = DROPS.iter().filter(|drop| drop.3 == reason).count() as f64;
        let counted = metrics.value("kruimel_beacons_dropped_total", &[("reason", reason)]);
        assert_eq!(counted, sent, "dropped as {reason}");
    }
    let reasons = metrics.label_values("kruimel_beacons_dropped_total", "reason");
    assert!(
        !reasons.contains(&"overloaded".to_owned()),
        "shed beacons are counted as shed, not dropped: {reasons:?}"
    );
    assert_eq!(metrics.value("kruimel_beacons_shed_total", &[]), 0.0);
    let mut codes = metrics.label_values("kruimel_beacons_invalid_total", "code");
    codes.sort();
    assert_eq!(
        codes,
        [
            "body_timeout",
            "body_too_large",
            "body_unreadable",
            "invalid_event",
            "invalid_json",
            "invalid_url",
            "unsupported_media_type"
        ],
        "every code a beacon can be refused with is there from the start"
    );
    assert_eq!(metrics.value("kruimel_ready", &[]), 1.0);
    for code in codes {
        let sent = INVALID.iter().filter(|(_, sent)| *sent == code).count() as f64;
        let counted = metrics.value("kruimel_beacons_invalid_total", &[("code", &code)]);
        assert_eq!(counted, sent, "invalid as {code}");
    }

    // Per site.
    let site = [("site", SITE)];
    assert_eq!(
        metrics.value("kruimel_site_pageviews_total", &site),
        pageviews
    );
    let other = [("site", "other.example")];
    assert_eq!(metrics.value("kruimel_site_pageviews_total", &other), 0.0);
    assert_eq!(
        metrics.value("kruimel_site_visitors_today", &site),
        VISITORS.len() as f64
    );
    assert_eq!(metrics.value("kruimel_site_visitors_today", &other), 0.0);

    // HTTP: every beacon was one request on the event route.
    let requests = (PAGEVIEWS + DROPS.len() + INVALID.len()) as f64;
    let event = |status| [("route", "event"), ("status", status)];
    assert_eq!(
        metrics.value("kruimel_http_requests_total", &event("2xx")),
        (PAGEVIEWS + DROPS.len()) as f64
    );
    assert_eq!(
        metrics.value("kruimel_http_requests_total", &event("4xx")),
        INVALID.len() as f64
    );
    assert_eq!(
        metrics.value("kruimel_http_requests_total", &event("5xx")),
        0.0
    );
    let route = [("route", "event")];
    assert_eq!(
        metrics.value("kruimel_http_request_duration_seconds_count", &route),
        requests
    );
    assert_eq!(
        metrics.value(
            "kruimel_http_request_duration_seconds_bucket",
            &[("route", "event"), ("le", "+Inf")]
        ),
        requests
    );
    assert!(metrics.value("kruimel_http_request_duration_seconds_sum", &route) > 0.0);

    // Aggregation, sessions, salts, store.
    assert_eq!(
        metrics.value("kruimel_hot_visitors", &[]),
        VISITORS.len() as f64
    );
    // Every visitor was credited to its site's totals at least.
    assert!(
        metrics.value("kruimel_hot_credits", &[]) >= VISITORS.len() as f64,
        "credits held"
    );
    assert_eq!(
        metrics.value("kruimel_hot_visitors_evicted_total", &[]),
        0.0
    );
    assert_eq!(metrics.value("kruimel_store_errors_total", &[]), 0.0);
    assert!(metrics.value("kruimel_flush_duration_seconds_count", &[]) >= 1.0);
    assert!(metrics.value("kruimel_flush_batch_keys_count", &[]) >= 1.0);
    let salt_age = metrics.value("kruimel_salt_age_seconds", &[]);
    assert!(
        (0.0..=86_400.0 + 1_800.0).contains(&salt_age),
        "salt age {salt_age}"
    );
    assert_eq!(salt_age, SALT_AGE_AT_START);
    assert_eq!(metrics.value("kruimel_salt_rotations_total", &[]), 1.0);
    assert_eq!(
        metrics.value("kruimel_geoip_build_timestamp_seconds", &[]),
        0.0
    );
    assert_eq!(metrics.value("kruimel_redis_backlog_hits", &[]), 0.0);
    assert_eq!(
        metrics.value("kruimel_redis_backlog_dropped_total", &[]),
        0.0
    );
    for cause in ["writer_behind", "redis_away"] {
        assert_eq!(
            metrics.value("kruimel_redis_shed_total", &[("cause", cause)]),
            0.0,
            "exported at 0 from the start: {cause}"
        );
    }

    // promtool reads the exposition from stdin, as from a file, and prints
    // lint problems on stderr (exit 3); any output is a failure.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &text).unwrap();
    let output = promtool(&["check", "metrics"], Some(file.path()));
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics complains about /metrics:\n{}",
        report(&output)
    );
}
