//! The simulated audience of a municipal website, one day at a time.
//!
//! Owns what a day's beacons look like: visits of one to five pageviews
//! over Zipf-distributed pages, arriving from search, social, news and
//! government sites, newsletters and campaigns; a daily and weekly rhythm;
//! visitors with an address and a browser that stay the same through the
//! day; downloads, outbound links and 404s. It does not send anything
//! (`main.rs` does) and knows nothing of the server's internals: it only
//! writes what a browser running `js-snippet` would send.

use std::net::Ipv4Addr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::population::{self, Agent, COUNTRIES};
use crate::weighted::Weighted;

pub const SITE: &str = "gemeente.example";
pub const ORIGIN: &str = "https://www.gemeente.example";

/// One request the browser would send: when, from whom, and the body.
pub struct Beacon {
    /// Unix seconds.
    pub at: i64,
    /// Which visit it belongs to: beacons of one visit are sent in order.
    pub visit: u64,
    pub ip: Ipv4Addr,
    pub agent: &'static str,
    pub body: String,
    pub is_pageview: bool,
}

/// A visitor as the server sees one: an address and a browser.
#[derive(Clone, Copy)]
struct Person {
    ip: Ipv4Addr,
    agent: &'static Agent,
    width: u32,
}

/// Where a visit comes from: the referrer the browser sends, and the
/// query string its landing URL carries.
struct Source {
    referrer: Option<String>,
    query: Option<String>,
}

pub struct Traffic {
    rng: StdRng,
    pages: Vec<String>,
    page_weights: Weighted,
    documents: Vec<String>,
    document_weights: Weighted,
    outbound: Vec<&'static str>,
    outbound_weights: Weighted,
    dead_links: Vec<String>,
    hours_weekday: Weighted,
    hours_weekend: Weighted,
    agent_weights: Weighted,
    country_weights: Weighted,
    sources: Weighted,
    next_visit: u64,
}

/// Relative traffic per local hour, 00–23.
const WEEKDAY_HOURS: [f64; 24] = [
    0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 1.0, 2.6, 4.8, 6.6, 7.2, 7.0, 6.2, 6.6, 6.5, 6.0, 5.4, 4.4,
    4.2, 4.8, 5.0, 4.4, 3.0, 1.5,
];
const WEEKEND_HOURS: [f64; 24] = [
    0.9, 0.6, 0.35, 0.2, 0.15, 0.2, 0.4, 0.9, 2.0, 3.6, 4.8, 5.4, 5.6, 5.4, 5.2, 5.0, 4.8, 4.6,
    4.4, 5.0, 5.2, 4.8, 3.4, 1.9,
];

/// Pageviews per visit, 1 to 5: a mean of about 2.2.
const VISIT_LENGTHS: [f64; 5] = [0.42, 0.24, 0.16, 0.10, 0.08];

/// Share of visits that come from a visitor already seen today (a second
/// visit later in the day): they are the same visitor hash.
const RETURNING: f64 = 0.12;
const DOWNLOAD_PER_PAGEVIEW: f64 = 0.03;
const OUTBOUND_PER_PAGEVIEW: f64 = 0.04;
const NOT_FOUND_PER_PAGEVIEW: f64 = 0.006;

impl Traffic {
    pub fn new(seed: u64) -> Traffic {
        let mut rng = StdRng::seed_from_u64(seed);
        let pages = population::pages(&mut rng);
        let documents = population::documents();
        let outbound = population::OUTBOUND.to_vec();
        Traffic {
            page_weights: Weighted::zipf(pages.len(), 1.1),
            document_weights: Weighted::zipf(documents.len(), 1.0),
            outbound_weights: Weighted::zipf(outbound.len(), 1.0),
            dead_links: (1..=400).map(|n| format!("/oud/pagina-{n}")).collect(),
            hours_weekday: Weighted::new(WEEKDAY_HOURS),
            hours_weekend: Weighted::new(WEEKEND_HOURS),
            agent_weights: Weighted::new(population::AGENTS.iter().map(|agent| agent.weight)),
            country_weights: Weighted::new(COUNTRIES.iter().map(|country| country.weight)),
            sources: Weighted::new(population::SOURCES.iter().map(|source| source.weight)),
            pages,
            documents,
            outbound,
            rng,
            next_visit: 0,
        }
    }

    /// The distinct pages (what a breakdown by page can show at most).
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The most visited page after the home page: a filter worth testing.
    pub fn popular_page(&self) -> &str {
        &self.pages[1]
    }

    /// A day's beacons, in no particular order: `pageviews` pageviews in
    /// visits that start between `midnight` and `midnight + day_seconds`
    /// (a visit may run past the next midnight, as real ones do).
    pub fn day(
        &mut self,
        midnight: i64,
        day_seconds: i64,
        weekend: bool,
        month: &str,
        pageviews: u64,
    ) -> Vec<Beacon> {
        let mut beacons = Vec::with_capacity(pageviews as usize * 11 / 10);
        let mut today: Vec<Person> = Vec::new();
        let mut sent = 0;
        while sent < pageviews {
            let person = match today.is_empty() || !self.rng.random_bool(RETURNING) {
                true => {
                    let person = self.person();
                    today.push(person);
                    person
                }
                false => today[self.rng.random_range(0..today.len())],
            };
            let hours = if weekend {
                &self.hours_weekend
            } else {
                &self.hours_weekday
            };
            let hour = hours.pick(&mut self.rng) as i64;
            let start = (hour * 3600 + self.rng.random_range(0..3600)) * day_seconds / 86_400;
            let length =
                (Weighted::new(VISIT_LENGTHS).pick(&mut self.rng) as u64 + 1).min(pageviews - sent);
            self.visit(&mut beacons, person, midnight + start, length, month);
            sent += length;
        }
        beacons
    }

