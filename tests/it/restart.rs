//! SIGTERM drains and flushes: every beacon answered 202 is counted after a restart.

use crate::helpers::FIREFOX;
use crate::process::ServerProcess;

#[tokio::test]
async fn counts_survive_sigterm_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kruimel.log");
    let data = dir.path().join("data");
    let server = ServerProcess::start(&data, &log).await;
    let mut accepted = 0;
    for index in 0..300 {
        let ip = format!("81.204.{}.{}", index % 200, index % 7);
        if server
            .send(
                &ip,
                FIREFOX,
                &format!("https://gemeente.example/p{}", index % 13),
            )
            .await
            == 202
        {
            accepted += 1;
        }
    }
    // Straight to SIGTERM: no waiting for a flush interval.
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");

    let restarted = ServerProcess::start(&data, &log).await;
    assert_eq!(restarted.pageviews().await, accepted);
    restarted.terminate();
}

#[tokio::test]
async fn the_healthcheck_command_follows_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("data"), &dir.path().join("log")).await;
    let admin = server.admin.to_string();
    let probe = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
            .arg("healthcheck")
            .env_clear()
            .env("KRUIMEL_SERVER__ADMIN_LISTEN", &admin)
            .output()
            .unwrap()
    };
    let running = probe();
    assert!(running.status.success(), "{running:?}");
    assert!(server.terminate().success());
    let stopped = probe();
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("unhealthy"));
}

/// SIGTERM while eight clients keep sending: every beacon answered 202 is
/// in the counts after a restart; the rest were refused, never lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_answered_beacon() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let (log, data) = (dir.path().join("kruimel.log"), dir.path().join("data"));
    let server = ServerProcess::start(&data, &log).await;
    let accepted = Arc::new(AtomicI64::new(0));
    let senders: Vec<_> = (0..8)
        .map(|sender| {
            let (client, public, accepted) =
                (server.client.clone(), server.public, accepted.clone());
            tokio::spawn(async move {
                for index in 0.. {
                    let body = serde_json::json!({
                        "n": "pageview",
                        "u": format!("https://gemeente.example/p{}", index % 13),
                        "d": "gemeente.example",
                    });
                    let answer = client
                        .post(format!("http://{public}/api/event"))
                        .header(
                            "x-forwarded-for",
                            format!("81.204.{sender}.{}", index % 250),
                        )
                        .header("user-agent", FIREFOX)
                        .body(body.to_string())
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status() == 202 => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
    for sender in senders {
        sender.await.unwrap();
    }
    let answered = accepted.load(Ordering::Relaxed);
    assert!(answered > 100, "the load ran: {answered}");

    let restarted = ServerProcess::start(&data, &log).await;
    assert_eq!(restarted.pageviews().await, answered);
    restarted.terminate();
}

/// The aggregator's thread runs niced below the request workers, so the
/// scheduler does not preempt a worker answering beacons for it.
#[tokio::test]
async fn the_aggregator_yields_to_the_request_workers() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("data"), &dir.path().join("log")).await;
    let nice_of = |name: &str| -> Vec<i64> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", server.pid())).unwrap();
        tasks
            .filter_map(|task| {
                let path = task.unwrap().path();
                let comm = std::fs::read_to_string(path.join("comm")).ok()?;
                let stat = std::fs::read_to_string(path.join("stat")).ok()?;
                // Fields after the command's closing parenthesis; nice is the 19th of all.
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                (comm.trim() == name).then(|| fields[16].parse().unwrap())
            })
            .collect()
    };
    assert_eq!(nice_of("kruimel-aggrega"), [10]);
    let workers = nice_of("tokio-rt-worker");
    assert!(
        !workers.is_empty() && workers.iter().all(|nice| *nice == 0),
        "{workers:?}"
    );
    server.terminate();
}
