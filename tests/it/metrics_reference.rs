//! The metrics reference in `docs/operations.md` against a real scrape:
//! every family the server exports is documented with its type and label
//! names, every label value it exports is one the reference lists, and
//! every value the reference lists is exported from the start, as it says.

use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::TestApp;

const REFERENCE: &str = include_str!("../../docs/operations.md");

/// One row of the reference table.
#[derive(Debug)]
struct Documented {
    kind: String,
    /// Label name → the values listed for it (empty: an open set, such as site ids).
    labels: BTreeMap<String, BTreeSet<String>>,
}

/// The words between backticks, in order.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The labels column: `name`: `value`, `value`; `name` (as above); —
fn labels_of(
    column: &str,
    previous: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut labels = BTreeMap::new();
    if column.trim() == "—" {
        return labels;
    }
    for part in column.split(';') {
        let words = quoted(part);
        let Some((name, values)) = words.split_first() else {
            continue;
        };
        let values = if part.contains("(as above)") {
            previous.get(name).cloned().unwrap_or_default()
        } else {
            values.iter().cloned().collect()
        };
        labels.insert(name.clone(), values);
    }
    labels
}

fn reference() -> BTreeMap<String, Documented> {
    let section = REFERENCE
        .split("\n## Metrics reference\n")
        .nth(1)
        .expect("a \"Metrics reference\" section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut documented = BTreeMap::new();
    let mut previous = BTreeMap::new();
    for row in section.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let name = quoted(cells[0]).remove(0);
        let labels = labels_of(cells[2], &previous);
        previous.extend(labels.clone());
        documented.insert(
            name,
            Documented {
                kind: cells[1].trim().to_owned(),
                labels,
            },
        );
    }
    documented
}

/// A scrape: family → (type, label name → values seen).
fn families(scrape: &str) -> BTreeMap<String, (String, BTreeMap<String, BTreeSet<String>>)> {
    let mut families: BTreeMap<String, (String, BTreeMap<String, BTreeSet<String>>)> =
        BTreeMap::new();
    for line in scrape.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let (name, kind) = declared.split_once(' ').unwrap();
            families.entry(name.to_owned()).or_default().0 = kind.to_owned();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let series = line.rsplit_once(' ').unwrap().0;
        let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                (families.get(base)?.0 == "histogram").then_some(base)
            })
            .unwrap_or(name);
        let entry = families.entry(family.to_owned()).or_default();
        for pair in labels
            .trim_end_matches('}')
            .split(',')
            .filter(|pair| !pair.is_empty())
        {
            let (label, value) = pair.split_once('=').unwrap();
            if label != "le" {
                let value = value.trim_matches('"').to_owned();
                entry.1.entry(label.to_owned()).or_default().insert(value);
            }
        }
    }
    families
}

/// Families whose first sample is a read of the store, taken just after
/// start rather than before the listener opens.
const READ_AFTER_START: [&str; 3] = [
    "kruimel_site_visitors_today",
    "kruimel_site_stored_bytes",
    "kruimel_site_max_bytes",
];

#[tokio::test]
async fn the_metrics_reference_matches_a_scrape() {
    let app = TestApp::spawn().await;
    let documented = reference();
    assert!(documented.len() > 20, "the reference table was not found");
    // The per-site gauges read back from the store appear after the
    // aggregator's and the roll-up's first read, moments after start.
    let mut scraped = families(&app.metrics_text().await);
    for _ in 0..100 {
        if READ_AFTER_START
            .iter()
            .all(|name| scraped.contains_key(*name))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        scraped = families(&app.metrics_text().await);
    }

    let mut problems = Vec::new();
    for (name, (kind, labels)) in &scraped {
        let Some(entry) = documented.get(name) else {
            problems.push(format!("{name} ({kind}) is exported but not documented"));
            continue;
        };
        if &entry.kind != kind {
            problems.push(format!(
                "{name} is a {kind}, documented as a {}",
                entry.kind
            ));
        }
        for (label, values) in labels {
            let Some(listed) = entry.labels.get(label) else {
                problems.push(format!("{name}: label {label} is not documented"));
                continue;
            };
            if listed.is_empty() {
                continue;
            }
            for value in values.difference(listed) {
                problems.push(format!(
                    "{name}: {label}=\"{value}\" is exported but not documented"
                ));
            }
        }
    }
    for (name, entry) in &documented {
        let Some((_, labels)) = scraped.get(name) else {
            problems.push(format!("{name} is documented but not exported"));
            continue;
        };
        for (label, listed) in &entry.labels {
            let exported = labels.get(label).cloned().unwrap_or_default();
            for value in listed.difference(&exported) {
                // The reference says a closed set is exported from the start,
                // at 0: a listed value missing at start is a wrong promise
                // or a value that does not exist.
                problems.push(format!(
                    "{name}: {label}=\"{value}\" is documented but not exported at start"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the metrics reference and /metrics disagree:\n{}",
        problems.join("\n")
    );
}
