//! A hit: one counted event for one site, with nothing personal left.
//!
//! Invariant: no field can hold an IP address, a user agent, a referrer
//! path or a query string that was not allow-listed. The texts it counts
//! have types only the privacy stage can make (`privacy::clean`).

use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::{Engagement, Interaction};
use crate::privacy::clean::{CleanPath, ReferrerHost, Scrubbed};
use crate::privacy::url::Campaign;
use crate::privacy::visitor::VisitorId;
use crate::sites::{Moment, SiteIdx};

/// The visitor's hash under today's salt and, just after midnight, under
/// yesterday's (so a visit may continue across midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitVisitor {
    pub today: VisitorId,
    pub yesterday: Option<VisitorId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HitKind {
    Pageview,
    Event {
        name: Scrubbed,
        props: Vec<(Scrubbed, Scrubbed)>,
    },
    /// A report of scroll depth and engaged time on `Hit::page`: never a
    /// pageview or an event, and no activity of the visit; it only adds
    /// to the page's engagement sums, when the visit's current page is
    /// that page (`sessions::Sessions::engage`).
    Engagement(Engagement),
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub site: SiteIdx,
    pub at: Moment,
    /// `None` when a privacy signal asked to count without an identifier.
    pub visitor: Option<HitVisitor>,
    pub kind: HitKind,
    /// Custom properties sent with a pageview (`p` on a pageview, as
    /// Plausible's `pageview` with `props`), counted like an event's; a
    /// custom event's own are in its kind.
    pub page_props: Vec<(Scrubbed, Scrubbed)>,
    pub interaction: Interaction,
    /// Cleaned path (`/wonen/afval`), placeholders for personal data.
    pub page: CleanPath,
    /// Referrer host, `None` for direct visits and internal navigation.
    pub referrer: Option<ReferrerHost>,
    /// Source name: a known service, the referrer host, utm_source or "Direct / None".
    pub source: String,
    pub campaign: Campaign,
    pub country: Country,
    pub browser: &'static str,
    pub os: &'static str,
    pub device: Device,
}
