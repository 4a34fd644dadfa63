//! Which counters one hit moves.
//!
//! Every hit adds to the site's totals and to each breakdown row, once
//! unfiltered and once under each pre-aggregated filter. Event metrics
//! (pageviews, events, visitors) go to the hit's own hour and day; visit
//! metrics (visits, bounces, duration, exit page) go to the visit's first
//! hour and day, so a visit is counted once however long it runs.
//! Under a page filter, visit metrics belong to visits that entered on
//! that page (as bounce rate per page does in Plausible).
//! A visitor is credited to a scope once per local day, tested against the
//! visitor's credits; dimensions fixed per visitor (country, browser, OS,
//! device) need no test of their own, which keeps the credits small.

use std::hash::BuildHasher;

use crate::aggregate::deltas::{Deltas, Value};
use crate::ingest::hit::{Hit, HitKind};
use crate::sessions::{Credits, Observation, VisitAttrs, VisitChange};
use crate::store::{Counts, Dim, Granularity};

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
/// scopes that reduce to the same test get the same answer.
struct Crediting<'a> {
    credits: Option<&'a mut Credits>,
    answered: Vec<(u32, bool)>,
}

impl Crediting<'_> {
    fn visitors(&mut self, hour: Option<i32>, filter: Value, breakdown: Value) -> i64 {
        let Some(credits) = self.credits.as_deref_mut() else {
            return 0;
        };
        let reduce = |value: Value| {
            if value.dim.is_fixed_per_visitor() {
                Value::NONE
            } else {
                value
            }
        };
        let fingerprint = foldhash::fast::FixedState::with_seed(0x7363_6f70_6573).hash_one((
            hour,
            reduce(filter),
            reduce(breakdown),
        )) as u32;
        if let Some((_, first)) = self.answered.iter().find(|(seen, _)| *seen == fingerprint) {
            return i64::from(*first);
        }
        let first = credits.first_time(fingerprint);
        self.answered.push((fingerprint, first));
        i64::from(first)
    }
}

pub fn apply(deltas: &mut Deltas, hit: &Hit, observation: Observation<'_>) {
    let attribution = match &observation.visit {
        Some(change) => Attribution::of_visit(&change.attrs),
        None => Attribution::of_hit(hit),
    };
    let fixed = fixed_values(deltas, hit);
    let mut crediting = Crediting {
        credits: observation.credits,
        answered: Vec::with_capacity(48),
    };
    let filters = filters(deltas, &hit.page, &attribution, &fixed);
    let breakdowns = event_breakdowns(deltas, hit, &attribution, &fixed);
    let event = Counts {
        pageviews: i64::from(hit.kind == HitKind::Pageview),
        events: 1,
        ..Counts::default()
    };
    for filter in &filters {
        for breakdown in &breakdowns {
            let counts = Counts {
                visitors: crediting.visitors(None, *filter, *breakdown),
                ..event
            };
            deltas.add(
                hit.site,
                Granularity::Day,
                hit.at.day,
                *filter,
                *breakdown,
                counts,
            );
        }
        let counts = Counts {
            visitors: crediting.visitors(Some(hit.at.hour), *filter, Value::NONE),
            ..event
        };
        deltas.add(
            hit.site,
            Granularity::Hour,
            hit.at.hour,
            *filter,
            Value::NONE,
            counts,
        );
    }
    if let Some(change) = &observation.visit {
        apply_visit(deltas, hit, change, &fixed, &mut crediting);
    }
}

/// Country, browser, OS, device: the same for the hit and its visit.
fn fixed_values(deltas: &mut Deltas, hit: &Hit) -> [Value; 4] {
    [
        deltas.value(Dim::Country, hit.country.as_str()),
        deltas.value(Dim::Browser, &hit.browser),
        deltas.value(Dim::Os, &hit.os),
        deltas.value(Dim::Device, hit.device.as_str()),
    ]
}

