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
