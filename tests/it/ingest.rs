//! Ingest outcomes: counted, dropped with a reason, CORS, privacy signals.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{CHROME, FIREFOX, SITE, TOKEN, TestApp, get_json};

const IP: &str = "81.204.23.10";

fn dropped(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-kruimel-dropped")
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn deliberate_drops_are_answered_202_with_a_reason() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            SITE,
            "https://gemeente.example/",
            "bot",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36",
            SITE,
            "https://gemeente.example/",
            "bot",
        ),
        (
            FIREFOX,
            "unknown.example",
            "https://unknown.example/",
            "unknown_site",
        ),
        (
            FIREFOX,
            SITE,
            "https://elsewhere.example/",
            "hostname_not_allowed",
        ),
        ("", SITE, "https://gemeente.example/", "missing_user_agent"),
    ];
    for (agent, domain, url, reason) in cases {
        let body = serde_json::json!({ "n": "pageview", "u": url, "d": domain }).to_string();
        let response = app.send(IP, agent, &body).await;
        assert_eq!(response.status(), 202, "{reason}");
        assert_eq!(dropped(&response).as_deref(), Some(reason));
        assert_eq!(response.text().await.unwrap(), "{}");
    }
    let counted = app
        .pageview(IP, FIREFOX, "https://www.gemeente.example/", None)
        .await;
    assert_eq!(dropped(&counted), None);
    app.wait_for_events(1, "period=day").await;
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("kruimel_beacons_accepted_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kruimel_beacons_dropped_total{reason=\"bot\"} 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("kruimel_beacons_dropped_total{reason=\"unknown_site\"} 1\n"));
    assert!(metrics.contains("kruimel_beacons_dropped_total{reason=\"hostname_not_allowed\"} 1\n"));
    assert!(metrics.contains("kruimel_beacons_shed_total 0\n"));
}

async fn one_beacon_counts_for_every_site_it_names_whose_hostnames_allow_the_page(
    backend: Backend,
) {
    let token = kruimel::config::TokenHash::of_token(TOKEN).stored_form();
    let sites = format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], tokens = ["{token}"] }}, {{ id = "other.example", hostnames = ["other.example", "{SITE}"], tokens = ["{token}"] }}]"#
    );
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_SITES", &sites)],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let both = r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example,other.example,nobody.example"}"#;
    assert_eq!(dropped(&app.send(IP, FIREFOX, both).await), None);
    // www.gemeente.example is allowed for gemeente.example only.
    let one = r#"{"n":"pageview","u":"https://www.gemeente.example/","d":"gemeente.example,other.example"}"#;
    assert_eq!(dropped(&app.send(IP, FIREFOX, one).await), None);
    app.wait_for_events(2, "period=day").await;
    let url = format!(
        "http://{}/api/v1/stats/aggregate?site_id=other.example&period=day&metrics=pageviews",
        app.public
    );
    let other = get_json(&app.client, &url, Some(TOKEN)).await;
    assert_eq!(other["results"]["pageviews"]["value"], 1);
}

async fn global_privacy_control_counts_the_pageview_without_a_visitor(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for _ in 0..2 {
        let response = app
            .client
            .post(format!("http://{}/api/event", app.public))
            .header("user-agent", CHROME)
            .header("x-forwarded-for", IP)
            .header("sec-gpc", "1")
            .body(r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(dropped(&response), None);
    }
    app.wait_for_events(2, "period=day").await;
    let body = app
        .stats("aggregate", "period=day&metrics=visitors,visits,pageviews")
        .await;
    assert_eq!(body["results"]["pageviews"]["value"], 2);
    assert_eq!(body["results"]["visitors"]["value"], 0);
    assert_eq!(body["results"]["visits"]["value"], 0);
}

async fn privacy_signals_can_be_configured_to_drop(backend: Backend) {
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_PRIVACY__DNT", "drop")],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let response = app
        .client
        .post(format!("http://{}/api/event", app.public))
        .header("user-agent", CHROME)
        .header("dnt", "1")
        .body(r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(dropped(&response).as_deref(), Some("privacy_signal"));
}

#[tokio::test]
async fn browsers_on_a_site_hostname_get_cors_grants_and_others_do_not() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/api/event", app.public);
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://www.gemeente.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://www.gemeente.example"
    );
    let post = app
        .client
        .post(&url)
        .header("origin", "https://evil.example")
        .header("user-agent", FIREFOX)
        .body(r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 202);
    assert!(post.headers().get("access-control-allow-origin").is_none());
    // The site's own name, but over plain http or on another port: no grant.
    for origin in [
        "http://www.gemeente.example",
        "https://www.gemeente.example:8443",
    ] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn forwarding_headers_from_untrusted_peers_are_ignored() {
    // No trusted proxies: two different X-Forwarded-For values are one visitor.
    let app = TestApp::spawn_with(
        &[("KRUIMEL_SERVER__TRUSTED_PROXIES", "[]")],
        "2026-11-23T10:00:00Z",
    )
    .await;
    app.pageview("81.1.1.1", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.pageview("92.2.2.2", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(2, "period=day").await;
    assert_eq!(app.metric("visitors", "period=day").await, 1);
}

/// Visitors counted from two beacons, each sent with its headers.
async fn visitors_of(app: &TestApp, beacons: [&[(&str, &str)]; 2]) -> i64 {
    for headers in beacons {
        let mut request = app
            .client
            .post(format!("http://{}/api/event", app.public))
            .header("content-type", "text/plain")
            .header("user-agent", FIREFOX);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#;
        request.body(body).send().await.unwrap();
    }
    app.wait_for_events(2, "period=day").await;
    app.metric("visitors", "period=day").await.as_i64().unwrap()
}

#[tokio::test]
async fn a_client_cannot_choose_its_address_with_the_header_the_proxy_does_not_write() {
    // The default: the proxy appends the real address to X-Forwarded-For
    // and passes a client's own Forwarded through; that one is not read.
    let app = TestApp::spawn().await;
    let forged = [
        &[
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "81.204.23.1"),
        ][..],
        &[
            ("forwarded", "for=7.7.7.7"),
            ("x-forwarded-for", "81.204.23.1"),
        ][..],
    ];
    assert_eq!(visitors_of(&app, forged).await, 1, "one real address");

    let rfc7239 = [("KRUIMEL_SERVER__CLIENT_IP_HEADER", "forwarded")];
    let app = TestApp::spawn_with(&rfc7239, "2026-11-23T10:00:00Z").await;
    let forged = [
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("forwarded", "for=81.204.23.1"),
        ][..],
        &[
            ("x-forwarded-for", "7.7.7.7"),
            ("forwarded", "for=81.204.23.1"),
        ][..],
    ];
    assert_eq!(visitors_of(&app, forged).await, 1, "one real address");
    let app = TestApp::spawn_with(&rfc7239, "2026-11-23T10:00:00Z").await;
    let real = [
        &[("forwarded", "for=6.6.6.6")][..],
        &[("forwarded", "for=7.7.7.7")][..],
    ];
    assert_eq!(
        visitors_of(&app, real).await,
        2,
        "the configured header is read"
    );
}

async fn urls_are_scrubbed_before_they_are_counted(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    app.pageview(
        IP,
        FIREFOX,
        "https://gemeente.example/zaak/111222333/jan%40example.nl?token=x&utm_source=krant#top",
        None,
    )
    .await;
    app.wait_for_events(1, "period=day").await;
    let pages = app
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=pageviews",
        )
        .await;
    assert_eq!(pages["results"][0]["page"], "/zaak/{bsn}/{email}");
    let sources = app
        .stats(
            "breakdown",
            "period=day&property=visit:utm_source&metrics=visitors",
        )
        .await;
    assert_eq!(sources["results"][0]["utm_source"], "krant");
}

