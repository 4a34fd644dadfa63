//! The embedded dashboard front end: one page for every path under
//! `/dashboard`, its assets with content-hash ETags, all with the
//! dashboard's security headers.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_front_end_is_served_from_the_binary_with_its_security_headers() {
    let app = TestApp::spawn().await;
    let get = |path: &str| {
        app.client
            .get(format!("http://{}{path}", app.public))
            .send()
    };
    let index = get("/dashboard").await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    assert_eq!(index.headers()["x-frame-options"], "DENY");
    let html = index.text().await.unwrap();
    assert!(html.contains("/dashboard/assets/app.js"));
    assert!(!html.contains("<script>"), "no inline script");
    let deep = get("/dashboard/gemeente.example/pages").await.unwrap();
    assert_eq!(
        deep.text().await.unwrap(),
        html,
        "the front end routes by path"
    );

    let script = get("/dashboard/assets/app.js").await.unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(format!("http://{}/dashboard/assets/app.js", app.public))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(
        get("/dashboard/assets/other.js").await.unwrap().status(),
        404
    );
    assert_eq!(get("/dashboard/api/unknown").await.unwrap().status(), 404);
}

#[tokio::test]
async fn the_script_and_stylesheet_go_out_gzipped_to_browsers_that_take_it() {
    use std::io::Read;
    let app = TestApp::spawn().await;
    for (name, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
    ] {
        let url = format!("http://{}/dashboard/assets/{name}", app.public);
        let plain = app.client.get(&url).send().await.unwrap();
        assert_eq!(plain.headers()["vary"], "Accept-Encoding", "{name}");
        assert!(plain.headers().get("content-encoding").is_none(), "{name}");
        let plain_tag = plain.headers()["etag"].clone();
        let plain = plain.bytes().await.unwrap();

        let packed = app
            .client
            .get(&url)
            .header("accept-encoding", "br;q=1, gzip;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(packed.status(), 200);
        assert_eq!(packed.headers()["content-encoding"], "gzip", "{name}");
        assert_eq!(packed.headers()["vary"], "Accept-Encoding", "{name}");
        assert_eq!(packed.headers()["content-type"], content_type);
        assert_ne!(
            packed.headers()["etag"],
            plain_tag,
            "each form has its own tag"
        );
        let packed_tag = packed.headers()["etag"].clone();
        let packed = packed.bytes().await.unwrap();
        assert!(
            packed.len() * 2 < plain.len(),
            "{name}: {} of {}",
            packed.len(),
            plain.len()
        );
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain, "{name} decodes to the plain bytes");

        let again = app
            .client
            .get(&url)
            .header("accept-encoding", "gzip")
            .header("if-none-match", packed_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        let refused = app
            .client
            .get(&url)
            .header("accept-encoding", "gzip;q=0, identity")
            .send()
            .await
            .unwrap();
        assert!(refused.headers().get("content-encoding").is_none());
    }
}
