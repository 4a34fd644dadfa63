//! One visit: begins with a hit, ends after the timeout without activity.
//!
//! Bounces and durations are kept as running deltas so the stored counts
//! are right at every flush, not only once the visit is over. The exit page
//! is known only when the visit ends, and is counted then.
//!
//! The current pageview's engagement (the deepest point reported, whether
//! a report came) is kept the same way: each report adds what it moved,
//! so the stored sums are right at every flush and nothing needs folding
//! when the page changes or the visit ends.

use std::sync::Arc;

use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::{Engagement, Interaction};
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::url::Campaign;
use crate::sessions::interned::Interned;
use crate::sites::{Moment, SiteIdx};

/// What a visit is attributed to, fixed at its first hit. Visits with
/// equal attributions share one copy (`Interned`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VisitAttrs {
    pub entry_page: Arc<str>,
    pub source: String,
    pub referrer: Option<String>,
    pub campaign: Campaign,
    pub country: Country,
    pub browser: &'static str,
    pub os: &'static str,
    pub device: Device,
}

#[derive(Debug)]
pub struct Visit {
    pub start: Moment,
    pub last_seen: i64,
    /// Shared with every open visit of the same attribution.
    pub attrs: Arc<VisitAttrs>,
    /// Shared with every open visit on the same page.
    pub last_page: Arc<str>,
    pub pageviews: u32,
    pub bounced: bool,
    /// The deepest point reported for the current pageview, in percent.
    pub page_scroll: Option<u8>,
    /// Whether an engagement report came for the current pageview.
    pub page_engaged: bool,
}

/// What one engagement report adds to its page's sums of the day (the
/// row kind `store::Dim::Engagement`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageEngagement {
    /// 1 for a pageview's first report: one more pageview with engaged time.
    pub engaged_views: i64,
    pub engaged_ms: i64,
    /// 1 for a pageview's first reported depth.
    pub scrolled_views: i64,
    /// How much deeper the pageview's deepest point is now: summed over
    /// reports, the deepest point of each pageview.
    pub scroll_added: i64,
}

/// A visit that has ended, for counting its exit page.
#[derive(Debug)]
pub struct EndedVisit {
    pub site: SiteIdx,
    pub attrs: Arc<VisitAttrs>,
    pub start: Moment,
    pub exit_page: Arc<str>,
}

impl Visit {
    pub(super) fn end(self, site: SiteIdx) -> EndedVisit {
        EndedVisit {
            site,
            attrs: self.attrs,
            start: self.start,
            exit_page: self.last_page,
        }
    }
}

/// How a hit changed its visit; applied to the visit's start buckets.
#[derive(Debug, Clone)]
pub struct VisitChange {
    pub attrs: Arc<VisitAttrs>,
    pub start: Moment,
    pub started: bool,
    pub bounce_delta: i64,
    pub duration_delta: i64,
}

/// Moves the visit on; a visit that timed out is replaced and returned.
pub(super) fn advance(
    slot: &mut Option<Box<Visit>>,
    hit: &Hit,
    timeout: i64,
    interned: &mut Interned,
) -> (VisitChange, Option<Visit>) {
    if let Some(visit) = slot
        .as_mut()
        .filter(|visit| hit.at.unix - visit.last_seen < timeout)
    {
        return (continue_visit(visit, hit, interned), None);
    }
    let visit = begin(hit, interned);
    let change = VisitChange {
        attrs: visit.attrs.clone(),
        start: visit.start,
        started: true,
        bounce_delta: i64::from(visit.bounced),
        duration_delta: 0,
    };
    let ended = slot.replace(Box::new(visit)).map(|old| *old);
    (change, ended)
}

impl VisitAttrs {
    /// The attributes of a visit that begins with `hit`.
    pub fn of_hit(hit: &Hit, entry_page: Arc<str>) -> VisitAttrs {
        VisitAttrs {
            entry_page,
            source: hit.source.clone(),
            referrer: hit.referrer.clone(),
            campaign: hit.campaign.clone(),
            country: hit.country,
            browser: hit.browser,
            os: hit.os,
            device: hit.device,
        }
    }
}

fn begin(hit: &Hit, interned: &mut Interned) -> Visit {
    let page = interned.page(&hit.page);
    Visit {
        start: hit.at,
        last_seen: hit.at.unix,
        attrs: interned.attributions(VisitAttrs::of_hit(hit, page.clone())),
        last_page: page,
        pageviews: u32::from(hit.kind == HitKind::Pageview),
        bounced: !ends_bounce_alone(hit),
        page_scroll: None,
        page_engaged: false,
    }
}

/// An interactive custom event engages the visitor; a pageview alone does not.
pub(crate) fn ends_bounce_alone(hit: &Hit) -> bool {
    matches!(hit.kind, HitKind::Event { .. }) && hit.interaction == Interaction::Interactive
}

fn continue_visit(visit: &mut Visit, hit: &Hit, interned: &mut Interned) -> VisitChange {
    // Out-of-order hits add no time.
    let duration_delta = (hit.at.unix - visit.last_seen).max(0);
    visit.last_seen = visit.last_seen.max(hit.at.unix);
    if hit.kind == HitKind::Pageview {
        visit.pageviews += 1;
        if *visit.last_page != *hit.page {
            visit.last_page = interned.page(&hit.page);
        }
        // A new pageview, of the same page too, is measured anew.
        visit.page_scroll = None;
        visit.page_engaged = false;
    }
    let ends_bounce = visit.bounced && (visit.pageviews >= 2 || ends_bounce_alone(hit));
    if ends_bounce {
        visit.bounced = false;
    }
    VisitChange {
        attrs: visit.attrs.clone(),
        start: visit.start,
        started: false,
        bounce_delta: if ends_bounce { -1 } else { 0 },
        duration_delta,
    }
}

/// Adds one engagement report to the visit's current pageview. The
/// caller checked that the report is for that page.
pub(super) fn engage(visit: &mut Visit, report: Engagement) -> PageEngagement {
    let mut added = PageEngagement {
        engaged_views: i64::from(!visit.page_engaged),
        engaged_ms: i64::from(report.engaged_ms),
        ..PageEngagement::default()
    };
    visit.page_engaged = true;
    if let Some(depth) = report.scroll_depth {
        match visit.page_scroll {
            None => {
                added.scrolled_views = 1;
                added.scroll_added = i64::from(depth);
                visit.page_scroll = Some(depth);
            }
            Some(deepest) if depth > deepest => {
                added.scroll_added = i64::from(depth - deepest);
                visit.page_scroll = Some(depth);
            }
            Some(_) => {}
        }
    }
    added
}