async fn countries_come_from_the_configured_database_by_truncated_prefix(backend: Backend) {
    let database = crate::country::country_database();
    let app = TestApp::spawn_on_with(
        backend,
        &[("KRUIMEL_GEOIP__DATABASE", database.to_str().unwrap())],
        "2026-11-23T10:00:00Z",
    )
    .await;
    app.pageview("81.204.23.197", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.pageview("193.190.198.20", CHROME, "https://gemeente.example/", None)
        .await;
    app.pageview("8.8.8.8", CHROME, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(3, "period=day").await;
    let countries = app
        .stats(
            "breakdown",
            "period=day&property=visit:country&metrics=visitors",
        )
        .await;
    let mut found = crate::helpers::rows(&countries, "country", "visitors");
    found.sort();
    assert_eq!(
        found,
        [("BE".into(), 1), ("NL".into(), 1), ("US".into(), 1)]
    );
    let dutch = app
        .stats(
            "aggregate",
            "period=day&metrics=pageviews&filters=visit:country==nl",
        )
        .await;
    assert_eq!(dutch["results"]["pageviews"]["value"], 1);
}

on_every_backend!(
    one_beacon_counts_for_every_site_it_names_whose_hostnames_allow_the_page,
    global_privacy_control_counts_the_pageview_without_a_visitor,
    privacy_signals_can_be_configured_to_drop,
    urls_are_scrubbed_before_they_are_counted,
    countries_come_from_the_configured_database_by_truncated_prefix,
);

/// A trusted proxy that sends a chain that is not addresses: each request still counts (under
/// the proxy's address), is counted in a metric, and is logged once, without the header or
/// an address.
#[tokio::test]
async fn a_malformed_chain_from_a_trusted_proxy_is_counted_and_logged_once() {
    const MARKER: &str = "NotAnAddress5521";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kruimel.log");
    let server = crate::process::ServerProcess::start(&dir.path().join("data"), &log).await;
    for _ in 0..3 {
        let status = server
            .send(MARKER, FIREFOX, "https://gemeente.example/")
            .await;
        assert_eq!(status, 202);
    }
    let mut pageviews = 0;
    for _ in 0..300 {
        pageviews = server.pageviews().await;
        if pageviews == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pageviews, 3, "the proxy's address stands in for the client");
    let exposition = server.metrics().await;
    let malformed = |header: &str| {
        crate::helpers::sample(
            &exposition,
            &format!("kruimel_forwarded_for_malformed_total{{header=\"{header}\"}}"),
        )
    };
    assert_eq!(malformed("x_forwarded_for"), 3.0);
    assert_eq!(malformed("forwarded"), 0.0);
    server.terminate();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("forwarding header"))
        .collect();
    assert_eq!(lines.len(), 1, "at most one line a minute: {lines:?}");
    assert!(lines[0].contains("x_forwarded_for"), "{}", lines[0]);
    assert!(!text.contains(MARKER), "the header's value is never logged");
    // The listeners' addresses are logged at start; the line itself names none.
    assert!(
        !lines[0].contains("127.0.0"),
        "nor an address: {}",
        lines[0]
    );
}
