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
