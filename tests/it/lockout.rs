//! Lockout that an outsider cannot turn against an official, against the
//! real server: failures lock the account from the network they come from;
//! the account-wide limit spares networks that signed in before; `kruimel
//! user unlock` lifts every lock; a second-factor code works once.

use serde_json::{Value, json};

use crate::dashboard_auth::{PASSWORD, add_user, user};
use crate::helpers::TestApp;

const OFFICE: &str = "198.51.100.23";
const ATTACKER: &str = "203.0.113.9";

async fn login_from(app: &TestApp, address: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("http://{}/dashboard/api/login", app.public))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn right(name: &str) -> Value {
    json!({ "user": name, "password": PASSWORD })
}

fn wrong(name: &str) -> Value {
    json!({ "user": name, "password": "fout fout fout" })
}

fn audit_results(app: &TestApp) -> Vec<String> {
    let audit = std::fs::read_to_string(app.data_dir().join("audit.log")).unwrap();
    audit
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            format!("{} {}", entry["action"], entry["result"]).replace('"', "")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_another_network_do_not_lock_the_official_out() {
    let app = TestApp::spawn().await;
    add_user(app.data_dir(), "anna", "admin");
    for _ in 0..5 {
        let failed = login_from(&app, ATTACKER, wrong("anna")).await;
        assert_eq!(failed.status(), 401);
    }
    let attacker = login_from(&app, ATTACKER, right("anna")).await;
    assert_eq!(attacker.status(), 401, "locked from the guessing network");
    let office = login_from(&app, OFFICE, right("anna")).await;
    assert_eq!(office.status(), 200, "the official still signs in");

    // Again once the lock is over: the attacker keeps only itself out.
    // (More rounds would meet the per-network rate limit, which runs on the
    // real clock, not the test's.)
    app.set_time("2026-11-23T10:15:00Z");
    for _ in 0..5 {
        login_from(&app, ATTACKER, wrong("anna")).await;
    }
    let attacker = login_from(&app, ATTACKER, right("anna")).await;
    assert_eq!(attacker.status(), 401);
    let office = login_from(&app, OFFICE, right("anna")).await;
    assert_eq!(office.status(), 200);
    let results = audit_results(&app);
    assert_eq!(
        results
            .iter()
            .filter(|r| *r == "login failed_now_locked")
            .count(),
        2,
        "every lockout is in the audit log: {results:?}"
    );
    assert!(results.contains(&"login locked".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_from_many_networks_locks_out_new_networks_until_an_admin_unlocks() {
    let app = TestApp::spawn().await;
    add_user(app.data_dir(), "anna", "admin");
    let office = login_from(&app, OFFICE, right("anna")).await;
    assert_eq!(office.status(), 200);
    for i in 0..50 {
        let from = format!("100.64.{i}.7");
        assert_eq!(login_from(&app, &from, wrong("anna")).await.status(), 401);
    }
    let home = login_from(&app, "192.0.2.44", right("anna")).await;
    assert_eq!(home.status(), 401, "a network that never signed in waits");
    let office = login_from(&app, OFFICE, right("anna")).await;
    assert_eq!(office.status(), 200, "the office signed in before");
    assert!(audit_results(&app).contains(&"login failed_now_locked_everywhere".to_owned()));

    user(app.data_dir(), &["unlock", "anna"], "");
    let home = login_from(&app, "192.0.2.44", right("anna")).await;
    assert_eq!(home.status(), 200, "unlocked by an administrator");
    assert!(audit_results(&app).contains(&"user_unlock ok".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_factor_code_signs_in_only_once() {
    let app = TestApp::spawn().await;
    add_user(app.data_dir(), "anna", "admin");
    let uri = user(app.data_dir(), &["totp", "anna"], "");
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let now = app.clock.now().as_second();
    let code = kruimel::accounts::totp::code_at(secret, now).unwrap();
    let with_code = json!({ "user": "anna", "password": PASSWORD, "code": code });
    let first = login_from(&app, OFFICE, with_code.clone()).await;
    assert_eq!(first.status(), 200);
    let again = login_from(&app, ATTACKER, with_code).await;
    assert_eq!(again.status(), 401, "a code seen once is used up");
    assert!(audit_results(&app).contains(&"login code_failed".to_owned()));

    app.set_time("2026-11-23T10:00:30Z");
    let next = kruimel::accounts::totp::code_at(secret, now + 30).unwrap();
    let fresh = json!({ "user": "anna", "password": PASSWORD, "code": next });
    assert_eq!(login_from(&app, OFFICE, fresh).await.status(), 200);
}
