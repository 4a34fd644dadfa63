//! `compare=previous_period` compares like with like: a running period up
//! to the last whole hour against the previous one up to the same local
//! time; a change against nothing is `null`; series stop at now.
//!
//! The site's zone is Europe/Amsterdam (UTC+1 in November): "now" is
//! 2026-11-23 14:30 local, 13:30 UTC.

use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, TestApp};

const NOW: &str = "2026-11-23T13:30:00Z";

/// One visitor (one pageview) from a network of its own, at a UTC time.
async fn visit(app: &TestApp, at: &str, network: u8) {
    app.set_time(at);
    let ip = format!("81.204.{network}.10");
    let answer = app
        .pageview(&ip, FIREFOX, "https://gemeente.example/", None)
        .await;
    assert_eq!(answer.status(), 202);
}

/// Local times (UTC+1), one visitor each:
/// - previous week: 12 Nov 12:00; 16 Nov 10:00 and 20:00;
/// - this week: 20 Nov 12:00 (two); yesterday, 22 Nov, 10:00 (two),
///   14:10 and 20:00; today 10:00 (three) and 14:20, in the running hour.
async fn script(app: &TestApp) {
    let visits = [
        ("2026-11-12T11:00:00Z", 1),
        ("2026-11-16T09:00:00Z", 2),
        ("2026-11-16T19:00:00Z", 3),
        ("2026-11-20T11:00:00Z", 4),
        ("2026-11-20T11:05:00Z", 5),
        ("2026-11-22T09:00:00Z", 6),
        ("2026-11-22T09:05:00Z", 7),
        ("2026-11-22T13:10:00Z", 8),
        ("2026-11-22T19:00:00Z", 9),
        ("2026-11-23T09:00:00Z", 10),
        ("2026-11-23T09:05:00Z", 11),
        ("2026-11-23T09:10:00Z", 12),
        ("2026-11-23T13:20:00Z", 13),
    ];
    for (at, network) in visits {
        visit(app, at, network).await;
    }
    app.set_time(NOW);
    app.wait_for_events(13, "period=30d").await;
}

async fn compare(app: &TestApp, query: &str) -> Value {
    app.stats(
        "aggregate",
        &format!("{query}&metrics=visitors,visits,pageviews,bounce_rate&compare=previous_period"),
    )
    .await
}

async fn a_running_day_is_compared_with_yesterday_until_the_same_hour(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-12T11:00:00Z").await;
    script(&app).await;
    let body = compare(&app, "period=day").await;
    // Today until 14:00 (three) against yesterday until 14:00 (two); the
    // visitor of 14:20 counts in the value, not yet in the comparison.
    assert_eq!(
        body["results"]["visitors"],
        json!({ "value": 4, "change": 50.0 })
    );
    assert_eq!(
        body["results"]["pageviews"],
        json!({ "value": 4, "change": 50.0 })
    );
    assert_eq!(
        body["results"]["visits"],
        json!({ "value": 4, "change": 50.0 })
    );
    assert_eq!(
        body["results"]["bounce_rate"],
        json!({ "value": 100, "change": 0.0 })
    );
    assert_eq!(
        body["comparison"],
        json!({
            "current": { "from": "2026-11-23T00:00:00", "until": "2026-11-23T14:00:00" },
            "previous": { "from": "2026-11-22T00:00:00", "until": "2026-11-22T14:00:00" },
        })
    );
    // Yesterday, finished, is compared whole with the day before.
    let yesterday = compare(&app, "period=day&date=2026-11-22").await;
    assert_eq!(
        yesterday["results"]["visitors"],
        json!({ "value": 4, "change": null }),
        "nobody on 21 November: against nothing, not +100%"
    );
    assert_eq!(
        yesterday["comparison"]["previous"],
        json!({ "from": "2026-11-21T00:00:00", "until": "2026-11-22T00:00:00" })
    );

    // In the first hour of a day no whole hour has passed: nothing is
    // compared yet, so no change is given.
    app.set_time("2026-11-23T23:30:00Z");
    let at_half_past_midnight = compare(&app, "period=day").await;
    assert_eq!(
        at_half_past_midnight["results"]["visitors"],
        json!({ "value": 0 })
    );
    assert_eq!(
        at_half_past_midnight["comparison"]["current"],
        json!({ "from": "2026-11-24T00:00:00", "until": "2026-11-24T00:00:00" })
    );
}

