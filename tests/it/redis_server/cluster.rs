//! `RedisCluster`: three `redis-server` masters joined by
//! `redis-cli --cluster create`, sharing all 16384 slots, no replicas.
//!
//! It does not test failover: a node that dies stays dead.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{DumpedKey, Kind, RedisServer, STARTUP_TIMEOUT, kill, spawn_or_explain, wait_for_exit};

const CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Dropping it kills every node.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| RedisServer::launch(Kind::ClusterNode))
            .collect();
        create(&nodes);
        let cluster = RedisCluster { nodes };
        cluster.wait_until_every_slot_is_served();
        cluster
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Every key on every node, sorted by key.
    pub fn dump(&self) -> Vec<DumpedKey> {
        let mut keys: Vec<DumpedKey> = self.nodes.iter().flat_map(RedisServer::dump).collect();
        keys.sort();
        keys
    }

    fn wait_until_every_slot_is_served(&self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let not_ready: Vec<String> = self
                .nodes
                .iter()
                .map(|node| {
                    redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query(&mut node.connection())
                        .expect("CLUSTER INFO")
                })
                .filter(|info: &String| {
                    !(info.contains("cluster_state:ok\r\n")
                        && info.contains("cluster_slots_assigned:16384\r\n"))
                })
                .collect();
            if not_ready.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Redis cluster did not reach cluster_state:ok with 16384 slots within \
                 {STARTUP_TIMEOUT:?}; CLUSTER INFO of the nodes not ready:\n{}",
                not_ready.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `redis-cli --cluster create`, its output kept in the first node's
/// directory for the panic message.
fn create(nodes: &[RedisServer]) {
    let log = nodes[0].dir.path().join("cluster-create.log");
    let output = std::fs::File::create(&log).expect("cluster-create.log");
    let mut command = Command::new("redis-cli");
    command
        .args(["--cluster", "create"])
        .args(nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)))
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(output.try_clone().expect("cluster-create.log")))
        .stderr(Stdio::from(output));
    let mut child = spawn_or_explain(&mut command, "redis-cli");
    let outcome = wait_for_exit(&mut child, CREATE_TIMEOUT);
    kill(&mut child);
    if !outcome.is_some_and(|status| status.success()) {
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        panic!(
            "`redis-cli --cluster create` failed ({outcome:?}, None is a timeout after \
             {CREATE_TIMEOUT:?}); its output:\n{output}"
        );
    }
}

#[cfg(test)]
mod tests {
    // Through the path other test modules use.
    use crate::redis_server::{DumpedKey, RedisCluster, run};

    #[test]
    fn a_cluster_serves_hash_tagged_keys_from_one_node_through_a_cluster_client() {
        let cluster = RedisCluster::start();
        let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
        let mut connection = client.get_connection().unwrap();
        for key in ["{site}:visits", "{site}:views"] {
            run(&mut connection, &["SET", key, key]);
            let value: String = redis::cmd("GET").arg(key).query(&mut connection).unwrap();
            assert_eq!(value, key);
        }

        let stored: Vec<DumpedKey> = ["{site}:views", "{site}:visits"]
            .into_iter()
            .map(|key| (key.to_string(), vec![key.as_bytes().to_vec()]))
            .collect();
        assert_eq!(cluster.dump(), stored);
        let holders = cluster.nodes.iter().filter(|node| !node.dump().is_empty());
        assert_eq!(holders.count(), 1, "one hash tag, one slot, one node");
    }
}
