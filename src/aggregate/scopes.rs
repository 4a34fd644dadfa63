//! Which counters one hit moves.
//!
//! Every hit adds to the site's totals and to each breakdown row, once
//! unfiltered and once under each pre-aggregated filter. Event metrics
//! (pageviews, events, visitors) go to the hit's own hour and day; visit
//! metrics (visits, bounces, duration) go to the visit's first hour and
//! day, so a visit is counted once however long it runs; its exit page is
//! counted there too, when the visit ends.
//! Under a page filter, visit metrics belong to visits that entered on
//! that page (as bounce rate per page does in Plausible).
//! A visitor is credited to a scope once per local day, tested against the
//! visitor's credits; dimensions fixed per visitor (country, browser, OS,
//! device) need no test of their own, and a pair of values is one test
//! whichever of the two is the filter, which keeps the credits small.
//!
//! Event and visit metrics mostly land on the same rows, so the scopes of
//! a hit are collected once, each tagged with the parts it carries, and
//! every row is updated once with both parts' deltas. A filter is never
//! broken down by its own dimension: that row would repeat its totals.
//!
//! A custom event is also a goal: its name is a filter (`event:goal`) that
//! only its own hits move, attributed at the moment it is sent. Its rows
//! count the people who sent it and its events, broken down by the page it
//! was sent on, the visit it was sent in (entry page, source, referrer,
//! campaign) and the visitor's fixed dimensions; no visit metrics, since
//! a visit is not told apart from the visitor's other visits of the day.
//! Pageviews move no goal rows, so the cost falls on custom events only.
//!
//! An engagement report moves none of these: what it measured goes to one
//! row of its page's engagement sums for its day (`apply_engagement`).

use std::hash::BuildHasher;

use crate::aggregate::deltas::{Deltas, Value};
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::clean::Scrubbed;
use crate::sessions::{CreditCheck, EndedVisit, Observation, PageEngagement, VisitAttrs};
use crate::sites::SiteIdx;
use crate::store::{Counts, Dim, Granularity};

/// Which part of a hit a scope carries.
const EVENT: u8 = 1;
const VISIT: u8 = 2;
/// The event part, but only under a goal filter: the entry page of the
/// visit a goal was sent in is a goal's breakdown, while the entry pages'
/// own rows count visits as they start.
const GOAL: u8 = 4;

#[derive(Clone, Copy)]
struct Tagged {
    value: Value,
    parts: u8,
}

/// Buffers reused from hit to hit, so applying a hit allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    filters: Vec<Tagged>,
    breakdowns: Vec<Tagged>,
    day_credits: Vec<Option<bool>>,
    hour_credits: Vec<Option<bool>>,
    prop: String,
}

fn tag(list: &mut Vec<Tagged>, value: Value, part: u8) {
    match list.iter_mut().find(|tagged| tagged.value == value) {
        Some(tagged) => tagged.parts |= part,
        None => list.push(Tagged { value, parts: part }),
    }
}

/// The visit-level attributes a hit is counted under.
struct Attribution<'a> {
    entry_page: &'a str,
    source: &'a str,
    referrer: Option<&'a str>,
    utm_source: Option<&'a str>,
    utm_medium: Option<&'a str>,
    utm_campaign: Option<&'a str>,
}

impl<'a> Attribution<'a> {
    fn of_visit(attrs: &'a VisitAttrs) -> Self {
        Attribution {
            entry_page: &attrs.entry_page,
            source: &attrs.source,
            referrer: attrs.referrer.as_deref(),
            utm_source: attrs.campaign.source.as_deref(),
            utm_medium: attrs.campaign.medium.as_deref(),
            utm_campaign: attrs.campaign.campaign.as_deref(),
        }
    }

    fn of_hit(hit: &'a Hit) -> Self {
        Attribution {
            entry_page: &hit.page,
            source: &hit.source,
            referrer: hit.referrer.as_deref(),
            utm_source: hit.campaign.source.as_deref(),
            utm_medium: hit.campaign.medium.as_deref(),
            utm_campaign: hit.campaign.campaign.as_deref(),
        }
    }
}

/// Answers "first time today?" once per reduced scope within one hit, so
/// scopes that reduce to the same test get the same answer. Fixed
/// dimensions reduce to "no value", which sits at index 0 of both lists.
struct Crediting<'a> {
    credits: CreditCheck<'a>,
    filters: &'a [Tagged],
    breakdowns: &'a [Tagged],
    /// Per reduced (filter, breakdown) pair: unknown, or the answer.
    day: &'a mut Vec<Option<bool>>,
    /// Per reduced filter, for the hour rows.
    hour: &'a mut Vec<Option<bool>>,
}

