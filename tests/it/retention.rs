//! The retention job deletes each site's aggregates older than its horizon.

use crate::backends::{Backend, on_every_backend};
use kruimel::config::TokenHash;
use serde_json::Value;

use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, get_json};

const OTHER: &str = "other.example";
const EVERYTHING: &str = "period=custom&date=2026-09-01,2026-11-23";

/// `gemeente.example` keeps 30 days; `other.example` keeps the default 25 months.
fn sites() -> String {
    let token = TokenHash::of_token(TOKEN).stored_form();
    format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], retention_days = 30, tokens = ["{token}"] }}, {{ id = "{OTHER}", tokens = ["{token}"] }}]"#
    )
}

async fn other_pageview(app: &TestApp, ip: &str) {
    let body = serde_json::json!({ "n": "pageview", "u": "https://other.example/", "d": OTHER });
    let response = app.send(ip, FIREFOX, &body.to_string()).await;
    assert_eq!(response.status(), 202);
}

async fn other_pageviews(app: &TestApp, date: &str) -> Value {
    let url = format!(
        "http://{}/api/v1/stats/aggregate?site_id={OTHER}&period=day&date={date}&metrics=pageviews",
        app.public
    );
    let body = get_json(&app.client, &url, Some(TOKEN)).await;
    body["results"]["pageviews"]["value"].clone()
}

/// Pageviews of one local day from its day rows and from its hour rows.
async fn pageviews(app: &TestApp, date: &str) -> (Value, i64) {
    let day = app
        .metric("pageviews", &format!("period=day&date={date}"))
        .await;
    let hours = app
        .stats(
            "timeseries",
            &format!("period=day&date={date}&interval=hour&metrics=pageviews"),
        )
        .await;
    let hours = hours["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["pageviews"].as_i64().unwrap())
        .sum();
    (day, hours)
}

async fn pages(app: &TestApp, date: &str) -> Value {
    app.stats(
        "breakdown",
        &format!("period=day&date={date}&property=event:page&metrics=pageviews"),
    )
    .await["results"]
        .clone()
}

async fn retention_deletes_a_sites_day_and_hour_rows_older_than_its_horizon_at_startup(
    backend: Backend,
) {
    let sites = sites();
    let env = [("KRUIMEL_SITES", sites.as_str())];
    let app = TestApp::spawn_on_with(backend, &env, "2026-09-01T10:00:00Z").await;
    // 2026-11-23 minus 30 days is 2026-10-24: the first day kept.
    let days = [
        ("2026-09-01", "81.204.1.1", 2),
        ("2026-10-23", "81.204.1.2", 1),
        ("2026-10-24", "81.204.1.3", 1),
        ("2026-11-20", "81.204.1.4", 3),
    ];
    for (date, ip, count) in days {
        app.set_time(&format!("{date}T10:00:00Z"));
        for _ in 0..count {
            let response = app
                .pageview(ip, FIREFOX, "https://gemeente.example/afval", None)
                .await;
            assert_eq!(response.status(), 202);
        }
        other_pageview(&app, ip).await;
        if date == days[0].0 {
            // The aggregator's first tick runs retention. Once the first
            // day's counts are stored it has passed, at that day's clock:
            // a later first tick would judge the days to come against the
            // last day's clock and delete what this run still reads.
            app.wait_for_events(count, &format!("period=day&date={date}"))
                .await;
        }
    }
    app.wait_for_events(7, EVERYTHING).await;
    for (date, _, count) in days {
        assert_eq!(pageviews(&app, date).await, (count.into(), count), "{date}");
        assert_eq!(other_pageviews(&app, date).await, 1, "{date}");
    }

    let app = app.restart(&env, "2026-11-23T10:00:00Z").await;

    // Retention runs at the aggregator's first tick, around readiness.
    let mut left = Value::Null;
    for _ in 0..200 {
        left = app.metric("pageviews", EVERYTHING).await;
        if left == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left, 4, "only the last 30 days' pageviews remain");
    for date in ["2026-09-01", "2026-10-23"] {
        assert_eq!(pageviews(&app, date).await, (0.into(), 0), "{date}");
        assert_eq!(pages(&app, date).await, serde_json::json!([]), "{date}");
    }
    for (date, count) in [("2026-10-24", 1), ("2026-11-20", 3)] {
        assert_eq!(pageviews(&app, date).await, (count.into(), count), "{date}");
        assert_eq!(
            pages(&app, date).await,
            serde_json::json!([{ "page": "/afval", "pageviews": count }]),
            "{date}"
        );
    }
    for (date, _, _) in days {
        assert_eq!(
            other_pageviews(&app, date).await,
            1,
            "{OTHER} keeps 25 months: {date}"
        );
    }
}

on_every_backend!(retention_deletes_a_sites_day_and_hour_rows_older_than_its_horizon_at_startup,);
