//! Faults: a killed process, a disk that fills up or turns read-only, a
//! database file that is not Kruimel's, and Redis going away, each while
//! beacons stream in. What was answered as counted is stored, or its loss
//! is bounded and counted.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::backends::Backend;
use crate::disk::{Mount, fill};
use crate::helpers::{FIREFOX, TestApp, sample, wait_readiness};
use crate::load::Load;
use crate::process::ServerProcess;

const FLUSH_MS: u64 = 500;

fn flush_every(ms: u64) -> Vec<(String, String)> {
    vec![(
        "KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS".to_owned(),
        ms.to_string(),
    )]
}

/// SIGKILL gives no chance to flush: what is lost is what was counted since
/// the last flush began, at most about one flush interval of beacons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_at_most_one_flush_interval_of_beacons() {
    let dir = tempfile::tempdir().unwrap();
    let (log, data) = (dir.path().join("kruimel.log"), dir.path().join("data"));
    let server = ServerProcess::start_with(&data, &log, &flush_every(FLUSH_MS)).await;
    let load = Load::start(server.public, 8);
    tokio::time::sleep(Duration::from_millis(5 * FLUSH_MS)).await;
    let killed_at = Instant::now();
    let status = server.kill();
    assert!(!status.success());
    let answered = load.stop().await;

    let restarted = ServerProcess::start(&data, &log).await;
    let stored = restarted.pageviews().await as usize;
    assert!(
        stored <= answered.len(),
        "{stored} stored, {answered:?} answered"
    );
    let lost = answered.len() - stored;
    // One interval, plus the flush that was under way and a tick's lateness.
    let window = Duration::from_millis(FLUSH_MS + FLUSH_MS / 2);
    let in_last_interval = answered
        .iter()
        .filter(|at| killed_at.saturating_duration_since(**at) <= window)
        .count();
    eprintln!(
        "answered {}, stored {stored}, lost {lost}, answered in the last {window:?}: {in_last_interval}",
        answered.len()
    );
    assert!(
        answered.len() > 2 * in_last_interval,
        "the load ran over several intervals"
    );
    assert!(
        lost <= in_last_interval,
        "lost {lost}, more than the {in_last_interval} answered in the last {window:?}"
    );
    assert!(restarted.terminate().success());
}

/// Sends `count` pageviews, each on a page of its own so the database
/// must grow; returns how many were answered 202.
async fn send_new_pages(server: &ServerProcess, first: usize, count: usize) -> i64 {
    let mut answered = 0;
    for index in first..first + count {
        let ip = format!("81.204.{}.{}", index % 250, index % 7);
        let url = format!("https://gemeente.example/nieuws/bericht-met-een-lange-titel-{index}");
        if server.send(&ip, FIREFOX, &url).await == 202 {
            answered += 1;
        }
    }
    answered
}

async fn store_errors(server: &ServerProcess) -> f64 {
    sample(&server.metrics().await, "kruimel_store_errors_total")
}

