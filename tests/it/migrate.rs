//! A database of the earlier format: the server refuses it and names the
//! command; `kruimel migrate --dry-run` reports without writing; `kruimel
//! migrate` converts it with every count kept.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::FIREFOX;
use crate::process::ServerProcess;

const META: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");

/// Marks a database as written by the earlier format (its rows were all
/// open rows then, as a database of today's visits still is).
fn mark_earlier(data: &Path) {
    let db = redb::Database::open(data.join("kruimel.redb")).unwrap();
    let write = db.begin_write().unwrap();
    write
        .open_table(META)
        .unwrap()
        .insert("schema", "kruimel-counts-2")
        .unwrap();
    write.commit().unwrap();
}

fn kruimel(data: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .args(arguments)
        .env_clear()
        .env("KRUIMEL_SERVER__DATA_DIR", data)
        .env("KRUIMEL_SERVER__LISTEN", "127.0.0.1:0")
        .env("KRUIMEL_SERVER__ADMIN_LISTEN", "127.0.0.1:0")
        .env("KRUIMEL_SITES", r#"[{ id = "gemeente.example" }]"#)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn an_earlier_database_is_refused_until_migrate_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, log) = (dir.path().join("data"), dir.path().join("kruimel.log"));
    let server = ServerProcess::start(&data, &log).await;
    for index in 0..40 {
        let ip = format!("81.204.{index}.9");
        let page = format!("https://gemeente.example/p{}", index % 6);
        assert_eq!(server.send(&ip, FIREFOX, &page).await, 202);
    }
    for _ in 0..200 {
        if server.pageviews().await == 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let before = server
        .stats("breakdown", "property=event:page&period=day")
        .await;
    assert_eq!(before["results"].as_array().unwrap().len(), 6, "{before}");
    assert!(server.terminate().success());
    mark_earlier(&data);
    let file = data.join("kruimel.redb");
    let bytes = std::fs::read(&file).unwrap();

    let refused = kruimel(&data, &["serve"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("kruimel migrate"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        bytes,
        "refusing changed the file"
    );

    let dry = kruimel(&data, &["migrate", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        text(&dry).contains("schema kruimel-counts-2, 1 site(s)"),
        "{}",
        text(&dry)
    );
    assert!(text(&dry).contains("nothing was changed"), "{}", text(&dry));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        bytes,
        "a dry run changed the file"
    );

    let converted = kruimel(&data, &["migrate"]);
    assert!(converted.status.success(), "{}", text(&converted));
    assert!(
        text(&converted).contains("converted"),
        "{}",
        text(&converted)
    );

    let restarted = ServerProcess::start(&data, &log).await;
    assert_eq!(restarted.pageviews().await, 40);
    let after = restarted
        .stats("breakdown", "property=event:page&period=day")
        .await;
    assert_eq!(after, before);
    assert!(restarted.terminate().success());
    let again = kruimel(&data, &["migrate"]);
    assert!(text(&again).contains("nothing to do"), "{}", text(&again));
}
