//! The `kruimel` binary as a person or a script meets it: what `user add`
//! says without a terminal, what `--help` documents, and what a fresh
//! start writes to its log.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::ServerProcess;

fn kruimel_user(args: &[&str], data_dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .arg("user")
        .args(args)
        .env_clear()
        .env("KRUIMEL_SERVER__DATA_DIR", data_dir)
        .env("KRUIMEL_SITES", r#"[{ id = "gemeente.example" }]"#)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn user_add_without_a_terminal_says_to_use_password_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["add", "vera", "--site", "gemeente.example=viewer"];
    let output = kruimel_user(&args, dir.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--password-stdin"), "stderr: {stderr}");
    assert!(stderr.contains("not a terminal"), "stderr: {stderr}");
    // Nothing was written: the user does not exist.
    let listed = kruimel_user(&["list"], dir.path());
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("vera"));
}

#[test]
fn help_documents_password_stdin() {
    for action in ["add", "passwd"] {
        let output = Command::new(env!("CARGO_BIN_EXE_kruimel"))
            .args(["user", action, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        let line = help
            .lines()
            .find(|line| line.contains("--password-stdin"))
            .unwrap_or_else(|| panic!("no --password-stdin in {help}"));
        assert!(line.contains("stdin"), "{action}: {line:?}");
        assert!(
            line.trim() != "--password-stdin",
            "{action}: the option has no help text"
        );
    }
}

/// Starts the binary with text logs into a file (the roll-up's at debug
/// level, so its quiet passes show), waits for the first roll-up pass,
/// stops it, and returns the log.
async fn text_log_of_a_fresh_start(extra_env: &[(String, String)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kruimel.log");
    let mut env = vec![
        ("KRUIMEL_LOG__FORMAT".to_owned(), "text".to_owned()),
        (
            "KRUIMEL_LOG__LEVEL".to_owned(),
            "info,kruimel::aggregate::rollup=debug".to_owned(),
        ),
    ];
    env.extend_from_slice(extra_env);
    let server = ServerProcess::start_with(&dir.path().join("data"), &log, &env).await;
    for _ in 0..500 {
        let written = std::fs::read_to_string(&log).unwrap();
        if written.contains("roll-up pass finished") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.terminate().success());
    std::fs::read_to_string(&log).unwrap()
}

#[tokio::test]
async fn text_logs_to_a_file_carry_no_colour_and_a_fresh_database_no_empty_roll_ups() {
    let log = text_log_of_a_fresh_start(&[]).await;
    assert!(
        log.contains("roll-up pass finished"),
        "the first pass did not run: {log}"
    );
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a file: {log:?}");
    let quiet = log
        .lines()
        .find(|line| line.contains("roll-up pass finished"))
        .unwrap();
    assert!(
        quiet.contains("DEBUG") && quiet.contains("no rows written"),
        "a pass that wrote nothing was announced: {quiet}"
    );
    assert!(
        !log.contains("month rolled up"),
        "empty months were announced: {log}"
    );
}

#[tokio::test]
async fn a_configuration_without_sites_warns_at_start() {
    let no_sites = [("KRUIMEL_SITES".to_owned(), "[]".to_owned())];
    let log = text_log_of_a_fresh_start(&no_sites).await;
    let warning = log
        .lines()
        .find(|line| line.contains("no sites configured"))
        .unwrap_or_else(|| panic!("no warning in {log}"));
    assert!(warning.contains("WARN"), "{warning}");
}
