//! Promise 6 against a reader who adds and subtracts: through a share
//! link with k = 10, no figure below 10 can be read, not in a row, not in
//! "(other)", not as a total minus the rows shown, not in a comparison, an
//! hour, a CSV, a filter, or a range minus the day inside it.
//!
//! The site's week (k = 10):
//! - 16 Nov: 12 visitors (the previous week of the comparison);
//! - 22 Nov: 3 visitors (a day withheld alone);
//! - 23 Nov, 11:00: 12 desktop visitors from a newsletter (utm) to /afval,
//!   10 mobile visitors to /bezwaar; 12:00: 9 desktop visitors to /contact
//!   and 1 to /afval; 13:00: 1 tablet visitor from a newspaper to /zeldzaam.

use std::io::Read;

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, rows};

pub(crate) const SHARE: &str = "share-secret-9c4a";
pub(crate) const K: i64 = 10;
const WEEK: &str = "period=custom&date=2026-11-16,2026-11-23";

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

pub(crate) async fn visits(
    app: &TestApp,
    at: &str,
    count: u32,
    block: u32,
    page: &str,
    agent: &str,
) {
    app.set_time(at);
    for n in 0..count {
        let ip = format!("81.{block}.{n}.1");
        let url = format!("https://{SITE}{page}");
        let body = json!({ "n": "pageview", "u": url, "d": SITE});
        assert_eq!(app.send(&ip, agent, &body.to_string()).await.status(), 202);
    }
}

/// The site with k = 10, its token and its share link, and nothing counted yet.
pub(crate) async fn spawn_shared(backend: Backend, start: &str) -> TestApp {
    let sites = format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}"], k_anonymity = {K}, tokens = ["{}"], share_links = ["{}"] }}]"#,
        TokenHash::of_token(TOKEN).stored_form(),
        TokenHash::of_token(SHARE).stored_form(),
    );
    TestApp::spawn_on_with(backend, &[("KRUIMEL_SITES", &sites)], start).await
}

pub(crate) async fn seeded(backend: Backend) -> TestApp {
    let app = spawn_shared(backend, "2026-11-16T10:00:00Z").await;
    visits(&app, "2026-11-16T10:00:00Z", 12, 16, "/afval", FIREFOX).await;
    visits(&app, "2026-11-22T10:00:00Z", 3, 22, "/afval", FIREFOX).await;
    let newsletter = "/afval?utm_source=nieuwsbrief&utm_medium=email&utm_campaign=najaar";
    visits(&app, "2026-11-23T10:00:00Z", 12, 101, newsletter, FIREFOX).await;
    visits(&app, "2026-11-23T10:05:00Z", 10, 102, "/bezwaar", IPHONE).await;
    visits(&app, "2026-11-23T11:00:00Z", 9, 103, "/contact", FIREFOX).await;
    visits(&app, "2026-11-23T11:05:00Z", 1, 104, "/afval", FIREFOX).await;
    let newspaper = "/zeldzaam?utm_source=krant&utm_medium=print&utm_campaign=winter";
    visits(&app, "2026-11-23T12:00:00Z", 1, 105, newspaper, IPAD).await;
    app.wait_for_events(48, WEEK).await;
    app
}

