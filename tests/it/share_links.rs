//! Share links made in the dashboard, on every backend: a site's admin
//! makes one (its secret shown once), its holder reads the stats with
//! small counts folded, the admin revokes it; a viewer may not, and a
//! change without the CSRF token is refused; all of it in the audit log.

use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::dashboard_auth::{PASSWORD, add_user, cookie_of, login};
use crate::helpers::{FIREFOX, SITE, TestApp, rows};

async fn signed_in(app: &TestApp, name: &str) -> (String, String) {
    let response = login(app, json!({ "user": name, "password": PASSWORD })).await;
    assert_eq!(response.status(), 200);
    let cookie = cookie_of(&response);
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf"].as_str().unwrap().to_owned())
}

async fn links_call(
    app: &TestApp,
    method: reqwest::Method,
    tail: &str,
    session: &(String, String),
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(
            method,
            format!(
                "http://{}/dashboard/api/sites/{SITE}/share-links{tail}",
                app.public
            ),
        )
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn shared_pages(app: &TestApp, secret: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/breakdown?site_id={SITE}&period=day&property=event:page&share={secret}",
            app.public
        ))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn an_admin_makes_and_revokes_a_share_link_that_reads_folded_stats(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let data = app.data_dir();
    add_user(data, "anna", "admin");
    add_user(data, "vera", "viewer");
    for (ip, page) in (1..=10)
        .map(|n| (format!("81.204.{n}.1"), "/afval"))
        .chain([("81.204.99.1".to_owned(), "/bezwaar")])
    {
        let body = json!({ "n": "pageview", "u": format!("https://{SITE}{page}"), "d": SITE });
        assert_eq!(
            app.send(&ip, FIREFOX, &body.to_string()).await.status(),
            202
        );
    }
    app.wait_for_events(11, "period=day").await;

    let anna = signed_in(&app, "anna").await;
    let made = links_call(
        &app,
        reqwest::Method::POST,
        "",
        &anna,
        Some(json!({ "name": "Gemeenteraad" })),
    )
    .await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(made["url"], format!("/dashboard/{SITE}?share={secret}"));
    let listed: Value = links_call(&app, reqwest::Method::GET, "", &anna, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["share_links"][0]["name"], "Gemeenteraad");
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once only"
    );

    let (status, pages) = shared_pages(&app, &secret).await;
    assert_eq!(status, 200);
    assert_eq!(
        rows(&pages, "page", "visitors"),
        [("(other)".into(), 11)],
        "/afval joins (other): the day's 11 visitors minus its 10 would tell the 1"
    );
    assert_eq!(shared_pages(&app, "not-the-secret").await.0, 401);

    let vera = signed_in(&app, "vera").await;
    let refused = links_call(
        &app,
        reqwest::Method::POST,
        "",
        &vera,
        Some(json!({ "name": "Pers" })),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "forbidden");
    let no_token = (anna.0.clone(), "0".repeat(64));
    let id = made["id"].as_str().unwrap();
    let forged = links_call(
        &app,
        reqwest::Method::DELETE,
        &format!("/{id}"),
        &no_token,
        None,
    )
    .await;
    assert_eq!(forged.status(), 403);

    let revoked = links_call(
        &app,
        reqwest::Method::DELETE,
        &format!("/{id}"),
        &anna,
        None,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        shared_pages(&app, &secret).await.0,
        401,
        "a revoked link reads nothing"
    );

    let audit = std::fs::read_to_string(data.join("audit.log")).unwrap();
    let actions: Vec<(String, String, String)> = audit
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["action"].as_str().unwrap().starts_with("share_link"))
        .map(|line| {
            let field = |name: &str| line[name].as_str().unwrap().to_owned();
            (field("action"), field("result"), field("actor"))
        })
        .collect();
    let expected = [
        ("share_link_create", "ok", "anna"),
        ("share_link_create", "forbidden", "vera"),
        ("share_link_revoke", "csrf_refused", "anna"),
        ("share_link_revoke", "ok", "anna"),
    ];
    assert_eq!(
        actions,
        expected.map(|(a, r, u)| (a.to_owned(), r.to_owned(), u.to_owned()))
    );
    assert!(!audit.contains(&secret));
}

on_every_backend!(an_admin_makes_and_revokes_a_share_link_that_reads_folded_stats);
