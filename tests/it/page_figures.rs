//! Under a page filter every figure says which group it counts, and the
//! groups never mix in one ratio: visitors and pageviews are of the page;
//! visits, bounce rate and duration are of the visits that entered on it
//! (as in Plausible); views per visit is refused.

use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{CHROME, FIREFOX, TestApp};

const A: &str = "81.204.23.10";
const B: &str = "81.204.99.20";
const C: &str = "81.205.1.30";
const D: &str = "81.205.2.40";
const PAGE: &str = "filters=event:page%3D%3D/afspraak-maken";

async fn view(app: &TestApp, at: &str, ip: &str, path: &str, referrer: Option<&str>) {
    app.set_time(at);
    let url = format!("https://gemeente.example{path}");
    let answer = app.pageview(ip, FIREFOX, &url, referrer).await;
    assert_eq!(answer.status(), 202);
}

/// - A enters on /afspraak-maken, then reads /contact two minutes later;
/// - B enters on /, then views /afspraak-maken twice;
/// - C comes from Google to /afspraak-maken and leaves (a bounce);
/// - D views / only.
async fn script(app: &TestApp) {
    view(app, "2026-11-23T09:00:00Z", A, "/afspraak-maken", None).await;
    view(app, "2026-11-23T09:00:30Z", B, "/", None).await;
    view(app, "2026-11-23T09:01:00Z", B, "/afspraak-maken", None).await;
    view(app, "2026-11-23T09:02:00Z", A, "/contact", None).await;
    view(app, "2026-11-23T09:03:00Z", B, "/afspraak-maken", None).await;
    let google = Some("https://www.google.nl/");
    view(app, "2026-11-23T09:05:00Z", C, "/afspraak-maken", google).await;
    app.set_time("2026-11-23T09:06:00Z");
    app.pageview(D, CHROME, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(7, "period=day").await;
}

const ENTERED: &str = "visitors,pageviews,visits,bounce_rate,visit_duration";

fn figures(body: &Value) -> Value {
    let results = &body["results"];
    json!([
        results["visitors"]["value"],
        results["pageviews"]["value"],
        results["visits"]["value"],
        results["bounce_rate"]["value"],
        results["visit_duration"]["value"],
    ])
}

async fn a_page_filter_counts_the_page_and_the_visits_that_entered_on_it(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let filtered = app
        .stats("aggregate", &format!("period=day&{PAGE}&metrics={ENTERED}"))
        .await;
    // Visitors of the page: A, B, C. Its pageviews: 1 + 2 + 1. Visits
    // that entered on it: A's and C's; C's bounced; A's lasted 120 s,
    // C's 0 s.
    assert_eq!(figures(&filtered), json!([3, 4, 2, 50, 60]));

    // The page's row in the pages breakdown, and its entry page row,
    // say the same.
    let pages = app
        .stats(
            "breakdown",
            &format!("period=day&property=event:page&metrics={ENTERED}"),
        )
        .await;
    let row = pages["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["page"] == "/afspraak-maken")
        .unwrap();
    assert_eq!(
        json!([
            row["visitors"],
            row["pageviews"],
            row["visits"],
            row["bounce_rate"],
            row["visit_duration"]
        ]),
        json!([3, 4, 2, 50, 60])
    );
    let entries = app
        .stats(
            "breakdown",
            "period=day&property=visit:entry_page&metrics=visits,bounce_rate,visit_duration",
        )
        .await;
    let entry = entries["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["entry_page"] == "/afspraak-maken")
        .unwrap();
    assert_eq!(
        json!([
            entry["visits"],
            entry["bounce_rate"],
            entry["visit_duration"]
        ]),
        json!([2, 50, 60])
    );

    // By source under the filter: Google brought C, who entered here;
    // of the direct visitors (A and B) only A entered here.
    let sources = app
        .stats(
            "breakdown",
            &format!("period=day&{PAGE}&property=visit:source&metrics=visitors,visits"),
        )
        .await;
    let mut rows: Vec<(String, i64, i64)> = sources["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["source"].as_str().unwrap().to_owned(),
                row["visitors"].as_i64().unwrap(),
                row["visits"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("Direct / None".to_owned(), 2, 1),
            ("Google".to_owned(), 1, 1)
        ]
    );
}

async fn views_per_visit_is_refused_where_it_would_mix_two_groups(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    for (endpoint, query) in [
        (
            "aggregate",
            format!("period=day&{PAGE}&metrics=views_per_visit"),
        ),
        (
            "breakdown",
            format!("period=day&{PAGE}&property=visit:source&metrics=views_per_visit"),
        ),
        (
            "breakdown",
            "period=day&property=event:page&metrics=views_per_visit".to_owned(),
        ),
        (
            "breakdown",
            "period=day&property=visit:entry_page&metrics=views_per_visit".to_owned(),
        ),
    ] {
        let answer = app.stats_response(endpoint, &query).await;
        assert_eq!(answer.status(), 400, "{query}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "invalid_metric", "{query}");
    }
    // Unfiltered, views per visit is one group's: 7 pageviews in 4 visits.
    assert_eq!(app.metric("views_per_visit", "period=day").await, 1.75);
    // The export of a page-filtered period leaves it out instead.
    let zip = app
        .stats_response("export", &format!("period=day&{PAGE}"))
        .await;
    assert_eq!(zip.status(), 200);
}

on_every_backend!(
    a_page_filter_counts_the_page_and_the_visits_that_entered_on_it,
    views_per_visit_is_refused_where_it_would_mix_two_groups,
);
