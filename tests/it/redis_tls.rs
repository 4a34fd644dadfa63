//! TLS to Redis: `rediss://` to a real `redis-server` that speaks only
//! TLS, with a certificate authority made for the test.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::FIREFOX;
use crate::process::ServerProcess;

struct TlsRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A certificate authority and a server certificate for 127.0.0.1 it signed.
fn certificates(dir: &std::path::Path) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Kruimel test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
}

fn start_tls_redis() -> TlsRedis {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let port = free_port();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--tls-port", &port.to_string()])
        .args(["--tls-cert-file", &file("server.pem")])
        .args(["--tls-key-file", &file("server.key")])
        .args(["--tls-ca-cert-file", &file("ca.pem")])
        .args(["--tls-auth-clients", "no"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt-get install redis-server)");
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return TlsRedis {
                child,
                port,
                _dir: dir,
            };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server with TLS did not listen on {port}");
}

async fn start_kruimel(
    redis: &TlsRedis,
    trust: Option<&str>,
    dir: &tempfile::TempDir,
) -> ServerProcess {
    let mut env = vec![
        ("KRUIMEL_STORE__BACKEND".to_owned(), "redis".to_owned()),
        (
            "KRUIMEL_STORE__REDIS__URLS".to_owned(),
            format!(r#"["rediss://127.0.0.1:{}/"]"#, redis.port),
        ),
        (
            "KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS".to_owned(),
            "20".to_owned(),
        ),
        (
            "KRUIMEL_STORE__REDIS__WRITE_INTERVAL_MS".to_owned(),
            "0".to_owned(),
        ),
    ];
    if let Some(ca) = trust {
        env.push(("SSL_CERT_FILE".to_owned(), ca.to_owned()));
    }
    ServerProcess::start_unready(&dir.path().join("data"), &dir.path().join("log"), &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_reach_redis_over_tls_and_an_untrusted_certificate_is_refused() {
    let redis = start_tls_redis();
    let dir = tempfile::tempdir().unwrap();
    let ca = redis._dir.path().join("ca.pem").display().to_string();

    let untrusted = start_kruimel(&redis, None, &dir).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let readiness = untrusted
        .client
        .get(format!("http://{}/readyz", untrusted.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(
        readiness.status(),
        503,
        "a certificate nobody vouches for is refused"
    );
    let body: serde_json::Value = readiness.json().await.unwrap();
    assert!(
        body["failed"].as_array().unwrap().contains(&"store".into()),
        "{body}"
    );
    drop(untrusted);

    let server = start_kruimel(&redis, Some(&ca), &dir).await;
    server.wait_ready().await;
    for index in 0..5 {
        let ip = format!("81.204.7.{index}");
        assert_eq!(
            server
                .send(&ip, FIREFOX, "https://gemeente.example/tls")
                .await,
            202
        );
    }
    for _ in 0..200 {
        if server.pageviews().await == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.pageviews().await, 5);
    assert!(server.terminate().success());
}
