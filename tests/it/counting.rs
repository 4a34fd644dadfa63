//! Scripted visitors → exact visitors, visits, pageviews, bounce rate,
//! duration and breakdowns.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{CHROME, FIREFOX, TestApp, rows};

const A: &str = "81.204.23.10";
const B: &str = "81.204.99.20";

/// Visitor A: three pages in 3 minutes, then a new visit 40 minutes later.
/// Visitor B: one page from Google (a bounce).
async fn script(app: &TestApp) {
    app.set_time("2026-11-23T10:00:00Z");
    app.pageview(A, FIREFOX, "https://gemeente.example/", None)
        .await;
    app.set_time("2026-11-23T10:00:10Z");
    app.pageview(
        B,
        CHROME,
        "https://gemeente.example/?utm_campaign=herfst",
        Some("https://www.google.nl/search?q=afval"),
    )
    .await;
    app.set_time("2026-11-23T10:01:00Z");
    app.pageview(
        A,
        FIREFOX,
        "https://gemeente.example/wonen",
        Some("https://gemeente.example/"),
    )
    .await;
    app.set_time("2026-11-23T10:03:00Z");
    app.pageview(
        A,
        FIREFOX,
        "https://gemeente.example/wonen/afval",
        Some("https://gemeente.example/wonen"),
    )
    .await;
    // The first visit's hits are counted before the clock passes its
    // timeout: on a shared backend a hit still being resolved when a sweep
    // ends the visit would start a visit of its own (real traffic never
    // has hits 40 minutes apart in flight at once).
    app.wait_for_events(4, "period=day").await;
    app.set_time("2026-11-23T10:43:00Z");
    app.pageview(A, FIREFOX, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(5, "period=day").await;
}

async fn totals_are_exact(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let body = app
        .stats("aggregate", "period=day&metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events")
        .await;
    let results = &body["results"];
    assert_eq!(results["visitors"]["value"], 2);
    assert_eq!(results["visits"]["value"], 3);
    assert_eq!(results["pageviews"]["value"], 5);
    assert_eq!(results["events"]["value"], 5);
    assert_eq!(results["views_per_visit"]["value"], 1.67);
    assert_eq!(
        results["bounce_rate"]["value"], 67,
        "two of three visits had one page"
    );
    assert_eq!(
        results["visit_duration"]["value"], 60,
        "180 seconds over three visits"
    );
}

async fn breakdowns_count_visitors_once_per_value(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let pages = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=visitors,pageviews",
        )
        .await;
    assert_eq!(
        rows(&pages, "page", "visitors"),
        [
            ("/".into(), 2),
            ("/wonen".into(), 1),
            ("/wonen/afval".into(), 1)
        ]
    );
    assert_eq!(
        rows(&pages, "page", "pageviews"),
        [
            ("/".into(), 3),
            ("/wonen".into(), 1),
            ("/wonen/afval".into(), 1)
        ]
    );

    let sources = app
        .stats(
            "breakdown",
            "period=day&property=visit:source&metrics=visitors,visits",
        )
        .await;
    assert_eq!(
        rows(&sources, "source", "visits"),
        [("Direct / None".into(), 2), ("Google".into(), 1)]
    );
    let referrers = app
        .stats(
            "breakdown",
            "period=day&property=visit:referrer&metrics=visitors",
        )
        .await;
    assert_eq!(
        rows(&referrers, "referrer", "visitors"),
        [("google.nl".into(), 1)],
        "internal referrers are not sources"
    );

    let entries = app
        .stats(
            "breakdown",
            "period=day&property=visit:entry_page&metrics=visits,visitors",
        )
        .await;
    assert_eq!(rows(&entries, "entry_page", "visits"), [("/".into(), 3)]);
    assert_eq!(rows(&entries, "entry_page", "visitors"), [("/".into(), 2)]);
    // Exit pages are counted when visits end: here after 30 idle minutes,
    // found by the aggregator's sweep.
    let exit_rows = |body: serde_json::Value| rows(&body, "exit_page", "visits");
    let query = "period=day&property=visit:exit_page&metrics=visits";
    // A's first visit has ended (A came back after it timed out); B's, idle
    // since 10:00, ends at the next sweep, which may have run by now.
    let exits = exit_rows(app.stats("breakdown", query).await);
    assert!(
        exits.contains(&("/wonen/afval".into(), 1))
            && exits
                .iter()
                .all(|(page, visits)| { *visits == 1 && (page == "/wonen/afval" || page == "/") }),
        "{exits:?}"
    );
    app.set_time("2026-11-23T11:30:00Z");
    let mut exits = Vec::new();
    for _ in 0..300 {
        exits = exit_rows(app.stats("breakdown", query).await);
        if exits.len() == 2 && exits[0].1 == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(exits, [("/".into(), 2), ("/wonen/afval".into(), 1)]);
    let google_exits = app
        .stats(
            "breakdown",
            &format!("{query}&filters=visit:source==Google"),
        )
        .await;
    assert_eq!(exit_rows(google_exits), [("/".into(), 1)]);

    let browsers = app
        .stats(
            "breakdown",
            "period=day&property=visit:browser&metrics=visitors",
        )
        .await;
    assert_eq!(
        rows(&browsers, "browser", "visitors"),
        [("Firefox".into(), 1), ("Chrome".into(), 1)],
        "ties in visitors are ordered by visits"
    );
    let campaigns = app
        .stats(
            "breakdown",
            "period=day&property=visit:utm_campaign&metrics=visitors",
        )
        .await;
    assert_eq!(
        rows(&campaigns, "utm_campaign", "visitors"),
        [("herfst".into(), 1)]
    );
    let devices = app
        .stats(
            "breakdown",
            "period=day&property=visit:device&metrics=visitors",
        )
        .await;
    assert_eq!(
        rows(&devices, "device", "visitors"),
        [("desktop".into(), 2)]
    );
}

async fn filters_rescope_aggregates_timeseries_and_breakdowns(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let google = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors,visits,pageviews,bounce_rate&filters=visit:source==Google",
        )
        .await;
    assert_eq!(google["results"]["visitors"]["value"], 1);
    assert_eq!(google["results"]["pageviews"]["value"], 1);
    assert_eq!(google["results"]["bounce_rate"]["value"], 100);

    let wonen = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors,pageviews,visits&filters=event:page==/wonen",
        )
        .await;
    assert_eq!(wonen["results"]["visitors"]["value"], 1);
    assert_eq!(wonen["results"]["pageviews"]["value"], 1);
    assert_eq!(
        wonen["results"]["visits"]["value"], 0,
        "no visit entered on /wonen"
    );

    let direct_pages = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=pageviews&filters=visit:source==Direct / None",
        )
        .await;
    assert_eq!(
        rows(&direct_pages, "page", "pageviews"),
        [
            ("/".into(), 2),
            ("/wonen".into(), 1),
            ("/wonen/afval".into(), 1)
        ]
    );

    let own_page = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=visitors,pageviews&filters=event:page==/wonen",
        )
        .await;
    assert_eq!(
        rows(&own_page, "page", "pageviews"),
        [("/wonen".into(), 1)],
        "a filter broken down by itself"
    );
    let own_source = app
        .stats(
            "breakdown",
            "period=day&property=visit:source&metrics=visits&filters=visit:source==Direct / None",
        )
        .await;
    assert_eq!(
        rows(&own_source, "source", "visits"),
        [("Direct / None".into(), 2)]
    );

    let campaign = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors&filters=visit:utm_campaign==herfst",
        )
        .await;
    assert_eq!(campaign["results"]["visitors"]["value"], 1);
    let country = app
        .stats(
            "aggregate",
            "period=day&metrics=pageviews&filters=visit:country==unknown",
        )
        .await;
    assert_eq!(
        country["results"]["pageviews"]["value"], 0,
        "codes are upper-cased; no country database here"
    );
    let desktop = app
        .stats(
            "aggregate",
            "period=day&metrics=visitors&filters=visit:device==desktop",
        )
        .await;
    assert_eq!(desktop["results"]["visitors"]["value"], 2);

    let series = app
        .stats(
            "timeseries",
            "period=day&metrics=pageviews&filters=visit:source==Google",
        )
        .await;
    let points = series["results"].as_array().unwrap();
    assert_eq!(points.len(), 12, "00:00 to 11:00 local: the hours begun");
    let eleven = points
        .iter()
        .find(|p| p["date"] == "2026-11-23 11:00:00")
        .unwrap();
    assert_eq!(eleven["pageviews"], 1, "10:00Z is 11:00 in Amsterdam");
}

