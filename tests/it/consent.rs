//! Consent receipts and the notice, through the real HTTP API, on every
//! backend: create, append, read, erase, retention, archived notices,
//! counts in the stats API, and bad input that stores nothing.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{SITE, TOKEN, TestApp};

const START: &str = "2026-11-23T10:00:00Z";
const ORIGIN: &str = "https://www.gemeente.example";

/// `gemeente.example` asks for external media and marketing; receipts
/// live 30 days after their last change.
fn sites(policy_version: &str) -> String {
    let token = TokenHash::of_token(TOKEN).stored_form();
    format!(
        r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], tokens = ["{token}"], consent = {{ policy_version = "{policy_version}", categories = ["media", "marketing"], retention_days = 30, privacy_url = "https://www.gemeente.example/privacy" }} }}, {{ id = "other.example", tokens = ["{token}"] }}]"#
    )
}

async fn spawn(backend: Backend) -> TestApp {
    let sites = sites("2026-1");
    TestApp::spawn_on_with(backend, &[("KRUIMEL_SITES", &sites)], START).await
}

async fn notice(app: &TestApp, lang: &str) -> Value {
    let response = app
        .client
        .get(format!(
            "http://{}/api/consent/notice?site={SITE}&lang={lang}",
            app.public
        ))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    response.json().await.unwrap()
}

fn choice(notice: &Value, receipt: Option<&str>, granted: &[&str], method: &str) -> Value {
    let denied: Vec<&str> = ["media", "marketing"]
        .into_iter()
        .filter(|id| !granted.contains(id))
        .collect();
    json!({
        "site": SITE,
        "receipt": receipt,
        "policy_version": notice["policy_version"],
        "banner_version": notice["banner_version"],
        "language": notice["language"],
        "granted": granted,
        "denied": denied,
        "method": method,
    })
}

