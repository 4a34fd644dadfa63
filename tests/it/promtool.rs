//! `promtool`, from Debian's `prometheus` package: the alert rules in
//! `dashboards/` pass its syntax check and their unit tests.
//!
//! It never skips: without `promtool` on PATH the tests that need it fail
//! with the command that installs it, as the Redis tests do for
//! `redis-server`. Synchronous on purpose, like `redis_server`: each call is
//! short, and blocking a current-thread runtime only pauses the in-process
//! server, which nothing waits on meanwhile.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const INSTALL_HINT: &str = "install it with `apt-get install prometheus` \
    (Debian/Ubuntu; promtool is in that package; `.ci/run` does this); these tests never skip";

/// The repository's `dashboards/` directory.
pub fn dashboards() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

/// Runs `promtool` with `args`, reading `stdin` from a file when given.
pub fn promtool(args: &[&str], stdin: Option<&Path>) -> Output {
    let input = match stdin {
        Some(path) => Stdio::from(File::open(path).expect("promtool's input file exists")),
        None => Stdio::null(),
    };
    Command::new("promtool")
        .args(args)
        .current_dir(dashboards())
        .stdin(input)
        .output()
        .unwrap_or_else(|error| panic!("cannot run promtool ({error}): {INSTALL_HINT}"))
}

/// promtool's exit code and what it printed, for assertion messages.
pub fn report(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn alert_rules_pass_promtool_check_rules() {
    let output = promtool(&["check", "rules", "alerts.yml"], None);
    assert!(output.status.success(), "{}", report(&output));
}

#[test]
fn every_alert_passes_its_promtool_unit_tests() {
    let output = promtool(&["test", "rules", "alerts_test.yml"], None);
    assert!(output.status.success(), "{}", report(&output));
    // Every alert of alerts.yml has a case where it fires and one where it
    // must not: `alertname:` is followed by `exp_alerts: []` or by alerts.
    let rules = std::fs::read_to_string(dashboards().join("alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(dashboards().join("alerts_test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- alert: "))
        .collect();
    assert!(
        alerts.len() >= 9,
        "alerts.yml has too few alerts: {alerts:?}"
    );
    let lines: Vec<&str> = tests.lines().map(str::trim).collect();
    for alert in alerts {
        let cases: Vec<&str> = lines
            .windows(2)
            .filter(|pair| pair[0] == format!("alertname: {alert}"))
            .map(|pair| pair[1])
            .collect();
        assert!(
            cases.contains(&"exp_alerts: []"),
            "alerts_test.yml has no case where {alert} must not fire"
        );
        assert!(
            cases
                .iter()
                .any(|case| case.starts_with("exp_alerts:") && *case != "exp_alerts: []"),
            "alerts_test.yml has no case where {alert} fires"
        );
    }
}
