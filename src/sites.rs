//! The configured sites, as the pipeline uses them.
//!
//! Owns site identity (`SiteId`, `SiteIdx`), hostname and token checks, and
//! local time: which local day and hour a timestamp falls in for a site.
//! A reload replaces the whole set (`LiveSites`) with every site keeping
//! its index. It does not know HTTP or storage.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use jiff::{Timestamp, tz::TimeZone};

use crate::config::{RegisterConfig, SiteConfig, TokenHash};
use crate::consent::SiteConsent;
use crate::privacy::url::Routing;

/// A site's position in the configuration: small, copyable, used in hot paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteIdx(u16);

impl SiteIdx {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A site's domain as configured (`gemeente.example`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteId(String);

impl SiteId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SiteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A timestamp placed in a site's local calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub unix: i64,
    /// Local calendar day, as days since 1970-01-01.
    pub day: i32,
    /// Local hour, as hours since 1970-01-01T00 local.
    pub hour: i32,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub idx: SiteIdx,
    pub id: SiteId,
    hostnames: Vec<String>,
    pub time_zone: TimeZone,
    pub retention_days: u32,
    pub routing: Routing,
    tokens: Vec<TokenHash>,
    share_links: Vec<TokenHash>,
    pub public: bool,
    /// The smallest number of visitors shown without the site's credentials.
    pub k_anonymity: u32,
    /// Bytes of counts at rest past which the operator is warned.
    pub max_bytes: Option<u64>,
    pub consent: SiteConsent,
    /// Who answers for the processing, for the privacy page's register entry.
    pub register: RegisterConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("site {0:?}: the id must be a lowercase domain name")]
    InvalidId(String),
    #[error("site {0:?} is configured twice")]
    Duplicate(String),
    #[error("site {site:?}: unknown time zone {zone:?}")]
    TimeZone { site: String, zone: String },
    #[error("too many sites (at most {max})", max = u16::MAX)]
    TooMany,
    #[error("site {0:?} is gone from the new configuration; removing a site needs a restart")]
    Removed(String),
    #[error("site {0:?} has a new time zone; changing it needs a restart")]
    TimeZoneChanged(String),
    #[error("site {0:?}: retention_days must be between 1 and {max}", max = MAX_RETENTION_DAYS)]
    Retention(String),
    #[error("site {0:?}: k_anonymity must be at least 2")]
    KAnonymity(String),
    #[error("site {site:?}: consent: {message}")]
    Consent { site: String, message: String },
}

impl Site {
    pub(crate) fn allows_hostname(&self, host: &str) -> bool {
        self.hostnames.iter().any(|allowed| allowed == host)
    }

    pub(crate) fn accepts_token(&self, presented: &str) -> bool {
        TokenHash::any_matches(&self.tokens, presented)
    }

    /// Whether `presented` is the secret of one of the site's share links.
    pub(crate) fn accepts_share_link(&self, presented: &str) -> bool {
        TokenHash::any_matches(&self.share_links, presented)
    }

    pub fn moment(&self, at: Timestamp) -> Moment {
        let offset = i64::from(self.time_zone.to_offset(at).seconds());
        let local = at.as_second() + offset;
        Moment {
            unix: at.as_second(),
            day: local.div_euclid(86_400) as i32,
            hour: local.div_euclid(3_600) as i32,
        }
    }

