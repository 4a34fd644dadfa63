//! The pipeline a beacon runs through on the request path.
//!
//! Order: truncate the IP (before anything else can see it), clean the URL,
//! find the sites, drop bots and honour privacy signals, hash the visitor,
//! classify, and hand one hit per site to the aggregator with `try_send`.
//! It never awaits: when the queue is full, or on Redis the admission
//! budget is spent, the beacon is shed and counted.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::config::SignalPolicy;
use crate::enrich::agent::{Agent, AgentClasses, Device};
use crate::enrich::agent_cache::AgentCache;
use crate::enrich::country::{Country, CountryDb};
use crate::enrich::source;
use crate::ingest::admission::Admission;
use crate::ingest::beacon::{Beacon, EventName, Sender};
use crate::ingest::hit::{Hit, HitKind, HitVisitor};
use crate::metrics::Metrics;
use crate::privacy::clean::Scrubbed;
use crate::privacy::ip::{TruncatedIp, Truncation};
use crate::privacy::link;
use crate::privacy::pii::{self, PiiPattern};
use crate::privacy::salt::SaltBook;
use crate::privacy::url::{self, CleanUrl, Routing, UrlPolicy};
use crate::privacy::visitor::visitor_id;
use crate::privacy::{self as privacy_stage, Treatment};
use crate::sites::{LiveSites, Site, Sites};

/// Why a well-formed beacon was deliberately not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    Bot,
    MissingUserAgent,
    UnknownSite,
    HostnameNotAllowed,
    PrivacySignal,
    /// The aggregator's queue was full, or on Redis the hits waiting for
    /// it reached their bound: shed to protect the server.
    Overloaded,
    /// The sender's network sent more beacons than its budget.
    RateLimited,
}

impl DropReason {
    pub(crate) const ALL: [DropReason; 7] = [
        DropReason::Bot,
        DropReason::MissingUserAgent,
        DropReason::UnknownSite,
        DropReason::HostnameNotAllowed,
        DropReason::PrivacySignal,
        DropReason::Overloaded,
        DropReason::RateLimited,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DropReason::Bot => "bot",
            DropReason::MissingUserAgent => "missing_user_agent",
            DropReason::UnknownSite => "unknown_site",
            DropReason::HostnameNotAllowed => "hostname_not_allowed",
            DropReason::PrivacySignal => "privacy_signal",
            DropReason::Overloaded => "overloaded",
            DropReason::RateLimited => "rate_limited",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Counted,
    Dropped(DropReason),
    /// The page URL is not an absolute http(s) URL.
    InvalidUrl,
}

/// Everything the pipeline needs, built once by `startup`.
pub(crate) struct PipelineParts {
    pub sites: LiveSites,
    pub truncation: Truncation,
    pub salts: Arc<SaltBook>,
    pub urls: UrlPolicy,
    pub(crate) pii_patterns: Vec<PiiPattern>,
    pub agents: AgentCache,
    /// Replaced whole when the configuration is reloaded.
    pub countries: ArcSwapOption<CountryDb>,
    pub gpc: SignalPolicy,
    pub dnt: SignalPolicy,
    pub hits: mpsc::Sender<Hit>,
    /// With the Redis backend: the bound on hits queued and waiting for it.
    pub(crate) admission: Option<Arc<Admission>>,
    pub metrics: Arc<Metrics>,
}

pub(crate) struct Pipeline {
    parts: PipelineParts,
    /// Per site, by index: its pageview counter.
    site_pageviews: ArcSwap<Vec<prometheus::IntCounter>>,
}

/// What is known about a beacon once it is certain to be counted.
struct Counted<'a> {
    url: CleanUrl,
    ip: TruncatedIp,
    user_agent: &'a str,
    classes: AgentClasses,
    country: Country,
    referrer: Option<String>,
    treatment: Treatment,
}

impl Pipeline {
    pub(crate) fn new(parts: PipelineParts) -> Pipeline {
        let site_pageviews = ArcSwap::from_pointee(Vec::new());
        let pipeline = Pipeline {
            parts,
            site_pageviews,
        };
        pipeline.count_pageviews_of(&pipeline.parts.sites.load());
        pipeline
    }

