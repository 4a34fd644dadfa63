//! Dashboard sign-in against the real server: users made with
//! `kruimel user`, the session cookie's flags, failed sign-ins and
//! lockout, the second factor, CSRF on sign-out, a viewer's reach, the
//! security headers, and the audit log.

use kruimel::config::TokenHash;
use serde_json::{Value, json};

use crate::helpers::{SITE, TOKEN, TestApp};

pub const PASSWORD: &str = "een heel lang wachtwoord";

/// Runs `kruimel user …` against the test server's data directory.
pub fn user(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .arg("user")
        .args(args)
        .env_clear()
        .env("KRUIMEL_SERVER__DATA_DIR", data_dir)
        .env(
            "KRUIMEL_SITES",
            format!(
                r#"[{{ id = "{SITE}", tokens = ["{}"] }}, {{ id = "other.example" }}]"#,
                TokenHash::of_token(TOKEN).stored_form()
            ),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "kruimel user {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Adds a user with `PASSWORD` and one role on `SITE`, through `kruimel user add`.
pub fn add_user(data_dir: &std::path::Path, name: &str, role: &str) {
    let site = format!("{SITE}={role}");
    let args = ["add", name, "--site", site.as_str(), "--password-stdin"];
    user(data_dir, &args, &format!("{PASSWORD}\n"));
}

pub async fn login(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(format!("http://{}/dashboard/api/login", app.public))
        .header("x-forwarded-for", "198.51.100.23")
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub fn cookie_of(response: &reqwest::Response) -> String {
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn stats_with(app: &TestApp, site: &str, cookie: &str) -> u16 {
    app.client
        .get(format!(
            "http://{}/api/v1/stats/aggregate?site_id={site}&period=day",
            app.public
        ))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_reads_their_site_only_and_signs_out_with_the_csrf_token() {
    let app = TestApp::spawn().await;
    let data = app.data_dir();
    add_user(data, "vera", "viewer");

    let wrong = login(
        &app,
        json!({ "user": "vera", "password": "niet het wachtwoord" }),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "login_failed");
    let unknown = login(&app, json!({ "user": "nobody", "password": PASSWORD })).await;
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["code"],
        "login_failed",
        "no hint which was wrong"
    );

    let signed_in = login(&app, json!({ "user": "vera", "password": PASSWORD })).await;
    assert_eq!(signed_in.status(), 200);
    let headers = signed_in.headers().clone();
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("kruimel_session="));
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && set_cookie.contains("Path=/")
    );
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP without a TLS proxy"
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self'")
            && !policy.contains("unsafe-inline")
            && policy.contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(headers.get("strict-transport-security").is_none());
    let cookie = cookie_of(&signed_in);
    let session: Value = signed_in.json().await.unwrap();
    assert_eq!(
        session["sites"],
        json!([{ "site": SITE, "role": "viewer", "time_zone": "Europe/Amsterdam", "public": false, "k_anonymity": 10 }])
    );
    let csrf = session["csrf"].as_str().unwrap().to_owned();

    assert_eq!(stats_with(&app, SITE, &cookie).await, 200);
    assert_eq!(
        stats_with(&app, "other.example", &cookie).await,
        401,
        "a viewer reaches only their site"
    );
    assert_eq!(stats_with(&app, SITE, "kruimel_session=forged").await, 401);

    let logout = |token: Option<String>| {
        let mut request = app
            .client
            .post(format!("http://{}/dashboard/api/logout", app.public))
            .header("cookie", &cookie);
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let refused = logout(None).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "csrf_refused"
    );
    assert_eq!(logout(Some("0".repeat(64))).await.unwrap().status(), 403);
    let out = logout(Some(csrf)).await.unwrap();
    assert_eq!(out.status(), 204);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        stats_with(&app, SITE, &cookie).await,
        401,
        "the session is over"
    );

    let audit = std::fs::read_to_string(data.join("audit.log")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let results: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|line| {
            (
                line["action"].as_str().unwrap(),
                line["result"].as_str().unwrap(),
                line["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("user_add", "ok", "cli"),
            ("login", "failed", "vera"),
            ("login", "failed", "nobody"),
            ("login", "ok", "vera"),
            ("logout", "csrf_refused", "vera"),
            ("logout", "csrf_refused", "vera"),
            ("logout", "ok", "vera"),
        ]
    );
    assert_eq!(
        lines[3]["origin"], "198.51.100.0",
        "the truncated network, never the address"
    );
    assert!(!audit.contains("198.51.100.23") && !audit.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_an_account_and_a_second_factor_is_asked_for() {
    let app = TestApp::spawn().await;
    let data = app.data_dir();
    add_user(data, "anna", "admin");
    let uri = user(data, &["totp", "anna"], "");
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    let needs = login(&app, json!({ "user": "anna", "password": PASSWORD })).await;
    assert_eq!(needs.status(), 401);
    assert_eq!(
        needs.json::<Value>().await.unwrap()["code"],
        "second_factor_needed"
    );
    let now = app.clock.now().as_second();
    let code = kruimel::accounts::totp::code_at(&secret, now).unwrap();
    let ok = login(
        &app,
        json!({ "user": "anna", "password": PASSWORD, "code": code }),
    )
    .await;
    assert_eq!(ok.status(), 200);

    for _ in 0..5 {
        let failed = login(
            &app,
            json!({ "user": "anna", "password": "fout fout fout" }),
        )
        .await;
        assert_eq!(failed.status(), 401);
    }
    let code = kruimel::accounts::totp::code_at(&secret, now).unwrap();
    let locked = login(
        &app,
        json!({ "user": "anna", "password": PASSWORD, "code": code }),
    )
    .await;
    assert_eq!(
        locked.status(),
        401,
        "locked, even with the right password and code"
    );
    app.set_time("2026-11-23T10:16:00Z");
    let later = app.clock.now().as_second();
    let code = kruimel::accounts::totp::code_at(&secret, later).unwrap();
    let after = login(
        &app,
        json!({ "user": "anna", "password": PASSWORD, "code": code }),
    )
    .await;
    assert_eq!(after.status(), 200, "the lock ends after 15 minutes");
    let audit = std::fs::read_to_string(data.join("audit.log")).unwrap();
    assert!(
        audit.contains("\"result\":\"failed_now_locked\"")
            && audit.contains("\"result\":\"locked\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_tls_proxy_the_cookie_is_secure_and_hsts_is_sent() {
    let app = TestApp::spawn().await;
    add_user(app.data_dir(), "vera", "viewer");
    let response = app
        .client
        .post(format!("http://{}/dashboard/api/login", app.public))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "user": "vera", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("__Host-kruimel_session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Secure") && set_cookie.contains("; Path=/"));
    assert!(!set_cookie.to_ascii_lowercase().contains("domain="));
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let session = |cookie: String| {
        app.client
            .get(format!("http://{}/dashboard/api/session", app.public))
            .header("x-forwarded-proto", "https")
            .header("cookie", cookie)
            .send()
    };
    let token = cookie_of(&response);
    let value = token.split_once('=').unwrap().1.to_owned();
    assert_eq!(session(token.clone()).await.unwrap().status(), 200);
    // A sibling subdomain can set `kruimel_session` for the parent domain,
    // but not a `__Host-` cookie: behind TLS the plain name is not read.
    let planted = format!("kruimel_session={value}");
    assert_eq!(session(planted).await.unwrap().status(), 401);
    // HSTS on every answer behind TLS, not only the dashboard's.
    for path in [
        "/js/kruimel.js",
        "/privacy/gemeente.example",
        "/api/consent/notice?site=gemeente.example",
    ] {
        let answer = app
            .client
            .get(format!("http://{}{path}", app.public))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let foreign = app
        .client
        .post(format!("http://{}/dashboard/api/login", app.public))
        .header("origin", "https://evil.example")
        .json(&json!({ "user": "vera", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403, "a sign-in posted from another site");
}
