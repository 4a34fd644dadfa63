//! The admin listener against attacks from a browser and from the network:
//! a cross-site form or fetch cannot reload the configuration, and with
//! admin tokens configured `/metrics` and `/reload` need one.

use kruimel::config::TokenHash;
use serde_json::Value;

use crate::helpers::TestApp;

async fn post_reload(app: &TestApp, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app.client.post(format!("http://{}/reload", app.admin));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_cross_site_form_or_fetch_cannot_reload() {
    let app = TestApp::spawn().await;
    let form = [
        ("origin", "https://evil.example"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let (status, body) = post_reload(&app, &form).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("cross_origin")));
    let (status, _) = post_reload(&app, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, 403);
    let metrics = app
        .client
        .get(format!("http://{}/metrics", app.admin))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        metrics.status(),
        403,
        "a page cannot read the counts either"
    );
    let (status, body) = post_reload(&app, &[]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("reloaded")));
}

#[tokio::test]
async fn with_admin_tokens_metrics_and_reload_need_one() {
    let stored = format!(
        r#"["{}"]"#,
        TokenHash::of_token("beheer-geheim").stored_form()
    );
    let app = TestApp::spawn_with(
        &[("KRUIMEL_SERVER__ADMIN_TOKENS", stored.as_str())],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let get = |path: &str, token: Option<&str>| {
        let mut request = app.client.get(format!("http://{}{path}", app.admin));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(get("/metrics", None).await.unwrap().status(), 401);
    assert_eq!(get("/metrics", Some("fout")).await.unwrap().status(), 401);
    let scraped = get("/metrics", Some("beheer-geheim")).await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("kruimel_"));
    assert_eq!(get("/healthz", None).await.unwrap().status(), 200);
    assert_eq!(get("/readyz", None).await.unwrap().status(), 200);
    let (status, _) = post_reload(&app, &[]).await;
    assert_eq!(status, 401, "loopback is not enough once tokens are set");
    let auth = [("authorization", "Bearer beheer-geheim")];
    let (status, _) = post_reload(&app, &auth).await;
    assert_eq!(status, 200);
}