    /// Pageview counters for `sites`; a reload calls this before it swaps
    /// the sites in, so a new site's first beacon is counted too.
    pub(crate) fn count_pageviews_of(&self, sites: &Sites) {
        let counters = sites
            .iter()
            .map(|site| {
                self.parts
                    .metrics
                    .site_pageviews
                    .with_label_values(&[site.id.as_str()])
            })
            .collect();
        self.site_pageviews.store(Arc::new(counters));
    }

    /// The client's network as every later stage sees it (promise 1).
    pub(crate) fn truncate(
        &self,
        client: crate::privacy::ip::ClientIp,
    ) -> crate::privacy::ip::TruncatedIp {
        self.parts.truncation.apply(client)
    }

    /// Whether a country database is loaded.
    pub(crate) fn has_countries(&self) -> bool {
        self.parts.countries.load().is_some()
    }

    /// After a reload: the country database to look up from now on.
    pub(crate) fn replace_countries(&self, countries: Option<CountryDb>) {
        self.parts.countries.store(countries.map(Arc::new));
    }

    pub(crate) fn process(&self, beacon: Beacon, sender: Sender, now: Timestamp) -> Outcome {
        let outcome = self.run(beacon, sender, now);
        let metrics = &self.parts.metrics;
        match &outcome {
            Outcome::Counted => metrics.beacons_accepted.inc(),
            // Shed hits are counted where they are shed, one per site.
            Outcome::Dropped(DropReason::Overloaded) => {}
            Outcome::Dropped(reason) => metrics.dropped(*reason),
            Outcome::InvalidUrl => {}
        }
        outcome
    }

    fn run(&self, beacon: Beacon, sender: Sender, now: Timestamp) -> Outcome {
        let parts = &self.parts;
        let ip = sender.network;
        let sites = parts.sites.load();
        let targets: Vec<&Site> = beacon
            .domains
            .iter()
            .filter_map(|domain| sites.find(domain))
            .collect();
        let routing = if beacon.hash_routing || targets.iter().any(|s| s.routing == Routing::Hash) {
            Routing::Hash
        } else {
            Routing::Path
        };
        let url = match url::clean(&beacon.url, &parts.urls, routing) {
            Ok(url) => url,
            Err(_) => return Outcome::InvalidUrl,
        };
        if targets.is_empty() {
            return Outcome::Dropped(DropReason::UnknownSite);
        }
        let targets: Vec<&Site> = targets
            .into_iter()
            .filter(|site| site.allows_hostname(url.host()))
            .collect();
        if targets.is_empty() {
            return Outcome::Dropped(DropReason::HostnameNotAllowed);
        }
        let Some(user_agent) = sender
            .user_agent
            .as_deref()
            .filter(|ua| !ua.trim().is_empty())
        else {
            return Outcome::Dropped(DropReason::MissingUserAgent);
        };
        let classes = match parts.agents.classify(user_agent) {
            Agent::Bot => return Outcome::Dropped(DropReason::Bot),
            Agent::Human(classes) => classes,
        };
        let treatment = privacy_stage::treatment(sender.signals, parts.gpc, parts.dnt);
        if treatment == Treatment::Drop {
            return Outcome::Dropped(DropReason::PrivacySignal);
        }
        let kind = self.kind(&beacon);
        let counted = Counted {
            url,
            ip,
            user_agent,
            classes: with_width_fallback(classes, beacon.screen_width),
            country: parts
                .countries
                .load()
                .as_ref()
                .map_or(Country::UNKNOWN, |db| db.lookup(ip.network())),
            referrer: beacon.referrer.as_deref().and_then(source::referrer_host),
            treatment,
        };
        let mut queued = 0;
        let pageview_counters = self.site_pageviews.load();
        for site in &targets {
            let hit = self.hit(site, &counted, kind.clone(), &beacon, now);
            let pageview = hit.kind == HitKind::Pageview;
            if self.hand_over(hit) {
                queued += 1;
                if pageview && let Some(counter) = pageview_counters.get(site.idx.index()) {
                    counter.inc();
                }
            }
        }
        // Counted when any site took it; shed only when none could.
        if queued == 0 {
            Outcome::Dropped(DropReason::Overloaded)
        } else {
            Outcome::Counted
        }
    }

