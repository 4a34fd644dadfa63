//! A flood of consent receipts against the real server: many networks of
//! one provider share a budget, and a site stores at most its daily cap of
//! choices, whatever the number of networks, with a metric that says so.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::helpers::{SITE, TOKEN, TestApp};

const START: &str = "2026-11-23T10:00:00Z";

async fn spawn(max_choices_per_day: u32) -> TestApp {
    let token = TokenHash::of_token(TOKEN).stored_form();
    let sites = format!(
        r#"[{{ id = "{SITE}", hostnames = ["www.{SITE}"], tokens = ["{token}"], consent = {{ categories = ["media"], max_choices_per_day = {max_choices_per_day} }} }}]"#
    );
    TestApp::spawn_with(&[("KRUIMEL_SITES", &sites)], START).await
}

async fn banner_version(app: &TestApp) -> Value {
    let url = format!("http://{}/api/consent/notice?site={SITE}", app.public);
    let notice: Value = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    notice["banner_version"].clone()
}

async fn choose(app: &TestApp, banner_version: &Value, from: &str) -> (u16, Value) {
    let body = json!({
        "site": SITE, "policy_version": "1", "banner_version": banner_version,
        "language": "nl", "granted": [], "denied": ["media"], "method": "reject_all",
    });
    let response = app
        .client
        .post(format!("http://{}/api/consent", app.public))
        .header("content-type", "text/plain")
        .header("x-forwarded-for", from)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_choice_from_each_of_a_thousand_48s_of_one_32_stops_at_the_32s_budget() {
    let app = spawn(100_000).await;
    let banner = banner_version(&app).await;
    let mut stored = 0;
    let mut refused = 0;
    for n in 0..1000u32 {
        let from = format!("2001:db8:{n:x}::1");
        match choose(&app, &banner, &from).await {
            (201, _) => stored += 1,
            (429, body) => {
                assert_eq!(body["code"], "too_many_requests");
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        (stored, refused),
        (960, 40),
        "eight networks' budget a minute"
    );
    assert_eq!(
        choose(&app, &banner, "2001:db9::1").await.0,
        201,
        "another /32"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_stores_at_most_its_daily_cap_of_choices_from_any_networks() {
    let app = spawn(5).await;
    let banner = banner_version(&app).await;
    for n in 0..5 {
        let (status, _) = choose(&app, &banner, &format!("198.51.{n}.7")).await;
        assert_eq!(status, 201);
    }
    let (status, body) = choose(&app, &banner, "203.0.113.7").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("consent_cap_reached"))
    );
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains(&format!(
            "kruimel_consent_choices_capped_total{{site=\"{SITE}\"}} 1"
        )),
        "{metrics}"
    );
    let stats = app.stats("consent", "period=day").await;
    assert_eq!(
        stats["results"][0]["choices"], 5,
        "nothing stored past the cap"
    );

    app.set_time("2026-11-24T00:00:01+01:00");
    assert_eq!(
        choose(&app, &banner, "203.0.113.7").await.0,
        201,
        "a new day"
    );
}