fn position(list: &[Tagged], value: Value) -> Option<usize> {
    list.iter().position(|tagged| tagged.value == value)
}

/// A value's place in the fixed order of a pair: by dimension, then by
/// its stable hash.
fn order_key(value: Value) -> (Dim, u64) {
    (value.dim, value.hash)
}

fn reduced(list: &[Tagged], index: usize) -> usize {
    if list[index].value.dim.is_fixed_per_visitor() {
        0
    } else {
        index
    }
}

impl Crediting<'_> {
    /// A pair of values is one test whichever of them is the filter: the
    /// visitors under page P broken down by source S are the visitors
    /// under source S broken down by page P. Each value a hit carries as a
    /// filter it also carries as a breakdown, in the same parts, so both
    /// orders are always asked by the same hits and one fingerprint (of the
    /// pair in a fixed order) answers both.
    fn day(&mut self, filter: usize, breakdown: usize) -> i64 {
        let (filter, breakdown) = (
            reduced(self.filters, filter),
            reduced(self.breakdowns, breakdown),
        );
        let (one, other) = (self.filters[filter].value, self.breakdowns[breakdown].value);
        let width = self.breakdowns.len();
        let slot = filter * width + breakdown;
        let mirrored = position(self.filters, other)
            .zip(position(self.breakdowns, one))
            .map(|(filter, breakdown)| filter * width + breakdown);
        let slot = mirrored.map_or(slot, |mirrored| mirrored.min(slot));
        let scope = if order_key(one) <= order_key(other) {
            (None, one, other)
        } else {
            (None, other, one)
        };
        i64::from(Self::answer(&mut self.credits, &mut self.day[slot], scope))
    }

    fn hour(&mut self, hour: i32, filter: usize) -> i64 {
        let filter = reduced(self.filters, filter);
        let scope = (Some(hour), self.filters[filter].value, Value::NONE);
        i64::from(Self::answer(
            &mut self.credits,
            &mut self.hour[filter],
            scope,
        ))
    }

    fn answer(
        credits: &mut CreditCheck,
        slot: &mut Option<bool>,
        (hour, filter, breakdown): (Option<i32>, Value, Value),
    ) -> bool {
        if matches!(credits, CreditCheck::Anonymous) {
            return false;
        }
        *slot.get_or_insert_with(|| {
            let fingerprint = foldhash::fast::FixedState::with_seed(0x7363_6f70_6573).hash_one((
                hour,
                filter.dim,
                filter.hash,
                breakdown.dim,
                breakdown.hash,
            )) as u32;
            credits.first_time(fingerprint)
        })
    }
}

/// Where each part's deltas go: the hit's day and hour, the visit's.
struct Buckets {
    site: SiteIdx,
    /// A dry run only asks for credits.
    dry_run: bool,
    event: (i32, i32),
    visit: (i32, i32),
}

impl Buckets {
    /// Adds both parts to one row, merged when they share the bucket.
    fn add(
        &self,
        deltas: &mut Deltas,
        granularity: Granularity,
        filter: Value,
        breakdown: Value,
        event: Counts,
        visit: Counts,
    ) {
        let pick = |(day, hour): (i32, i32)| match granularity {
            Granularity::Day => day,
            Granularity::Hour => hour,
            // Written by the roll-up, not per hit; named for completeness.
            Granularity::Month => crate::calendar::Day::new(day).first_of_month().number(),
        };
        if self.dry_run {
            return;
        }
        let (event_bucket, visit_bucket) = (pick(self.event), pick(self.visit));
        if event_bucket == visit_bucket {
            let mut both = event;
            both += visit;
            if !both.is_zero() {
                deltas.add(
                    self.site,
                    granularity,
                    event_bucket,
                    filter,
                    breakdown,
                    both,
                );
            }
            return;
        }
        for (bucket, counts) in [(event_bucket, event), (visit_bucket, visit)] {
            if !counts.is_zero() {
                deltas.add(self.site, granularity, bucket, filter, breakdown, counts);
            }
        }
    }
}

