//! Engagement reports of Plausible's official tracker (`@plausible-analytics/tracker`,
//! fetched by `.ci/fetch-plausible-tracker`): the payload is derived from its source;
//! such a report is never a custom event or a pageview and never ends a bounce, and
//! its scroll depth and engaged time make the page's `scroll_depth` and `time_on_page`.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{CHROME, FIREFOX, SITE, TestApp, rows};

/// The tracker's built script, where `.ci/fetch-plausible-tracker` unpacks it.
fn official_tracker() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/cache/plausible-tracker/package/plausible.js");
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "Plausible's tracker {} is missing ({error}): run .ci/fetch-plausible-tracker first",
            path.display()
        )
    })
}

/// The engagement payload as the tracker writes it: each field's name in its
/// order, with the literal value where the source has one (`n`, `v`).
fn engagement_shape(source: &str) -> Vec<(String, Option<String>)> {
    let literal = regex::Regex::new(r#"\{n:"engagement",([^{}]*)\}"#).unwrap();
    let found: Vec<_> = literal.captures_iter(source).collect();
    assert_eq!(found.len(), 1, "one engagement payload in the tracker");
    let mut shape = vec![("n".to_owned(), Some("\"engagement\"".to_owned()))];
    for field in found[0][1].split(',') {
        let (name, value) = field.split_once(':').expect("name:value");
        let literal = value.parse::<i64>().is_ok().then(|| value.to_owned());
        shape.push((name.to_owned(), literal));
    }
    shape
}

#[test]
fn the_official_engagement_payload_carries_scroll_depth_and_time_but_no_interaction_flag() {
    let shape = engagement_shape(&official_tracker());
    let names: Vec<&str> = shape.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["n", "sd", "d", "u", "p", "e", "v"]);
    // Without `i`, the report must be told apart by its name to keep a bounce.
    assert!(!names.contains(&"i"));
}

/// A page's engagement report built field by field in the official tracker's
/// shape; `p` is the pageview's properties, left out (as `JSON.stringify`
/// leaves out `undefined`) when it had none.
fn engagement(
    shape: &[(String, Option<String>)],
    page: &str,
    scroll: i64,
    engaged_ms: i64,
) -> String {
    let mut payload = Map::new();
    for (name, literal) in shape {
        let value = match name.as_str() {
            "sd" => json!(scroll),
            "d" => json!(SITE),
            "u" => json!(format!("https://{SITE}{page}")),
            "p" => continue,
            "e" => json!(engaged_ms),
            _ => serde_json::from_str(literal.as_deref().expect("a literal")).unwrap(),
        };
        payload.insert(name.clone(), value);
    }
    Value::Object(payload).to_string()
}

async fn view(app: &TestApp, ip: &str, agent: &str, page: &str) {
    // The official tracker's pageview: `n`, `v`, `u`, `d`, `r`.
    let body = json!({"n": "pageview", "v": 36, "u": format!("https://{SITE}{page}"), "d": SITE, "r": null});
    let response = app.send(ip, agent, &body.to_string()).await;
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("x-kruimel-dropped").is_none());
}

async fn engaged(app: &TestApp, ip: &str, agent: &str, body: &str) {
    let response = app.send(ip, agent, body).await;
    assert_eq!(response.status(), 202);
    assert!(
        response.headers().get("x-kruimel-dropped").is_none(),
        "a report is counted, as engagement"
    );
}

/// A reads /afval only, scrolls and stays: two reports, still a bounce.
/// B reads /melden, reports, then /afval three minutes later and reports.
async fn engagement_reports_count_as_nothing_and_keep_a_bounce(backend: Backend) {
    let shape = engagement_shape(&official_tracker());
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-23T10:00:00Z").await;
    let (a, b) = ("81.204.7.1", "81.204.8.1");
    view(&app, a, FIREFOX, "/afval").await;
    view(&app, b, CHROME, "/melden").await;
    app.set_time("2026-11-23T10:00:40Z");
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 60, 35_000)).await;
    engaged(&app, b, CHROME, &engagement(&shape, "/melden", 100, 12_000)).await;
    app.set_time("2026-11-23T10:03:00Z");
    view(&app, b, CHROME, "/afval").await;
    app.set_time("2026-11-23T10:04:00Z");
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 80, 4_000)).await;
    engaged(&app, b, CHROME, &engagement(&shape, "/afval", 45, 50_000)).await;
    app.wait_for_events(3, "period=day").await;

    let totals = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors,visits,pageviews,events,bounce_rate,visit_duration",
        )
        .await;
    let value = |metric: &str| totals["results"][metric]["value"].as_i64().unwrap();
    assert_eq!(value("visitors"), 2);
    assert_eq!(value("visits"), 2);
    assert_eq!(value("pageviews"), 3);
    assert_eq!(value("events"), 3, "the reports are no events");
    assert_eq!(
        value("bounce_rate"),
        50,
        "A's one-page visit is still a bounce"
    );
    assert_eq!(value("visit_duration"), 90, "B's 180 s and A's 0 s");

    let names = app
        .stats("breakdown", "period=day&property=event:name&metrics=events")
        .await;
    let names = rows(&names, "name", "events");
    assert!(names.is_empty(), "no custom event, so no goal: {names:?}");
    let pages = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=pageviews",
        )
        .await;
    let mut pages = rows(&pages, "page", "pageviews");
    pages.sort();
    assert_eq!(pages, [("/afval".to_owned(), 2), ("/melden".to_owned(), 1)]);
}

