//! Hostile HTTP against the real binary: slow headers and bodies, thousands
//! of idle connections, oversized and countless headers, pipelining and
//! invalid requests. Each attack ends with the attacker's connections
//! answered with the right status or closed, a normal client answered
//! throughout, and the server's file descriptors back where they were.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::FIREFOX;
use crate::process::ServerProcess;

const BEACON: &str =
    r#"{"n":"pageview","u":"https://gemeente.example/wonen","d":"gemeente.example"}"#;

/// A server whose header and body deadlines are one second, so attacks
/// end quickly.
async fn start() -> (tempfile::TempDir, ServerProcess) {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KRUIMEL_SERVER__HEADER_TIMEOUT_MS", "1000"),
        ("KRUIMEL_SERVER__BODY_TIMEOUT_MS", "1000"),
        // These attacks are on HTTP handling, with every beacon from one
        // network, which the ingest budget would drop (`ingest_limit`).
        ("KRUIMEL_LIMITS__INGEST_PER_NETWORK", "0"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    let server =
        ServerProcess::start_with(&dir.path().join("data"), &dir.path().join("log"), &env).await;
    (dir, server)
}

fn beacon_request(extra_headers: &str) -> String {
    format!(
        "POST /api/event HTTP/1.1\r\nHost: gemeente.example\r\nContent-Type: text/plain\r\n\
         User-Agent: {FIREFOX}\r\nX-Forwarded-For: 81.204.7.9\r\n{extra_headers}\
         Content-Length: {}\r\n\r\n{BEACON}",
        BEACON.len()
    )
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer));
    match read.await {
        Ok(_) => answer,
        Err(_) => panic!("the server kept the connection open"),
    }
}

fn status_line(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    text.lines().next().unwrap_or("").to_owned()
}

/// A normal visitor's beacons, one after another, each answered 202.
fn normal_client(server: &ServerProcess) -> tokio::task::JoinHandle<usize> {
    let (client, public) = (reqwest::Client::new(), server.public);
    tokio::spawn(async move {
        let mut answered = 0;
        for index in 0..100 {
            let response = client
                .post(format!("http://{public}/api/event"))
                .header("content-type", "text/plain")
                .header("user-agent", FIREFOX)
                .header("x-forwarded-for", format!("81.204.1.{}", index % 250))
                .body(BEACON)
                .send()
                .await
                .expect("the normal client is answered during the attack");
            assert_eq!(response.status(), 202);
            answered += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        answered
    })
}

fn server_fds(server: &ServerProcess) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .unwrap()
        .count()
}

/// Connections the kernel holds open on the server's side of `port`
/// (established, or closed by the peer and not yet by the server).
fn open_connections(port: u16) -> usize {
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .map(|line| {
                    line.split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .filter(|fields| fields[1].ends_with(&port) && matches!(fields[3].as_str(), "01" | "08"))
        .count()
}

/// Waits until the server holds no connection on its public listener and
/// no more descriptors than before the attack.
async fn assert_descriptors_released(server: &ServerProcess, before: usize) {
    let mut seen = (0, 0);
    for _ in 0..200 {
        seen = (server_fds(server), open_connections(server.public.port()));
        if seen.1 == 0 && seen.0 <= before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the server holds {} descriptors and {} connections; {before} descriptors before the attack",
        seen.0, seen.1
    );
}

/// After the attack: the server still runs and counts, and lets go of
/// every connection.
async fn check_after(mut server: ServerProcess, before: usize, stored: i64) {
    assert!(server.is_running());
    assert_eq!(
        server
            .send("81.204.2.3", FIREFOX, "https://gemeente.example/na")
            .await,
        202
    );
    let mut pageviews = 0;
    for _ in 0..100 {
        pageviews = server.pageviews().await;
        if pageviews == stored + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pageviews, stored + 1);
    server.client = reqwest::Client::new();
    assert_descriptors_released(&server, before).await;
    assert!(server.terminate().success());
}

/// Slowloris: headers sent a line at a time never finish; the server
/// closes each connection at its header deadline, without an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_at_the_header_deadline() {
    let (_dir, server) = start().await;
    let before = server_fds(&server);
    let attackers: Vec<_> = (0..100)
        .map(|_| {
            let public = server.public;
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(public).await.unwrap();
                stream
                    .write_all(b"POST /api/event HTTP/1.1\r\nHost: x\r\n")
                    .await
                    .unwrap();
                // A header line every 100 ms would take 30 s; the server ends it first.
                for line in 0..300 {
                    if stream
                        .write_all(format!("X-Slow-{line}: a\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return Vec::new();
                    }
                    let mut byte = [0u8; 1024];
                    let read =
                        tokio::time::timeout(Duration::from_millis(100), stream.read(&mut byte));
                    match read.await {
                        Err(_) => {}
                        Ok(Ok(0)) | Ok(Err(_)) => return Vec::new(),
                        Ok(Ok(n)) => return byte[..n].to_vec(),
                    }
                }
                panic!("the server let slow headers run on for 30 s");
            })
        })
        .collect();
    let normal = normal_client(&server);
    for attacker in attackers {
        let answer = attacker.await.unwrap();
        assert!(answer.is_empty(), "answered {:?}", status_line(&answer));
    }
    let counted = normal.await.unwrap() as i64;
    check_after(server, before, counted).await;
}

