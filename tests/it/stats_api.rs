//! The stats API's edges: tokens, errors, realtime, the OpenAPI document.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, SITE, TOKEN, TestApp, get_json};

async fn stats_need_the_sites_token(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let url = format!(
        "http://{}/api/v1/stats/aggregate?site_id={SITE}&period=day",
        app.public
    );
    for token in [None, Some("wrong"), Some("")] {
        let mut request = app.client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
    }
    let unknown = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/aggregate?site_id=nobody.example",
            app.public
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        401,
        "unknown sites look like wrong tokens"
    );
}

async fn bad_queries_get_stable_codes(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for (query, code) in [
        ("period=fortnight", "invalid_period"),
        ("period=custom&date=2026-11-01", "invalid_date"),
        ("metrics=visitors,clicks", "invalid_metric"),
        ("filters=visit:os==Linux", "invalid_filter"),
        ("period=12mo&interval=hour", "invalid_interval"),
    ] {
        let response = app.stats_response("timeseries", query).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{query}");
    }
    let response = app
        .stats_response("breakdown", "property=visit:shoe_size")
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_property");
}

async fn realtime_counts_visitors_of_the_last_five_minutes(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    app.pageview("81.204.1.1", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.pageview("81.204.2.2", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(2, "period=day").await;
    let body = app.stats("realtime/visitors", "").await;
    assert_eq!(body, 2);
    app.set_time("2026-11-23T10:06:00Z");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.stats("realtime/visitors", "").await, 0);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/api/openapi.json", app.public);
    let document = get_json(&app.client, &url, None).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/event",
        "/api/v1/stats/aggregate",
        "/api/v1/stats/timeseries",
        "/api/v1/stats/breakdown",
        "/api/v1/stats/realtime/visitors",
        "/api/v1/stats/consent",
        "/js/kruimel.js",
        "/api/consent/notice",
        "/api/consent",
        "/api/consent/{id}",
        "/api/consent/{id}/status",
        "/api/v1/stats/export",
        "/dashboard/api/login",
        "/dashboard/api/session",
        "/dashboard/api/logout",
        "/dashboard/api/sites/{site}/share-links",
        "/dashboard/api/sites/{site}/share-links/{id}",
        "/privacy/{site}",
        "/privacy/{site}.json",
        "/api/openapi.json",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
}

async fn health_and_readiness_answer_on_the_admin_listener_only(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let health = app
        .client
        .get(format!("http://{}/healthz", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = get_json(&app.client, &format!("http://{}/readyz", app.admin), None).await;
    assert_eq!(ready["status"], "ready");
    let public = app
        .client
        .get(format!("http://{}/metrics", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}

on_every_backend!(
    stats_need_the_sites_token,
    bad_queries_get_stable_codes,
    realtime_counts_visitors_of_the_last_five_minutes,
    health_and_readiness_answer_on_the_admin_listener_only,
);
