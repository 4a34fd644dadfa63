//! Several instances behind a load balancer count as one: two `kruimel`
//! processes sharing one Redis, the same scripted visitors spread across
//! both, give exactly the counts of one instance: with the visitors' state
//! shared in Redis, or kept by each instance when the load balancer sends
//! each visitor to one instance (`store.redis.visitor_affinity`).

use std::time::Duration;

use serde_json::Value;

use crate::backends::Backend;
use crate::helpers::{CHROME, FIREFOX};
use crate::process::ServerProcess;

/// One hit of a scripted visitor: page, referrer.
type Step = (&'static str, Option<&'static str>);

/// Thirty visitors, one to four pages each, arriving from a few sources.
fn script() -> Vec<(String, &'static str, Vec<Step>)> {
    let journeys: [&[Step]; 4] = [
        &[("/", Some("https://www.google.com/search"))],
        &[("/afval", None), ("/afval/kalender", None)],
        &[
            ("/?utm_source=nieuwsbrief&utm_campaign=winter", None),
            ("/wonen", None),
            ("/wonen/vergunning", None),
        ],
        &[
            ("/contact", Some("https://duckduckgo.com/")),
            ("/", None),
            ("/afval", None),
            ("/contact", None),
        ],
    ];
    (0..30)
        .map(|index| {
            let ip = format!("81.204.{}.9", 10 + index);
            let agent = if index % 3 == 0 { CHROME } else { FIREFOX };
            (ip, agent, journeys[index % 4].to_vec())
        })
        .collect()
}

/// Which instance takes a visitor's hit of a round: given the visitor's
/// address, its number and the round.
type Route = fn(&str, usize, usize) -> usize;

/// Visitor `v`'s hit of round `r` to instance `(v + r) % 2`, so every
/// visit hops between instances.
fn hopping(_: &str, visitor: usize, round: usize) -> usize {
    (visitor + round) % 2
}

/// A visitor's every hit to one instance, chosen by its truncated address
/// (a /24, here by its third number), as a load balancer with visitor
/// affinity does.
fn by_network(ip: &str, _: usize, _: usize) -> usize {
    let third: usize = ip.split('.').nth(2).unwrap().parse().unwrap();
    third % 2
}

