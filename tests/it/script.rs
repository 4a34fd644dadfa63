//! The embedded script and the notice endpoint as browsers fetch them:
//! content-hash ETags, caching, CORS, and the integrity value that
//! `kruimel snippet` prints.

use base64::Engine;
use sha2::{Digest, Sha384};

use crate::helpers::{SITE, TestApp};

#[tokio::test]
async fn the_script_is_served_with_its_hash_as_etag_and_matches_the_printed_integrity() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/js/kruimel.js", app.public);
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=86400");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let body = response.bytes().await.unwrap();
    assert!(body.len() > 1_000, "the built script, not a placeholder");
    let version = &blake3::hash(&body).to_hex()[..16];
    assert_eq!(etag, format!("\"{version}\""));

    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .args(["snippet", "--site", SITE, "--integrity"])
        .output()
        .unwrap();
    let integrity = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&body))
    );
    assert_eq!(String::from_utf8(printed.stdout).unwrap().trim(), integrity);

    let tag = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .args([
            "snippet",
            "--site",
            SITE,
            "--origin",
            "https://stats.example",
        ])
        .output()
        .unwrap();
    let tag = String::from_utf8(tag.stdout).unwrap();
    assert!(tag.contains(&format!(
        "src=\"https://stats.example/js/kruimel.js?v={version}\""
    )));
    assert!(tag.contains(&format!("integrity=\"{integrity}\"")));

    let pinned = app
        .client
        .get(format!("{url}?v={version}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pinned.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let revalidated = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
}

#[tokio::test]
async fn the_notice_is_cached_by_banner_version_and_falls_back_to_the_default_language() {
    let app = TestApp::spawn().await;
    let url = |lang: &str| {
        format!(
            "http://{}/api/consent/notice?site={SITE}&lang={lang}",
            app.public
        )
    };
    let response = app.client.get(url("de")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let notice: serde_json::Value = response.json().await.unwrap();
    assert_eq!(notice["language"], "nl", "German falls back to the default");
    assert_eq!(notice["mode"], "none", "no optional categories, no notice");
    assert_eq!(notice["languages"], serde_json::json!(["nl", "en"]));
    assert_eq!(
        etag,
        format!("\"{}\"", notice["banner_version"].as_str().unwrap())
    );
    let english: serde_json::Value = app
        .client
        .get(url("en"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(english["texts"]["reject_all"], "Refuse all");
    let again = app
        .client
        .get(url("nl"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn a_site_without_a_notice_is_given_the_tracker_alone_within_its_budget() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/js/kruimel-tracker.js", app.public);
    let plain = app.client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["access-control-allow-origin"], "*");
    let body = plain.bytes().await.unwrap();
    let packed = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    let packed = packed.bytes().await.unwrap();
    assert!(packed.len() <= 1200, "{} bytes gzipped", packed.len());
    let whole = app
        .client
        .get(format!("http://{}/js/kruimel.js", app.public))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(body.len() * 4 < whole.len(), "the tracker alone is small");

    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "[[sites]]\nid = \"zonder.example\"\n\n[[sites]]\nid = \"met.example\"\nconsent = { categories = [\"media\"] }\n\n[[sites]]\nid = \"info.example\"\nconsent = { notice = \"info\" }\n",
    )
    .unwrap();
    let snippet = |site: &str, extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
            .args([
                "snippet",
                "--site",
                site,
                "--origin",
                "https://stats.example",
            ])
            .args(extra)
            .env_remove("KRUIMEL_CONFIG")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let path = config.path().to_str().unwrap();
    let version = &blake3::hash(&body).to_hex()[..16];
    let integrity = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&body))
    );
    let (ok, tag) = snippet("zonder.example", &["--config", path]);
    assert!(ok);
    assert!(tag.contains(&format!(
        "src=\"https://stats.example/js/kruimel-tracker.js?v={version}\""
    )));
    assert!(tag.contains(&format!("integrity=\"{integrity}\"")));
    for site in ["met.example", "info.example"] {
        let (ok, tag) = snippet(site, &["--config", path]);
        assert!(ok && tag.contains("/js/kruimel.js?v="), "{site}: {tag}");
    }
    let (ok, tag) = snippet("met.example", &["--tracker-only"]);
    assert!(ok && tag.contains("/js/kruimel-tracker.js?v="), "{tag}");
    let (ok, _) = snippet("ander.example", &["--config", path]);
    assert!(!ok, "a site that is not configured is an error");
}
