//! Startup and shutdown, written once.
//!
//! `run` takes bound listeners, a shutdown future and a clock, builds the
//! shared state, starts the aggregator and both listeners, and on shutdown
//! goes: not ready → stop accepting → drain in-flight requests with a
//! deadline → close the ingest queue → the aggregator thread drains it,
//! ends open visits and flushes → return.

use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwapOption;
use tokio::sync::{mpsc, watch};

use crate::accounts::audit::AuditLog;
use crate::accounts::{LoginSessions, UsersFile};
use crate::aggregate::{Aggregator, Realtime, Rollup, Shared};
use crate::clock::Clock;
use crate::config::{Backend, Config, LogConfig, LogFormat};
use crate::enrich::agent::AgentClassifier;
use crate::enrich::agent_cache::AgentCache;
use crate::http::client_ip::TrustedProxies;
use crate::http::rate_limit::RateLimit;
use crate::http::{AppState, Listeners, RequestCounters, serve};
use crate::ingest::admission::Admission;
use crate::ingest::{Pipeline, PipelineParts};
use crate::metrics::Metrics;
use crate::privacy::salt::SaltBook;
use crate::privacy::shared_salt::SharedSalts;
use crate::privacy::url::UrlPolicy;
use crate::reload::{ConfigSource, Reloader, archive_notices, check};
use crate::sessions::Sessions;
use crate::sessions::shared::SharedSessions;
use crate::sites::LiveSites;
use crate::store::{RedisStore, Store, StoreError};

/// User agents whose classes are remembered (about 40 bytes each).
const USER_AGENT_MEMO: usize = 16_384;
/// Sign-in attempts one network may make per minute.
const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 20;
/// Consent choices one network may record per minute: far above what the
/// people behind one office's address make, far below filling a disk.
const CONSENT_CHOICES_PER_MINUTE: u32 = 120;

/// The per-network budget of beacons, unless it is turned off (0).
fn ingest_limit(limits: &crate::config::LimitsConfig) -> Option<RateLimit> {
    (limits.ingest_per_network > 0).then(|| {
        RateLimit::new(
            limits.ingest_per_network,
            Duration::from_secs(limits.ingest_window_seconds.max(1)),
            limits.ingest_networks.max(1),
        )
    })
}

pub fn init_logging(config: &LogConfig) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.level)
        .with_context(|| format!("log.level {:?}", config.level))?;
    // Colour escapes only for a person at a terminal: a file, a pipe or a
    // log collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    let result = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|error| anyhow::anyhow!("logging: {error}"))
}

/// Reloads the configuration on every SIGHUP.
fn reload_on_hangup(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut hangups = match signal(SignalKind::hangup()) {
                Ok(hangups) => hangups,
                Err(error) => {
                    tracing::warn!(%error, "no SIGHUP handler; reload through the admin listener");
                    return;
                }
            };
            while hangups.recv().await.is_some() {
                let state = state.clone();
                let _ = tokio::task::spawn_blocking(move || state.reload()).await;
            }
        }
        #[cfg(not(unix))]
        drop(state);
    })
}

fn open_store(config: &Config) -> Result<Store, StoreError> {
    match config.store.backend {
        Backend::Embedded => {
            Store::open_embedded(&config.server.data_dir, config.store.cache_bytes())
        }
        Backend::Redis => {
            let store = RedisStore::open(&config.store.redis)?;
            if let Err(error) = store.ping() {
                tracing::warn!(%error, "Redis is not reachable yet; not ready until it is");
            }
            Ok(Store::Redis(store))
        }
    }
}

/// Removes the sign-in sessions that ended while the server was down.
async fn sweep_sessions(sessions: &LoginSessions, now: i64) {
    let sessions = sessions.clone();
    match tokio::task::spawn_blocking(move || sessions.sweep(now)).await {
        Ok(Ok(removed)) if removed > 0 => tracing::info!(removed, "ended sign-in sessions removed"),
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::warn!(%error, "ended sign-in sessions not removed yet"),
        Err(error) => tracing::warn!(%error, "sign-in session sweep stopped"),
    }
}

pub async fn run(
    config: Config,
    source: ConfigSource,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_with_clock(config, source, listeners, shutdown, Clock::System).await
}

