//! Sign-in sessions live in the store: on every backend a session
//! survives a restart and still ends when idle or too old; on Redis a
//! second instance knows it and a sign-out on either ends it; a store
//! that fails answers `store_unavailable`, never a signed-in user; and
//! the cookie's token is stored nowhere.

use serde_json::{Value, json};

use crate::backends::{Backend, on_every_backend};
use crate::dashboard_auth::{PASSWORD, add_user, cookie_of, login, user};
use crate::helpers::{SITE, TestApp};

/// Signs in; the cookie (`kruimel_session=…`) and the CSRF token.
async fn sign_in(app: &TestApp, name: &str) -> (String, String) {
    let response = login(app, json!({ "user": name, "password": PASSWORD })).await;
    assert_eq!(response.status(), 200);
    let cookie = cookie_of(&response);
    let body: Value = response.json().await.unwrap();
    (cookie, body["csrf"].as_str().unwrap().to_owned())
}

/// `GET /dashboard/api/session`: the status, and the body.
async fn session(app: &TestApp, cookie: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("http://{}/dashboard/api/session", app.public))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn sign_out(app: &TestApp, cookie: &str, csrf: &str) -> u16 {
    app.client
        .post(format!("http://{}/dashboard/api/logout", app.public))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Every stored byte: the database file, or every Redis key and value.
fn stored_bytes(app: &TestApp) -> Vec<u8> {
    match &app.backend {
        Backend::Embedded => std::fs::read(app.data_dir().join("kruimel.redb")).unwrap(),
        Backend::Redis(_) => app
            .backend
            .dump()
            .into_iter()
            .flat_map(|(key, values)| {
                let mut bytes = key.into_bytes();
                values.into_iter().for_each(|value| bytes.extend(value));
                bytes
            })
            .collect(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

async fn a_session_survives_a_restart_and_ends_when_idle_or_too_old(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    add_user(app.data_dir(), "vera", "viewer");
    let (cookie, csrf) = sign_in(&app, "vera").await;
    let token = cookie.strip_prefix("kruimel_session=").unwrap().to_owned();
    let stored = stored_bytes(&app);
    let hash = blake3::hash(token.as_bytes());
    assert!(
        contains(&stored, hash.as_bytes()) || contains(&stored, hash.to_hex().as_bytes()),
        "the session is stored under the hash of its token"
    );
    assert!(
        !contains(&stored, token.as_bytes()),
        "the token itself is not stored"
    );

    let app = app.restart(&[], "2026-11-23T10:01:00Z").await;
    let (status, body) = session(&app, &cookie).await;
    assert_eq!(status, 200, "the session outlives the restart: {body}");
    assert_eq!(body["user"], "vera");
    assert_eq!(body["csrf"], csrf.as_str(), "with its CSRF token");

    // Used at 10:01, 10:30 and 10:59:30: each time within 30 minutes.
    for at in ["2026-11-23T10:30:00Z", "2026-11-23T10:59:30Z"] {
        app.set_time(at);
        assert_eq!(session(&app, &cookie).await.0, 200, "in use at {at}");
    }
    app.set_time("2026-11-23T11:29:30Z");
    assert_eq!(
        session(&app, &cookie).await.0,
        401,
        "30 idle minutes end it"
    );
    assert_eq!(sign_out(&app, &cookie, &csrf).await, 401);

    let (cookie, _) = sign_in(&app, "vera").await;
    let started = app.clock.now();
    for step in 1..=24 {
        let at = started + jiff::SignedDuration::from_mins(29 * step);
        app.set_time(&at.to_string());
        assert_eq!(session(&app, &cookie).await.0, 200, "in use at {at}");
    }
    app.set_time(&(started + jiff::SignedDuration::from_hours(12)).to_string());
    assert_eq!(session(&app, &cookie).await.0, 401, "12 hours end it");
    app.stop().await;
}

on_every_backend!(a_session_survives_a_restart_and_ends_when_idle_or_too_old);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_redis_knows_the_session_and_its_sign_out() {
    let backend = Backend::redis();
    let first = TestApp::spawn_on(backend.clone()).await;
    let second = TestApp::spawn_on(backend.clone()).await;
    // Instances share one users file (deployed alike): the same hashes.
    add_user(first.data_dir(), "vera", "viewer");
    std::fs::copy(
        first.data_dir().join("users.toml"),
        second.data_dir().join("users.toml"),
    )
    .unwrap();

    let (cookie, csrf) = sign_in(&first, "vera").await;
    let (status, body) = session(&second, &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["csrf"], csrf.as_str());
    let stats = second
        .client
        .get(format!(
            "http://{}/api/v1/stats/aggregate?site_id={SITE}&period=day",
            second.public
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), 200, "the stats API knows the session too");

    let keys: Vec<String> = backend
        .dump()
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key.ends_with(":login"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let ttl = backend.redis_server().ttl_ms(&keys[0]);
    assert!(
        (12 * 3600 - 60) * 1_000 < ttl && ttl <= 12 * 3600 * 1_000,
        "Redis forgets the session at the end of its 12 hours: {ttl} ms"
    );

    assert_eq!(sign_out(&second, &cookie, &csrf).await, 204);
    assert_eq!(
        session(&first, &cookie).await.0,
        401,
        "signed out everywhere"
    );
    assert!(
        backend
            .dump()
            .iter()
            .all(|(key, _)| !key.ends_with(":login")),
        "the sign-out deleted the session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_away_a_session_check_answers_store_unavailable() {
    let backend = Backend::redis_persistent();
    let app = TestApp::spawn_on(backend.clone()).await;
    add_user(app.data_dir(), "vera", "viewer");
    let (cookie, _) = sign_in(&app, "vera").await;

    backend.redis_server().stop();
    let (status, body) = session(&app, &cookie).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store_unavailable"))
    );
    let stats = app
        .client
        .get(format!(
            "http://{}/api/v1/stats/aggregate?site_id={SITE}&period=day",
            app.public
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), 503);
    let signing_in = login(&app, json!({ "user": "vera", "password": PASSWORD })).await;
    assert_eq!(
        signing_in.status(),
        503,
        "no cookie without a stored session"
    );
    assert!(signing_in.headers().get("set-cookie").is_none());

    backend.redis_server().start_again();
    assert_eq!(session(&app, &cookie).await.0, 200, "back once Redis is");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_or_second_factor_ends_the_sessions_begun_before() {
    let app = TestApp::spawn().await;
    add_user(app.data_dir(), "vera", "viewer");
    add_user(app.data_dir(), "anna", "viewer");
    let (vera, _) = sign_in(&app, "vera").await;
    let (anna, _) = sign_in(&app, "anna").await;
    assert_eq!(session(&app, &vera).await.0, 200);

    user(
        app.data_dir(),
        &["passwd", "vera", "--password-stdin"],
        "een ander lang wachtwoord\n",
    );
    assert_eq!(session(&app, &vera).await.0, 401, "a new password ends it");
    assert_eq!(session(&app, &anna).await.0, 200, "another user's stays");
    let again = login(
        &app,
        json!({ "user": "vera", "password": "een ander lang wachtwoord" }),
    )
    .await;
    assert_eq!(again.status(), 200);
    let vera = cookie_of(&again);
    assert_eq!(session(&app, &vera).await.0, 200);

    user(app.data_dir(), &["totp", "anna"], "");
    assert_eq!(
        session(&app, &anna).await.0,
        401,
        "a new second factor ends it"
    );
    assert_eq!(session(&app, &vera).await.0, 200);
}