/// A page's row of a breakdown by page with both engagement metrics.
fn page_figures(body: &Value, page: &str) -> (Value, Value) {
    let row = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["page"] == page)
        .unwrap_or_else(|| panic!("no row for {page}: {body}"));
    (row["scroll_depth"].clone(), row["time_on_page"].clone())
}

/// A reads /afval, scrolls to 60 % (35 s), then to 80 % (4 s more), and
/// reloads it: the reload is a pageview of its own, reporting 20 % (2 s).
/// B reads /melden to the end (12 s), then /afval to 46 % (51 s); /melden's
/// last report (9 s more) arrives after the pageview of /afval, and still
/// counts for /melden. A sends a report for /melden, a page A never saw, and
/// C one without a pageview: neither counts. Per pageview with a report:
/// /afval has three, deepest points 80, 46 and 20, and 35 + 4 + 51 + 2 =
/// 92 s; /melden has one, 100 % and 12 + 9 = 21 s.
async fn scroll_depth_and_time_on_page_are_averages_per_pageview(backend: Backend) {
    let shape = engagement_shape(&official_tracker());
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-23T10:00:00Z").await;
    let (a, b, c) = ("81.204.7.1", "81.204.8.1", "81.204.9.1");
    view(&app, a, FIREFOX, "/afval").await;
    view(&app, b, CHROME, "/melden").await;
    app.set_time("2026-11-23T10:00:40Z");
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 60, 35_000)).await;
    engaged(&app, b, CHROME, &engagement(&shape, "/melden", 100, 12_000)).await;
    app.set_time("2026-11-23T10:01:00Z");
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 80, 4_000)).await;
    // Scrolled back up: the deepest point stays 80.
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 70, 0)).await;
    view(&app, b, CHROME, "/afval").await;
    view(&app, a, FIREFOX, "/afval").await;
    app.set_time("2026-11-23T10:02:00Z");
    engaged(&app, b, CHROME, &engagement(&shape, "/afval", 46, 51_000)).await;
    engaged(&app, a, FIREFOX, &engagement(&shape, "/afval", 20, 2_000)).await;
    engaged(&app, b, CHROME, &engagement(&shape, "/melden", 100, 9_000)).await;
    engaged(&app, a, FIREFOX, &engagement(&shape, "/melden", 100, 5_000)).await;
    engaged(&app, c, FIREFOX, &engagement(&shape, "/afval", 100, 60_000)).await;
    // Sent after every report: once it is stored, so are they.
    view(&app, c, FIREFOX, "/contact").await;
    app.set_time("2026-11-23T10:03:00Z");
    app.wait_for_events(5, "period=day").await;

    let pages = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=pageviews,scroll_depth,time_on_page",
        )
        .await;
    // /afval: (80 + 46 + 20) / 3 = 48.7 %, 92 s / 3 = 30.7 s.
    assert_eq!(page_figures(&pages, "/afval"), (json!(49), json!(31)));
    assert_eq!(page_figures(&pages, "/melden"), (json!(100), json!(21)));
    assert_eq!(
        page_figures(&pages, "/contact"),
        (Value::Null, Value::Null),
        "no report, no figure"
    );
    let afval = app
        .stats(
            "aggregate",
            "period=day&filters=event:page%3D%3D/afval&metrics=pageviews,scroll_depth,time_on_page",
        )
        .await;
    assert_eq!(afval["results"]["pageviews"]["value"], 3);
    assert_eq!(afval["results"]["scroll_depth"]["value"], 49);
    assert_eq!(afval["results"]["time_on_page"]["value"], 31);
    let filtered = app
        .stats(
            "breakdown",
            "period=day&property=event:page&filters=event:page%3D%3D/melden&metrics=time_on_page",
        )
        .await;
    assert_eq!(filtered["results"][0]["time_on_page"], 21);

    for (endpoint, query) in [
        ("aggregate", "period=day&metrics=scroll_depth"),
        ("timeseries", "period=day&metrics=time_on_page"),
        (
            "breakdown",
            "period=day&property=visit:source&metrics=time_on_page",
        ),
        (
            "breakdown",
            "period=day&property=event:page&filters=visit:source%3D%3DGoogle&metrics=scroll_depth",
        ),
    ] {
        let response = app.stats_response(endpoint, query).await;
        assert_eq!(response.status(), 400, "{endpoint}?{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_metric", "{body}");
    }
}

on_every_backend!(
    engagement_reports_count_as_nothing_and_keep_a_bounce,
    scroll_depth_and_time_on_page_are_averages_per_pageview
);
