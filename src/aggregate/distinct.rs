//! The daily cap on distinct values: per site, property and local day, at
//! most `limits.distinct_values_per_day` values are counted under their
//! own name; past it, a value not seen that day counts under "(other)".
//!
//! It rewrites a hit's values before the hot state and the scopes see
//! them, so however the store lays out its rows, a site gains at most the
//! cap of new values per property and day, and every hit is still counted
//! (totals stay exact). Entry and exit pages are pages a hit brought, so
//! the page cap bounds them as well.
//!
//! The values of the day are held as 64-bit hashes keyed with a seed
//! drawn at start (no one can aim collisions at a known hash), one set per
//! site and property, each no larger than its cap; a site's sets start
//! over when its local day changes. No text is copied.
//!
//! Each instance keeps its own sets: with several instances on Redis, a
//! site gains at most (instances × cap) values a day. Sharing the sets
//! would cost a Redis round trip per hit for a bound only a constant
//! factor tighter.
//!
//! At start, each site's day begins with the values the store already
//! holds for it (`seed`): a restart does not open the cap again, and on
//! Redis an instance that starts late sees the others' values.
//!
//! A client that sends the literal "(other)" is counted under
//! `OTHER_AS_SENT`, so "(other)" in the counts only ever means the cap.

use std::collections::HashSet;
use std::hash::BuildHasher;

use crate::config::DistinctValues;
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::clean::{FixedText, Scrubbed};
use crate::privacy::link;
use crate::query::fold::OTHER;
use crate::sites::SiteIdx;

/// What a value a client sent as "(other)" is counted as.
pub(crate) const OTHER_AS_SENT: &str = "(other, as sent)";

/// The properties a client chooses the values of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    Page,
    Referrer,
    Source,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    EventName,
    PropKey,
    PropValue,
    LinkTarget,
    NotFoundPath,
}

impl Property {
    pub const ALL: [Property; 11] = [
        Property::Page,
        Property::Referrer,
        Property::Source,
        Property::UtmSource,
        Property::UtmMedium,
        Property::UtmCampaign,
        Property::EventName,
        Property::PropKey,
        Property::PropValue,
        Property::LinkTarget,
        Property::NotFoundPath,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Property::Page => "page",
            Property::Referrer => "referrer",
            Property::Source => "source",
            Property::UtmSource => "utm_source",
            Property::UtmMedium => "utm_medium",
            Property::UtmCampaign => "utm_campaign",
            Property::EventName => "event_name",
            Property::PropKey => "prop_key",
            Property::PropValue => "prop_value",
            Property::LinkTarget => "link_target",
            Property::NotFoundPath => "not_found_path",
        }
    }

    fn cap(self, limits: &DistinctValues) -> usize {
        match self {
            Property::Page => limits.pages,
            Property::Referrer => limits.referrers,
            Property::Source => limits.sources,
            Property::UtmSource | Property::UtmMedium | Property::UtmCampaign => limits.utm,
            Property::EventName => limits.event_names,
            Property::PropKey => limits.prop_keys,
            Property::PropValue => limits.prop_values,
            Property::LinkTarget => limits.link_targets,
            Property::NotFoundPath => limits.not_found_paths,
        }
    }

    /// Which property the value of `key` on event `event` is.
    fn of_prop(event: &str, key: &str) -> Property {
        if link::reports_target(event, key) {
            Property::LinkTarget
        } else if event == "404" && key == "path" {
            Property::NotFoundPath
        } else {
            Property::PropValue
        }
    }
}

/// A stored value, as `seed` takes it.
pub enum Seeded<'a> {
    Text(&'a str),
    /// A custom property's key and value.
    Pair(&'a str, &'a str),
}

type Seen = HashSet<u64, foldhash::fast::FixedState>;

/// One site's values of its current local day.
struct SiteDay {
    day: i32,
    seen: [Seen; Property::ALL.len()],
    /// Properties whose cap was reached today (logged once).
    full: u16,
}

impl SiteDay {
    fn new(day: i32) -> SiteDay {
        SiteDay {
            day,
            seen: Default::default(),
            full: 0,
        }
    }
}

pub struct DistinctCap {
    limits: DistinctValues,
    hasher: foldhash::fast::RandomState,
    /// Per site, by index.
    sites: Vec<Option<SiteDay>>,
    /// Values counted under "(other)", per property, since last taken.
    capped: [u64; Property::ALL.len()],
    /// (site index, property) whose cap was reached, since last taken.
    newly_full: Vec<(usize, Property)>,
}

/// Where one hit's values are judged: its site's day.
struct Judge<'a> {
    limits: &'a DistinctValues,
    hasher: &'a foldhash::fast::RandomState,
    site: &'a mut SiteDay,
    capped: &'a mut [u64; Property::ALL.len()],
    newly_full: &'a mut Vec<(usize, Property)>,
    site_index: usize,
}

