//! Promise 6 across tables: what one published table tells about a cell
//! another table withholds. Through a share link with k = 10:
//!
//! - figures per visit are cells of their own: a page that 12 people view
//!   but on which one visit starts shows no figure of that one visit, not
//!   in its row, not under its filter, and not as the day's visits minus
//!   the other pages' visits;
//! - a filter is not broken down by another property: "desktop on /afval"
//!   published in one table and withheld in the other would be subtracted
//!   from desktop's total.

use serde_json::Value;

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, rows};
use crate::small_counts::{
    K, owned, seeded, shared, shared_rows, shared_visitors, spawn_shared, visits,
};

const METRICS: &str = "visitors,visits,bounce_rate,visit_duration,views_per_visit";
/// Per page and under a page filter: no views per visit, which would
/// divide the page's pageviews by the visits that entered on it.
const PAGE_METRICS: &str = "visitors,visits,bounce_rate,visit_duration";
const PER_PAGE_VISIT: [&str; 3] = ["visits", "bounce_rate", "visit_duration"];

/// Asserts that the day's visits minus the visits shown leave no group
/// of one to k − 1 visits.
fn leaves_no_small_group(total: i64, shown: &[Value], what: &str) {
    let visible: i64 = shown.iter().filter_map(|row| row["visits"].as_i64()).sum();
    let hidden = total - visible;
    assert!(
        !(1..K).contains(&hidden),
        "{what}: the day's {total} visits minus {visible} shown leave {hidden}"
    );
}

async fn figures_per_visit_need_k_visits_in_every_table(backend: Backend) {
    let app = spawn_shared(backend, "2026-11-23T10:00:00Z").await;
    // Eleven visitors enter on / and go on to /x; one enters on /x and leaves.
    visits(&app, "2026-11-23T10:00:00Z", 11, 1, "/", FIREFOX).await;
    visits(&app, "2026-11-23T10:01:00Z", 11, 1, "/x", FIREFOX).await;
    visits(&app, "2026-11-23T10:02:00Z", 1, 2, "/x", FIREFOX).await;
    app.wait_for_events(23, "period=day").await;

    let total = shared(&app, &format!("aggregate?metrics={METRICS}&period=day")).await;
    assert_eq!(total["results"]["visitors"]["value"], 12);
    assert_eq!(total["results"]["visits"]["value"], 12);
    let pages = shared(
        &app,
        &format!("breakdown?property=event:page&metrics={PAGE_METRICS}&period=day"),
    )
    .await;
    let pages = pages["results"].as_array().unwrap();
    let x = pages.iter().find(|row| row["page"] == "/x").unwrap();
    assert_eq!(x["visitors"], 12, "twelve people viewed /x");
    for metric in PER_PAGE_VISIT {
        assert_eq!(x[metric], Value::Null, "/x's {metric} is one visit's");
    }
    leaves_no_small_group(12, pages, "pages");

    // Under a filter, a page's visit figures are those of its row.
    for (page, viewers) in [("/x", 12), ("/", 11)] {
        let filter = format!("period=day&filters=event:page%3D%3D{page}");
        let answer = shared(&app, &format!("aggregate?metrics={PAGE_METRICS}&{filter}")).await;
        let results = &answer["results"];
        assert_eq!(results["visitors"]["value"], viewers, "{page}");
        let visits = json_visits(&results["visits"]["value"]);
        leaves_no_small_group(12, &[visits], page);
    }
    let x_only = shared(
        &app,
        &format!("aggregate?metrics={PAGE_METRICS}&period=day&filters=event:page%3D%3D/x"),
    )
    .await;
    for metric in PER_PAGE_VISIT {
        assert_eq!(x_only["results"][metric]["value"], Value::Null, "{metric}");
    }

    let entries = shared(
        &app,
        "breakdown?property=visit:entry_page&metrics=visitors,visits&period=day",
    )
    .await;
    leaves_no_small_group(12, entries["results"].as_array().unwrap(), "entry pages");

    let owner = app
        .stats(
            "breakdown",
            &format!("property=event:page&metrics={PAGE_METRICS}&period=day"),
        )
        .await;
    let x = owner["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["page"] == "/x")
        .unwrap();
    assert_eq!(x["visits"], 1, "owners see all");
    assert_eq!(x["bounce_rate"], 100);
}

/// A visits figure as a row of the shape `leaves_no_small_group` reads.
fn json_visits(value: &Value) -> Value {
    serde_json::json!({ "visits": value })
}

async fn a_filter_is_not_broken_down_by_another_property_for_the_public(backend: Backend) {
    let app = seeded(backend).await;
    let desktop = "period=day&filters=visit:device%3D%3Ddesktop";
    let afval = "period=day&filters=event:page%3D%3D/afval";
    assert_eq!(shared_visitors(&app, desktop).await, 22);
    assert_eq!(
        shared_rows(&app, "event:page", "period=day").await,
        owned(&[("/afval", 13), ("/bezwaar", 10), ("(other)", 10)])
    );
    // Desktop's pages hide /afval (22 − 13 would be the 9 on /contact), but
    // /afval's devices would show desktop 13: 22 − 13 is the 9 on
    // /contact, and the pages' "(other)" 10 − 9 the one on /zeldzaam.
    assert_eq!(shared_rows(&app, "event:page", desktop).await, []);
    assert_eq!(shared_rows(&app, "visit:device", afval).await, []);
    assert_eq!(
        shared_rows(&app, "event:page", afval).await,
        owned(&[("/afval", 13)]),
        "by its own property a filter is its cell"
    );
    let hours = shared(
        &app,
        &format!("timeseries?metrics=visitors&interval=hour&{desktop}"),
    )
    .await;
    let hours = hours["results"].as_array().unwrap();
    assert_eq!(hours.len(), 14, "the hours begun by 13:00 local");
    assert!(hours.iter().all(|hour| hour["visitors"].is_null()));
    let days = shared(
        &app,
        &format!("timeseries?metrics=visitors&interval=day&{desktop}"),
    )
    .await;
    assert_eq!(
        days["results"][0]["visitors"], 22,
        "a filtered day is its cell"
    );

    let owner = app
        .stats(
            "breakdown",
            &format!("property=visit:device&metrics=visitors&{afval}"),
        )
        .await;
    assert_eq!(
        rows(&owner, "device", "visitors"),
        owned(&[("desktop", 13)]),
        "owners see all"
    );
}

on_every_backend!(
    figures_per_visit_need_k_visits_in_every_table,
    a_filter_is_not_broken_down_by_another_property_for_the_public,
);