/// A stats answer through the share link.
pub(crate) async fn shared(app: &TestApp, path: &str) -> Value {
    let response = shared_response(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

pub(crate) async fn shared_response(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!(
            "http://{}/api/v1/stats/{path}&site_id={SITE}&share={SHARE}",
            app.public
        ))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn shared_visitors(app: &TestApp, query: &str) -> Value {
    let body = shared(app, &format!("aggregate?metrics=visitors&{query}")).await;
    body["results"]["visitors"]["value"].clone()
}

pub(crate) async fn shared_rows(app: &TestApp, property: &str, query: &str) -> Vec<(String, i64)> {
    let field = property.split(':').next_back().unwrap();
    let path = format!("breakdown?property={property}&metrics=visitors&{query}");
    rows(&shared(app, &path).await, field, "visitors")
}

pub(crate) fn owned(rows: &[(&str, i64)]) -> Vec<(String, i64)> {
    rows.iter().map(|(v, n)| (v.to_string(), *n)).collect()
}

async fn rows_just_below_and_above_k_and_a_small_other_give_nothing_away(backend: Backend) {
    let app = seeded(backend).await;
    let today = "period=day";
    assert_eq!(
        shared_rows(&app, "event:page", today).await,
        owned(&[("/afval", 13), ("/bezwaar", 10), ("(other)", 10)]),
        "9 on /contact and 1 on /zeldzaam are folded; together they are 10"
    );
    assert_eq!(
        shared_rows(&app, "visit:device", today).await,
        owned(&[("desktop", 22), ("(other)", 11)]),
        "an (other) of one tablet is not shown, and 33 − 22 − 10 would be it"
    );
    for property in ["visit:utm_source", "visit:utm_medium", "visit:utm_campaign"] {
        let found = shared_rows(&app, property, today).await;
        assert_eq!(found.len(), 1, "{property}: {found:?}");
        assert_eq!(found[0].1, 12, "{property}");
    }
    let owner = app
        .stats("breakdown", "period=day&property=visit:device")
        .await;
    assert_eq!(
        rows(&owner, "device", "visitors").len(),
        3,
        "owners see all"
    );

    // Total minus the rows shown: nothing hidden is a group under k.
    let total = shared_visitors(&app, today).await.as_i64().unwrap();
    assert_eq!(total, 33);
    for property in [
        "event:page",
        "visit:entry_page",
        "visit:source",
        "visit:utm_source",
        "visit:utm_medium",
        "visit:utm_campaign",
        "visit:country",
        "visit:browser",
        "visit:os",
        "visit:device",
    ] {
        let shown: i64 = shared_rows(&app, property, today)
            .await
            .iter()
            .map(|(_, visitors)| visitors)
            .sum();
        let hidden = total - shown;
        assert!(
            !(1..K).contains(&hidden),
            "{property}: the total minus its rows leaves {hidden}"
        );
    }
}

async fn a_range_is_the_sum_of_its_published_days(backend: Backend) {
    let app = seeded(backend).await;
    assert_eq!(
        shared_visitors(&app, "period=day&date=2026-11-22").await,
        Value::Null
    );
    let two_days = "period=custom&date=2026-11-22,2026-11-23";
    assert_eq!(
        shared_visitors(&app, two_days).await,
        33,
        "today and yesterday together minus today would be yesterday's 3"
    );
    assert_eq!(shared_visitors(&app, "period=7d").await, 33);
    assert_eq!(
        shared_rows(&app, "event:page", two_days).await,
        owned(&[("/afval", 13), ("/bezwaar", 10), ("(other)", 10)]),
        "yesterday's 3 on /afval stay out of the page's row too"
    );
    assert_eq!(app.metric("visitors", two_days).await, 36, "owners see all");

    // A running week at 14:00 local is compared by the published hours of
    // its last day: 11:00 (22 people) is shown, 12:00 (10) is hidden so
    // that 13:00 (1) cannot be read off the day's 33; against 16 November
    // until 14:00 (12).
    app.set_time("2026-11-23T13:00:00Z");
    let running = shared(
        &app,
        "aggregate?metrics=visitors&period=7d&compare=previous_period",
    )
    .await;
    assert_eq!(
        running["results"]["visitors"],
        json!({ "value": 33, "change": 83.0 })
    );

    // A comparison compares published figures only: the finished week.
    app.set_time("2026-11-24T09:00:00Z");
    let compared = shared(
        &app,
        "aggregate?metrics=visitors,bounce_rate&period=7d&date=2026-11-23&compare=previous_period",
    )
    .await;
    assert_eq!(compared["results"]["visitors"]["value"], 33);
    assert_eq!(
        compared["results"]["visitors"]["change"], 175.0,
        "33 against the previous week's 12, not 36"
    );
    let against_yesterday = shared(
        &app,
        "aggregate?metrics=visitors&period=day&date=2026-11-23&compare=previous_period",
    )
    .await;
    assert_eq!(against_yesterday["results"]["visitors"]["value"], 33);
    assert!(
        against_yesterday["results"]["visitors"]
            .get("change")
            .is_none(),
        "a change against 3 would tell the 3"
    );

    // Days and months of a series are published days.
    let days = shared(&app, &format!("timeseries?metrics=visitors&{WEEK}")).await;
    let days: Vec<Value> = days["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["visitors"].clone())
        .collect();
    assert_eq!(days[0], 12);
    assert_eq!(days[6], Value::Null, "22 November: 3 visitors");
    assert_eq!(days[7], 33);
    assert!(days[1..6].iter().all(Value::is_null), "none looks like few");
    let months = shared(&app, "timeseries?metrics=visitors&period=12mo").await;
    let november = months["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(november["visitors"], 45, "12 + 33, without the 3");
}

/// The same for a named page: the page's filter over two days minus its
/// filter over one would be the other day's visitors of the page.
async fn a_named_page_over_a_range_is_the_sum_of_its_published_days(backend: Backend) {
    let app = seeded(backend).await;
    let afval = "filters=event:page%3D%3D/afval";
    let on = |dates: &str| format!("period=custom&date={dates}&{afval}");
    assert_eq!(
        shared_visitors(&app, &on("2026-11-22,2026-11-22")).await,
        Value::Null,
        "3 visitors of /afval on 22 November"
    );
    assert_eq!(
        shared_visitors(&app, &on("2026-11-23,2026-11-23")).await,
        13
    );
    assert_eq!(
        shared_visitors(&app, &on("2026-11-22,2026-11-23")).await,
        13,
        "both days minus 23 November would be 22 November's 3"
    );
    assert_eq!(shared_visitors(&app, &format!("{WEEK}&{afval}")).await, 25);
    let days = shared(&app, &format!("timeseries?metrics=visitors&{WEEK}&{afval}")).await;
    let days: Vec<Value> = days["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["visitors"].clone())
        .collect();
    assert_eq!(days[0], 12);
    assert_eq!(days[6], Value::Null);
    assert_eq!(days[7], 13);
    assert_eq!(
        app.metric("visitors", &on("2026-11-22,2026-11-23")).await,
        16,
        "owners see all"
    );
}

async fn hours_hide_what_the_day_would_tell(backend: Backend) {
    let app = seeded(backend).await;
    let hours = shared(
        &app,
        "timeseries?metrics=visitors,visits&period=day&interval=hour",
    )
    .await;
    let shown: Vec<(String, i64)> = hours["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|point| {
            Some((
                point["date"].as_str()?.to_owned(),
                point["visits"].as_i64()?,
            ))
        })
        .collect();
    assert_eq!(
        shown,
        owned(&[("2026-11-23 11:00:00", 22)]),
        "12:00 (10) would leave 33 − 22 − 10 = the 1 at 13:00"
    );
    let owner = app
        .stats("timeseries", "metrics=visits&period=day&interval=hour")
        .await;
    let busy = owner["results"].as_array().unwrap().iter();
    assert_eq!(busy.filter(|point| point["visits"] != 0).count(), 3);
}

async fn filters_answer_nothing_for_hidden_or_unseen_values(backend: Backend) {
    let app = seeded(backend).await;
    let filtered = |filter: &str| format!("period=day&filters={filter}");
    assert_eq!(
        shared_visitors(&app, &filtered("event:page%3D%3D/bezwaar")).await,
        10
    );
    let rare = shared(
        &app,
        &format!(
            "aggregate?metrics=visitors,pageviews&{}",
            filtered("event:page%3D%3D/zeldzaam")
        ),
    )
    .await;
    let never = shared(
        &app,
        &format!(
            "aggregate?metrics=visitors,pageviews&{}",
            filtered("event:page%3D%3D/nooit")
        ),
    )
    .await;
    assert_eq!(rare["results"]["visitors"]["value"], Value::Null);
    assert_eq!(rare, never, "one visitor and none answer alike");
    assert_eq!(
        shared_visitors(&app, &filtered("visit:device%3D%3Dmobile")).await,
        Value::Null,
        "mobile is hidden in the devices to protect the tablet: (other) 11 − 10"
    );
}

on_every_backend!(
    rows_just_below_and_above_k_and_a_small_other_give_nothing_away,
    a_range_is_the_sum_of_its_published_days,
    a_named_page_over_a_range_is_the_sum_of_its_published_days,
    hours_hide_what_the_day_would_tell,
    filters_answer_nothing_for_hidden_or_unseen_values,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_the_zip_hold_the_same_published_figures() {
    let app = seeded(Backend::Embedded).await;
    let devices = shared_response(
        &app,
        "breakdown?property=visit:device&metrics=visitors&period=day&format=csv",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(devices, "device,visitors\ndesktop,22\n(other),11\n");
    let two_days = shared_response(
        &app,
        "aggregate?metrics=visitors&period=custom&date=2026-11-22,2026-11-23&format=csv",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(two_days, "metric,value,change\nvisitors,33,\n");

    let zip = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/export?site_id={SITE}&period=day&share={SHARE}",
            app.public
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut file = |name: &str| {
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let devices = file("devices.csv");
    assert!(devices.contains("\n(other),100,11,"), "{devices}");
    assert!(
        !devices.contains("mobile") && !devices.contains("tablet"),
        "{devices}"
    );
    let campaigns = file("utm_campaigns.csv");
    assert!(!campaigns.contains("(other)"), "{campaigns}");
    let series = file("timeseries.csv");
    let mut lines = series.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|column| *column == name).unwrap();
    let (date, visitors) = (at("date"), at("visitors"));
    let shown_hours: Vec<(String, String)> = lines
        .map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| !cells[visitors].is_empty())
        .map(|cells| (cells[date].clone(), cells[visitors].clone()))
        .collect();
    assert_eq!(
        shown_hours,
        [("2026-11-23 11:00:00".to_owned(), "22".to_owned())],
        "{series}"
    );
}

/// Realtime for the public moves in steps of k, so polling does not show
/// each arrival.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_is_rounded_down_to_k_for_the_public() {
    let app = seeded(Backend::Embedded).await;
    app.set_time("2026-11-23T12:01:00Z");
    visits(&app, "2026-11-23T12:01:00Z", 12, 106, "/afval", FIREFOX).await;
    app.wait_for_events(60, WEEK).await;
    let mut last = Value::Null;
    for _ in 0..100 {
        let response = shared_response(&app, "realtime/visitors?x=1").await;
        last = response.json().await.unwrap();
        if last.as_i64().is_some_and(|n| n >= K) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last, 10, "13 visitors in the last five minutes read as 10");
}
