//! `/privacy/<site>`: the privacy page and its JSON, generated from the
//! settings in force, in Dutch and English.

use kruimel::config::TokenHash;

use crate::helpers::{SITE, TOKEN, TestApp};

#[tokio::test]
async fn the_privacy_page_reports_the_live_settings_in_dutch_and_english() {
    let sites = format!(
        r#"[{{ id = "{SITE}", retention_days = 400, tokens = ["{}"], consent = {{ categories = ["media"], retention_days = 200 }} }}]"#,
        TokenHash::of_token(TOKEN).stored_form()
    );
    let env = [
        ("KRUIMEL_SITES", sites.as_str()),
        ("KRUIMEL_PRIVACY__IPV4_PREFIX", "16"),
        ("KRUIMEL_PRIVACY__QUERY_ALLOW", r#"["zoekterm"]"#),
    ];
    let app = TestApp::spawn_with(&env, "2026-11-23T10:00:00Z").await;
    let base = format!("http://{}/privacy/{SITE}", app.public);

    let page = app.client.get(&base).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("script-src"), "the page runs no script");
    let html = page.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>\n<html lang=\"nl\">"));
    for expected in [
        "IPv4 tot /16",
        "400 dagen",
        "200 dagen",
        "Externe media",
        "zoekterm",
        "Grondslag",
        "1470 minuten",
    ] {
        assert!(html.contains(expected), "{expected:?} in the Dutch page");
    }
    assert!(!html.contains("<script"));

    let english = app
        .client
        .get(format!("{base}?lang=en"))
        .send()
        .await
        .unwrap();
    let html = english.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Legal basis"));
    assert!(html.contains("External media") && html.contains("400 days"));

    let json: serde_json::Value = app
        .client
        .get(format!("{base}.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["settings"]["ipv4_prefix"], 16);
    assert_eq!(json["settings"]["aggregate_retention_days"], 400);
    assert_eq!(json["settings"]["consent_receipt_retention_days"], 200);
    assert_eq!(json["settings"]["recipients"], serde_json::json!([]));
    assert_eq!(json["register"]["legal_basis"]["label"], "Grondslag");

    let unknown = app
        .client
        .get(format!("http://{}/privacy/elders.example", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let css = app
        .client
        .get(format!("http://{}/assets/kruimel.css", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}
