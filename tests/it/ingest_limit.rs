//! The per-network budget of beacons: people are never limited, even many
//! behind one network; a flood from one network is answered 202 with the
//! drop reason `rate_limited` (never 429: the tracker ignores answers),
//! counted as a drop, and not stored.

use std::sync::Arc;

use serde_json::json;
use tokio::task::JoinSet;

use crate::exposition::Exposition;
use crate::helpers::{FIREFOX, SITE, TestApp};

const DAY: &str = "period=day&date=2026-11-23";
const START: &str = "2026-11-23T10:00:00Z";

/// Sends `count` beacons from the network of `ip_prefix` (`ip_prefix.N`),
/// 16 at a time; the drop reason of each.
async fn send_from(app: &Arc<TestApp>, ip_prefix: &str, count: usize) -> Vec<Option<String>> {
    let mut answers = Vec::with_capacity(count);
    let mut running = JoinSet::new();
    for n in 0..count {
        if running.len() >= 16 {
            answers.push(running.join_next().await.unwrap().unwrap());
        }
        let (app, ip) = (app.clone(), format!("{ip_prefix}.{}", n % 250));
        // A person's visit: a pageview, then events on the page.
        let name = if n % 4 == 0 { "pageview" } else { "Klik" };
        let body = json!({ "n": name, "u": format!("https://{SITE}/p{}", n % 9), "d": SITE });
        running.spawn(async move {
            let response = app.send(&ip, FIREFOX, &body.to_string()).await;
            assert_eq!(response.status(), 202, "never 429");
            let header = response.headers().get("x-kruimel-dropped");
            header.map(|value| value.to_str().unwrap().to_owned())
        });
    }
    while let Some(answer) = running.join_next().await {
        answers.push(answer.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_of_a_hundred_people_behind_one_network_is_never_limited() {
    let app = Arc::new(TestApp::spawn_with(&[], START).await);
    // 100 people sending 4 beacons each within seconds: more than a real
    // office does, within the default budget.
    let answers = send_from(&app, "145.20.30", 400).await;
    assert!(answers.iter().all(Option::is_none), "{answers:?}");
    app.wait_for_events(400, DAY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_network_is_dropped_with_its_reason_and_counted() {
    // A long window, so the flood surely falls in one.
    let env = [
        ("KRUIMEL_LIMITS__INGEST_PER_NETWORK", "500"),
        ("KRUIMEL_LIMITS__INGEST_WINDOW_SECONDS", "120"),
    ];
    let app = Arc::new(TestApp::spawn_with(&env, START).await);
    let flood = send_from(&app, "203.0.113", 800).await;
    let limited = flood
        .iter()
        .filter(|reason| reason.as_deref() == Some("rate_limited"));
    assert_eq!(limited.count(), 300, "the budget is 500 a window");
    assert!(
        flood
            .iter()
            .all(|r| r.is_none() || r.as_deref() == Some("rate_limited"))
    );
    // Another network, meanwhile, is counted as usual.
    let others = send_from(&app, "81.204.23", 20).await;
    assert!(others.iter().all(Option::is_none));
    app.wait_for_events(500 + 20, DAY).await;
    let exposition = Exposition::parse(&app.metrics_text().await);
    let counted = exposition.value(
        "kruimel_beacons_dropped_total",
        &[("reason", "rate_limited")],
    );
    assert_eq!(counted, 300.0);
    assert_eq!(
        exposition.value("kruimel_beacons_accepted_total", &[]),
        520.0
    );
}