/// A body that trickles in is answered 408 at the body deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_answered_408_at_the_body_deadline() {
    let (_dir, server) = start().await;
    let before = server_fds(&server);
    let attackers: Vec<_> = (0..100)
        .map(|_| {
            let public = server.public;
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(public).await.unwrap();
                let head = "POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
                            Content-Length: 200\r\n\r\n{";
                stream.write_all(head.as_bytes()).await.unwrap();
                status_line(&read_to_close(&mut stream).await)
            })
        })
        .collect();
    let normal = normal_client(&server);
    for attacker in attackers {
        assert_eq!(attacker.await.unwrap(), "HTTP/1.1 408 Request Timeout");
    }
    let counted = normal.await.unwrap() as i64;
    check_after(server, before, counted).await;
}

/// The test process needs a descriptor per connection, and so does the
/// server it starts: raise the soft limit to the hard one when it is low.
fn ensure_descriptors(needed: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    let (soft, hard) = (numbers[0], numbers[1]);
    if soft >= needed {
        return;
    }
    assert!(
        hard >= needed,
        "{needed} file descriptors needed, the hard limit is {hard}"
    );
    let pid = std::process::id().to_string();
    let limit = format!("--nofile={hard}:{hard}");
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &pid, &limit])
        .status()
        .expect("prlimit (util-linux) raises the descriptor limit");
    assert!(
        status.success(),
        "prlimit failed to raise the soft limit to {hard}"
    );
}

/// Two thousand connections that send nothing: each is closed at the
/// header deadline, and a normal client is answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_connections_are_closed_and_others_are_answered() {
    const IDLE: usize = 2_000;
    ensure_descriptors(2 * IDLE as u64 + 500);
    let (_dir, server) = start().await;
    let before = server_fds(&server);
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(server.public).await.unwrap());
    }
    let normal = normal_client(&server);
    let closed: Vec<_> = idle
        .into_iter()
        .map(|mut stream| tokio::spawn(async move { read_to_close(&mut stream).await }))
        .collect();
    for connection in closed {
        assert!(connection.await.unwrap().is_empty());
    }
    let counted = normal.await.unwrap() as i64;
    check_after(server, before, counted).await;
}

/// Malformed or oversized requests get their status, and the connection
/// is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_countless_and_invalid_requests_get_their_status() {
    let (_dir, server) = start().await;
    let before = server_fds(&server);
    let many_headers: String = (0..1_000).map(|n| format!("X-H{n}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a 32 KiB header",
            beacon_request(&format!("X-Big: {}\r\n", "a".repeat(32 * 1024))).into_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
        (
            "a thousand headers",
            beacon_request(&many_headers).into_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
        (
            "a megabyte body declared",
            b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n".to_vec(),
            "HTTP/1.1 413 Payload Too Large",
        ),
        (
            "a TLS hello",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        ("an unknown HTTP version", b"GET / HTTP/9.9\r\n\r\n".to_vec(), "HTTP/1.1 400 Bad Request"),
        (
            "a bad content length",
            b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "two content lengths",
            b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "a space in the header name",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        ("bare newlines only", b"\n\n\n\n".to_vec(), ""),
    ];
    let normal = normal_client(&server);
    for (name, request, expected) in cases {
        for _ in 0..20 {
            let mut stream = TcpStream::connect(server.public).await.unwrap();
            // The server may answer and close before it has read everything.
            let _ = stream.write_all(&request).await;
            let answer = read_to_close(&mut stream).await;
            assert_eq!(status_line(&answer), expected, "{name}");
        }
    }
    let counted = normal.await.unwrap() as i64;
    check_after(server, before, counted).await;
}

/// The status lines of responses sent one after another on a connection.
fn statuses(mut answer: &str) -> Vec<&str> {
    let mut found = Vec::new();
    while let Some((head, rest)) = answer.split_once("\r\n\r\n") {
        found.push(head.lines().next().unwrap());
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .map_or(0, |length| length.parse::<usize>().unwrap());
        answer = &rest[length..];
    }
    found
}

/// Requests pipelined in one write are answered in order, each counted;
/// an invalid request in the pipeline is answered 400 and ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let (_dir, server) = start().await;
    let before = server_fds(&server);
    let normal = normal_client(&server);
    let mut pipelined = 0;
    for _ in 0..20 {
        let mut stream = TcpStream::connect(server.public).await.unwrap();
        let mut requests = beacon_request("").repeat(50);
        requests.push_str("GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
        requests.push_str("NONSENSE\r\n\r\n");
        requests.push_str(&beacon_request(""));
        stream.write_all(requests.as_bytes()).await.unwrap();
        let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
        let statuses = statuses(&answer);
        let mut expected = vec!["HTTP/1.1 202 Accepted"; 50];
        expected.push("HTTP/1.1 200 OK");
        expected.push("HTTP/1.1 400 Bad Request");
        assert_eq!(statuses, expected);
        pipelined += 50;
    }
    let counted = normal.await.unwrap() as i64;
    check_after(server, before, counted + pipelined).await;
}
