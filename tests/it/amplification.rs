//! Storage amplification: what a client without credentials can make the
//! server store is bounded. A flood of unique values counts under
//! "(other)" past the day's cap, with totals exact; each site's bytes at
//! rest are measured against its budget, which `/readyz` reports.

use std::time::Duration;

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::exposition::Exposition;
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, rows};

const DAY: &str = "period=day&date=2026-11-23";
const START: &str = "2026-11-23T10:00:00Z";
const PAGES_CAP: usize = 20;
const REFERRERS_CAP: usize = 5;
const KEYS_CAP: usize = 3;
const NAMES_CAP: usize = 3;

fn caps() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__PAGES", "20"),
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__REFERRERS", "5"),
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__SOURCES", "5"),
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__PROP_KEYS", "3"),
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__PROP_VALUES", "10"),
        ("KRUIMEL_LIMITS__DISTINCT_VALUES_PER_DAY__EVENT_NAMES", "3"),
    ]
}

/// A network of its own for beacon `n`, so the rate limit stays out of it.
fn network(n: usize) -> String {
    format!("81.{}.{}.7", 10 + n / 250, n % 250)
}

async fn accepted(app: &TestApp, ip: &str, body: Value) {
    let response = app.send(ip, FIREFOX, &body.to_string()).await;
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("x-kruimel-dropped").is_none());
}

fn pageview(page: &str, referrer: Option<&str>) -> Value {
    json!({ "n": "pageview", "u": format!("https://{SITE}{page}"), "d": SITE, "r": referrer })
}

fn event(name: &str, props: Value) -> Value {
    json!({ "n": name, "u": format!("https://{SITE}/formulier"), "d": SITE, "p": props })
}

/// Sends `pages` pageviews of unique paths and referrers and `events`
/// events with unique names, keys and values, from `first` on.
async fn flood(app: &TestApp, first: usize, pages: usize, events: usize) {
    for n in first..first + pages {
        let referrer = format!("https://r{n}.example/");
        accepted(
            app,
            &network(n),
            pageview(&format!("/flood/{n}"), Some(&referrer)),
        )
        .await;
    }
    for n in first..first + events {
        let props: serde_json::Map<String, Value> = (0..5)
            .map(|j| (format!("k{n}_{j}"), json!(format!("v{n}_{j}"))))
            .collect();
        accepted(app, &network(n), event(&format!("Event {n}"), props.into())).await;
    }
}

async fn breakdown(app: &TestApp, property: &str, field: &str, metric: &str) -> Vec<(String, i64)> {
    let query = format!("{DAY}&property={property}&metrics={metric}&limit=1000");
    rows(&app.stats("breakdown", &query).await, field, metric)
}

fn value_of(rows: &[(String, i64)], value: &str) -> Option<i64> {
    rows.iter().find(|(v, _)| v == value).map(|(_, n)| *n)
}