pub(super) fn apply(
    deltas: &mut Deltas,
    scratch: &mut Scratch,
    hit: &Hit,
    observation: Observation<'_>,
) {
    // An engagement report moves no counter of its own (`apply_engagement`).
    if matches!(hit.kind, HitKind::Engagement(_)) {
        return;
    }
    let change = observation.visit.as_ref();
    let attribution = change.map_or_else(
        || Attribution::of_hit(hit),
        |c| Attribution::of_visit(&c.attrs),
    );
    let visit = change.map_or_else(Counts::default, |change| Counts {
        visits: i64::from(change.started),
        bounces: change.bounce_delta,
        duration: change.duration_delta,
        ..Counts::default()
    });
    let event = Counts {
        pageviews: i64::from(hit.kind == HitKind::Pageview),
        events: 1,
        ..Counts::default()
    };
    collect(deltas, scratch, hit, &attribution, !visit.is_zero());
    let buckets = Buckets {
        site: hit.site,
        dry_run: observation.credits.is_dry_run(),
        event: (hit.at.day, hit.at.hour),
        visit: change.map_or((hit.at.day, hit.at.hour), |c| (c.start.day, c.start.hour)),
    };
    let started = change.is_some_and(|change| change.started);
    let Scratch {
        filters,
        breakdowns,
        day_credits,
        hour_credits,
        ..
    } = scratch;
    day_credits.clear();
    day_credits.resize(filters.len() * breakdowns.len(), None);
    hour_credits.clear();
    hour_credits.resize(filters.len(), None);
    let mut crediting = Crediting {
        credits: observation.credits,
        filters,
        breakdowns,
        day: day_credits,
        hour: hour_credits,
    };
    answer(deltas, &buckets, &mut crediting, (event, visit), started);
}

/// Tags every filter and breakdown value this hit touches.
fn collect(
    deltas: &mut Deltas,
    scratch: &mut Scratch,
    hit: &Hit,
    attribution: &Attribution,
    visit_counts: bool,
) {
    scratch.filters.clear();
    scratch.breakdowns.clear();
    let fixed = [
        deltas.value(Dim::Country, hit.country.as_str()),
        deltas.value(Dim::Browser, hit.browser),
        deltas.value(Dim::Os, hit.os),
        deltas.value(Dim::Device, hit.device.as_str()),
    ];
    let source = deltas.value(Dim::Source, attribution.source);
    let campaign = attribution
        .utm_campaign
        .map(|text| deltas.value(Dim::UtmCampaign, text));
    let visit_filters = if visit_counts { VISIT } else { 0 };
    let visit_breakdowns = if visit_counts { VISIT } else { 0 };

    // Filters: none, page, source, campaign, country, device. The page
    // filter is the hit's page for events and the entry page for visits.
    let shared = [
        Some(Value::NONE),
        Some(source),
        campaign,
        Some(fixed[0]),
        Some(fixed[3]),
    ];
    for value in shared.into_iter().flatten() {
        tag(&mut scratch.filters, value, EVENT | visit_filters);
    }
    let page = deltas.value(Dim::Page, &hit.page);
    tag(&mut scratch.filters, page, EVENT);
    let entry_page = deltas.value(Dim::Page, attribution.entry_page);
    if visit_filters != 0 {
        tag(&mut scratch.filters, entry_page, VISIT);
    }

    // Breakdowns shared by both parts, then each part's own.
    tag(
        &mut scratch.breakdowns,
        Value::NONE,
        EVENT | visit_breakdowns,
    );
    tag(&mut scratch.breakdowns, source, EVENT | visit_breakdowns);
    let optional = [
        (Dim::Referrer, attribution.referrer),
        (Dim::UtmSource, attribution.utm_source),
        (Dim::UtmMedium, attribution.utm_medium),
        (Dim::UtmCampaign, attribution.utm_campaign),
    ];
    for (dim, text) in optional {
        if let Some(text) = text {
            let value = deltas.value(dim, text);
            tag(&mut scratch.breakdowns, value, EVENT | visit_breakdowns);
        }
    }
    for value in fixed {
        tag(&mut scratch.breakdowns, value, EVENT | visit_breakdowns);
    }
    tag(&mut scratch.breakdowns, page, EVENT);
    if let HitKind::Event { name, props } = &hit.kind {
        let name = deltas.value(Dim::EventName, name);
        tag(&mut scratch.filters, name, EVENT | GOAL);
        tag(&mut scratch.breakdowns, name, EVENT);
        let entry = deltas.value(Dim::EntryPage, attribution.entry_page);
        tag(&mut scratch.breakdowns, entry, GOAL);
        tag_props(deltas, scratch, props);
    }
    // A pageview's properties break its event part down like an event's.
    tag_props(deltas, scratch, &hit.page_props);
    if visit_breakdowns != 0 {
        tag(&mut scratch.breakdowns, entry_page, VISIT);
        let entry = deltas.value(Dim::EntryPage, attribution.entry_page);
        tag(&mut scratch.breakdowns, entry, VISIT);
    }
}