/// Runs until `shutdown`; `source` reads the configuration again for a
/// reload (SIGHUP or `POST /reload` on the admin listener).
pub async fn run_with_clock(
    config: Config,
    source: ConfigSource,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
    clock: Clock,
) -> anyhow::Result<()> {
    let checked = check(&config)?;
    let store_config = config.clone();
    let store = Arc::new(
        tokio::task::spawn_blocking(move || open_store(&store_config))
            .await
            .context("store task")??,
    );
    if checked.sites.is_empty() {
        tracing::warn!("no sites configured: every beacon will be dropped as unknown_site");
    }
    let sites = LiveSites::new(checked.sites);
    let sessions = LoginSessions::new(
        store.clone(),
        i64::from(config.dashboard.session_idle_minutes.max(1)) * 60,
        i64::from(config.dashboard.session_absolute_hours.max(1)) * 3600,
    );
    sweep_sessions(&sessions, clock.now().as_second()).await;
    {
        let (store, sites) = (store.clone(), sites.load_full());
        tokio::task::spawn_blocking(move || archive_notices(&store, &sites))
            .await
            .context("archive task")?;
    }
    let timeout_seconds = i64::from(config.sessions.visit_timeout_minutes.max(1)) * 60;
    // With visitor affinity an instance counts its own visitors as the
    // embedded store does, and Redis takes only merged counts: no shared
    // hot state, and no backlog of hits waiting for it.
    let admission = match &*store {
        Store::Redis(_) if !config.store.redis.visitor_affinity => {
            Some(Arc::new(Admission::new(config.store.redis.max_backlog)))
        }
        Store::Redis(_) | Store::Embedded(_) => None,
    };
    let shared = match (&*store, &admission) {
        (Store::Redis(redis), Some(admission)) => Some(Shared {
            sessions: SharedSessions::new(redis.hot_pool(), timeout_seconds),
            salts: SharedSalts::new(redis.hot_pool(), timeout_seconds),
            admission: admission.clone(),
        }),
        _ => None,
    };
    let site_count = sites.load().len();
    let salts = Arc::new(SaltBook::new(site_count, timeout_seconds));
    let metrics = Arc::new(Metrics::new());
    metrics.expose_sites(&sites.load());
    if let Some(countries) = &checked.countries {
        metrics
            .geoip_build
            .set(i64::try_from(countries.build_epoch()).unwrap_or(i64::MAX));
    }
    let realtime = Arc::new(Realtime::new(site_count));
    let (hits, queue) = mpsc::channel(config.aggregate.queue_capacity.max(1));
    let pipeline = Pipeline::new(PipelineParts {
        sites: sites.clone(),
        truncation: checked.truncation,
        salts: salts.clone(),
        urls: UrlPolicy::new(&config.privacy.query_allow, checked.pii_patterns.clone()),
        pii_patterns: checked.pii_patterns,
        agents: AgentCache::new(AgentClassifier::new(), USER_AGENT_MEMO),
        countries: ArcSwapOption::from(checked.countries.map(Arc::new)),
        gpc: config.privacy.gpc,
        dnt: config.privacy.dnt,
        hits,
        admission,
        metrics: metrics.clone(),
    });
    let state = Arc::new(AppState {
        pipeline,
        store: store.clone(),
        sites: sites.clone(),
        realtime: realtime.clone(),
        salts: shared.is_some().then(|| salts.clone()),
        reloader: Reloader::new(source),
        request_counters: RequestCounters::new(&metrics),
        metrics: metrics.clone(),
        clock: clock.clone(),
        proxies: TrustedProxies::new(
            config.server.trusted_proxies.clone(),
            config.server.client_ip_header,
            metrics.forwarded_malformed.clone(),
        ),
        body_timeout: Duration::from_millis(config.server.body_timeout_ms),
        admin_tokens: config.server.admin_tokens.clone(),
        disclosure: crate::disclosure::Facts::from_config(&config),
        users: UsersFile::open(config.users_file()).context("dashboard users")?,
        sessions,
        lockout: Default::default(),
        used_codes: Default::default(),
        audit: AuditLog::open(&config.audit_log())
            .with_context(|| format!("audit log {}", config.audit_log().display()))?,
        login_limit: RateLimit::new(LOGIN_ATTEMPTS_PER_MINUTE, Duration::from_secs(60), 100_000),
        dashboard: config.dashboard.clone(),
        ingest_limit: ingest_limit(&config.limits),
        consent_limit: RateLimit::new(CONSENT_CHOICES_PER_MINUTE, Duration::from_secs(60), 100_000),
        consent_cap: Default::default(),
        archived: Default::default(),
        draining: Default::default(),
    });
    let (close_rollup, rollup) = Rollup {
        store: store.clone(),
        sites: sites.clone(),
        clock: clock.clone(),
        metrics: metrics.clone(),
    }
    .spawn()
    .context("starting the roll-up thread")?;
    let (close_aggregator, aggregator) = Aggregator {
        hits: queue,
        sessions: Sessions::new(config.sessions.max_visitors, timeout_seconds),
        store,
        sites,
        salts,
        realtime,
        metrics,
        clock,
        config: config.aggregate.clone(),
        write_every: config.write_every(),
        distinct: config.limits.distinct_values_per_day.clone(),
        shared,
    }
    .spawn()
    .context("starting the aggregator thread")?;
    let (stop, stopped) = watch::channel(false);
    let timeouts = || crate::http::Timeouts {
        header: Duration::from_millis(config.server.header_timeout_ms),
        drain: Duration::from_millis(config.server.drain_timeout_ms),
    };
    let public_address = listeners.public.local_addr()?;
    let admin_address = listeners.admin.local_addr()?;
    let public = tokio::spawn(serve(
        listeners.public,
        crate::http::Face::Public,
        state.clone(),
        timeouts(),
        stopped.clone(),
    ));
    let admin = tokio::spawn(serve(
        listeners.admin,
        crate::http::Face::Admin,
        state.clone(),
        timeouts(),
        stopped,
    ));
    tracing::info!(public = %public_address, admin = %admin_address, "listening");
    let hangups = reload_on_hangup(state.clone());

    shutdown.await;
    hangups.abort();
    tracing::info!("shutting down: draining requests");
    state.draining.store(true, Ordering::Relaxed);
    let _ = stop.send(true);
    let _ = public.await;
    let _ = admin.await;
    close_rollup.close();
    close_aggregator.close();
    // The aggregator first: its last flush matters, a roll-up only saves time.
    let rollup = tokio::task::spawn_blocking(move || rollup.join());
    tokio::task::spawn_blocking(move || aggregator.join())
        .await
        .context("waiting for the aggregator")?
        .map_err(|_| anyhow::anyhow!("the aggregator thread panicked"))?;
    if !matches!(rollup.await, Ok(Ok(()))) {
        tracing::error!("the roll-up thread panicked; finished months are read by day");
    }
    tracing::info!("stopped");
    Ok(())
}
