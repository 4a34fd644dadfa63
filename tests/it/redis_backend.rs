//! What only the Redis backend has: expiring hot state and outages.

use std::time::Duration;

use crate::backends::Backend;
use crate::helpers::{FIREFOX, TestApp, wait_readiness};

const DAY: &str = "period=day&date=2026-11-23";

async fn send_pageviews(app: &TestApp, count: usize, first: usize) -> usize {
    let mut accepted = 0;
    for index in first..first + count {
        let ip = format!("81.204.{}.{}", index % 250, index % 7);
        let url = format!("https://gemeente.example/p{}", index % 9);
        if app.pageview(&ip, FIREFOX, &url, None).await.status() == 202 {
            accepted += 1;
        }
    }
    accepted
}

async fn readiness(app: &TestApp, status: u16) -> serde_json::Value {
    wait_readiness(&app.client, app.admin, status).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salts_and_visitor_state_are_gone_when_the_salts_life_ends() {
    let backend = Backend::redis();
    // 23:59:58 in Amsterdam with one-minute visits: today's salt has 62 s left.
    let app = TestApp::spawn_on_with(
        backend.clone(),
        &[("KRUIMEL_SESSIONS__VISIT_TIMEOUT_MINUTES", "1")],
        "2026-11-23T22:59:58Z",
    )
    .await;
    assert_eq!(send_pageviews(&app, 6, 0).await, 6);
    app.wait_for_events(6, DAY).await;

    let keys: Vec<String> = backend.dump().into_iter().map(|(key, _)| key).collect();
    let mut salts: Vec<&String> = keys
        .iter()
        .filter(|key| key.starts_with("kr:{gemeente.example}:salt:"))
        .collect();
    salts.sort();
    assert_eq!(
        salts.len(),
        2,
        "today's salt, and tomorrow's fetched ahead: {salts:?}"
    );
    let today_salt = salts[0].clone();
    let salt_life = backend.redis_server().ttl_ms(&today_salt);
    assert!(
        (1..=62_000).contains(&salt_life),
        "the salt lives to the end of its day plus the visit timeout: {salt_life} ms"
    );
    let tomorrow_life = backend.redis_server().ttl_ms(salts[1]);
    assert!(
        (62_000..=86_462_000).contains(&tomorrow_life),
        "{tomorrow_life}"
    );
    let hot: Vec<&String> = keys
        .iter()
        .filter(|key| {
            [":v:", ":c:", ":open:"]
                .iter()
                .any(|part| key.contains(part))
        })
        .collect();
    assert!(
        hot.len() >= 6 * 2,
        "visitor state and credits are in Redis: {hot:?}"
    );
    for key in &hot {
        let life = backend.redis_server().ttl_ms(key);
        assert!(
            life > 0 && life <= salt_life,
            "{key} lives {life} ms, its salt {salt_life} ms"
        );
    }

    app.stop().await;
    tokio::time::sleep(Duration::from_millis(salt_life as u64 + 500)).await;
    let left: Vec<String> = backend.dump().into_iter().map(|(key, _)| key).collect();
    assert!(
        !left
            .iter()
            .any(|key| key.ends_with(&today_salt[today_salt.len() - 6..])),
        "every site's salt of the day is gone: {left:?}"
    );
    for key in &left {
        assert!(
            ![":v:", ":c:", ":open:"]
                .iter()
                .any(|part| key.contains(part)),
            "per-visitor key {key} outlived the salt"
        );
    }
    assert!(
        left.iter().any(|key| key.contains(":n:")),
        "the counts stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_within_the_bound_loses_nothing() {
    let backend = Backend::redis_persistent();
    let app = TestApp::spawn_on(backend.clone()).await;
    let mut accepted = send_pageviews(&app, 40, 0).await;
    app.wait_for_events(accepted as i64, DAY).await;

    backend.redis_server().stop();
    let body = readiness(&app, 503).await;
    assert!(
        body["failed"].as_array().unwrap().contains(&"store".into()),
        "{body}"
    );
    let during = send_pageviews(&app, 120, 40).await;
    assert_eq!(during, 120, "ingest answers 202 while Redis is away");
    accepted += during;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.sample("kruimel_redis_backlog_hits").await > 0.0);

    backend.redis_server().start_again();
    accepted += send_pageviews(&app, 40, 160).await;
    app.wait_for_events(accepted as i64, DAY).await;
    readiness(&app, 200).await;
    assert_eq!(app.sample("kruimel_redis_backlog_dropped_total").await, 0.0);
    assert_eq!(app.sample("kruimel_beacons_shed_total").await, 0.0);
    assert_eq!(app.metric("pageviews", DAY).await, accepted as i64);
}

/// Beacons answered 202 without a drop header, and those answered with
/// `X-Kruimel-Dropped: overloaded`; anything else fails the test.
async fn send_pageviews_sorted(app: &TestApp, count: usize, first: usize) -> (usize, usize) {
    let (mut counted, mut shed) = (0, 0);
    for index in first..first + count {
        let ip = format!("81.204.{}.{}", index % 250, index % 7);
        let url = format!("https://gemeente.example/p{}", index % 9);
        let response = app.pageview(&ip, FIREFOX, &url, None).await;
        assert_eq!(response.status(), 202);
        match response.headers().get("x-kruimel-dropped") {
            None => counted += 1,
            Some(reason) => {
                assert_eq!(reason, "overloaded");
                shed += 1;
            }
        }
    }
    (counted, shed)
}

/// One labelled sample of `kruimel_redis_shed_total`.
async fn shed_for(app: &TestApp, cause: &str) -> f64 {
    let text = app.metrics_text().await;
    crate::helpers::sample(
        &text,
        &format!("kruimel_redis_shed_total{{cause=\"{cause}\"}}"),
    )
}

/// Waits until the queue and the backlog are empty.
async fn settle(app: &TestApp) {
    for _ in 0..300 {
        let backlog = app.sample("kruimel_redis_backlog_hits").await;
        let queued = app.sample("kruimel_aggregator_queue_depth").await;
        if backlog == 0.0 && queued == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the backlog never emptied");
}

/// Redis answers, only slowly: the writer falls behind, the door sheds with
/// the drop header, and every beacon answered without one is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_slow_the_door_sheds_and_every_acknowledged_beacon_is_stored() {
    let backend = Backend::redis();
    let app = TestApp::spawn_on_with(
        backend.clone(),
        &[
            ("KRUIMEL_STORE__REDIS__MAX_BACKLOG", "40"),
            // Calls wait out the pause: Redis is slow, not away.
            ("KRUIMEL_STORE__REDIS__TIMEOUT_MS", "20000"),
        ],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let (mut counted, shed) = send_pageviews_sorted(&app, 20, 0).await;
    assert_eq!(shed, 0);
    app.wait_for_events(counted as i64, DAY).await;

    // Every client's commands wait 2 s; the aggregator's next call with them.
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2_000)
        .arg("ALL")
        .query(&mut backend.redis_server().connection())
        .unwrap();
    let (during, shed) = send_pageviews_sorted(&app, 200, 20).await;
    counted += during;

    settle(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.metric("pageviews", DAY).await,
        counted as i64,
        "stored = answered without a drop header"
    );
    assert!(shed > 0, "the door shed while the writer was behind");
    assert!(during >= 40, "the bound's worth was taken: {during}");
    assert_eq!(app.sample("kruimel_redis_backlog_dropped_total").await, 0.0);
    assert_eq!(shed_for(&app, "writer_behind").await, shed as f64);
    assert_eq!(shed_for(&app, "redis_away").await, 0.0);
    assert_eq!(app.sample("kruimel_beacons_shed_total").await, shed as f64);
}

/// Redis is away and the hits waiting for it reach the bound: the door
/// sheds the rest, and no hit it acknowledged is dropped to make room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_while_redis_is_away_the_door_sheds_and_drops_nothing_acknowledged() {
    let backend = Backend::redis_persistent();
    let app = TestApp::spawn_on_with(
        backend.clone(),
        &[("KRUIMEL_STORE__REDIS__MAX_BACKLOG", "40")],
        "2026-11-23T10:00:00Z",
    )
    .await;
    let (mut counted, _) = send_pageviews_sorted(&app, 20, 0).await;
    app.wait_for_events(counted as i64, DAY).await;

    backend.redis_server().stop();
    readiness(&app, 503).await;
    // A few ticks for the aggregator to notice that Redis is away.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (during, shed) = send_pageviews_sorted(&app, 150, 20).await;
    assert_eq!(
        (during, shed),
        (40, 110),
        "the bound's worth is held, the rest shed at the door"
    );
    counted += during;
    assert_eq!(shed_for(&app, "redis_away").await, 110.0);
    assert_eq!(shed_for(&app, "writer_behind").await, 0.0);

    backend.redis_server().start_again();
    settle(&app).await;
    app.wait_for_events(counted as i64, DAY).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.metric("pageviews", DAY).await, counted as i64);
    assert_eq!(app.sample("kruimel_redis_backlog_dropped_total").await, 0.0);
    assert_eq!(app.sample("kruimel_beacons_shed_total").await, 110.0);

    // Once Redis has taken the backlog, the door admits again.
    let (after, shed) = send_pageviews_sorted(&app, 10, 170).await;
    assert_eq!((after, shed), (10, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_redis_keeps_refusing_is_dropped_and_counted_and_the_rest_goes_on() {
    let backend = Backend::redis();
    let app = TestApp::spawn_on(backend.clone()).await;
    // Something else's key where the open visits of 2026-11-23 belong.
    let blocker = "kr:{gemeente.example}:open:20780";
    let _: () = redis::cmd("SET")
        .arg(blocker)
        .arg("not a sorted set")
        .query(&mut backend.redis_server().connection())
        .unwrap();
    let refused = send_pageviews(&app, 10, 0).await;
    let mut dropped = 0.0;
    for _ in 0..200 {
        dropped = app.sample("kruimel_redis_backlog_dropped_total").await;
        if dropped == refused as f64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        dropped, refused as f64,
        "the refused batch is counted as dropped"
    );

    let _: () = redis::cmd("DEL")
        .arg(blocker)
        .query(&mut backend.redis_server().connection())
        .unwrap();
    let counted = send_pageviews(&app, 10, 10).await;
    app.wait_for_events(counted as i64, DAY).await;
    assert_eq!(
        app.sample("kruimel_redis_backlog_dropped_total").await,
        refused as f64
    );
}

/// Counts merge in memory for `store.redis.write_interval_ms` before they
/// reach Redis, while visits are resolved at every flush; a clean stop
/// writes what waits, and a full delta table is written early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_wait_for_the_write_interval_and_a_clean_stop_writes_them() {
    let backend = Backend::redis();
    let hour = [("KRUIMEL_STORE__REDIS__WRITE_INTERVAL_MS", "3600000")];
    let app = TestApp::spawn_on_with(backend.clone(), &hour, "2026-11-23T10:00:00Z").await;
    let accepted = send_pageviews(&app, 12, 0).await;
    assert_eq!(accepted, 12);
    // The visits are resolved against Redis at each flush: the realtime
    // count shows the aggregator has taken every hit.
    let mut visitors = 0;
    for _ in 0..200 {
        visitors = app.stats("realtime/visitors", "").await.as_i64().unwrap();
        if visitors == 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(visitors, 12);
    let count_hashes = |backend: &Backend| {
        backend
            .dump()
            .into_iter()
            .filter(|(key, _)| key.starts_with("kr:{gemeente.example}:n:"))
            .count()
    };
    assert_eq!(
        count_hashes(&backend),
        0,
        "no count written within the hour"
    );
    assert_eq!(app.sample("kruimel_flush_batch_keys_count").await, 0.0);
    assert_eq!(app.metric("pageviews", DAY).await, 0);

    let app = app.restart(&hour, "2026-11-23T10:00:05Z").await;
    assert!(
        count_hashes(&backend) > 0,
        "the clean stop wrote the counts"
    );
    assert_eq!(app.metric("pageviews", DAY).await, 12);

    let early = [hour[0], ("KRUIMEL_AGGREGATE__FLUSH_MAX_KEYS", "1")];
    let app = app.restart(&early, "2026-11-23T10:00:10Z").await;
    let more = send_pageviews(&app, 5, 12).await;
    app.wait_for_events(12 + more as i64, DAY).await;
}