/// Plays the script in rounds, a visitor's n-th hit in round n, each to
/// the instance `route` picks. Rounds are a few flushes apart, as a
/// person's clicks are. Returns the number answered 202.
async fn play(instances: &[&ServerProcess], route: Route) -> i64 {
    let script = script();
    let mut accepted = 0;
    for round in 0..4 {
        for (visitor, (ip, agent, steps)) in script.iter().enumerate() {
            let Some((page, referrer)) = steps.get(round) else {
                continue;
            };
            let server = instances[route(ip, visitor, round) % instances.len()];
            let url = format!("https://gemeente.example{page}");
            let body = serde_json::json!({ "n": "pageview", "u": url, "d": "gemeente.example", "r": referrer });
            let status = server
                .client
                .post(format!("http://{}/api/event", server.public))
                .header("x-forwarded-for", ip.as_str())
                .header("user-agent", *agent)
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status();
            accepted += i64::from(status == 202);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    accepted
}

const AGGREGATE: &str = "period=day&metrics=visitors,visits,pageviews,bounce_rate,views_per_visit";
const BREAKDOWNS: [&str; 5] = [
    "event:page",
    "visit:entry_page",
    "visit:source",
    "visit:utm_campaign",
    "visit:browser",
];

/// Every answer compared: the aggregate and each breakdown.
async fn answers(server: &ServerProcess) -> Vec<Value> {
    let mut all = vec![server.stats("aggregate", AGGREGATE).await];
    for property in BREAKDOWNS {
        let query = format!("period=day&property={property}&metrics=visitors,visits,pageviews");
        all.push(server.stats("breakdown", &query).await);
    }
    all
}

async fn wait_for_pageviews(server: &ServerProcess, expected: i64) {
    for _ in 0..300 {
        if server.pageviews().await == expected {
            // A few more flushes for the visit metrics written after them.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "expected {expected} pageviews, have {}",
        server.pageviews().await
    );
}

async fn start(backend: &Backend, dir: &tempfile::TempDir, name: &str) -> ServerProcess {
    start_with(backend, dir, name, &[]).await
}

async fn start_with(
    backend: &Backend,
    dir: &tempfile::TempDir,
    name: &str,
    extra: &[(&str, &str)],
) -> ServerProcess {
    let mut env = backend.env();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env.push(("KRUIMEL_AGGREGATE__FLUSH_INTERVAL_MS".into(), "20".into()));
    let data = dir.path().join(name);
    ServerProcess::start_with(&data, &dir.path().join(format!("{name}.log")), &env).await
}

/// One instance's answers to the script, routed as given.
async fn answers_of_one(backend: &Backend, dir: &tempfile::TempDir, route: Route) -> Vec<Value> {
    let single = start(backend, dir, "single").await;
    let accepted = play(&[&single], route).await;
    assert_eq!(accepted, SCRIPTED, "every scripted beacon is accepted");
    wait_for_pageviews(&single, SCRIPTED).await;
    answers(&single).await
}

/// Plays the script across two instances and checks that both answer
/// exactly as one instance did, with one visit per scripted visitor.
async fn answer_as_one(first: &ServerProcess, second: &ServerProcess, route: Route, one: &[Value]) {
    assert_eq!(play(&[first, second], route).await, SCRIPTED);
    wait_for_pageviews(first, SCRIPTED).await;
    let from_first = answers(first).await;
    assert_eq!(
        from_first,
        answers(second).await,
        "both read the same counts"
    );
    for (got, want) in from_first.iter().zip(one) {
        assert_eq!(got, want);
    }
    assert_eq!(
        from_first[0]["results"]["visits"]["value"], 30,
        "each visitor's visit stayed one"
    );
}

/// The scripted beacons: 30 visitors, one to four pageviews each.
const SCRIPTED: i64 = 73;

/// Every key name the backend's Redis holds.
fn keys_in(backend: &Backend) -> Vec<String> {
    backend.dump().into_iter().map(|(key, _)| key).collect()
}

/// What the shared hot state's keys hold after the site's tag: visits,
/// credits, the open visits of a day and the day's salt.
const HOT_STATE: [&str; 4] = ["}:v:", "}:c:", "}:open:", "}:salt:"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_one_redis_count_exactly_as_one() {
    let dir = tempfile::tempdir().unwrap();
    // Every visit hops between instances.
    let one = answers_of_one(&Backend::redis(), &dir, hopping).await;
    let shared = Backend::redis();
    let first = start(&shared, &dir, "first").await;
    let second = start(&shared, &dir, "second").await;
    answer_as_one(&first, &second, hopping, &one).await;
    let keys = keys_in(&shared);
    for state in HOT_STATE {
        assert!(
            keys.iter().any(|key| key.contains(state)),
            "the instances shared their {state} keys: {keys:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_with_visitor_affinity_count_exactly_as_one_and_share_only_counts() {
    let dir = tempfile::tempdir().unwrap();
    let one = answers_of_one(&Backend::Embedded, &dir, by_network).await;
    let shared = Backend::redis();
    let affinity = [("KRUIMEL_STORE__REDIS__VISITOR_AFFINITY", "true")];
    let first = start_with(&shared, &dir, "first", &affinity).await;
    let second = start_with(&shared, &dir, "second", &affinity).await;
    answer_as_one(&first, &second, by_network, &one).await;
    // Visitors, visits, credits and salts stayed in each instance's memory.
    let keys = keys_in(&shared);
    assert!(!keys.is_empty(), "the counts are in Redis");
    for state in HOT_STATE {
        assert!(
            keys.iter().all(|key| !key.contains(state)),
            "no {state} key in Redis: {keys:?}"
        );
    }
}
