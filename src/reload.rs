//! Checking a configuration whole (at start, for `check-config` and for a
//! reload), and reloading it while serving: on SIGHUP and on
//! `POST /reload` at the admin listener.
//!
//! Reloads the sites (hostnames, tokens, retention, routing; new sites)
//! and the country database. The new configuration is checked whole before
//! anything changes; a bad one is refused with its reason and the running
//! one stays. Beacons are never touched: the queue, the aggregator and the
//! hot state carry on, and a site keeps its index, so nothing in flight is
//! lost or counted twice. Other settings take effect at the next start.

use std::sync::Mutex;

use anyhow::Context;

use crate::config::{Backend, Config, ConfigError};
use crate::enrich::country::CountryDb;
use crate::ingest::Pipeline;
use crate::metrics::Metrics;
use crate::privacy::ip::Truncation;
use crate::privacy::pii::PiiPattern;
use crate::sites::{LiveSites, SiteError, Sites};
use crate::store::{RedisStore, Store};

/// Reads the configuration again: the same file and environment as at start.
pub type ConfigSource = Box<dyn Fn() -> Result<Config, ConfigError> + Send + Sync>;

/// What the configuration yields before anything is opened or bound.
pub struct Checked {
    pub sites: Sites,
    pub truncation: Truncation,
    pub(crate) pii_patterns: Vec<PiiPattern>,
    pub countries: Option<CountryDb>,
}

/// Checks everything a configuration names, short of opening the store.
pub fn check(config: &Config) -> anyhow::Result<Checked> {
    let sites = Sites::from_config(&config.sites).context("sites")?;
    let truncation = Truncation::new(config.privacy.ipv4_prefix, config.privacy.ipv6_prefix)?;
    let pii_patterns = config
        .privacy
        .pii_patterns
        .iter()
        .map(|pattern| PiiPattern::new(&pattern.name, &pattern.regex))
        .collect::<Result<Vec<_>, _>>()
        .context("privacy.pii_patterns")?;
    if config.store.backend == Backend::Redis {
        RedisStore::open(&config.store.redis).context("store.redis")?;
    }
    let countries = config
        .geoip
        .database
        .as_deref()
        .map(CountryDb::open)
        .transpose()
        .context("geoip.database")?;
    Ok(Checked {
        sites,
        truncation,
        pii_patterns,
        countries,
    })
}

/// Archives every notice the sites can show, so each receipt's banner
/// version can be shown again later. A store that is away now is retried
/// when a choice is first recorded on a notice.
pub(crate) fn archive_notices(store: &Store, sites: &Sites) {
    for notice in sites.iter().flat_map(|site| site.consent.notices()) {
        match store.archive_notice(notice) {
            Ok(true) => tracing::info!(
                site = %notice.site,
                language = notice.language,
                banner_version = %notice.banner_version,
                "new consent notice archived"
            ),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, site = %notice.site, "consent notice not archived yet");
            }
        }
    }
}

/// Why a new configuration was refused; the running one stays.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReloadError {
    /// The file or the environment could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Something it names is wrong: a site, a prefix, a pattern, the store
    /// or the country database (with the chain of causes).
    #[error("{0:#}")]
    Check(anyhow::Error),
    /// Its sites cannot replace the running ones (one removed, a new time zone).
    #[error(transparent)]
    Sites(#[from] SiteError),
    /// The reload stopped before it answered.
    #[error("the reload task failed")]
    Stopped,
}

pub(crate) struct Reloader {
    source: ConfigSource,
    /// One reload at a time.
    running: Mutex<()>,
}

/// What a reload changes in the running server.
pub(crate) struct Running<'a> {
    pub(crate) sites: &'a LiveSites,
    pub(crate) store: &'a Store,
    pub(crate) metrics: &'a Metrics,
    pub(crate) pipeline: &'a Pipeline,
}

/// What a reload changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reloaded {
    pub sites: usize,
    pub added: usize,
    pub country_database: bool,
}

impl Reloader {
    pub(crate) fn new(source: ConfigSource) -> Reloader {
        Reloader {
            source,
            running: Mutex::new(()),
        }
    }

    /// Applies the configuration as it is now, or refuses it whole.
    pub(crate) fn reload(&self, state: Running<'_>) -> Result<Reloaded, ReloadError> {
        let _one_at_a_time = self
            .running
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let result = self.apply(state);
        match &result {
            Ok(reloaded) => tracing::info!(
                sites = reloaded.sites,
                added = reloaded.added,
                country_database = reloaded.country_database,
                "configuration reloaded (sites and country database; other settings apply at the next start)"
            ),
            Err(reason) => tracing::error!(
                reason = %reason,
                "new configuration refused; the running one stays"
            ),
        }
        result
    }

    fn apply(&self, state: Running<'_>) -> Result<Reloaded, ReloadError> {
        let config = (self.source)()?;
        let checked = check(&config).map_err(ReloadError::Check)?;
        let before = state.sites.load().len();
        let sites = state.sites.load().reloaded(&config.sites)?;
        let reloaded = Reloaded {
            sites: sites.len(),
            added: sites.len() - before,
            country_database: checked.countries.is_some(),
        };
        state.metrics.geoip_build.set(
            checked
                .countries
                .as_ref()
                .map_or(0, |db| i64::try_from(db.build_epoch()).unwrap_or(i64::MAX)),
        );
        state.pipeline.count_pageviews_of(&sites);
        state.metrics.expose_sites(&sites);
        state.sites.replace(sites);
        archive_notices(state.store, &state.sites.load());
        state.pipeline.replace_countries(checked.countries);
        Ok(reloaded)
    }
}
