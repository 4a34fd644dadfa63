//! Malformed requests get their documented code; nothing is counted and
//! the server stays up.

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, TestApp};

async fn post_raw(
    app: &TestApp,
    content_type: &str,
    agent: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(format!("http://{}/api/event", app.public))
        .header("content-type", content_type)
        .header("user-agent", agent)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

async fn malformed_beacons_get_stable_codes_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    app.pageview("81.204.23.10", FIREFOX, "https://gemeente.example/", None)
        .await;
    app.wait_for_events(1, "period=day").await;

    let mut invalid_utf8 = br#"{"n":"pageview","u":"https://gemeente.example/"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xC3, 0x28]);
    invalid_utf8.extend_from_slice(br#"","d":"gemeente.example"}"#);
    let long_name = format!(
        r#"{{"n":"{}","u":"https://gemeente.example/","d":"gemeente.example"}}"#,
        "x".repeat(121)
    );
    let long_url = format!(
        r#"{{"n":"pageview","u":"https://gemeente.example/{}","d":"gemeente.example"}}"#,
        "a".repeat(5000)
    );
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("text/plain", b"{not json".to_vec(), 400, "invalid_json"),
        (
            "text/plain",
            br#"{"n":1,"u":"https://gemeente.example/","d":"gemeente.example"}"#.to_vec(),
            400,
            "invalid_event",
        ),
        (
            "text/plain",
            br#"{"n":"pageview","d":"gemeente.example"}"#.to_vec(),
            400,
            "invalid_event",
        ),
        ("text/plain", long_name.into_bytes(), 400, "invalid_event"),
        ("text/plain", long_url.into_bytes(), 400, "invalid_event"),
        ("text/plain", invalid_utf8, 400, "invalid_json"),
        (
            "text/plain",
            br#"{"n":"pageview","u":"javascript:alert(1)","d":"gemeente.example"}"#.to_vec(),
            400,
            "invalid_url",
        ),
        (
            "text/plain",
            br#"{"n":"pageview","u":"/relative","d":"gemeente.example"}"#.to_vec(),
            400,
            "invalid_url",
        ),
        (
            "application/x-www-form-urlencoded",
            b"n=pageview".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (got_status, got) = post_raw(&app, content_type, FIREFOX, body).await;
        assert_eq!(
            (got_status, got["code"].as_str()),
            (status, Some(code)),
            "{got}"
        );
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A body far past the limit is refused once the limit is passed, and
    // the connection closed: a client still writing the rest may see the
    // connection end before it reads the answer, and nothing is counted.
    match app
        .client
        .post(format!("http://{}/api/event", app.public))
        .header("content-type", "text/plain")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
    {
        Ok(response) => {
            assert_eq!(response.status(), 413);
            let got: serde_json::Value = response.json().await.unwrap_or_default();
            assert_eq!(got["code"], "body_too_large", "{got}");
        }
        Err(error) => assert!(error.is_request(), "{error}"),
    }
    // An unread body ends the connection, so no client reuses it.
    let oversized = app
        .client
        .post(format!("http://{}/api/event", app.public))
        .header("content-type", "text/plain")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
    assert_eq!(oversized.headers()["connection"], "close");

    // Hostile header values: control bytes and non-UTF-8 in the user agent, junk forwarding.
    let response = app
        .client
        .post(format!("http://{}/api/event", app.public))
        .header(
            "user-agent",
            reqwest::header::HeaderValue::from_bytes(b"Mozilla/5.0 \xff\xfe (X11)").unwrap(),
        )
        .header("x-forwarded-for", "<script>, 999.999.1.1, ::zz")
        .header("forwarded", "for=\"[bad\"; by=; for")
        .body(r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    // Wrong methods.
    let get = app
        .client
        .get(format!("http://{}/api/event", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST, OPTIONS");
    let unknown = app
        .client
        .get(format!("http://{}/nope", app.public))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // Still up, and only the good beacons were counted (the hostile-header one is good).
    app.wait_for_events(2, "period=day").await;
    assert_eq!(app.metric("pageviews", "period=day").await, 2);
}

#[tokio::test]
async fn a_body_that_never_arrives_times_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(
        &[("KRUIMEL_SERVER__BODY_TIMEOUT_MS", "300")],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(app.public).await.unwrap();
    stream
        .write_all(b"POST /api/event HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n{\"n\":")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server answers instead of waiting forever")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("body_timeout"), "{text}");
}

#[tokio::test]
async fn oversized_headers_are_refused_with_431_and_nothing_is_counted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let body = r#"{"n":"pageview","u":"https://gemeente.example/","d":"gemeente.example"}"#;
    // A head just past the 16 KiB limit, sent whole, then the answer read back.
    let head = format!(
        "POST /api/event HTTP/1.1\r\nhost: x\r\nuser-agent: {FIREFOX}\r\nx-padding: {}\r\ncontent-length: {}\r\n\r\n{body}",
        "p".repeat(17 * 1024),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.public).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server answers")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    // The server still answers, and only this beacon is counted.
    let counted = app
        .pageview("81.204.23.10", FIREFOX, "https://gemeente.example/", None)
        .await;
    assert_eq!(counted.status(), 202);
    app.wait_for_events(1, "period=day").await;
}

on_every_backend!(malformed_beacons_get_stable_codes_and_change_nothing,);
