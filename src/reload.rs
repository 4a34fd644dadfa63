//! Reloading the configuration while serving: on SIGHUP and on
//! `POST /reload` at the admin listener.
//!
//! Reloads the sites (hostnames, tokens, retention, routing; new sites)
//! and the country database. The new configuration is checked whole before
//! anything changes; a bad one is refused with its reason and the running
//! one stays. Beacons are never touched: the queue, the aggregator and the
//! hot state carry on, and a site keeps its index, so nothing in flight is
//! lost or counted twice. Other settings take effect at the next start.

use std::sync::Mutex;

use crate::config::{Config, ConfigError};
use crate::http::AppState;
use crate::startup::check;

/// Reads the configuration again: the same file and environment as at start.
pub type ConfigSource = Box<dyn Fn() -> Result<Config, ConfigError> + Send + Sync>;

pub struct Reloader {
    source: ConfigSource,
    /// One reload at a time.
    running: Mutex<()>,
}

/// What a reload changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Reloaded {
    pub sites: usize,
    pub added: usize,
    pub country_database: bool,
}

impl Reloader {
    pub fn new(source: ConfigSource) -> Reloader {
        Reloader {
            source,
            running: Mutex::new(()),
        }
    }

    /// Applies the configuration as it is now, or refuses it whole.
    pub fn reload(&self, state: &AppState) -> Result<Reloaded, String> {
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

    fn apply(&self, state: &AppState) -> Result<Reloaded, String> {
        let config = (self.source)().map_err(|error| error.to_string())?;
        let checked = check(&config).map_err(|error| format!("{error:#}"))?;
        let before = state.sites.load().len();
        let sites = state
            .sites
            .load()
            .reloaded(&config.sites)
            .map_err(|error| error.to_string())?;
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
        crate::startup::archive_notices(&state.store, &state.sites.load());
        state.pipeline.replace_countries(checked.countries);
        Ok(reloaded)
    }
}
