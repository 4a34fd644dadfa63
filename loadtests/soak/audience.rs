//! Who sends the beacons and what they send.
//!
//! Visitors are numbered from 0. A visitor's number fixes its network and
//! its browser for the whole run, so the server sees the same visitor
//! hash every time that number comes back. Kruimel hashes a visitor from
//! the IPv4 /24 or IPv6 /48 its address is truncated to, so every number
//! gets a network of its own: even numbers an IPv4 /24 in 20.0.0.0 to
//! 99.255.255.0 (public unicast only: the first 10 million even numbers),
//! the others an IPv6 /48 under 2a02::/16 made of the number's low 32
//! bits. New visitors arrive in the order of their numbers, so the
//! numbers are dealt round the wider blocks Kruimel's rate limit also
//! budgets (IPv4 /16, IPv6 /32): consecutive numbers fall in different
//! blocks, as a real audience's networks are spread over many providers,
//! and no block carries more than a few visitors' beacons at a time.
//! About 5% of the visitors are bots.
//!
//! The pages, documents, browsers and referrers are the seed example's
//! (`loadtests/seed/population.rs`): about 3,000 paths of a municipal site
//! drawn Zipf-like (s = 1.1), visits of one to five pageviews (mean 2.2),
//! and a download after 3% of the pageviews.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::population::{self, AGENTS, Query, Referrer, SOURCES};
use crate::weighted::Weighted;

pub const SITE: &str = "load.example";
const ORIGIN: &str = "https://load.example";

/// IPv4 /16 blocks used, 20.0/16 to 99.255/16: all public unicast.
const FIRST_V4_BLOCK: u64 = 20 << 8;
const V4_BLOCKS: u64 = (100 << 8) - FIRST_V4_BLOCK;
/// /24 networks in those blocks.
const V4_NETWORKS: u64 = V4_BLOCKS << 8;
const BOT_PERCENT: u64 = 5;
const BOTS: [&str; 4] = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36",
    "curl/8.14.1",
];
/// Pageviews per visit, 1 to 5.
const VISIT_LENGTHS: [f64; 5] = [0.42, 0.24, 0.16, 0.10, 0.08];
const DOWNLOAD_PER_PAGEVIEW: f64 = 0.03;

/// A visitor as the server sees one: an address and a browser.
pub struct Visitor {
    address: String,
    agent: &'static str,
    width: u32,
}

/// One beacon, ready to write: the whole HTTP request.
pub struct Beacon {
    pub request: Vec<u8>,
    pub is_pageview: bool,
}

pub struct Audience {
    pages: Vec<String>,
    page_weights: Weighted,
    documents: Vec<String>,
    agent_weights: Weighted,
    source_weights: Weighted,
    lengths: Weighted,
}

impl Audience {
    pub fn new() -> Audience {
        let pages = population::pages(&mut StdRng::seed_from_u64(424242));
        let documents = population::documents();
        Audience {
            page_weights: Weighted::new(
                (1..=pages.len()).map(|rank| 1.0 / (rank as f64).powf(1.1)),
            ),
            pages,
            documents,
            agent_weights: Weighted::new(AGENTS.iter().map(|agent| agent.weight)),
            source_weights: Weighted::new(SOURCES.iter().map(|source| source.weight)),
            lengths: Weighted::new(VISIT_LENGTHS),
        }
    }

    /// Visitor number `id`; about one in twenty is a bot.
    pub fn visitor(&self, id: u64) -> Visitor {
        let traits = mix(id);
        if traits % 100 < BOT_PERCENT {
            return Visitor {
                address: address(id, traits),
                agent: BOTS[(traits >> 8) as usize % BOTS.len()],
                width: 1920,
            };
        }
        self.person(id)
    }

    /// Visitor number `id` with a browser, never a bot.
    pub fn person(&self, id: u64) -> Visitor {
        let traits = mix(id);
        let mut rng = StdRng::seed_from_u64(traits);
        let agent = &AGENTS[self.agent_weights.pick(&mut rng)];
        Visitor {
            address: address(id, traits),
            agent: agent.header,
            width: rng.random_range(agent.widths.0..=agent.widths.1),
        }
    }

