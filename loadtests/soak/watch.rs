//! What is watched while the load runs: latency histograms of the
//! answers, and the server's own figures (resident memory and open file
//! descriptors from `/proc`, the hot-state gauges and counters from
//! `/metrics`, readiness from `/readyz`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::http;

/// Latencies in whole microseconds; one bucket per microsecond up to
/// 100 ms, everything slower in the last bucket (the maximum is exact).
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    max: AtomicU64,
}

const BUCKETS: usize = 100_000;

/// Percentiles of the latencies recorded, in microseconds.
#[derive(Clone, Copy, Default)]
pub struct Summary {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    pub fn record(&self, micros: u64) {
        let bucket = (micros as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    /// The latencies recorded so far.
    pub fn summary(&self) -> Summary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        summarise(&counts, self.max.load(Ordering::Relaxed))
    }

    /// The latencies recorded since the last call, forgetting them.
    pub fn take(&self) -> Summary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.swap(0, Ordering::Relaxed))
            .collect();
        summarise(&counts, self.max.swap(0, Ordering::Relaxed))
    }
}

fn summarise(counts: &[u64], max: u64) -> Summary {
    let count: u64 = counts.iter().sum();
    let at = |share: f64| {
        let rank = ((count as f64 * share).ceil() as u64).max(1);
        let mut seen = 0;
        for (micros, bucket) in counts.iter().enumerate() {
            seen += bucket;
            if seen >= rank {
                return micros as u64;
            }
        }
        max
    };
    if count == 0 {
        return Summary::default();
    }
    Summary {
        count,
        p50: at(0.50),
        p99: at(0.99),
        max,
    }
}

/// The server process and its admin listener.
pub struct Server {
    pub pid: u32,
    pub admin: SocketAddr,
}

/// The server's figures at one moment; `None` where it did not answer.
pub struct Snapshot {
    pub rss_kib: Option<u64>,
    pub fds: Option<usize>,
    pub metrics: Option<String>,
    pub ready: bool,
}

impl Snapshot {
    /// A metric without labels, e.g. `kruimel_hot_visitors`.
    pub fn metric(&self, name: &str) -> Option<u64> {
        self.metrics.as_deref()?.lines().find_map(|line| {
            let (metric, value) = line.split_once(' ')?;
            (metric == name).then(|| value.trim().parse::<f64>().ok().map(|v| v as u64))?
        })
    }
}

impl Server {
    /// Descriptors and memory first: the admin requests below open a
    /// connection of their own, which should not be counted.
    pub async fn snapshot(&self) -> Snapshot {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .ok()
            .map(|entries| entries.count());
        let rss_kib = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
                line.split_whitespace().nth(1)?.parse().ok()
            });
        let metrics = match http::get(self.admin, "/metrics").await {
            Ok((200, body)) => Some(body),
            _ => None,
        };
        let ready = matches!(http::get(self.admin, "/readyz").await, Ok((200, _)));
        Snapshot {
            rss_kib,
            fds,
            metrics,
            ready,
        }
    }
}

/// `key=value` fields for the sample lines; absent values print as `-`.
pub fn field<T: std::fmt::Display>(name: &str, value: Option<T>) -> String {
    match value {
        Some(value) => format!("{name}={value}"),
        None => format!("{name}=-"),
    }
}
