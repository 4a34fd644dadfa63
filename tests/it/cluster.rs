//! The behavioural suite against a real three-master Redis Cluster.
//!
//! One cluster for the whole run (starting one takes seconds); every
//! scenario gets a key prefix of its own, and the scenarios run one after
//! another so a failure names its scenario.

use crate::backends::Backend;
use crate::redis_server::RedisCluster;
use std::sync::Arc;

use crate::{
    amplification, bad_input, comparison, consent, counting, engagement, event_props, goals,
    ingest, login_sessions, midnight, page_figures, privacy_audit, public_stats, retention, rollup,
    share_links, small_count_links, small_counts, stats_api,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_behavioural_suite_passes_on_a_redis_cluster() {
    let cluster = Arc::new(RedisCluster::start());
    let scenarios = [
        amplification::scenarios(),
        counting::scenarios(),
        comparison::scenarios(),
        page_figures::scenarios(),
        stats_api::scenarios(),
        midnight::scenarios(),
        retention::scenarios(),
        rollup::scenarios(),
        ingest::scenarios(),
        bad_input::scenarios(),
        privacy_audit::scenarios(),
        consent::scenarios(),
        public_stats::scenarios(),
        share_links::scenarios(),
        small_counts::scenarios(),
        small_count_links::scenarios(),
        login_sessions::scenarios(),
        event_props::scenarios(),
        goals::scenarios(),
        engagement::scenarios(),
    ]
    .concat();
    assert!(scenarios.len() >= 25, "every scenario is listed");
    for (name, scenario) in scenarios {
        eprintln!("cluster: {name}");
        scenario(Backend::on_cluster(&cluster)).await;
    }
    // Every site's keys sit in the slot of its hash tag.
    let keys = cluster.dump();
    assert!(!keys.is_empty(), "the scenarios stored something");
    assert!(
        keys.iter()
            .all(|(key, _)| key.contains(":{") && key.contains("}:")),
        "every key carries a hash tag"
    );
}