async fn post(app: &TestApp, body: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("http://{}/api/consent", app.public))
        .header("content-type", "text/plain")
        .header("origin", ORIGIN)
        .header("user-agent", "Mozilla/5.0 Consent-Marker-UA")
        .header("x-forwarded-for", "203.0.113.77")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn receipt(app: &TestApp, id: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("http://{}/api/consent/{id}", app.public))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn erase(app: &TestApp, id: &str) -> u16 {
    app.client
        .delete(format!("http://{}/api/consent/{id}", app.public))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /api/consent/{id}/status` as the script sends it from the site:
/// status, CORS grant, cache header and body.
async fn status(app: &TestApp, id: &str) -> (u16, String, String, String) {
    let response = app
        .client
        .get(format!("http://{}/api/consent/{id}/status", app.public))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map_or(String::new(), |value| value.to_str().unwrap().to_owned())
    };
    let (cors, cache) = (
        header("access-control-allow-origin"),
        header("cache-control"),
    );
    let status = response.status().as_u16();
    (status, cors, cache, response.text().await.unwrap())
}

async fn a_receipt_status_says_whether_the_receipt_is_still_kept(backend: Backend) {
    let app = spawn(backend).await;
    let nl = notice(&app, "nl").await;
    let (_, created) = post(&app, &choice(&nl, None, &["media"], "custom").to_string()).await;
    let id = created["receipt"].as_str().unwrap();
    assert_eq!(
        status(&app, id).await,
        (204, ORIGIN.to_owned(), "no-store".to_owned(), String::new()),
        "kept: no body, never cached, readable by the site"
    );
    assert_eq!(erase(&app, id).await, 204);
    let (code, cors, cache, body) = status(&app, id).await;
    assert_eq!(
        (code, cors.as_str(), cache.as_str()),
        (404, ORIGIN, "no-store")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "receipt_not_found"
    );
    let (code, _, _, body) = status(&app, "not-a-receipt").await;
    assert_eq!(code, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "invalid_receipt_id"
    );
    let (code, _, _, _) = status(&app, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(code, 404, "an id never stored");
    let requests = app
        .sample(r#"kruimel_http_requests_total{route="consent_receipt_status",status="4xx"}"#)
        .await;
    assert_eq!(requests, 3.0, "counted under a route of its own");
}

async fn a_receipt_is_created_appended_read_and_erased(backend: Backend) {
    let app = spawn(backend).await;
    let nl = notice(&app, "nl").await;
    assert_eq!(nl["mode"], "consent");
    assert_eq!(nl["texts"]["accept_all"], "Alles accepteren");

    let (status, first) = post(
        &app,
        &choice(&nl, None, &["media", "marketing"], "accept_all").to_string(),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let id = first["receipt"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(first["created"], true);

    app.set_time("2026-11-24T09:30:05Z");
    let (status, second) = post(
        &app,
        &choice(&nl, Some(&id), &["media"], "custom").to_string(),
    )
    .await;
    assert_eq!((status, &second["receipt"]), (200, &json!(id)), "{second}");
    app.set_time("2026-11-25T08:00:00Z");
    let (status, _) = post(&app, &choice(&nl, Some(&id), &[], "withdraw").to_string()).await;
    assert_eq!(status, 200);

    let (status, shown) = receipt(&app, &id).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["site"], SITE);
    assert_eq!(shown["created"], "2026-11-23T10:00:00Z");
    assert_eq!(shown["updated"], "2026-11-25T08:00:00Z");
    assert_eq!(
        shown["expires"], "2026-12-25T08:00:00Z",
        "30 days after the last change"
    );
    let history = shown["history"].as_array().unwrap();
    let methods: Vec<&str> = history
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["accept_all", "custom", "withdraw"]);
    assert_eq!(history[1]["at"], "2026-11-24T09:30:05Z");
    assert_eq!(history[1]["granted"], json!(["media"]));
    assert_eq!(history[1]["denied"], json!(["marketing"]));
    assert_eq!(history[1]["banner_version"], nl["banner_version"]);
    assert_eq!(history[1]["policy_version"], "2026-1");
    assert_eq!(history[1]["language"], "nl");
    let text = shown.to_string();
    assert!(!text.contains("203.0.113") && !text.contains("Consent-Marker-UA"));

    // A choice naming a receipt that does not exist starts a new one.
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, fresh) = post(
        &app,
        &choice(&nl, Some(unknown), &[], "reject_all").to_string(),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(fresh["receipt"], unknown);

    assert_eq!(erase(&app, &id).await, 204);
    assert_eq!(receipt(&app, &id).await.0, 404);
    assert_eq!(erase(&app, &id).await, 404);
    assert_eq!(
        receipt(&app, fresh["receipt"].as_str().unwrap()).await.0,
        200
    );
    assert_eq!(
        app.sample("kruimel_consent_receipts_erased_total").await,
        1.0
    );
}

async fn consent_choices_are_counted_per_day_banner_and_category(backend: Backend) {
    let app = spawn(backend).await;
    let nl = notice(&app, "nl").await;
    let en = notice(&app, "en").await;
    assert_ne!(nl["banner_version"], en["banner_version"]);
    for (notice, granted, method) in [
        (&nl, &["media", "marketing"][..], "accept_all"),
        (&nl, &[][..], "reject_all"),
        (&nl, &["media"][..], "custom"),
        (&en, &[][..], "reject_all"),
    ] {
        let (status, body) = post(&app, &choice(notice, None, granted, method).to_string()).await;
        assert_eq!(status, 201, "{body}");
    }
    let stats = app.stats("consent", "period=day").await;
    let rows = stats["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{stats}");
    let dutch = rows
        .iter()
        .find(|row| row["banner_version"] == nl["banner_version"])
        .unwrap();
    assert_eq!(dutch["date"], "2026-11-23");
    assert_eq!(dutch["choices"], 3);
    assert_eq!(dutch["methods"]["accept_all"], 1);
    assert_eq!(dutch["methods"]["reject_all"], 1);
    assert_eq!(dutch["methods"]["custom"], 1);
    assert_eq!(
        dutch["categories"]["media"],
        json!({ "granted": 2, "denied": 1 })
    );
    assert_eq!(
        dutch["categories"]["marketing"],
        json!({ "granted": 1, "denied": 2 })
    );
    let csv = app
        .stats_response("consent", "period=day&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("date,banner_version,choices,accept_all,reject_all,custom,withdraw,privacy_signal,marketing_granted,marketing_denied,media_granted,media_denied\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "2026-11-23,{},3,1,1,1,0,0,1,2,2,1",
            nl["banner_version"].as_str().unwrap()
        )),
        "{csv}"
    );
    let yesterday = app.stats("consent", "period=day&date=2026-11-22").await;
    assert_eq!(yesterday["results"], json!([]));
    let unauthorised = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/consent?site_id={SITE}",
            app.public
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("kruimel_consent_choices_total{method=\"reject_all\"} 2"),
        "{metrics}"
    );
}

async fn receipts_are_deleted_when_their_retention_ends(backend: Backend) {
    let app = spawn(backend).await;
    let nl = notice(&app, "nl").await;
    let (_, old) = post(&app, &choice(&nl, None, &[], "reject_all").to_string()).await;
    let (_, kept) = post(&app, &choice(&nl, None, &[], "reject_all").to_string()).await;
    app.set_time("2026-12-20T10:00:00Z");
    let (status, _) = post(
        &app,
        &choice(&nl, kept["receipt"].as_str(), &["media"], "custom").to_string(),
    )
    .await;
    assert_eq!(status, 200, "a later change extends the retention");

    let sites = sites("2026-1");
    let app = app
        .restart(&[("KRUIMEL_SITES", &sites)], "2026-12-24T10:00:01Z")
        .await;
    let old = old["receipt"].as_str().unwrap();
    let mut status = 0;
    for _ in 0..200 {
        status = receipt(&app, old).await.0;
        if status == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 404,
        "30 days after its last change the receipt is gone"
    );
    let (status, kept) = receipt(&app, kept["receipt"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(kept["history"].as_array().unwrap().len(), 2);
    // The counter moves once the purge call returns, just after the delete.
    let mut expired = 0.0;
    for _ in 0..100 {
        expired = app.sample("kruimel_consent_receipts_expired_total").await;
        if expired == 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(expired, 1.0);
}

async fn a_choice_on_an_earlier_notice_is_checked_against_its_archived_version(backend: Backend) {
    let app = spawn(backend).await;
    let before = notice(&app, "nl").await;
    // The site raises its policy version: a new notice, the old one archived.
    *app.reload_env.lock().unwrap() = vec![("KRUIMEL_SITES".into(), sites("2026-2"))];
    let reloaded = app
        .client
        .post(format!("http://{}/reload", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(reloaded.status(), 200);
    let after = notice(&app, "nl").await;
    assert_eq!(after["policy_version"], "2026-2");
    assert_ne!(after["banner_version"], before["banner_version"]);

    let (status, body) = post(&app, &choice(&before, None, &[], "reject_all").to_string()).await;
    assert_eq!(status, 201, "a page loaded before the change: {body}");
    let mut mixed = choice(&before, None, &[], "reject_all");
    mixed["policy_version"] = json!("2026-2");
    let (status, body) = post(&app, &mixed.to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("policy_version_mismatch"))
    );
    let mut invented = choice(&after, None, &[], "reject_all");
    invented["banner_version"] = json!("00000000deadbeef");
    let (status, body) = post(&app, &invented.to_string()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unknown_banner_version"))
    );
}

async fn bad_choices_get_their_error_code_and_store_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let nl = notice(&app, "nl").await;
    let valid = choice(&nl, None, &[], "reject_all");
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body.to_string()
    };
    let cases = [
        (with("site", json!("elders.example")), 404, "unknown_site"),
        (
            with("site", json!("other.example")),
            400,
            "consent_not_asked",
        ),
        (
            with("denied", json!(["media", "video"])),
            400,
            "unknown_category",
        ),
        (with("denied", json!(["media"])), 400, "invalid_categories"),
        (with("method", json!("accept_all")), 400, "invalid_method"),
        (
            with("receipt", json!("../../etc/passwd")),
            400,
            "invalid_receipt_id",
        ),
        (with("language", json!("en")), 400, "language_mismatch"),
        (with("ip", json!("203.0.113.77")), 400, "invalid_choice"),
        (with("granted", json!("media")), 400, "invalid_choice"),
        ("{\"site\":".to_owned(), 400, "invalid_json"),
        (
            format!("{{\"site\":\"{}\"}}", "x".repeat(5_000)),
            413,
            "body_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = post(&app, &body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{body:.200}"
        );
    }
    for (path, status, code) in [
        ("not-an-id", 400, "invalid_receipt_id"),
        (
            "0123456789ABCDEF0123456789ABCDEF",
            400,
            "invalid_receipt_id",
        ),
        ("0123456789abcdef0123456789abcdef", 404, "receipt_not_found"),
    ] {
        let (got, answer) = receipt(&app, path).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
    }
    let unknown = app
        .client
        .get(format!(
            "http://{}/api/consent/notice?site=elders.example",
            app.public
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        app.stats("consent", "period=day").await["results"],
        json!([])
    );
    let metrics = app.metrics_text().await;
    for method in [
        "accept_all",
        "reject_all",
        "custom",
        "withdraw",
        "privacy_signal",
    ] {
        assert!(metrics.contains(&format!(
            "kruimel_consent_choices_total{{method=\"{method}\"}} 0"
        )));
    }
    if app.backend.is_redis() {
        let receipts = app
            .backend
            .dump()
            .into_iter()
            .filter(|(key, _)| key.ends_with(":receipt"))
            .count();
        assert_eq!(receipts, 0, "no receipt was stored");
    }
}

on_every_backend!(
    a_receipt_is_created_appended_read_and_erased,
    a_receipt_status_says_whether_the_receipt_is_still_kept,
    consent_choices_are_counted_per_day_banner_and_category,
    receipts_are_deleted_when_their_retention_ends,
    a_choice_on_an_earlier_notice_is_checked_against_its_archived_version,
    bad_choices_get_their_error_code_and_store_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_network_records_at_most_120_choices_a_minute() {
    let app = spawn(Backend::Embedded).await;
    let nl = notice(&app, "nl").await;
    let body = choice(&nl, None, &[], "reject_all").to_string();
    let send = |ip: &'static str| {
        let body = body.clone();
        let app = &app;
        async move {
            app.client
                .post(format!("http://{}/api/consent", app.public))
                .header("x-forwarded-for", ip)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..120 {
        assert_eq!(send("198.51.100.7").await.status(), 201);
    }
    let refused = send("198.51.100.99").await;
    assert_eq!(refused.status(), 429, "the same /24");
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(send("192.0.2.7").await.status(), 201, "another network");
    let stats = app.stats("consent", "period=day").await;
    assert_eq!(
        stats["results"][0]["choices"], 121,
        "the refused choice is not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sees_its_receipt_as_a_page_and_can_erase_it_there() {
    let app = spawn(Backend::Embedded).await;
    let en = notice(&app, "en").await;
    let (_, created) = post(&app, &choice(&en, None, &["media"], "custom").to_string()).await;
    let id = created["receipt"].as_str().unwrap();
    let url = format!("http://{}/api/consent/{id}", app.public);
    let page = app
        .client
        .get(&url)
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Your cookie choices"));
    assert!(html.contains("chose") && html.contains("media") && html.contains("marketing"));
    assert!(html.contains(id));

    assert!(
        !html.contains("method=\"post\""),
        "the receipt page's button only asks, it does not erase"
    );
    assert!(html.contains("<form method=\"get\""));
    assert!(html.contains("name=\"step\" value=\"erase\""));

    // The second step: are you sure? In the receipt's language; nothing erased yet.
    let confirm = app
        .client
        .get(format!("{url}?step=erase"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Are you sure?"));
    assert!(html.contains(&format!(
        "<form method=\"post\" action=\"/api/consent/{id}\">"
    )));
    assert!(html.contains("name=\"action\" value=\"erase\""));
    assert!(html.contains("name=\"lang\" value=\"en\""));
    assert!(html.contains(&format!(
        "<a href=\"/api/consent/{id}\">No, back to my choices</a>"
    )));
    assert_eq!(receipt(&app, id).await.0, 200, "asking erases nothing");

    let post_form = |body: &'static str| {
        app.client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .body(body)
            .send()
    };
    // A form on another site that learnt the id cannot erase it.
    let cross_site = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body("action=erase&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let said_cross_site = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("origin", "null")
        .body("action=erase&lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(said_cross_site.status(), 403);
    assert_eq!(receipt(&app, id).await.0, 200, "still kept");
    let erased = post_form("action=erase&lang=en").await.unwrap();
    assert_eq!(erased.status(), 200);
    let html = erased.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>Erased</h1>"));
    assert!(
        !html.contains("Gewist") && !html.contains("lang=\"nl\""),
        "one language, the page's: {html}"
    );
    assert_eq!(receipt(&app, id).await.0, 404);

    // Sent twice: there is nothing left, still in English.
    let again = post_form("action=erase&lang=en").await.unwrap();
    assert_eq!(again.status(), 404);
    let html = again.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("There are no choices"));
    assert!(!html.contains("Er zijn geen keuzes"));
    // A language the pages lack falls back to Dutch; a form without action is refused.
    let odd = post_form("action=erase&lang=%22%3E").await.unwrap();
    assert!(odd.text().await.unwrap().contains("<html lang=\"nl\">"));
    assert_eq!(post_form("lang=en").await.unwrap().status(), 400);
}