    /// A whole visit's beacons, last one first (callers pop them): its
    /// pageviews, each with the previous page as its referrer, the first
    /// with the visit's external referrer and campaign parameters.
    pub fn visit(&self, visitor: &Visitor, rng: &mut StdRng) -> Vec<Beacon> {
        let (mut referrer, query) = self.source(rng);
        let mut beacons = Vec::new();
        for view in 0..=self.lengths.pick(rng) {
            let path = &self.pages[self.page_weights.pick(rng)];
            let url = match (&query, view) {
                (Some(query), 0) => format!("{ORIGIN}{path}?{query}"),
                _ => format!("{ORIGIN}{path}"),
            };
            beacons.push(visitor.beacon("pageview", &url, referrer.as_deref(), None));
            if rng.random_bool(DOWNLOAD_PER_PAGEVIEW) {
                let document = &self.documents[rng.random_range(0..self.documents.len())];
                let props = format!(r#"{{"url":"{ORIGIN}{document}"}}"#);
                beacons.push(visitor.beacon(
                    "File Download",
                    &url,
                    referrer.as_deref(),
                    Some(&props),
                ));
            }
            referrer = Some(url);
        }
        beacons.reverse();
        beacons
    }

    /// One pageview of a Zipf-drawn page, without a referrer.
    pub fn landing(&self, visitor: &Visitor, rng: &mut StdRng) -> Beacon {
        let path = &self.pages[self.page_weights.pick(rng)];
        visitor.beacon("pageview", &format!("{ORIGIN}{path}"), None, None)
    }

    /// The referrer and the landing page's query string of a new visit.
    fn source(&self, rng: &mut StdRng) -> (Option<String>, Option<String>) {
        let source = &SOURCES[self.source_weights.pick(rng)];
        let referrer = match source.referrer {
            Referrer::None => None,
            Referrer::Url(url) => Some(url.to_owned()),
            Referrer::LongTail => Some(format!(
                "https://www.{}.nl/",
                population::LONG_TAIL[rng.random_range(0..population::LONG_TAIL.len())]
            )),
        };
        let query = match source.query {
            Query::None => None,
            Query::Fixed(query) => Some(query.to_owned()),
            Query::Newsletter => Some(
                "utm_source=nieuwsbrief&utm_medium=email&utm_campaign=nieuwsbrief-december".into(),
            ),
            Query::Campaign => Some(format!(
                "utm_source=facebook&utm_medium=social&utm_campaign={}",
                population::CAMPAIGNS[rng.random_range(0..population::CAMPAIGNS.len())]
            )),
            Query::Fbclid => Some(format!("fbclid=IwAR{:016x}", rng.random::<u64>())),
        };
        (referrer, query)
    }
}

impl Visitor {
    /// The request a browser running the tracker would send.
    fn beacon(&self, name: &str, url: &str, referrer: Option<&str>, props: Option<&str>) -> Beacon {
        let referrer = referrer.map_or("null".to_owned(), |referrer| format!(r#""{referrer}""#));
        let props = props
            .map(|props| format!(r#","p":{props}"#))
            .unwrap_or_default();
        let body = format!(
            r#"{{"n":"{name}","u":"{url}","d":"{SITE}","r":{referrer},"w":{}{props}}}"#,
            self.width
        );
        let request = format!(
            "POST /api/event HTTP/1.1\r\nHost: {SITE}\r\nContent-Type: text/plain\r\n\
             User-Agent: {}\r\nX-Forwarded-For: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.agent,
            self.address,
            body.len()
        );
        Beacon {
            request: request.into_bytes(),
            is_pageview: name == "pageview",
        }
    }
}

/// The visitor's address: a network of its own, any host in it, with
/// consecutive numbers in different wider blocks.
fn address(id: u64, traits: u64) -> String {
    let network = id / 2;
    let host = 1 + (traits >> 16) % 254;
    if id.is_multiple_of(2) && network < V4_NETWORKS {
        let block = FIRST_V4_BLOCK + network % V4_BLOCKS;
        let value = (block << 16) | (network / V4_BLOCKS) << 8 | host;
        std::net::Ipv4Addr::from(value as u32).to_string()
    } else {
        // The /32 from the number's low 16 bits, the /48 from the next 16.
        format!("2a02:{:x}:{:x}::{host:x}", id & 0xffff, (id >> 16) & 0xffff)
    }
}

/// splitmix64: a visitor's traits from its number, the same in every run.
fn mix(id: u64) -> u64 {
    let mut value = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}
