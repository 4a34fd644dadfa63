//! The typed configuration tree.
//!
//! Owns the shape of the configuration and its defaults. It does not check
//! meaning beyond types: `sites` turns site entries into runtime sites, and
//! `startup` opens files the configuration names.

mod consent;
mod dashboard;
mod limits;
mod load;
mod register;

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

pub use consent::{CategoryConfig, ConsentConfig, NoticeMode, OwnCategory};
pub use dashboard::{DashboardConfig, SecureCookies};
pub use limits::{DistinctValues, LimitsConfig};
pub use load::{ConfigError, load};
pub use register::{NoProcessor, Party, Processor, RegisterConfig, RegisterDate};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub aggregate: AggregateConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub(crate) geoip: GeoIpConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub dashboard: DashboardConfig,
    /// The register entry's parties and date, for every site that does not
    /// name its own.
    #[serde(default)]
    pub register: RegisterConfig,
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
}

impl Config {
    /// How long count deltas merge before they are written to the store:
    /// one flush interval on the embedded store (a write is one journal
    /// record), `store.redis.write_interval_ms` on Redis, but never less
    /// than a flush interval.
    pub(crate) fn write_every(&self) -> std::time::Duration {
        let flush = self.aggregate.flush_interval_ms;
        let millis = match self.store.backend {
            Backend::Embedded => flush,
            Backend::Redis => self.store.redis.write_interval_ms.max(flush),
        };
        std::time::Duration::from_millis(millis)
    }

    pub(crate) fn users_file(&self) -> PathBuf {
        self.dashboard
            .users_file
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("users.toml"))
    }

    pub(crate) fn audit_log(&self) -> PathBuf {
        self.dashboard
            .audit_log
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("audit.log"))
    }

    /// Gives every site the deployment's `[register]` fields it leaves out.
    pub(crate) fn inherit_register(&mut self) {
        for site in &mut self.sites {
            site.register = site.register.inherit(&self.register);
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Public listener: ingest, stats API.
    pub listen: SocketAddr,
    /// Admin listener: metrics and health.
    pub admin_listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Peers whose forwarding header is believed.
    pub(crate) trusted_proxies: Vec<IpNet>,
    /// The one header the trusted proxies write the client's address in;
    /// the other kind is never read, since a client can send it through.
    pub(crate) client_ip_header: ForwardingHeader,
    pub(crate) header_timeout_ms: u64,
    pub(crate) body_timeout_ms: u64,
    /// How long shutdown waits for in-flight requests.
    pub(crate) drain_timeout_ms: u64,
    /// Threads serving requests; 0 means one per core.
    pub worker_threads: usize,
    /// Bearer tokens (stored form, `kruimel hash-token`) that `/metrics` and
    /// `POST /reload` require on the admin listener. Without any, `/metrics`
    /// is open and `/reload` is accepted from loopback peers only.
    pub(crate) admin_tokens: Vec<TokenHash>,
}

/// A header that carries a chain of client addresses, one per hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1` with `X-Forwarded-Proto`.
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239: `Forwarded: for=client;proto=https, for=proxy1`.
    #[serde(rename = "forwarded")]
    Forwarded,
}

impl ForwardingHeader {
    pub(crate) const ALL: [ForwardingHeader; 2] =
        [ForwardingHeader::Forwarded, ForwardingHeader::XForwardedFor];

    /// Its metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ForwardingHeader::Forwarded => "forwarded",
            ForwardingHeader::XForwardedFor => "x_forwarded_for",
        }
    }
}

impl ServerConfig {
    /// The number of request threads to run.
    pub fn request_threads(&self) -> usize {
        match self.worker_threads {
            0 => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            chosen => chosen,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            data_dir: PathBuf::from("data"),
            trusted_proxies: Vec::new(),
            client_ip_header: ForwardingHeader::XForwardedFor,
            header_timeout_ms: 5_000,
            body_timeout_ms: 5_000,
            drain_timeout_ms: 10_000,
            worker_threads: 0,
            admin_tokens: Vec::new(),
        }
    }
}

