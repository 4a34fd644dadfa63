//! One visit: begins with a hit, ends after the timeout without activity.
//!
//! Bounces and durations are kept as running deltas so the stored counts
//! are right at every flush, not only once the visit is over. The exit page
//! is known only when the visit ends, and is counted then.
//!
//! The current pageview's engagement (the deepest point reported, whether
//! a report came) is kept the same way: each report adds what it moved,
//! so the stored sums are right at every flush and nothing needs folding
//! when the page changes or the visit ends. The previous pageview's is kept
//! too, under a hash of its page: a tracker sends a page's last report and
//! the next pageview one after the other, and they may arrive the other
//! way round.

use std::sync::Arc;

use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::{Engagement, Interaction};
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::url::Campaign;
use crate::sessions::interned::Interned;
use crate::sites::{Moment, SiteIdx};

/// What a visit is attributed to, fixed at its first hit: what its exit
/// page is counted under when it ends. Visits with equal attributions
/// share one copy (`Interned`). Browser and OS are no filter, so they are
/// not kept: a visit's later hits carry their own.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VisitAttrs {
    pub entry_page: Arc<str>,
    pub source: String,
    pub referrer: Option<String>,
    pub campaign: Campaign,
    pub country: Country,
    pub device: Device,
}

#[derive(Debug)]
pub(crate) struct Visit {
    pub start: Moment,
    pub(crate) last_seen: i64,
    /// Shared with every open visit of the same attribution.
    pub attrs: Arc<VisitAttrs>,
    /// Shared with every open visit on the same page.
    pub(crate) last_page: Arc<str>,
    pub pageviews: u32,
    pub bounced: bool,
    /// The current pageview's engagement so far.
    pub measured: Measured,
    /// The previous pageview's: its page's hash (`page_hash`; 0 for none)
    /// and its engagement so far.
    pub previous_page: u32,
    pub previous: Measured,
}

/// One pageview's engagement so far: three bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Measured {
    /// The deepest point reported, in percent.
    pub scroll: Option<u8>,
    /// Whether a report came.
    pub reported: bool,
}

/// A page's 32-bit hash, to know the previous pageview's page again
/// without holding it; 0 stands for none. Two pages of one visit that
/// share a hash are as rare as a fingerprint collision in the credits.
pub(super) fn page_hash(page: &str) -> u32 {
    use std::hash::BuildHasher;
    let hash = foldhash::fast::FixedState::with_seed(0x6b72_7569).hash_one(page) as u32;
    hash.max(1)
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
    pub(crate) fn of_hit(hit: &Hit, entry_page: Arc<str>) -> VisitAttrs {
        VisitAttrs {
            entry_page,
            source: hit.source.clone(),
            referrer: hit.referrer.clone().map(String::from),
            campaign: hit.campaign.clone(),
            country: hit.country,
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
        measured: Measured::default(),
        previous_page: 0,
        previous: Measured::default(),
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
        // A new pageview, of the same page too, is measured anew.
        visit.previous_page = page_hash(&visit.last_page);
        visit.previous = std::mem::take(&mut visit.measured);
        if *visit.last_page != *hit.page {
            visit.last_page = interned.page(&hit.page);
        }
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

/// Adds one engagement report to the visit's pageview of `page`: the
/// current one, or else the previous one; `None` for any other page.
pub(super) fn engage(visit: &mut Visit, page: &str, report: Engagement) -> Option<PageEngagement> {
    let measured = if *visit.last_page == *page {
        &mut visit.measured
    } else if visit.previous_page == page_hash(page) {
        &mut visit.previous
    } else {
        return None;
    };
    Some(measure(measured, report))
}

fn measure(measured: &mut Measured, report: Engagement) -> PageEngagement {
    let mut added = PageEngagement {
        engaged_views: i64::from(!measured.reported),
        engaged_ms: i64::from(report.engaged_ms),
        ..PageEngagement::default()
    };
    measured.reported = true;
    if let Some(depth) = report.scroll_depth {
        match measured.scroll {
            None => {
                added.scrolled_views = 1;
                added.scroll_added = i64::from(depth);
                measured.scroll = Some(depth);
            }
            Some(deepest) if depth > deepest => {
                added.scroll_added = i64::from(depth - deepest);
                measured.scroll = Some(depth);
            }
            Some(_) => {}
        }
    }
    added
}
