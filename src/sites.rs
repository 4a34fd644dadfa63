//! The configured sites, as the pipeline uses them.
//!
//! Owns site identity (`SiteId`, `SiteIdx`), hostname and token checks, and
//! local time: which local day and hour a timestamp falls in for a site.
//! It does not know HTTP or storage.

use std::collections::HashMap;

use jiff::{Timestamp, tz::TimeZone};

use crate::config::{SiteConfig, TokenHash};
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

#[derive(Debug)]
pub struct Site {
    pub idx: SiteIdx,
    pub id: SiteId,
    hostnames: Vec<String>,
    pub time_zone: TimeZone,
    pub retention_days: u32,
    pub routing: Routing,
    tokens: Vec<TokenHash>,
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
}

impl Site {
    pub fn allows_hostname(&self, host: &str) -> bool {
        self.hostnames.iter().any(|allowed| allowed == host)
    }

    pub fn accepts_token(&self, presented: &str) -> bool {
        // Check every token so the time taken does not reveal which matched.
        self.tokens
            .iter()
            .fold(false, |found, token| token.matches(presented) | found)
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
    pub fn start_of_day(&self, day: i32) -> Timestamp {
        let date = jiff::civil::date(1970, 1, 1)
            .checked_add(jiff::Span::new().days(i64::from(day)))
            .unwrap_or(jiff::civil::date(1970, 1, 1));
        date.to_zoned(self.time_zone.clone())
            .map(|zoned| zoned.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
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
    pub fn any_allows_hostname(&self, host: &str) -> bool {
        self.sites.iter().any(|site| site.allows_hostname(host))
    }
}

fn build_site(idx: SiteIdx, config: &SiteConfig) -> Result<Site, SiteError> {
    if !is_domain(&config.id) {
        return Err(SiteError::InvalidId(config.id.clone()));
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
    fn ids_must_be_domains() {
        for bad in ["", "Gemeente.example", "a..b", "a b", "a/b"] {
            assert!(!is_domain(bad), "{bad:?}");
        }
        assert!(is_domain("www.gemeente-x.example"));
    }
}
