//! `dashboards/`: the Grafana dashboard and the alert rules query only
//! metrics the server really exposes, in expressions Prometheus can parse.
//!
//! A metric renamed in `src/metrics.rs` without the dashboard or the rules
//! following fails here instead of leaving an empty panel or an alert that
//! can never fire.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::exposition::Exposition;
use crate::helpers::{FIREFOX, SITE, TestApp};
use crate::promtool::{dashboards, promtool, report};

/// Every PromQL expression of the dashboard: panel targets and the queries
/// of template variables, with the panel or variable they belong to.
fn dashboard_queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let panels = dashboard["panels"].as_array().expect("a panel list");
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("untitled").to_owned();
        if panel["type"] == "row" {
            continue;
        }
        let targets = panel["targets"].as_array();
        assert!(
            targets.is_some_and(|targets| !targets.is_empty()),
            "panel {title} has no query"
        );
        for target in targets.unwrap() {
            let expr = target["expr"].as_str();
            let expr = expr.unwrap_or_else(|| panic!("a target of {title} has no expr"));
            assert_eq!(
                target["datasource"]["uid"], "${datasource}",
                "panel {title} must use the datasource variable"
            );
            queries.push((title.clone(), expr.to_owned()));
        }
    }
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        if variable["type"] == "query" {
            let name = format!("variable {}", variable["name"]);
            queries.push((name, variable["query"].as_str().unwrap().to_owned()));
        }
    }
    queries
}

/// The `expr:` of every rule in a rules file, inline or as a block scalar.
fn rule_exprs(rules: &str) -> Vec<String> {
    let lines: Vec<&str> = rules.lines().collect();
    let mut exprs = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(value) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let value = value.trim();
        if !value.starts_with('|') && !value.starts_with('>') {
            exprs.push(value.to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let block: Vec<&str> = lines[index + 1..]
            .iter()
            .take_while(|next| {
                next.trim().is_empty() || next.len() - next.trim_start().len() > indent
            })
            .copied()
            .collect();
        exprs.push(block.join("\n"));
    }
    exprs
}

/// Metric names a PromQL expression reads: identifiers outside quotes that
/// start with `kruimel_` or `process_` (not `$variables`).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let mut escaped = false;
                for inner in chars.by_ref() {
                    if inner == c && !escaped {
                        break;
                    }
                    escaped = inner == '\\' && !escaped;
                }
            }
            c if c == '$' || c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !(next.is_ascii_alphanumeric() || next == '_' || next == ':') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                if word.starts_with("kruimel_") || word.starts_with("process_") {
                    names.insert(word);
                }
            }
            _ => {}
        }
    }
    names
}

#[test]
fn metric_names_are_read_outside_quotes_and_variables() {
    let expr = r#"histogram_quantile(0.99, sum by (le) (rate(kruimel_http_request_duration_seconds_bucket{job=~"$job", x="kruimel_not_a_metric"}[$__rate_interval]))) / process_open_fds + process_max_fds"#;
    let names: Vec<String> = metric_names(expr).into_iter().collect();
    assert_eq!(
        names,
        [
            "kruimel_http_request_duration_seconds_bucket",
            "process_max_fds",
            "process_open_fds"
        ]
    );
}

/// A fresh server's exposition once every family has a sample: one beacon
/// counted, one invalid, and today's visitors published.
async fn live_exposition() -> Exposition {
    let app = TestApp::spawn().await;
    let response = app
        .pageview("81.204.23.10", FIREFOX, "https://gemeente.example/", None)
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(app.send("81.204.23.10", FIREFOX, "{").await.status(), 400);
    for _ in 0..250 {
        let exposition = Exposition::parse(&app.metrics_text().await);
        if exposition.find("kruimel_site_visitors_today", &[("site", SITE)]) == Some(1.0) {
            return exposition;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("visitors today were never published");
}

/// `owner: name` for each metric a query names that the exposition lacks.
fn unexposed(exposition: &Exposition, queries: &[(String, String)]) -> Vec<String> {
    queries
        .iter()
        .flat_map(|(owner, expr)| {
            metric_names(expr)
                .into_iter()
                .filter(|name| !exposition.exposes(name))
                .map(move |name| format!("{owner}: {name}"))
        })
        .collect()
}

#[tokio::test]
async fn dashboard_and_alert_rules_query_only_metrics_the_server_exposes() {
    let text = std::fs::read_to_string(dashboards().join("kruimel-operations.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert_eq!(dashboard["title"], "Kruimel operations");
    assert!(dashboard["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
    assert!(dashboard["schemaVersion"].as_i64() >= Some(39));
    let dashboard_queries = dashboard_queries(&dashboard);
    let rules = std::fs::read_to_string(dashboards().join("alerts.yml")).unwrap();
    let rule_queries: Vec<(String, String)> = rule_exprs(&rules)
        .into_iter()
        .enumerate()
        .map(|(index, expr)| (format!("rule {}", index + 1), expr))
        .collect();

    // Nothing can pass by being overlooked: the queries name most metrics.
    let names_in = |queries: &[(String, String)]| -> BTreeSet<String> {
        queries
            .iter()
            .flat_map(|(_, expr)| metric_names(expr))
            .collect()
    };
    assert!(
        names_in(&dashboard_queries).len() >= 25,
        "{dashboard_queries:?}"
    );
    assert!(rule_queries.len() >= 9, "{rule_queries:?}");
    assert!(names_in(&rule_queries).len() >= 8, "{rule_queries:?}");

    let exposition = live_exposition().await;
    let mut unknown = unexposed(&exposition, &dashboard_queries);
    unknown.extend(unexposed(&exposition, &rule_queries));
    assert!(
        unknown.is_empty(),
        "queries name metrics that /metrics does not expose:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn every_dashboard_query_parses_as_promql() {
    let text = std::fs::read_to_string(dashboards().join("kruimel-operations.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    // Grafana's variables as Prometheus would see them after substitution;
    // the variables' own label_values() queries are Grafana's, not PromQL.
    let queries: Vec<(String, String)> = dashboard_queries(&dashboard)
        .into_iter()
        .filter(|(owner, _)| !owner.starts_with("variable"))
        .collect();
    let rules: Vec<Value> = queries
        .iter()
        .enumerate()
        .map(|(index, (_, expr))| {
            let expr = expr
                .replace("$__rate_interval", "5m")
                .replace("$job", ".*")
                .replace("$instance", ".*")
                .replace("$site", ".*");
            json!({ "record": format!("dashboard:query_{index}"), "expr": expr })
        })
        .collect();
    // JSON is YAML, so promtool reads this as a rules file.
    let file = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
    let groups = json!({ "groups": [{ "name": "dashboard", "rules": rules }] });
    std::fs::write(file.path(), groups.to_string()).unwrap();
    let path = file.path().to_str().unwrap();
    let output = promtool(&["check", "rules", path], None);
    let owners: Vec<String> = queries
        .iter()
        .enumerate()
        .map(|(index, (owner, _))| format!("dashboard:query_{index} is in {owner}"))
        .collect();
    assert!(
        output.status.success(),
        "{}\n{}",
        report(&output),
        owners.join("\n")
    );
}