async fn timeseries_fill_every_bucket_in_local_time(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    let hours = app
        .stats("timeseries", "period=day&metrics=visitors,pageviews")
        .await;
    let points = hours["results"].as_array().unwrap();
    let eleven = points
        .iter()
        .find(|p| p["date"] == "2026-11-23 11:00:00")
        .unwrap();
    assert_eq!(
        (eleven["visitors"].as_i64(), eleven["pageviews"].as_i64()),
        (Some(2), Some(5))
    );
    let days = app.stats("timeseries", "period=7d&metrics=visitors").await;
    let days = days["results"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["date"], "2026-11-23");
    assert_eq!(days[6]["visitors"], 2);
    assert_eq!(days[5]["visitors"], 0);
    let months = app
        .stats("timeseries", "period=12mo&metrics=pageviews")
        .await;
    let months = months["results"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["date"], "2026-11-01");
    assert_eq!(months[11]["pageviews"], 5);
}

async fn comparing_with_the_previous_period_reports_change(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    script(&app).await;
    // The next day at 13:00 local, against the script's day until 13:00.
    app.set_time("2026-11-24T12:00:00Z");
    let body = app
        .stats(
            "aggregate",
            "period=day&date=2026-11-24&metrics=visitors&compare=previous_period",
        )
        .await;
    assert_eq!(body["results"]["visitors"]["value"], 0);
    assert_eq!(body["results"]["visitors"]["change"], -100.0);
}