/// The site's bytes at rest as the server measured them at start.
async fn stored_bytes(app: &TestApp, site: &str) -> f64 {
    for _ in 0..250 {
        let exposition = Exposition::parse(&app.metrics_text().await);
        if let Some(bytes) = exposition.find("kruimel_site_stored_bytes", &[("site", site)]) {
            return bytes;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("kruimel_site_stored_bytes of {site} is not published");
}

async fn a_flood_of_unique_values_stays_within_the_cap_and_totals_stay_exact(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &caps(), START).await;
    // A client's literal "(other)" is not the cap's.
    accepted(
        &app,
        &network(9_000),
        event("Klik", json!({ "keuze": "(other)" })),
    )
    .await;
    accepted(&app, &network(9_001), pageview("/normaal", None)).await;
    flood(&app, 0, 150, 30).await;
    for n in 2..=12 {
        accepted(&app, &network(9_000 + n), pageview("/normaal", None)).await;
    }
    let (pageviews, events) = (150 + 12, 150 + 12 + 30 + 1);
    app.wait_for_events(events, DAY).await;

    assert_eq!(
        app.metric("pageviews", DAY).await,
        pageviews,
        "every pageview counted"
    );
    let pages = breakdown(&app, "event:page", "page", "pageviews").await;
    assert!(
        pages.len() <= PAGES_CAP + 1,
        "{} pages: {pages:?}",
        pages.len()
    );
    assert_eq!(
        value_of(&pages, "/normaal"),
        Some(12),
        "a page seen before the cap keeps its counts"
    );
    let capped: i64 = pages.iter().map(|(_, n)| n).sum();
    assert_eq!(
        capped, pageviews,
        "the pages, \"(other)\" included, add up to every pageview"
    );
    assert!(value_of(&pages, "(other)").is_some_and(|n| n >= 150 - PAGES_CAP as i64));
    let visitors = breakdown(&app, "event:page", "page", "visitors").await;
    assert_eq!(value_of(&visitors, "/normaal"), Some(12));

    let referrers = breakdown(&app, "visit:referrer", "referrer", "visitors").await;
    assert!(referrers.len() <= REFERRERS_CAP + 1, "{referrers:?}");
    let entries = breakdown(&app, "visit:entry_page", "entry_page", "visits").await;
    assert!(entries.len() <= PAGES_CAP + 1, "{entries:?}");
    let names = breakdown(&app, "event:name", "name", "events").await;
    assert!(names.len() <= NAMES_CAP + 1, "{names:?}");
    assert_eq!(
        names.iter().map(|(_, n)| n).sum::<i64>(),
        31,
        "every custom event"
    );
    let keys = breakdown(&app, "event:props", "prop_key", "events").await;
    assert!(keys.len() <= KEYS_CAP + 1, "{keys:?}");
    let chosen = breakdown(&app, "event:props:keuze", "keuze", "events").await;
    assert_eq!(chosen, [("(other, as sent)".to_owned(), 1)]);

    let exposition = Exposition::parse(&app.metrics_text().await);
    let capped_pages = exposition.value("kruimel_values_capped_total", &[("property", "page")]);
    assert!(capped_pages >= (150 - PAGES_CAP) as f64, "{capped_pages}");
    assert!(exposition.value("kruimel_values_capped_total", &[("property", "prop_key")]) > 0.0);

    // Once the caps are reached, a further flood adds (almost) nothing at rest.
    let app = app.restart(&caps(), START).await;
    let before = stored_bytes(&app, SITE).await;
    assert!(before > 0.0);
    flood(&app, 1_000, 300, 30).await;
    app.wait_for_events(events + 330, DAY).await;
    let app = app.restart(&caps(), START).await;
    let after = stored_bytes(&app, SITE).await;
    let pages = breakdown(&app, "event:page", "page", "pageviews").await;
    assert!(pages.len() <= PAGES_CAP + 1, "{pages:?}");
    assert_eq!(app.metric("pageviews", DAY).await, pageviews + 300);
    // Counters grow by a byte here and there; 300 new paths stored under
    // their names would add tens of kilobytes.
    assert!(
        after - before <= 0.02 * before + 2_048.0,
        "{before} bytes grew to {after}"
    );
}

/// Sites with `max_bytes` for `SITE`.
fn budget(max_bytes: u64) -> (String, String) {
    let token = TokenHash::of_token(TOKEN).stored_form();
    (
        "KRUIMEL_SITES".to_owned(),
        format!(
            r#"[{{ id = "{SITE}", tokens = ["{token}"], max_bytes = {max_bytes} }}, {{ id = "other.example" }}]"#
        ),
    )
}

async fn readiness(app: &TestApp) -> Value {
    let response = app
        .client
        .get(format!("http://{}/readyz", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "over budget is not unready");
    response.json().await.unwrap()
}

async fn a_site_over_its_budget_is_reported_by_readyz_and_its_gauges(backend: Backend) {
    let (name, sites) = budget(2_000);
    let env = [(name.as_str(), sites.as_str())];
    let app = TestApp::spawn_on_with(backend, &env, START).await;
    assert_eq!(stored_bytes(&app, SITE).await, 0.0);
    assert_eq!(readiness(&app).await["warnings"], json!([]));
    for n in 0..40 {
        accepted(&app, &network(n), pageview(&format!("/p{n}"), None)).await;
    }
    app.wait_for_events(40, DAY).await;
    // Measured at start and hourly after: a restart measures again.
    let app = app.restart(&env, START).await;
    // The roll-up thread measures at start, beside the server: wait for it.
    let mut bytes = 0.0;
    for _ in 0..250 {
        bytes = stored_bytes(&app, SITE).await;
        if bytes > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(bytes > 2_000.0, "{bytes}");
    let ready = readiness(&app).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["warnings"], json!([format!("storage_budget:{SITE}")]));
    let exposition = Exposition::parse(&app.metrics_text().await);
    assert_eq!(
        exposition.value("kruimel_site_max_bytes", &[("site", SITE)]),
        2_000.0
    );
    assert_eq!(
        exposition.value("kruimel_site_max_bytes", &[("site", "other.example")]),
        0.0,
        "no budget"
    );
    assert_eq!(exposition.value("kruimel_ready", &[]), 1.0);
}

on_every_backend!(
    a_flood_of_unique_values_stays_within_the_cap_and_totals_stay_exact,
    a_site_over_its_budget_is_reported_by_readyz_and_its_gauges,
);
