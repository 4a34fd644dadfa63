//! Days, salts and visits around local midnight.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, TestApp};

const C: &str = "81.204.50.5";

async fn a_visit_crossing_midnight_stays_one_visit_and_the_visitor_is_new_on_the_new_day(
    backend: Backend,
) {
    // 22:50Z is 23:50 in Amsterdam.
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-23T22:50:00Z").await;
    app.pageview(C, FIREFOX, "https://gemeente.example/a", None)
        .await;
    app.set_time("2026-11-23T23:10:00Z");
    app.pageview(C, FIREFOX, "https://gemeente.example/b", None)
        .await;
    app.wait_for_events(2, "period=custom&date=2026-11-23,2026-11-24")
        .await;

    let first_day = app.stats("aggregate", "period=day&date=2026-11-23&metrics=visitors,visits,pageviews,bounce_rate,visit_duration").await;
    let results = &first_day["results"];
    assert_eq!(results["visitors"]["value"], 1);
    assert_eq!(results["visits"]["value"], 1);
    assert_eq!(results["pageviews"]["value"], 1);
    assert_eq!(
        results["bounce_rate"]["value"], 0,
        "the visit went on after midnight"
    );
    assert_eq!(results["visit_duration"]["value"], 1200);

    let second_day = app
        .stats(
            "aggregate",
            "period=day&date=2026-11-24&metrics=visitors,visits,pageviews",
        )
        .await;
    let results = &second_day["results"];
    assert_eq!(results["visitors"]["value"], 1, "a new day, a new visitor");
    assert_eq!(
        results["visits"]["value"], 0,
        "the visit belongs to the day it began"
    );
    assert_eq!(results["pageviews"]["value"], 1);
}

async fn the_salt_rotation_makes_the_same_person_a_new_visitor_each_day(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, &[], "2026-11-23T09:00:00Z").await;
    for (time, events) in [
        ("2026-11-23T09:00:00Z", 1),
        ("2026-11-23T15:00:00Z", 2),
        ("2026-11-24T09:00:00Z", 3),
        ("2026-11-25T09:00:00Z", 4),
    ] {
        app.set_time(time);
        app.pageview(C, FIREFOX, "https://gemeente.example/", None)
            .await;
        app.wait_for_events(events, "period=custom&date=2026-11-23,2026-11-25")
            .await;
    }
    let range = "period=custom&date=2026-11-23,2026-11-25&metrics=visitors,visits";
    let body = app.stats("aggregate", range).await;
    assert_eq!(
        body["results"]["visitors"]["value"], 3,
        "one per day: hashes do not link days"
    );
    assert_eq!(body["results"]["visits"]["value"], 4);
    let first = app
        .stats(
            "aggregate",
            "period=day&date=2026-11-23&metrics=visitors,visits",
        )
        .await;
    assert_eq!(
        first["results"]["visitors"]["value"], 1,
        "the same salt all day"
    );
    assert_eq!(first["results"]["visits"]["value"], 2);
}

on_every_backend!(
    a_visit_crossing_midnight_stays_one_visit_and_the_visitor_is_new_on_the_new_day,
    the_salt_rotation_makes_the_same_person_a_new_visitor_each_day,
);