async fn a_running_week_is_compared_up_to_the_same_hour_of_its_last_day(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-12T11:00:00Z").await;
    script(&app).await;
    let body = compare(&app, "period=7d").await;
    // 17–22 Nov whole (six) and today until 14:00 (three) against 10–15
    // Nov (one) and 16 Nov until 14:00 (one): 9 against 2. The whole
    // weeks would have been 10 against 3.
    assert_eq!(
        body["results"]["visitors"],
        json!({ "value": 10, "change": 350.0 })
    );
    assert_eq!(
        body["comparison"],
        json!({
            "current": { "from": "2026-11-17T00:00:00", "until": "2026-11-23T14:00:00" },
            "previous": { "from": "2026-11-10T00:00:00", "until": "2026-11-16T14:00:00" },
        })
    );
    // A month on its 23rd day: against the 23 days before it, up to the
    // same hour of 31 October, when nobody came.
    let month = compare(&app, "period=month").await;
    assert_eq!(
        month["results"]["visitors"],
        json!({ "value": 13, "change": null })
    );
    assert_eq!(
        month["comparison"]["previous"],
        json!({ "from": "2026-10-09T00:00:00", "until": "2026-10-31T14:00:00" })
    );
}

async fn an_empty_previous_period_gives_no_percentage(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-23T09:00:00Z").await;
    visit(&app, "2026-11-23T09:00:00Z", 1).await;
    visit(&app, "2026-11-23T09:10:00Z", 2).await;
    app.set_time(NOW);
    app.wait_for_events(2, "period=day").await;
    let body = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration&compare=previous_period",
        )
        .await;
    for metric in [
        "visitors",
        "visits",
        "pageviews",
        "views_per_visit",
        "bounce_rate",
        "visit_duration",
    ] {
        let entry = &body["results"][metric];
        assert!(
            entry.get("change").is_some_and(Value::is_null),
            "{metric}: a change against nothing is null: {entry}"
        );
    }
    assert_eq!(body["results"]["visitors"]["value"], 2);
    // Nothing against nothing reads the same: null, never 0% or +100%.
    let empty_day = compare(&app, "period=day&date=2026-11-05").await;
    assert_eq!(
        empty_day["results"]["visitors"],
        json!({ "value": 0, "change": null })
    );
    // The CSV keeps it an empty cell.
    let csv = app
        .stats_response(
            "aggregate",
            "period=day&metrics=visitors&compare=previous_period&format=csv",
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv, "metric,value,change\nvisitors,2,\n");
}

async fn buckets_still_to_come_are_not_returned(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-12T11:00:00Z").await;
    script(&app).await;
    let dates = |body: Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|point| point["date"].as_str().unwrap().to_owned())
            .collect()
    };
    let hours = dates(app.stats("timeseries", "period=day&metrics=visitors").await);
    assert_eq!(hours.len(), 15, "00:00 to 14:00: {hours:?}");
    assert_eq!(hours.last().unwrap(), "2026-11-23 14:00:00");
    let days = dates(
        app.stats("timeseries", "period=month&metrics=visitors")
            .await,
    );
    assert_eq!(days.len(), 23, "1 to 23 November");
    assert_eq!(days.last().unwrap(), "2026-11-23");
    let custom = dates(
        app.stats(
            "timeseries",
            "period=custom&date=2026-11-20,2026-12-31&interval=month&metrics=visitors",
        )
        .await,
    );
    assert_eq!(custom, ["2026-11-01"], "December has not begun");
    let hourly_week = dates(
        app.stats("timeseries", "period=7d&interval=hour&metrics=visitors")
            .await,
    );
    assert_eq!(hourly_week.len(), 6 * 24 + 15);
    // A past period is whole.
    let yesterday = dates(
        app.stats("timeseries", "period=day&date=2026-11-22&metrics=visitors")
            .await,
    );
    assert_eq!(yesterday.len(), 24);
    // The points of the running day sum to what the comparison compared.
    let points = app.stats("timeseries", "period=day&metrics=visitors").await;
    let before_two: i64 = points["results"].as_array().unwrap()[..14]
        .iter()
        .map(|point| point["visitors"].as_i64().unwrap())
        .sum();
    assert_eq!(before_two, 3);
}

on_every_backend!(
    a_running_day_is_compared_with_yesterday_until_the_same_hour,
    a_running_week_is_compared_up_to_the_same_hour_of_its_last_day,
    an_empty_previous_period_gives_no_percentage,
    buckets_still_to_come_are_not_returned,
);
