//! One behavioural suite, every backend.
//!
//! A scenario is an `async fn(Backend)`. `on_every_backend!` turns each
//! into two tests, `<scenario>::embedded` and `<scenario>::redis` (its own
//! `redis-server`), and lists it in the module's `scenarios()`, which the
//! cluster test runs against one Redis Cluster, each scenario under a key
//! prefix of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::redis_server::{DumpedKey, RedisCluster, RedisServer};

/// Where a test server keeps its counts and hot state.
#[derive(Clone)]
pub enum Backend {
    Embedded,
    Redis(Arc<RedisTarget>),
}

pub struct RedisTarget {
    pub urls: Vec<String>,
    pub cluster: bool,
    pub prefix: String,
    /// A standalone server, alive as long as the backend.
    pub server: Option<Mutex<RedisServer>>,
    pub cluster_nodes: Option<Arc<RedisCluster>>,
}

static PREFIXES: AtomicU32 = AtomicU32::new(0);

impl Backend {
    /// A fresh `redis-server` of its own.
    pub fn redis() -> Backend {
        Backend::standalone(RedisServer::start())
    }

    /// A fresh `redis-server` that keeps its data across a stop and start.
    pub fn redis_persistent() -> Backend {
        Backend::standalone(RedisServer::start_persistent())
    }

    fn standalone(server: RedisServer) -> Backend {
        Backend::Redis(Arc::new(RedisTarget {
            urls: vec![server.url()],
            cluster: false,
            prefix: "kr".to_owned(),
            server: Some(Mutex::new(server)),
            cluster_nodes: None,
        }))
    }

    /// The backend's own standalone `redis-server`.
    pub fn redis_server(&self) -> MutexGuard<'_, RedisServer> {
        let Backend::Redis(target) = self else {
            panic!("not a Redis backend");
        };
        target
            .server
            .as_ref()
            .expect("a standalone Redis backend")
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A share of a cluster: its own key prefix on the cluster's nodes.
    pub fn on_cluster(cluster: &Arc<RedisCluster>) -> Backend {
        let number = PREFIXES.fetch_add(1, Ordering::Relaxed);
        Backend::Redis(Arc::new(RedisTarget {
            urls: cluster.urls(),
            cluster: true,
            prefix: format!("t{number}"),
            server: None,
            cluster_nodes: Some(cluster.clone()),
        }))
    }

    /// Every key (with its values) this backend's server stored.
    pub fn dump(&self) -> Vec<DumpedKey> {
        let Backend::Redis(target) = self else {
            panic!("not a Redis backend");
        };
        let all = match &target.cluster_nodes {
            Some(cluster) => cluster.dump(),
            None => self.redis_server().dump(),
        };
        let prefix = format!("{}:", target.prefix);
        all.into_iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .collect()
    }

    /// The configuration variables that select this backend.
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Backend::Embedded => Vec::new(),
            Backend::Redis(target) => vec![
                ("KRUIMEL_STORE__BACKEND".into(), "redis".into()),
                (
                    "KRUIMEL_STORE__REDIS__URLS".into(),
                    serde_json::to_string(&target.urls).unwrap(),
                ),
                (
                    "KRUIMEL_STORE__REDIS__CLUSTER".into(),
                    target.cluster.to_string(),
                ),
                (
                    "KRUIMEL_STORE__REDIS__KEY_PREFIX".into(),
                    target.prefix.clone(),
                ),
                // Counts reach Redis at every flush, as the tests read them.
                ("KRUIMEL_STORE__REDIS__WRITE_INTERVAL_MS".into(), "0".into()),
            ],
        }
    }

    pub fn is_redis(&self) -> bool {
        matches!(self, Backend::Redis(_))
    }
}

pub type Scenario = fn(Backend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// `on_every_backend!(scenario, …)`: tests per backend and `scenarios()`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name(crate::backends::Backend::Embedded).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    super::$name(crate::backends::Backend::redis()).await
                }
            }
        )*

        /// This module's scenarios, for the cluster run.
        pub fn scenarios() -> Vec<(&'static str, crate::backends::Scenario)> {
            vec![$((
                concat!(module_path!(), "::", stringify!($name)),
                |backend| Box::pin($name(backend)),
            )),*]
        }
    };
}

pub(crate) use on_every_backend;