impl Judge<'_> {
    /// Whether the value hashed to `hash` may be counted under its own
    /// name: seen today, or room is left.
    fn admits(&mut self, property: Property, hash: u64) -> bool {
        let cap = property.cap(self.limits);
        let seen = &mut self.site.seen[property as usize];
        if seen.contains(&hash) {
            return true;
        }
        if seen.len() < cap {
            seen.insert(hash);
            return true;
        }
        self.capped[property as usize] += 1;
        let bit = 1 << property as u16;
        if self.site.full & bit == 0 {
            self.site.full |= bit;
            self.newly_full.push((self.site_index, property));
        }
        false
    }

    /// Leaves `text` as it is, or replaces it with "(other)".
    fn value(&mut self, property: Property, text: &mut impl FixedText) {
        escape(text);
        if !self.admits(property, self.hasher.hash_one(&**text)) {
            text.set_fixed(OTHER);
        }
    }

    fn optional(&mut self, property: Property, text: &mut Option<impl FixedText>) {
        if let Some(text) = text {
            self.value(property, text);
        }
    }

    fn event(&mut self, name: &mut Scrubbed, props: &mut [(Scrubbed, Scrubbed)]) {
        self.props(name, props);
        self.value(Property::EventName, name);
    }

    /// An event's properties, or a pageview's (`event` is "pageview").
    fn props(&mut self, event: &str, props: &mut [(Scrubbed, Scrubbed)]) {
        // Which props are link targets follows from the name as sent.
        for (key, value) in props.iter_mut() {
            let property = Property::of_prop(event, key);
            escape(value);
            // The built-in events' keys are fixed: junk keys cannot
            // crowd them out.
            if property == Property::PropValue {
                self.value(Property::PropKey, key);
            }
            let admitted = key.as_str() != OTHER && {
                let hash = match property {
                    Property::PropValue => self.hasher.hash_one((key.as_str(), value.as_str())),
                    _ => self.hasher.hash_one(value.as_str()),
                };
                self.admits(property, hash)
            };
            if !admitted {
                value.set_fixed(OTHER);
            }
        }
    }
}

/// A client's own "(other)" is not the cap's.
fn escape(text: &mut impl FixedText) {
    if &**text == OTHER {
        text.set_fixed(OTHER_AS_SENT);
    }
}

/// The values of `site`'s local `day`, started over when it is new.
fn site_day(sites: &mut Vec<Option<SiteDay>>, site: SiteIdx, day: i32) -> &mut SiteDay {
    let index = site.index();
    if sites.len() <= index {
        sites.resize_with(index + 1, || None);
    }
    let site = sites[index].get_or_insert_with(|| SiteDay::new(day));
    // A hit of the day before, still queued at midnight, is judged
    // against the new day's values.
    if day > site.day {
        *site = SiteDay::new(day);
    }
    site
}

impl DistinctCap {
    pub fn new(limits: DistinctValues) -> DistinctCap {
        DistinctCap {
            limits,
            hasher: foldhash::fast::RandomState::default(),
            sites: Vec::new(),
            capped: [0; Property::ALL.len()],
            newly_full: Vec::new(),
        }
    }

    /// Counts a value the store already holds for `site` and `day` as
    /// seen, so a restart (or, on Redis, another instance's values) does
    /// not let another cap of new values in. Up to the cap, like any value.
    pub fn seed(&mut self, site: SiteIdx, day: i32, property: Property, value: Seeded) {
        let hash = match value {
            Seeded::Text(text) if text == OTHER => return,
            Seeded::Text(text) => self.hasher.hash_one(text),
            Seeded::Pair(key, value) => self.hasher.hash_one((key, value)),
        };
        let cap = property.cap(&self.limits);
        let seen = &mut site_day(&mut self.sites, site, day).seen[property as usize];
        if seen.len() < cap {
            seen.insert(hash);
        }
    }

    /// Replaces each value of `hit` past its cap with "(other)".
    pub fn apply(&mut self, hit: &mut Hit) {
        let index = hit.site.index();
        let site = site_day(&mut self.sites, hit.site, hit.at.day);
        let mut judge = Judge {
            limits: &self.limits,
            hasher: &self.hasher,
            site,
            capped: &mut self.capped,
            newly_full: &mut self.newly_full,
            site_index: index,
        };
        judge.value(Property::Page, &mut hit.page);
        judge.optional(Property::Referrer, &mut hit.referrer);
        judge.value(Property::Source, &mut hit.source);
        judge.optional(Property::UtmSource, &mut hit.campaign.source);
        judge.optional(Property::UtmMedium, &mut hit.campaign.medium);
        judge.optional(Property::UtmCampaign, &mut hit.campaign.campaign);
        if let HitKind::Event { name, props } = &mut hit.kind {
            judge.event(name, props);
        }
        judge.props("pageview", &mut hit.page_props);
    }

    /// Values counted under "(other)" per property (in `Property::ALL`
    /// order) since the last call.
    pub(crate) fn take_capped(&mut self) -> [u64; Property::ALL.len()] {
        std::mem::take(&mut self.capped)
    }

    /// (site index, property) pairs that reached their cap today, each
    /// once a day, since the last call.
    pub(crate) fn take_newly_full(&mut self) -> Vec<(usize, Property)> {
        std::mem::take(&mut self.newly_full)
    }
}

#[cfg(test)]
#[path = "distinct_tests.rs"]
mod tests;