/// The pre-aggregated filters: none, page, source, campaign, country, device.
fn filters(
    deltas: &mut Deltas,
    page: &str,
    attribution: &Attribution,
    fixed: &[Value; 4],
) -> Vec<Value> {
    let mut filters = Vec::with_capacity(6);
    filters.push(Value::NONE);
    filters.push(deltas.value(Dim::Page, page));
    filters.push(deltas.value(Dim::Source, attribution.source));
    if let Some(campaign) = attribution.utm_campaign {
        filters.push(deltas.value(Dim::UtmCampaign, campaign));
    }
    filters.push(fixed[0]);
    filters.push(fixed[3]);
    filters
}

fn visit_breakdowns(
    deltas: &mut Deltas,
    attribution: &Attribution,
    fixed: &[Value; 4],
) -> Vec<Value> {
    let mut values = Vec::with_capacity(14);
    values.push(Value::NONE);
    values.push(deltas.value(Dim::Source, attribution.source));
    let optional = [
        (Dim::Referrer, attribution.referrer),
        (Dim::UtmSource, attribution.utm_source),
        (Dim::UtmMedium, attribution.utm_medium),
        (Dim::UtmCampaign, attribution.utm_campaign),
    ];
    for (dim, text) in optional {
        if let Some(text) = text {
            values.push(deltas.value(dim, text));
        }
    }
    values.extend_from_slice(fixed);
    values
}

fn event_breakdowns(
    deltas: &mut Deltas,
    hit: &Hit,
    attribution: &Attribution,
    fixed: &[Value; 4],
) -> Vec<Value> {
    let mut values = visit_breakdowns(deltas, attribution, fixed);
    values.push(deltas.value(Dim::Page, &hit.page));
    if let HitKind::Event { name, props } = &hit.kind {
        values.push(deltas.value(Dim::EventName, name));
        for (key, value) in props {
            values.push(deltas.value(Dim::EventProp, &format!("{key}\0{value}")));
        }
    }
    values
}

fn apply_visit(
    deltas: &mut Deltas,
    hit: &Hit,
    change: &VisitChange,
    fixed: &[Value; 4],
    crediting: &mut Crediting,
) {
    let attribution = Attribution::of_visit(&change.attrs);
    let visit = Counts {
        visits: i64::from(change.started),
        bounces: change.bounce_delta,
        duration: change.duration_delta,
        ..Counts::default()
    };
    let filters = filters(deltas, attribution.entry_page, &attribution, fixed);
    let (day, hour) = (change.start.day, change.start.hour);
    if visit != Counts::default() {
        let mut breakdowns = visit_breakdowns(deltas, &attribution, fixed);
        let entry = deltas.value(Dim::EntryPage, attribution.entry_page);
        breakdowns.push(deltas.value(Dim::Page, attribution.entry_page));
        for filter in &filters {
            for breakdown in &breakdowns {
                deltas.add(hit.site, Granularity::Day, day, *filter, *breakdown, visit);
            }
            let entered = Counts {
                visitors: if change.started {
                    crediting.visitors(None, *filter, entry)
                } else {
                    0
                },
                ..visit
            };
            deltas.add(hit.site, Granularity::Day, day, *filter, entry, entered);
            deltas.add(
                hit.site,
                Granularity::Hour,
                hour,
                *filter,
                Value::NONE,
                visit,
            );
        }
    }
    if let Some(exit) = &change.exit {
        let mut moves = vec![(deltas.value(Dim::ExitPage, &exit.to), 1)];
        if let Some(from) = &exit.from {
            moves.push((deltas.value(Dim::ExitPage, from), -1));
        }
        for filter in &filters {
            for (page, visits) in &moves {
                let counts = Counts {
                    visits: *visits,
                    ..Counts::default()
                };
                deltas.add(hit.site, Granularity::Day, day, *filter, *page, counts);
            }
        }
    }
}