async fn custom_events_count_with_their_properties(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    app.pageview(A, FIREFOX, "https://gemeente.example/afval", None)
        .await;
    let download = r#"{"n":"File Download","u":"https://gemeente.example/afval","d":"gemeente.example","p":{"url":"https://gemeente.example/kalender.pdf?token=abc"}}"#;
    assert_eq!(app.send(A, FIREFOX, download).await.status(), 202);
    app.wait_for_events(2, "period=day").await;
    let names = app
        .stats(
            "breakdown",
            "period=day&property=event:name&metrics=visitors,events",
        )
        .await;
    assert_eq!(
        rows(&names, "name", "events"),
        [("File Download".into(), 1)]
    );
    let props = app
        .stats(
            "breakdown",
            "period=day&property=event:props:url&metrics=events",
        )
        .await;
    assert_eq!(
        rows(&props, "url", "events"),
        [("gemeente.example/kalender.pdf".into(), 1)],
        "a download keeps its host and path, no scheme or query"
    );
    let body = app
        .stats("aggregate", "period=day&metrics=pageviews,bounce_rate")
        .await;
    assert_eq!(body["results"]["pageviews"]["value"], 1);
    assert_eq!(
        body["results"]["bounce_rate"]["value"], 0,
        "an interactive event ends the bounce"
    );
}

on_every_backend!(
    totals_are_exact,
    breakdowns_count_visitors_once_per_value,
    filters_rescope_aggregates_timeseries_and_breakdowns,
    timeseries_fill_every_bucket_in_local_time,
    comparing_with_the_previous_period_reports_change,
    custom_events_count_with_their_properties,
);