/// What to do with a beacon that carries a privacy signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalPolicy {
    /// Count as if the signal were absent.
    Ignore,
    /// Count the pageview without a visitor identifier.
    CountAnonymously,
    /// Do not count at all (answered 202 with a drop reason).
    Drop,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// 24 (default) or 16.
    pub ipv4_prefix: u8,
    pub(crate) ipv6_prefix: u8,
    /// Global Privacy Control (`Sec-GPC: 1`).
    pub gpc: SignalPolicy,
    /// Do Not Track (`DNT: 1`).
    pub dnt: SignalPolicy,
    /// Query keys kept in page paths besides `utm_*`.
    pub(crate) query_allow: Vec<String>,
    /// Extra personal-data patterns replaced by `{name}` in paths.
    pub(crate) pii_patterns: Vec<PiiPatternConfig>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            ipv4_prefix: 24,
            ipv6_prefix: 48,
            gpc: SignalPolicy::CountAnonymously,
            dnt: SignalPolicy::Ignore,
            query_allow: Vec::new(),
            pii_patterns: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PiiPatternConfig {
    pub name: String,
    pub regex: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    pub(crate) visit_timeout_minutes: u32,
    /// Hard cap on visitors held in memory; past it the least recently
    /// seen are evicted (and counted).
    pub max_visitors: usize,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            visit_timeout_minutes: 30,
            max_visitors: 1_000_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AggregateConfig {
    pub(crate) flush_interval_ms: u64,
    /// Flush early once this many distinct counters are pending.
    pub(crate) flush_max_keys: usize,
    /// Capacity of the queue between request handlers and the aggregator.
    pub(crate) queue_capacity: usize,
}

impl Default for AggregateConfig {
    fn default() -> Self {
        AggregateConfig {
            flush_interval_ms: 1_000,
            flush_max_keys: 200_000,
            queue_capacity: 65_536,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// One file in `server.data_dir`; hot state in memory.
    #[default]
    Embedded,
    /// Counts and hot state in Redis, shared by every instance.
    Redis,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub backend: Backend,
    /// Embedded store: memory for the database's page cache, in MiB. The
    /// file grows with every day kept; the cache does not grow past this.
    /// Sealed days are read as whole compressed units, so a small cache
    /// serves long ranges; a busy site's 12-month page breakdown stayed
    /// under 50 ms with 32 MiB (BENCHMARKS.md, "Stats at scale").
    pub(crate) cache_mb: std::num::NonZeroUsize,
    pub redis: RedisConfig,
}

impl StoreConfig {
    /// `cache_mb` in bytes.
    pub fn cache_bytes(&self) -> usize {
        self.cache_mb.get().saturating_mul(1 << 20)
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: Backend::default(),
            cache_mb: std::num::NonZeroUsize::new(32).expect("not zero"),
            redis: RedisConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// Where the counts live: one URL, or seed nodes when `cluster` is set.
    pub urls: Vec<String>,
    /// Where salts and visitor state live, when not with the counts: a
    /// Redis without persistence keeps them off disk entirely.
    pub hot_urls: Vec<String>,
    pub cluster: bool,
    /// First part of every key, so deployments can share one Redis.
    pub key_prefix: String,
    /// Connect and response timeout for every Redis call.
    pub timeout_ms: u64,
    /// Hits queued or held in memory until Redis has counted them; past
    /// it the door sheds new beacons (202 with the drop header), so no
    /// acknowledged hit is dropped to make room.
    pub max_backlog: usize,
    /// The load balancer sends each visitor's beacons to one instance (a
    /// hash of the truncated address), so each instance keeps its own
    /// visitors, visits and salts in memory and writes only counts to Redis.
    pub visitor_affinity: bool,
    /// Counts merge in memory this long before they are written to Redis,
    /// so a busy row is one increment per interval, not one per flush.
    /// Never shorter than `aggregate.flush_interval_ms`.
    pub write_interval_ms: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            urls: vec!["redis://127.0.0.1:6379/".to_owned()],
            hot_urls: Vec::new(),
            cluster: false,
            key_prefix: "kr".to_owned(),
            timeout_ms: 2_000,
            max_backlog: 200_000,
            visitor_affinity: false,
            write_interval_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GeoIpConfig {
    /// A MaxMind-format country database; without one, country is "unknown".
    pub database: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `kruimel=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's domain, as the script sends it in `d`.
    pub id: String,
    /// Page hostnames accepted for this site; empty means just `id`.
    #[serde(default)]
    pub hostnames: Vec<String>,
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Aggregates older than this many days are deleted.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Keep `#/route` fragments for single-page apps with hash routing.
    #[serde(default)]
    pub hash_routing: bool,
    /// Stats API tokens in stored form (`kruimel hash-token`).
    #[serde(default)]
    pub tokens: Vec<TokenHash>,
    /// Stats readable by anyone, without a token (small counts folded).
    #[serde(default)]
    pub public: bool,
    /// Secrets of share links in stored form (`kruimel hash-token`): their
    /// holders read the stats like the public (small counts folded).
    /// Removing one (and reloading) revokes the link.
    #[serde(default)]
    pub share_links: Vec<TokenHash>,
    /// Without the site's own credentials, rows with fewer visitors than
    /// this are folded into "(other)" and smaller totals are withheld.
    #[serde(default = "default_k_anonymity")]
    pub k_anonymity: u32,
    /// Bytes of counts at rest past which `/readyz` and an alert warn.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The cookie notice and consent receipts.
    #[serde(default)]
    pub consent: ConsentConfig,
    /// The register entry's parties and date, where they differ from
    /// `[register]`.
    #[serde(default)]
    pub register: RegisterConfig,
}

fn default_time_zone() -> String {
    "Europe/Amsterdam".to_owned()
}

fn default_k_anonymity() -> u32 {
    10
}

fn default_retention_days() -> u32 {
    // 25 months: a full year plus the same period last year to compare with.
    760
}

/// A stats API token in stored form: `blake3:<64 hex digits>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TokenHash(blake3::Hash);

impl TokenHash {
    pub fn of_token(token: &str) -> TokenHash {
        TokenHash(blake3::hash(token.as_bytes()))
    }

    /// Compares in constant time (`blake3::Hash` equality is constant-time).
    pub fn matches(&self, presented: &str) -> bool {
        self.0 == blake3::hash(presented.as_bytes())
    }

    /// Whether `presented` matches any of `tokens`. Every one is checked,
    /// so the time taken does not tell which matched.
    pub(crate) fn any_matches(tokens: &[TokenHash], presented: &str) -> bool {
        tokens
            .iter()
            .fold(false, |found, token| token.matches(presented) | found)
    }

    pub fn stored_form(&self) -> String {
        format!("blake3:{}", self.0.to_hex())
    }
}

impl TryFrom<String> for TokenHash {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let hex = text
            .strip_prefix("blake3:")
            .ok_or("a token must be stored as `blake3:<hex>`; see `kruimel hash-token`")?;
        blake3::Hash::from_hex(hex)
            .map(TokenHash)
            .map_err(|_| "a token hash must be 64 hex digits after `blake3:`".to_owned())
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(***)")
    }
}
