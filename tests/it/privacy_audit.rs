//! The privacy audit: a distinctive IP address, user agent and query string
//! go in, with beacons (an engagement report among them) and with a
//! consent choice; afterwards none of them
//! is in the data directory, the logs, `/metrics` or, on the Redis
//! backend, any key or value in Redis (promises 1, 2, 3, 5 and 8). The
//! same address and browser sign in to the dashboard: the stored session
//! holds neither, nor the cookie's token.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, SITE, TOKEN};
use crate::process::{ServerProcess, files_under};
use kruimel::config::TokenHash;

const IP: &str = "81.204.23.197";
const AGENT_MARKER: &str = "AuditMarker7731";
const QUERY_MARKER: &str = "zz-audit-query-9931";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn no_ip_user_agent_or_query_string_is_kept_anywhere(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kruimel.log");
    let data = dir.path().join("data");
    let mut env = backend.env();
    env.push((
        "KRUIMEL_SITES".into(),
        format!(
            r#"[{{ id = "{SITE}", tokens = ["{}"], consent = {{ categories = ["media"] }} }}]"#,
            TokenHash::of_token(TOKEN).stored_form()
        ),
    ));
    let server = ServerProcess::start_with(&data, &log, &env).await;
    let agent = format!("{FIREFOX} {AGENT_MARKER}");
    let receipt = consent_choice(&server, &agent).await;
    let session_token = dashboard_sign_in(&server, &data, &agent).await;
    for path in ["/", "/wonen", "/contact"] {
        let url =
            format!("https://gemeente.example{path}?session={QUERY_MARKER}&utm_source=nieuwsbrief");
        assert_eq!(server.send(IP, &agent, &url).await, 202);
        if path == "/wonen" {
            // Read for 7 s to 40 %: counted in the page's sums only.
            let report = serde_json::json!({"n": "engagement", "sd": 40, "d": SITE, "u": url, "e": 7_000, "v": 36});
            assert_eq!(server.send_body(IP, &agent, report.to_string()).await, 202);
        }
    }
    // A malformed beacon with the same markers must not leak through error paths either.
    let _ = server
        .send(IP, &agent, &format!("not a url {QUERY_MARKER}"))
        .await;
    for _ in 0..200 {
        if server.pageviews().await == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(server.pageviews().await, 3, "the beacons were counted");
    let pages = server
        .stats(
            "breakdown",
            "period=day&property=event:page&metrics=scroll_depth,time_on_page",
        )
        .await;
    let wonen = pages["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["page"] == "/wonen")
        .cloned();
    assert_eq!(
        wonen,
        Some(serde_json::json!({"page": "/wonen", "scroll_depth": 40, "time_on_page": 7})),
        "the engagement report was counted: {pages}"
    );
    let metrics = server.metrics().await;
    assert!(server.terminate().success());

    let mut places: Vec<(String, Vec<u8>)> = files_under(&data)
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    // The salts, where a test can see them: in Redis. Promise 3: nowhere else.
    let mut salts: Vec<Vec<u8>> = Vec::new();
    if backend.is_redis() {
        let stored = backend.dump();
        assert!(!stored.is_empty(), "Redis holds the counts");
        for (key, values) in stored {
            if key.contains(":salt:") {
                salts.extend(values.iter().cloned());
            }
            places.push((format!("Redis key {key:?}"), key.clone().into_bytes()));
            for value in values {
                places.push((format!("Redis value of {key:?}"), value));
            }
        }
    } else {
        assert!(!places.is_empty(), "the data directory holds the database");
        // The search reads stored texts as bytes: a page the beacons named
        // must be found, or the search would be blind (a clean stop leaves
        // today's counts as open rows, not in compressed journal records).
        assert!(
            places.iter().any(|(_, bytes)| contains(bytes, "/wonen")),
            "the database's texts are readable to the search"
        );
    }
    let log_text = std::fs::read(&log).unwrap();
    assert!(
        contains(&log_text, "salt rotated") && contains(&log_text, "\"route\":\"event\""),
        "the log is the real one, with a line for every beacon (trace level)"
    );
    places.push(("log".into(), log_text));
    places.push(("/metrics".into(), metrics.into_bytes()));
    for (place, bytes) in &places {
        for needle in [
            IP,
            "81.204.23.19",
            AGENT_MARKER,
            "rv:128.0",
            QUERY_MARKER,
            "session=",
            &session_token,
        ] {
            assert!(!contains(bytes, needle), "{needle:?} found in {place}");
        }
    }
    if backend.is_redis() {
        assert!(!salts.is_empty(), "the shared salt is in Redis");
    }
    for salt in &salts {
        assert_eq!(salt.len(), 32);
        let salt_hex = hex::encode(salt);
        for (place, bytes) in places
            .iter()
            .filter(|(place, _)| !place.starts_with("Redis"))
        {
            assert!(
                !bytes.windows(32).any(|window| window == salt.as_slice())
                    && !contains(bytes, &salt_hex),
                "a salt is in {place}"
            );
        }
    }
    // What is stored is counts with cleaned pages.
    let stored: Vec<u8> = places
        .iter()
        .filter(|(place, _)| place.ends_with("kruimel.redb") || place.starts_with("Redis"))
        .flat_map(|(_, bytes)| bytes.iter().copied())
        .collect();
    assert!(contains(&stored, "/wonen"));
    assert!(contains(&stored, "nieuwsbrief"));
    assert!(contains(&stored, "reject_all"), "the receipt is stored");
    assert!(contains(&stored, &receipt) || !backend.is_redis());
    let session_hash = blake3::hash(session_token.as_bytes());
    assert!(
        stored
            .windows(32)
            .any(|window| window == session_hash.as_bytes())
            || contains(&stored, &session_hash.to_hex()),
        "the sign-in session is stored, under the hash of its token"
    );
}

/// Signs in to the dashboard from the marked address and browser, and
/// reads the session once; returns the cookie's token.
async fn dashboard_sign_in(server: &ServerProcess, data: &std::path::Path, agent: &str) -> String {
    crate::dashboard_auth::add_user(data, "vera", "viewer");
    let signed_in = server
        .client
        .post(format!("http://{}/dashboard/api/login", server.public))
        .header("x-forwarded-for", IP)
        .header("user-agent", agent)
        .json(&serde_json::json!({ "user": "vera", "password": crate::dashboard_auth::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = crate::dashboard_auth::cookie_of(&signed_in);
    let session = server
        .client
        .get(format!("http://{}/dashboard/api/session", server.public))
        .header("x-forwarded-for", IP)
        .header("user-agent", agent)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    cookie.strip_prefix("kruimel_session=").unwrap().to_owned()
}

/// Records a refusal from the marked address and browser; returns the receipt id.
async fn consent_choice(server: &ServerProcess, agent: &str) -> String {
    let notice: serde_json::Value = server
        .client
        .get(format!(
            "http://{}/api/consent/notice?site={SITE}",
            server.public
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let choice = serde_json::json!({
        "site": SITE,
        "policy_version": notice["policy_version"],
        "banner_version": notice["banner_version"],
        "language": notice["language"],
        "granted": [],
        "denied": ["media"],
        "method": "reject_all",
    });
    let response = server
        .client
        .post(format!("http://{}/api/consent", server.public))
        .header("x-forwarded-for", IP)
        .header("user-agent", agent)
        .body(choice.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    body["receipt"].as_str().unwrap().to_owned()
}

on_every_backend!(no_ip_user_agent_or_query_string_is_kept_anywhere);

/// The data directory holds nothing another user of the machine may read: the database (and
/// any other file the server makes there) is owner-only, whatever the umask.
#[tokio::test]
async fn files_the_server_creates_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = crate::helpers::TestApp::spawn().await;
    let files = files_under(app.data_dir());
    assert!(
        files.iter().any(|path| path.ends_with("kruimel.redb")),
        "{files:?}"
    );
    for path in files {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}