    /// Queues one hit, within the admission budget when there is one;
    /// false when it was shed (and counted as shed).
    fn hand_over(&self, hit: Hit) -> bool {
        let parts = &self.parts;
        if let Some(admission) = &parts.admission
            && let Err(cause) = admission.admit()
        {
            parts.metrics.shed_for_redis(cause);
            return false;
        }
        if parts.hits.try_send(hit).is_ok() {
            return true;
        }
        if let Some(admission) = &parts.admission {
            admission.release(1);
        }
        parts.metrics.beacons_shed.inc();
        false
    }

    /// Event names, property keys and values are stored as dimension values, so each is
    /// scrubbed like a path segment; link targets have their own rules (`privacy::link`).
    /// None of them is cut: the edge refuses one that is too long.
    fn kind(&self, beacon: &Beacon) -> HitKind {
        let patterns = &self.parts.pii_patterns;
        match &beacon.name {
            EventName::Pageview => HitKind::Pageview,
            EventName::Engagement => HitKind::Engagement(beacon.engagement),
            EventName::Custom(name) => HitKind::Event {
                name: pii::scrubbed(name, patterns),
                props: beacon
                    .props
                    .iter()
                    .map(|(key, value)| {
                        let value = link::clean_target(name, key, value, patterns)
                            .unwrap_or_else(|| pii::scrubbed(value, patterns));
                        (pii::scrubbed(key, patterns), value)
                    })
                    .collect(),
            },
        }
    }

    /// A pageview's properties, scrubbed like an event's (a pageview
    /// reports no link target).
    fn page_props(&self, beacon: &Beacon) -> Vec<(Scrubbed, Scrubbed)> {
        let patterns = &self.parts.pii_patterns;
        beacon
            .props
            .iter()
            .map(|(key, value)| (pii::scrubbed(key, patterns), pii::scrubbed(value, patterns)))
            .collect()
    }

    fn hit(
        &self,
        site: &Site,
        counted: &Counted,
        kind: HitKind,
        beacon: &Beacon,
        now: Timestamp,
    ) -> Hit {
        let at = site.moment(now);
        let visitor = (counted.treatment == Treatment::Count).then(|| {
            let salts = self.parts.salts.salts_for(site, at);
            HitVisitor {
                today: visitor_id(&salts.current, &site.id, counted.ip, counted.user_agent),
                yesterday: salts
                    .previous
                    .map(|salt| visitor_id(&salt, &site.id, counted.ip, counted.user_agent)),
            }
        });
        // Navigation inside the site is not a source. A host is scrubbed like any stored
        // text (a label can hold a phone number), after it was compared with the site's own.
        let referrer = counted
            .referrer
            .as_deref()
            .filter(|host| !site.allows_hostname(host))
            .map(|host| pii::referrer(host, &self.parts.pii_patterns));
        let source = source_name(
            referrer.as_deref(),
            counted.url.campaign().source.as_deref(),
        );
        Hit {
            site: site.idx,
            at,
            visitor,
            page_props: match kind {
                HitKind::Pageview => self.page_props(beacon),
                HitKind::Event { .. } | HitKind::Engagement(_) => Vec::new(),
            },
            kind,
            interaction: beacon.interaction,
            page: counted.url.path().clone(),
            referrer,
            source,
            campaign: counted.url.campaign().clone(),
            country: counted.country,
            browser: counted.classes.browser,
            os: counted.classes.os,
            device: counted.classes.device,
        }
    }
}

/// The source a visit is attributed to: a known service by name, else the
/// referrer host, else the campaign's `utm_source`, else direct.
pub(super) fn source_name(referrer: Option<&str>, utm_source: Option<&str>) -> String {
    match (referrer, utm_source) {
        (Some(host), _) => source::source_for_host(host)
            .map_or_else(|| host.to_owned(), |known| known.name.to_owned()),
        (None, Some(campaign_source)) => campaign_source.to_owned(),
        (None, None) => DIRECT.to_owned(),
    }
}

pub(super) const DIRECT: &str = "Direct / None";

fn with_width_fallback(classes: AgentClasses, width: Option<u32>) -> AgentClasses {
    match (classes.device, width) {
        (Device::Unknown, Some(width)) => AgentClasses {
            device: Device::from_screen_width(width),
            ..classes
        },
        _ => classes,
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
