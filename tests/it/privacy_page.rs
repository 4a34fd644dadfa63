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
        (
            "KRUIMEL_REGISTER__CONTROLLER",
            r#"{ name = "Gemeente Voorbeeld", email = "privacy@gemeente.example" }"#,
        ),
        (
            "KRUIMEL_REGISTER__DPO",
            r#"{ name = "FG", email = "fg@gemeente.example" }"#,
        ),
        ("KRUIMEL_REGISTER__PROCESSOR", r#"{ name = "Hoster BV" }"#),
        ("KRUIMEL_REGISTER__UPDATED", "2026-03-01"),
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
        "6 maanden",
        "<dt>Naam</dt><dd>kruimel_consent</dd>",
        "Hoster BV beheert de server van Kruimel voor Gemeente Voorbeeld",
        "<a href=\"mailto:fg@gemeente.example\">fg@gemeente.example</a>",
        "1 maart 2026",
    ] {
        assert!(html.contains(expected), "{expected:?} in the Dutch page");
    }
    for absent in ["1470", "Ontvangers</dt><dd>Geen", "bevestigen"] {
        assert!(!html.contains(absent), "{absent:?} in the Dutch page");
    }
    // The register's fields in the order of AVG article 30(1), then the rest.
    let register = html.split("<dl class=\"register\">").nth(1).unwrap();
    let labels: Vec<&str> = register
        .split("<dt>")
        .skip(1)
        .map(|dt| dt.split([' ', '<']).next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "Verwerkingsverantwoordelijke",
            "Functionaris",
            "Doeleinden",
            "Categorieën",
            "Categorieën",
            "Categorieën",
            "Doorgifte",
            "Bewaartermijnen",
            "Beveiligingsmaatregelen",
            "Verwerker",
            "Grondslag",
            "Laatst",
        ]
    );
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
    assert_eq!(json["settings"]["recipients"][0]["role"], "processor");
    assert_eq!(json["settings"]["cookies"][0]["name"], "kruimel_consent");
    let fields = json["register"]["fields"].as_array().unwrap();
    assert_eq!(fields[0]["key"], "controller");
    assert_eq!(fields[0]["article"], "30(1)(a)");
    assert_eq!(fields[6]["key"], "transfers");
    assert_eq!(fields[10]["label"], "Grondslag");
    // The bytes on the wire keep that order too, whatever the reader does.
    let raw = app
        .client
        .get(format!("{base}.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = |key: &str| raw.find(&format!("\"key\":\"{key}\"")).unwrap();
    assert!(at("controller") < at("purposes") && at("purposes") < at("security_measures"));

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