    /// The instant local day `day` begins.
    pub(crate) fn start_of_day(&self, day: i32) -> Timestamp {
        crate::calendar::Day::new(day)
            .date()
            .to_zoned(self.time_zone.clone())
            .map(|zoned| zoned.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// The current sites, replaced whole when the configuration is reloaded;
/// readers take a snapshot (`load`) that stays valid while they hold it.
#[derive(Clone)]
pub(crate) struct LiveSites(Arc<ArcSwap<Sites>>);

impl LiveSites {
    pub(crate) fn new(sites: Sites) -> LiveSites {
        LiveSites(Arc::new(ArcSwap::from_pointee(sites)))
    }

    pub(crate) fn load(&self) -> Guard<Arc<Sites>> {
        self.0.load()
    }

    /// A snapshot to hold across longer work.
    pub(crate) fn load_full(&self) -> Arc<Sites> {
        self.0.load_full()
    }

    pub(crate) fn replace(&self, sites: Sites) {
        self.0.store(Arc::new(sites));
    }
}

#[derive(Debug, Default)]
pub struct Sites {
    sites: Vec<Site>,
    by_id: HashMap<String, SiteIdx>,
}

impl Sites {
    /// The first site's index, for tests that need any site.
    #[cfg(test)]
    pub(crate) fn default_idx() -> SiteIdx {
        SiteIdx(0)
    }

    pub fn from_config(configs: &[SiteConfig]) -> Result<Sites, SiteError> {
        let mut sites = Sites::default();
        for config in configs {
            let idx = SiteIdx(u16::try_from(sites.sites.len()).map_err(|_| SiteError::TooMany)?);
            let site = build_site(idx, config)?;
            if sites.by_id.insert(site.id.0.clone(), idx).is_some() {
                return Err(SiteError::Duplicate(config.id.clone()));
            }
            sites.sites.push(site);
        }
        Ok(sites)
    }

    /// The sites of a reloaded configuration. Every site keeps its index
    /// (hot state and pending counts refer to sites by index); new sites
    /// come after. Removing a site or changing its time zone is refused:
    /// both would need the hot state of that site rebuilt.
    pub fn reloaded(&self, configs: &[SiteConfig]) -> Result<Sites, SiteError> {
        let mut ordered: Vec<&SiteConfig> = Vec::with_capacity(configs.len());
        for site in &self.sites {
            let config = configs
                .iter()
                .find(|config| config.id == site.id.as_str())
                .ok_or_else(|| SiteError::Removed(site.id.as_str().to_owned()))?;
            if site.time_zone.iana_name() != Some(config.time_zone.as_str()) {
                return Err(SiteError::TimeZoneChanged(config.id.clone()));
            }
            ordered.push(config);
        }
        ordered.extend(
            configs
                .iter()
                .filter(|config| self.find(&config.id).is_none()),
        );
        let owned: Vec<SiteConfig> = ordered.into_iter().cloned().collect();
        Sites::from_config(&owned)
    }

    pub fn get(&self, idx: SiteIdx) -> &Site {
        &self.sites[idx.index()]
    }

    pub fn find(&self, id: &str) -> Option<&Site> {
        self.by_id.get(id).map(|idx| self.get(*idx))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Site> {
        self.sites.iter()
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Whether any site accepts pages from `host` (used for CORS).
    pub(crate) fn any_allows_hostname(&self, host: &str) -> bool {
        self.sites.iter().any(|site| site.allows_hostname(host))
    }
}

/// A century: longer is a mistake, and dates that far back leave the calendar.
pub(crate) const MAX_RETENTION_DAYS: u32 = 36_525;

fn build_site(idx: SiteIdx, config: &SiteConfig) -> Result<Site, SiteError> {
    if !is_domain(&config.id) {
        return Err(SiteError::InvalidId(config.id.clone()));
    }
    if !(1..=MAX_RETENTION_DAYS).contains(&config.retention_days) {
        return Err(SiteError::Retention(config.id.clone()));
    }
    let time_zone = jiff::tz::db()
        .get(&config.time_zone)
        .map_err(|_| SiteError::TimeZone {
            site: config.id.clone(),
            zone: config.time_zone.clone(),
        })?;
    let mut hostnames: Vec<String> = config
        .hostnames
        .iter()
        .map(|host| host.trim().to_ascii_lowercase())
        .collect();
    if hostnames.is_empty() {
        hostnames.push(config.id.clone());
    }
    if config.k_anonymity < 2 {
        return Err(SiteError::KAnonymity(config.id.clone()));
    }
    let consent =
        SiteConsent::build(&config.id, &config.consent).map_err(|message| SiteError::Consent {
            site: config.id.clone(),
            message,
        })?;
    Ok(Site {
        idx,
        id: SiteId(config.id.clone()),
        hostnames,
        time_zone,
        retention_days: config.retention_days,
        routing: if config.hash_routing {
            Routing::Hash
        } else {
            Routing::Path
        },
        tokens: config.tokens.clone(),
        share_links: config.share_links.clone(),
        public: config.public,
        k_anonymity: config.k_anonymity,
        max_bytes: config.max_bytes,
        consent,
        register: config.register.clone(),
    })
}

fn is_domain(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 253
        && id.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(zone: &str) -> Site {
        let config: SiteConfig =
            toml::from_str(&format!("id = \"a.example\"\ntime_zone = \"{zone}\"")).unwrap();
        build_site(SiteIdx(0), &config).unwrap()
    }

    #[test]
    fn local_days_follow_the_site_time_zone() {
        let amsterdam = site("Europe/Amsterdam");
        // 2026-11-23T23:30Z is already 24 November in Amsterdam (UTC+1).
        let late = "2026-11-23T23:30:00Z".parse::<Timestamp>().unwrap();
        let utc = site("UTC");
        assert_eq!(amsterdam.moment(late).day, utc.moment(late).day + 1);
        assert_eq!(
            amsterdam
                .start_of_day(amsterdam.moment(late).day)
                .to_string(),
            "2026-11-23T23:00:00Z"
        );
    }

    #[test]
    fn retention_is_between_a_day_and_a_century() {
        let build = |days: u32| {
            let text = format!("id = \"a.example\"\nretention_days = {days}");
            build_site(SiteIdx(0), &toml::from_str(&text).unwrap()).map(|site| site.retention_days)
        };
        assert_eq!(build(1).unwrap(), 1);
        assert_eq!(build(MAX_RETENTION_DAYS).unwrap(), MAX_RETENTION_DAYS);
        assert!(matches!(build(0), Err(SiteError::Retention(_))));
        assert!(matches!(build(u32::MAX), Err(SiteError::Retention(_))));
    }

    #[test]
    fn hours_are_counted_in_local_time() {
        let amsterdam = site("Europe/Amsterdam");
        let at = "2026-07-01T10:15:00Z".parse::<Timestamp>().unwrap();
        let moment = amsterdam.moment(at);
        assert_eq!(
            moment.hour - moment.day * 24,
            12,
            "10:15Z is 12:15 in summer"
        );
    }

    #[test]
    fn a_reload_keeps_every_sites_index_and_adds_new_ones_after() {
        let config = |text: &str| -> SiteConfig { toml::from_str(text).unwrap() };
        let old =
            Sites::from_config(&[config(r#"id = "a.example""#), config(r#"id = "b.example""#)])
                .unwrap();
        let new = old
            .reloaded(&[
                config(r#"id = "c.example""#),
                config(
                    r#"id = "b.example"
                           hostnames = ["www.b.example"]"#,
                ),
                config(r#"id = "a.example""#),
            ])
            .unwrap();
        let ids: Vec<&str> = new.iter().map(|site| site.id.as_str()).collect();
        assert_eq!(ids, ["a.example", "b.example", "c.example"]);
        assert_eq!(
            new.find("b.example").unwrap().idx,
            old.find("b.example").unwrap().idx
        );
        assert!(
            new.find("b.example")
                .unwrap()
                .allows_hostname("www.b.example")
        );
        assert!(matches!(
            old.reloaded(&[config(r#"id = "a.example""#)]),
            Err(SiteError::Removed(id)) if id == "b.example"
        ));
        assert!(matches!(
            old.reloaded(&[
                config(
                    r#"id = "a.example"
                           time_zone = "UTC""#
                ),
                config(r#"id = "b.example""#),
            ]),
            Err(SiteError::TimeZoneChanged(_))
        ));
    }

    #[test]
    fn ids_must_be_domains() {
        for bad in ["", "Gemeente.example", "a..b", "a b", "a/b"] {
            assert!(!is_domain(bad), "{bad:?}");
        }
        assert!(is_domain("www.gemeente-x.example"));
    }
}