    fn person(&mut self) -> Person {
        let country = &COUNTRIES[self.country_weights.pick(&mut self.rng)];
        let (a, b) = country.prefixes[self.rng.random_range(0..country.prefixes.len())];
        let ip = Ipv4Addr::new(
            a,
            b,
            self.rng.random_range(0..=255),
            self.rng.random_range(1..=254),
        );
        let agent = &population::AGENTS[self.agent_weights.pick(&mut self.rng)];
        let width = self.rng.random_range(agent.widths.0..=agent.widths.1);
        Person { ip, agent, width }
    }

    fn source(&mut self, month: &str) -> Source {
        let kind = &population::SOURCES[self.sources.pick(&mut self.rng)];
        let referrer = match kind.referrer {
            population::Referrer::None => None,
            population::Referrer::Url(url) => Some(url.to_owned()),
            population::Referrer::LongTail => Some(format!(
                "https://www.{}.nl/",
                population::LONG_TAIL[self.rng.random_range(0..population::LONG_TAIL.len())]
            )),
        };
        let query = match kind.query {
            population::Query::None => None,
            population::Query::Fixed(query) => Some(query.to_owned()),
            population::Query::Newsletter => Some(format!(
                "utm_source=nieuwsbrief&utm_medium=email&utm_campaign=nieuwsbrief-{month}"
            )),
            population::Query::Campaign => Some(format!(
                "utm_source=facebook&utm_medium=social&utm_campaign={}",
                population::CAMPAIGNS[self.rng.random_range(0..population::CAMPAIGNS.len())]
            )),
            population::Query::Fbclid => {
                Some(format!("fbclid=IwAR{:016x}", self.rng.random::<u64>()))
            }
        };
        Source { referrer, query }
    }

    fn visit(
        &mut self,
        beacons: &mut Vec<Beacon>,
        person: Person,
        start: i64,
        length: u64,
        month: &str,
    ) {
        let visit = self.next_visit;
        self.next_visit += 1;
        let source = self.source(month);
        let mut at = start;
        let mut previous: Option<String> = None;
        for view in 0..length {
            let not_found = self.rng.random_bool(NOT_FOUND_PER_PAGEVIEW);
            let path = match not_found {
                true => self.dead_links[self.rng.random_range(0..self.dead_links.len())].clone(),
                false => self.pages[self.page_weights.pick(&mut self.rng)].clone(),
            };
            let url = match (&source.query, view) {
                (Some(query), 0) => format!("{ORIGIN}{path}?{query}"),
                _ => format!("{ORIGIN}{path}"),
            };
            // The first page carries the external referrer; later ones the
            // previous page, as a browser sends it.
            let referrer = match &previous {
                None => source.referrer.clone(),
                Some(page) => Some(page.clone()),
            };
            let mut push = |at: i64, name: &str, props: Option<String>| {
                beacons.push(Beacon {
                    at,
                    visit,
                    ip: person.ip,
                    agent: person.agent.header,
                    body: body(name, &url, referrer.as_deref(), person.width, props),
                    is_pageview: name == "pageview",
                });
            };
            push(at, "pageview", None);
            if not_found {
                push(at, "404", Some(format!(r#"{{"path":"{path}"}}"#)));
            }
            if self.rng.random_bool(DOWNLOAD_PER_PAGEVIEW) {
                at += self.rng.random_range(5..60);
                let document = &self.documents[self.document_weights.pick(&mut self.rng)];
                push(
                    at,
                    "File Download",
                    Some(format!(r#"{{"url":"{ORIGIN}{document}"}}"#)),
                );
            }
            if self.rng.random_bool(OUTBOUND_PER_PAGEVIEW) {
                at += self.rng.random_range(5..90);
                let host = self.outbound[self.outbound_weights.pick(&mut self.rng)];
                push(
                    at,
                    "Outbound Link: Click",
                    Some(format!(r#"{{"url":"{host}"}}"#)),
                );
            }
            previous = Some(url);
            // Reading time: log-uniform between 8 seconds and 5 minutes.
            at += (8.0 * (300.0f64 / 8.0).powf(self.rng.random::<f64>())) as i64;
        }
    }
}

/// The JSON the tracker posts (`js-snippet/src/tracker.js`, `send`).
fn body(
    name: &str,
    url: &str,
    referrer: Option<&str>,
    width: u32,
    props: Option<String>,
) -> String {
    let referrer = match referrer {
        Some(referrer) => format!(r#""{referrer}""#),
        None => "null".to_owned(),
    };
    let props = props
        .map(|props| format!(r#","p":{props}"#))
        .unwrap_or_default();
    format!(r#"{{"n":"{name}","u":"{url}","d":"{SITE}","r":{referrer},"w":{width}{props}}}"#)
}