async fn wait_for_pageviews(server: &ServerProcess, expected: i64) {
    let mut seen = 0;
    for _ in 0..100 {
        seen = server.pageviews().await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {expected} pageviews, the store has {seen}");
}

/// While writes fail: not ready because of the store, still alive and
/// answering beacons, the cause logged with the file's name.
async fn check_failing_store(server: &mut ServerProcess, log: &Path, data: &Path, cause: &str) {
    let body = wait_readiness(&server.client, server.admin, 503).await;
    assert!(
        body["failed"].as_array().unwrap().contains(&"store".into()),
        "{body}"
    );
    let health = server
        .client
        .get(format!("http://{}/healthz", server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let logged = std::fs::read_to_string(log).unwrap();
    let file = data.join("kruimel.redb").display().to_string();
    assert!(
        logged
            .lines()
            .any(|line| line.contains("ERROR") && line.contains(&file) && line.contains(cause)),
        "no error naming {file} and {cause:?} in the log:\n{logged}"
    );
    assert!(server.is_running());
}

/// Sends new pages until a flush fails; returns how many were answered.
async fn send_until_a_write_fails(server: &ServerProcess, first: usize) -> i64 {
    let mut answered = 0;
    for round in 0..40 {
        answered += send_new_pages(server, first + round * 200, 200).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if store_errors(server).await > 0.0 {
            return answered;
        }
    }
    panic!("no write failed after {answered} beacons on new pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_makes_the_server_unready_and_loses_nothing_once_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (log, data) = (dir.path().join("kruimel.log"), dir.path().join("data"));
    let _disk = Mount::tmpfs(&data, "4m");
    let mut server = ServerProcess::start_with(&data, &log, &flush_every(100)).await;
    let mut answered = send_new_pages(&server, 0, 50).await;
    wait_for_pageviews(&server, answered).await;

    let filler = fill(&data);
    answered += send_until_a_write_fails(&server, 1_000).await;
    check_failing_store(&mut server, &log, &data, "No space left on device").await;
    answered += send_new_pages(&server, 20_000, 100).await;

    std::fs::remove_file(filler).unwrap();
    wait_readiness(&server.client, server.admin, 200).await;
    wait_for_pageviews(&server, answered).await;
    assert!(server.terminate().success());
}

/// The pageviews and events the server logged as lost when it stopped.
fn reported_loss(log: &Path) -> (i64, i64) {
    let logged = std::fs::read_to_string(log).unwrap();
    let line = logged
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| {
            line["message"].as_str().is_some_and(|message| {
                message.starts_with("stopping with counts the store did not take")
            })
        })
        .unwrap_or_else(|| panic!("no loss reported in the log:\n{logged}"));
    let field = |name: &str| line[name].as_i64().unwrap();
    (field("pageviews"), field("events"))
}

/// A disk that ext4 turned read-only after an error cannot be repaired
/// while the server holds files on it (its audit log stays open), so the
/// operator stops the server: what the store did not take is logged, in
/// beacons, and after the repair the counts are exactly the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_turned_read_only_makes_the_server_unready_and_its_loss_is_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (log, data) = (dir.path().join("kruimel.log"), dir.path().join("data"));
    let disk = Mount::ext4(&data, &dir.path().join("disk.img"));
    let mut server = ServerProcess::start_with(&data, &log, &flush_every(100)).await;
    let mut answered = send_new_pages(&server, 0, 50).await;
    wait_for_pageviews(&server, answered).await;

    disk.fail_read_only();
    answered += send_until_a_write_fails(&server, 1_000).await;
    check_failing_store(&mut server, &log, &data, "Read-only file system").await;
    answered += send_new_pages(&server, 20_000, 100).await;
    assert!(server.terminate().success());
    let (lost_pageviews, lost_events) = reported_loss(&log);
    assert!(lost_pageviews > 100, "{lost_pageviews} reported lost");
    assert_eq!(lost_events, lost_pageviews);

    disk.repair_and_remount();
    let restarted = ServerProcess::start(&data, &log).await;
    assert_eq!(restarted.pageviews().await, answered - lost_pageviews);
    assert!(restarted.terminate().success());
}

/// Starts the binary on `data` and expects it to stop at once, refusing
/// the database file; returns what it printed.
fn refused_start(data: &Path) -> String {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .arg("serve")
        .env_clear()
        .env("KRUIMEL_SERVER__LISTEN", "127.0.0.1:0")
        .env("KRUIMEL_SERVER__ADMIN_LISTEN", "127.0.0.1:0")
        .env("KRUIMEL_SERVER__DATA_DIR", data)
        .env("KRUIMEL_SITES", r#"[{ id = "gemeente.example" }]"#)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("kruimel started on a database that is not its own");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test]
async fn a_foreign_or_corrupt_database_file_stops_the_start_names_the_file_and_is_left_as_it_was() {
    // A real Kruimel database, to damage.
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours");
    let server = ServerProcess::start(&ours, &dir.path().join("log")).await;
    send_new_pages(&server, 0, 20).await;
    assert!(server.terminate().success());
    let kruimel = std::fs::read(ours.join("kruimel.redb")).unwrap();

    let foreign_redb = {
        let path = dir.path().join("foreign.redb");
        let db = redb::Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let orders: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("orders");
            write
                .open_table(orders)
                .unwrap()
                .insert("fiets", 2)
                .unwrap();
        }
        write.commit().unwrap();
        drop(db);
        std::fs::read(&path).unwrap()
    };
    let mut header_damaged = kruimel.clone();
    header_damaged[..64].fill(0xA5);
    let cases = [
        ("text", b"gemeente;bezoekers\nwonen;12\n".to_vec()),
        ("another program's redb database", foreign_redb),
        ("a Kruimel database with a damaged header", header_damaged),
    ];
    for (name, bytes) in cases {
        let data = dir.path().join(name.replace(' ', "-"));
        std::fs::create_dir_all(&data).unwrap();
        let file = data.join("kruimel.redb");
        std::fs::write(&file, &bytes).unwrap();
        let printed = refused_start(&data);
        assert!(
            printed.contains(&file.display().to_string()),
            "{name}: the error does not name {}:\n{printed}",
            file.display()
        );
        assert!(
            std::fs::read(&file).unwrap() == bytes,
            "{name}: the file was changed"
        );
        assert_eq!(
            std::fs::read_dir(&data).unwrap().count(),
            1,
            "{name}: nothing else written"
        );
    }
}

/// Redis stops and starts again while clients stream beacons: everything
/// answered as counted is stored; past the bound the door sheds, with the
/// drop header, and nothing acknowledged is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_under_load_stores_every_beacon_answered_as_counted() {
    const DAY: &str = "period=day&date=2026-11-23";
    let backend = Backend::redis_persistent();
    let app = TestApp::spawn_on_with(
        backend.clone(),
        &[("KRUIMEL_STORE__REDIS__MAX_BACKLOG", "1500")],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let load = Load::start(app.public, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    backend.redis_server().stop();
    wait_readiness(&app.client, app.admin, 503).await;
    let before_outage = load.counted();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let during_outage = load.counted() - before_outage;
    backend.redis_server().start_again();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answered = load.stop().await.len() as i64;
    assert!(during_outage > 0, "beacons were answered during the outage");

    // Wait until the queue and backlog are empty.
    let mut settled = false;
    for _ in 0..300 {
        let backlog = app.sample("kruimel_redis_backlog_hits").await;
        let queued = app.sample("kruimel_aggregator_queue_depth").await;
        if backlog == 0.0 && queued == 0.0 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(settled, "the backlog never emptied");
    app.wait_for_events(answered, DAY).await;
    let shed = app.sample("kruimel_beacons_shed_total").await;
    eprintln!("answered {answered}, {during_outage} during the outage, shed {shed}");
    assert_eq!(app.sample("kruimel_redis_backlog_dropped_total").await, 0.0);
    assert!(
        during_outage <= 1_500,
        "no more than the bound answered as counted while Redis was away: {during_outage}"
    );
}