/// Each property as a breakdown value `key\0value` of the event part.
fn tag_props(deltas: &mut Deltas, scratch: &mut Scratch, props: &[(Scrubbed, Scrubbed)]) {
    for (key, value) in props {
        scratch.prop.clear();
        scratch.prop.push_str(key);
        scratch.prop.push('\0');
        scratch.prop.push_str(value);
        let prop = deltas.value(Dim::EventProp, &scratch.prop);
        tag(&mut scratch.breakdowns, prop, EVENT);
    }
}

fn answer(
    deltas: &mut Deltas,
    buckets: &Buckets,
    crediting: &mut Crediting,
    (event, visit): (Counts, Counts),
    started: bool,
) {
    let part = |counts: Counts, on: bool| if on { counts } else { Counts::default() };
    let (filters, breakdowns) = (crediting.filters, crediting.breakdowns);
    for (f, filter) in filters.iter().enumerate() {
        for (b, breakdown) in breakdowns.iter().enumerate() {
            // A filter broken down by its own dimension is the filter's
            // totals; the query answers it from those.
            if filter.value.dim == breakdown.value.dim && filter.value.dim != Dim::None {
                continue;
            }
            let both = filter.parts & breakdown.parts;
            let event_on = both & (EVENT | GOAL) != 0;
            let mut event_part = part(event, event_on);
            if event_on {
                event_part.visitors = crediting.day(f, b);
            }
            let mut visit_part = part(visit, both & VISIT != 0);
            if both & VISIT != 0 && started && breakdown.value.dim == Dim::EntryPage {
                visit_part.visitors = crediting.day(f, b);
            }
            buckets.add(
                deltas,
                Granularity::Day,
                filter.value,
                breakdown.value,
                event_part,
                visit_part,
            );
        }
        let mut event_part = part(event, filter.parts & EVENT != 0);
        if filter.parts & EVENT != 0 {
            event_part.visitors = crediting.hour(buckets.event.1, f);
        }
        let visit_part = part(visit, filter.parts & VISIT != 0);
        buckets.add(
            deltas,
            Granularity::Hour,
            filter.value,
            Value::NONE,
            event_part,
            visit_part,
        );
    }
}

/// Adds what an engagement report moved to its page's engagement row of
/// the report's day (see `store::Dim::Engagement` for what each counter
/// holds there).
pub(super) fn apply_engagement(deltas: &mut Deltas, hit: &Hit, added: PageEngagement) {
    let page = deltas.value(Dim::Engagement, &hit.page);
    let counts = Counts {
        visits: added.engaged_views,
        duration: added.engaged_ms,
        pageviews: added.scrolled_views,
        bounces: added.scroll_added,
        ..Counts::default()
    };
    if !counts.is_zero() {
        deltas.add(
            hit.site,
            Granularity::Day,
            hit.at.day,
            Value::NONE,
            page,
            counts,
        );
    }
}

/// An ended visit's exit page: one visit more on it, under each of the
/// visit's filters, in the visit's first day.
pub(super) fn apply_ended(deltas: &mut Deltas, ended: &EndedVisit) {
    let attrs = &ended.attrs;
    let exit = deltas.value(Dim::ExitPage, &ended.exit_page);
    let filters = [
        Some(Value::NONE),
        Some(deltas.value(Dim::Page, &attrs.entry_page)),
        Some(deltas.value(Dim::Source, &attrs.source)),
        attrs
            .campaign
            .campaign
            .as_deref()
            .map(|text| deltas.value(Dim::UtmCampaign, text)),
        Some(deltas.value(Dim::Country, attrs.country.as_str())),
        Some(deltas.value(Dim::Device, attrs.device.as_str())),
    ];
    let one = Counts {
        visits: 1,
        ..Counts::default()
    };
    for filter in filters.into_iter().flatten() {
        deltas.add(
            ended.site,
            Granularity::Day,
            ended.start.day,
            filter,
            exit,
            one,
        );
    }
}

#[cfg(test)]
#[path = "scopes_tests.rs"]
mod tests;
