//! What every request handler shares, built once by `startup`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::ingest::client_ip::TrustedProxies;
use crate::aggregate::Realtime;
use crate::clock::Clock;
use crate::ingest::Pipeline;
use crate::metrics::Metrics;
use crate::privacy::salt::SaltBook;
use crate::reload::{ReloadError, Reloaded, Reloader, Running};
use crate::sites::LiveSites;
use crate::store::Store;

pub(crate) struct AppState {
    pub pipeline: Pipeline,
    pub store: Arc<Store>,
    pub sites: LiveSites,
    pub realtime: Arc<Realtime>,
    /// The salts, when they must come from the shared state to be ready.
    pub salts: Option<Arc<SaltBook>>,
    pub(crate) reloader: Reloader,
    pub metrics: Arc<Metrics>,
    pub(crate) request_counters: super::RequestCounters,
    pub clock: Clock,
    pub proxies: TrustedProxies,
    pub body_timeout: Duration,
    /// What `/metrics` and `/reload` ask for on the admin listener.
    pub(crate) admin_tokens: Vec<crate::config::TokenHash>,
    /// The deployment-wide settings the privacy page reports.
    pub disclosure: crate::disclosure::Facts,
    /// Dashboard users, re-read from their file when it changes.
    pub users: crate::accounts::UsersFile,
    pub sessions: crate::accounts::LoginSessions,
    pub lockout: crate::accounts::lockout::Lockout,
    pub(crate) used_codes: crate::accounts::totp::UsedCodes,
    pub audit: crate::accounts::audit::AuditLog,
    /// Sign-in attempts per network and minute.
    pub(crate) login_limit: super::ingest::rate_limit::RateLimit,
    pub dashboard: crate::config::DashboardConfig,
    /// Beacons per network and window (`limits.ingest_per_network`);
    /// `None` when the limit is off.
    pub ingest_limit: Option<super::ingest::rate_limit::RateLimit>,
    /// Consent choices per network and minute: each one is stored.
    pub(crate) consent_limit: super::ingest::rate_limit::RateLimit,
    /// Consent choices stored per site and local day.
    pub(crate) consent_cap: super::ingest::daily_cap::DailyCap,
    /// Notices (site NUL banner version) this process knows are archived.
    pub archived: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Set when shutdown begins: `/readyz` turns not-ready.
    pub(crate) draining: AtomicBool,
}

impl AppState {
    /// Applies the configuration as it is now to the running server, or
    /// refuses it whole (SIGHUP, `POST /reload`).
    pub(crate) fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.reloader.reload(Running {
            sites: &self.sites,
            store: &self.store,
            metrics: &self.metrics,
            pipeline: &self.pipeline,
        })
    }
}
