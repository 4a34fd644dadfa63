//! One visit: begins with a hit, ends after the timeout without activity.
//!
//! Bounces and durations are kept as running deltas so the stored counts
//! are right at every flush, not only once the visit is over.

use std::sync::Arc;

use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::beacon::Interaction;
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::url::Campaign;
use crate::sites::Moment;

/// What a visit is attributed to, fixed at its first hit.
#[derive(Debug)]
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
    pub attrs: Arc<VisitAttrs>,
    pub last_page: Arc<str>,
    pub pageviews: u32,
    pub bounced: bool,
}

/// The visit's exit page moved from one page to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitMove {
    pub from: Option<Arc<str>>,
    pub to: Arc<str>,
}

/// How a hit changed its visit; applied to the visit's start buckets.
#[derive(Debug)]
pub struct VisitChange {
    pub attrs: Arc<VisitAttrs>,
    pub start: Moment,
    pub started: bool,
    pub bounce_delta: i64,
    pub duration_delta: i64,
    pub exit: Option<ExitMove>,
}

pub(super) fn advance(slot: &mut Option<Box<Visit>>, hit: &Hit, timeout: i64) -> VisitChange {
    match slot {
        Some(visit) if hit.at.unix - visit.last_seen < timeout => continue_visit(visit, hit),
        _ => {
            let visit = begin(hit);
            let change = VisitChange {
                attrs: visit.attrs.clone(),
                start: visit.start,
                started: true,
                bounce_delta: i64::from(visit.bounced),
                duration_delta: 0,
                exit: Some(ExitMove {
                    from: None,
                    to: visit.last_page.clone(),
                }),
            };
            *slot = Some(Box::new(visit));
            change
        }
    }
}

fn begin(hit: &Hit) -> Visit {
    let page: Arc<str> = Arc::from(hit.page.as_str());
    Visit {
        start: hit.at,
        last_seen: hit.at.unix,
        attrs: Arc::new(VisitAttrs {
            entry_page: page.clone(),
            source: hit.source.clone(),
            referrer: hit.referrer.clone(),
            campaign: hit.campaign.clone(),
            country: hit.country,
            browser: hit.browser,
            os: hit.os,
            device: hit.device,
        }),
        last_page: page,
        pageviews: u32::from(hit.kind == HitKind::Pageview),
        bounced: !ends_bounce_alone(hit),
    }
}

/// An interactive custom event engages the visitor; a pageview alone does not.
fn ends_bounce_alone(hit: &Hit) -> bool {
    matches!(hit.kind, HitKind::Event { .. }) && hit.interaction == Interaction::Interactive
}

fn continue_visit(visit: &mut Visit, hit: &Hit) -> VisitChange {
    // Out-of-order hits add no time.
    let duration_delta = (hit.at.unix - visit.last_seen).max(0);
    visit.last_seen = visit.last_seen.max(hit.at.unix);
    let mut exit = None;
    if hit.kind == HitKind::Pageview {
        visit.pageviews += 1;
        if *visit.last_page != *hit.page {
            let to: Arc<str> = Arc::from(hit.page.as_str());
            exit = Some(ExitMove {
                from: Some(std::mem::replace(&mut visit.last_page, to.clone())),
                to,
            });
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
        exit,
    }
}
