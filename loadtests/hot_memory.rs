//! What each part of Kruimel's memory holds at the soak's scale, in
//! isolation (`cargo run --release --example hot_memory`): the hot state
//! filled with a million visitors of one site (`sessions.max_visitors`'
//! default), each with an open visit and its credit fingerprints; the
//! count deltas between two flushes; the per-network rate limit's table.
//!
//! Every allocation goes through mimalloc, as in the server, and is
//! counted by the size mimalloc actually gives it (its size class), so
//! the figures are the heap each part holds, not what it asked for. Each
//! part is measured as the difference in live heap before and after it
//! is built, and again when it is dropped.
//!
//! Visits are the soak's audience in miniature: entry pages drawn
//! Zipf-like (s = 1.1) from the seed example's 3,000 paths, visits of one
//! to five pageviews, the seed's sources (none, search engines, social,
//! a long tail of sites, newsletters and campaigns), 14 browsers.
// Not a library: `pub` here is how its modules reach each other.
#![allow(unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]

#[allow(dead_code)] // the seed example's tables; this one uses some of them
#[path = "seed/population.rs"]
mod population;
#[allow(dead_code)]
#[path = "seed/weighted.rs"]
mod weighted;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use kruimel::aggregate::Deltas;
use kruimel::config::SiteConfig;
use kruimel::enrich::agent::Device;
use kruimel::enrich::country::Country;
use kruimel::http::rate_limit::RateLimit;
use kruimel::ingest::beacon::Interaction;
use kruimel::ingest::hit::{Hit, HitKind, HitVisitor};
use kruimel::privacy::clean::{CleanPath, ReferrerHost};
use kruimel::privacy::ip::{ClientIp, Truncation};
use kruimel::privacy::pii::referrer;
use kruimel::privacy::url::{Campaign, clean_page_path};
use kruimel::privacy::visitor::VisitorId;
use kruimel::sessions::{CREDITS_PER_VISITOR, Sessions};
use kruimel::sites::{Moment, Sites};
use kruimel::store::{Counts, Dim, Granularity};
use mimalloc::MiMalloc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use weighted::Weighted;

/// mimalloc, with the bytes of every live block counted.
struct Counting;

// mimalloc's own function (its C library is linked in by the `mimalloc`
// crate, which declares it only with its `extended` feature).
unsafe extern "C" {
    fn mi_usable_size(block: *const std::ffi::c_void) -> usize;
}

/// The bytes mimalloc gives a block: its size class.
unsafe fn usable(block: *const u8) -> usize {
    // SAFETY: the caller passes a live block of mimalloc's.
    unsafe { mi_usable_size(block.cast()) }
}

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as called.
        let block = unsafe { MiMalloc.alloc(layout) };
        if !block.is_null() {
            // SAFETY: a live block of mimalloc's.
            let size = unsafe { usable(block) };
            LIVE.fetch_add(size as isize, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: a live block of mimalloc's, freed as the caller asks.
        unsafe {
            LIVE.fetch_sub(usable(block) as isize, Ordering::Relaxed);
            MiMalloc.dealloc(block, layout);
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as called.
        let block = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !block.is_null() {
            // SAFETY: a live block of mimalloc's.
            let size = unsafe { usable(block) };
            LIVE.fetch_add(size as isize, Ordering::Relaxed);
        }
        block
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: a live block of mimalloc's, resized as the caller asks.
        unsafe {
            let old = usable(block);
            let moved = MiMalloc.realloc(block, layout, new_size);
            if !moved.is_null() {
                let new = usable(moved);
                LIVE.fetch_add(new as isize - old as isize, Ordering::Relaxed);
            }
            moved
        }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const VISITORS: u64 = 1_000_000;
const MIB: f64 = (1 << 20) as f64;
/// Credit fingerprints one visit gathers: the soak's figure when its
/// visitor cap fills (17 since a pair is one test in either order).
const ONE_VISIT: usize = 17;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|kib| kib.trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0)
}

/// One line of the report: a part, its heap, and per unit.
fn report(part: &str, bytes: isize, units: u64, unit: &str) {
    println!(
        "| {part} | {:.1} MiB | {:.1} bytes per {unit} |",
        bytes as f64 / MIB,
        bytes as f64 / units as f64
    );
}

struct Audience {
    pages: Vec<CleanPath>,
    page_weights: Weighted,
    lengths: Weighted,
    agents: Vec<(&'static str, &'static str, Device)>,
}

/// The source, referrer host and campaign of a visit, as the pipeline
/// would hand them on.
fn source(rng: &mut StdRng) -> (String, Option<ReferrerHost>, Campaign) {
    let roll = rng.random_range(0..100);
    let referred = |host: &str, source: &str| (source.to_owned(), Some(referrer(host, &[])));
    let (source, referrer) = match roll {
        0..34 => ("Direct / None".to_owned(), None),
        34..62 => referred("www.google.com", "Google"),
        62..66 => referred("www.google.nl", "Google"),
        66..69 => referred("www.bing.com", "Bing"),
        69..72 => referred("m.facebook.com", "Facebook"),
        72..90 => {
            let site = population::LONG_TAIL[rng.random_range(0..population::LONG_TAIL.len())];
            let host = format!("www.{site}.nl");
            (host.clone(), Some(referrer(&host, &[])))
        }
        _ => ("nieuwsbrief".to_owned(), None),
    };
    let campaign = if roll >= 90 {
        Campaign {
            source: Some("nieuwsbrief".to_owned()),
            medium: Some("email".to_owned()),
            campaign: Some(
                population::CAMPAIGNS[rng.random_range(0..population::CAMPAIGNS.len())].to_owned(),
            ),
        }
    } else {
        Campaign::default()
    };
    (source, referrer, campaign)
}

impl Audience {
    fn new() -> Audience {
        let pages: Vec<CleanPath> = population::pages(&mut StdRng::seed_from_u64(424242))
            .iter()
            .map(|page| clean_page_path(page, &[]))
            .collect();
        Audience {
            page_weights: Weighted::new(
                (1..=pages.len()).map(|rank| 1.0 / (rank as f64).powf(1.1)),
            ),
            pages,
            lengths: Weighted::new([0.42, 0.24, 0.16, 0.10, 0.08]),
            agents: vec![
                ("Chrome", "Android", Device::Mobile),
                ("Safari", "iOS", Device::Mobile),
                ("Chrome", "Windows 10", Device::Desktop),
                ("Edge", "Windows 10", Device::Desktop),
                ("Safari", "Mac OSX", Device::Desktop),
                ("Firefox", "Windows 10", Device::Desktop),
                ("Chrome", "Mac OSX", Device::Desktop),
                ("Safari", "iPadOS", Device::Tablet),
                ("Samsung Internet", "Android", Device::Mobile),
                ("Firefox", "Linux", Device::Desktop),
                ("Chrome", "Linux", Device::Desktop),
                ("Chrome", "ChromeOS", Device::Desktop),
                ("Firefox", "Android", Device::Mobile),
                ("Opera", "Windows 10", Device::Desktop),
            ],
        }
    }

    /// A visit's pageviews, in order.
    fn visit(&self, site: &Sites, visitor: u64, at: Moment, rng: &mut StdRng) -> Vec<Hit> {
        let (source, referrer, campaign) = source(rng);
        let (browser, os, device) = self.agents[(visitor % self.agents.len() as u64) as usize];
        let site = site.iter().next().expect("one site").idx;
        (0..=self.lengths.pick(rng))
            .map(|view| Hit {
                site,
                at: Moment {
                    unix: at.unix + 30 * view as i64,
                    ..at
                },
                visitor: Some(HitVisitor {
                    today: VisitorId::from_value(visitor.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                    yesterday: None,
                }),
                kind: HitKind::Pageview,
                page_props: Vec::new(),
                interaction: Interaction::Interactive,
                page: self.pages[self.page_weights.pick(rng)].clone(),
                referrer: referrer.clone(),
                source: source.clone(),
                campaign: campaign.clone(),
                country: Country::UNKNOWN,
                browser,
                os,
                device,
            })
            .collect()
    }
}

fn sessions(sites: &Sites, at: Moment) {
    let audience = Audience::new();
    let mut rng = StdRng::seed_from_u64(7);
    let mut sessions = Sessions::new(VISITORS as usize, 30 * 60);
    let before = live();
    let mut pageviews = 0u64;
    for visitor in 0..VISITORS {
        for hit in audience.visit(sites, visitor, at, &mut rng) {
            pageviews += 1;
            let _ = sessions.observe(&hit);
        }
    }
    let filled = live();
    println!(
        "{VISITORS} visitors, {pageviews} pageviews, {} in the hot state, {} credits held",
        sessions.len(),
        sessions.credits_held()
    );
    println!();
    println!("| part | heap | per unit |");
    println!("| --- | ---: | ---: |");
    report(
        "hot state: visitors with their open visits, no credits",
        filled - before,
        VISITORS,
        "visitor",
    );
    // Each visitor then gathers credits, as the soak's returning visitors
    // do: first the ~17 of one visit (the soak's figure when its visitor cap
    // fills), then up to the budget.
    let mut fingerprints = StdRng::seed_from_u64(11);
    let mut credit = |sessions: &mut Sessions, each: usize| {
        for visitor in 0..VISITORS {
            let hit = &audience.visit(sites, visitor, at, &mut rng)[0];
            let mut observation = sessions.observe(hit);
            for _ in 0..each {
                observation.credits.first_time(fingerprints.random());
            }
        }
    };
    credit(&mut sessions, ONE_VISIT);
    let credited = live();
    let held = sessions.credits_held() as u64;
    report(
        &format!("credits, {} per visitor", held / VISITORS),
        credited - filled,
        held,
        "fingerprint",
    );
    credit(&mut sessions, CREDITS_PER_VISITOR - ONE_VISIT);
    let full = live();
    let rss_full = rss_kib();
    let held_full = sessions.credits_held() as u64;
    report(
        &format!("credits, {} per visitor (the budget)", held_full / VISITORS),
        full - filled,
        held_full,
        "fingerprint",
    );
    sessions.end_all();
    let ended = sessions.take_ended();
    let visits_ended = ended.len() as u64;
    drop(ended);
    // A sweep in the same minute keeps every visitor of the day and lets
    // go of what only the ended visits held.
    sessions.sweep(&[at]);
    let without_visits = live();
    report(
        "of which the open visits (ended and dropped)",
        full - without_visits,
        visits_ended,
        "visit",
    );
    report(
        "of which the visitors' entries and their index",
        without_visits - before - (full - filled),
        VISITORS,
        "visitor",
    );
    println!(
        "| whole hot state, full | {:.1} MiB | process RSS {:.1} MiB |",
        (full - before) as f64 / MIB,
        rss_full as f64 / 1024.0
    );
    drop(sessions);
}

fn deltas(sites: &Sites, at: Moment, keys: usize) {
    let site = sites.iter().next().expect("one site").idx;
    let before = live();
    let mut deltas = Deltas::default();
    let none = deltas.value(Dim::None, "");
    let counts = Counts {
        visitors: 1,
        pageviews: 1,
        events: 1,
        ..Counts::default()
    };
    let dims = [Dim::Page, Dim::EntryPage, Dim::Source, Dim::Referrer];
    let mut added = 0;
    let mut page = 0;
    while added < keys {
        let path = format!("/pagina/{page}");
        page += 1;
        let value = deltas.value(Dim::Page, &path);
        for dim in dims {
            let breakdown = deltas.value(dim, &format!("{path}-{dim:?}"));
            deltas.add(site, Granularity::Day, at.day, value, breakdown, counts);
            deltas.add(site, Granularity::Day, at.day, none, breakdown, counts);
            added += 2;
        }
    }
    let held = live() - before;
    report(
        &format!("count deltas between flushes, {} rows", deltas.len()),
        held,
        deltas.len() as u64,
        "row",
    );
    let batch = deltas.drain_to_batch(&["load.example"]);
    let rows = batch.len() as u64;
    report(
        "the flush's batch of encoded rows (while it is written)",
        live() - before - held,
        rows,
        "row",
    );
    drop(batch);
    report(
        "count deltas after the flush (capacity kept)",
        live() - before,
        rows,
        "row",
    );
}

fn rate_limit(networks: u32) {
    let before = live();
    let limit = RateLimit::new(500, Duration::from_secs(10), 250_000);
    let truncation = Truncation::new(24, 48).expect("valid prefixes");
    let now = Instant::now();
    for n in 0..networks {
        let address = std::net::Ipv4Addr::from(0x1400_0000 + (n << 8));
        let _ = limit.check(
            truncation.apply(ClientIp::new(std::net::IpAddr::V4(address))),
            now,
        );
    }
    report(
        &format!("rate limit, {networks} networks in one window"),
        live() - before,
        u64::from(networks),
        "network",
    );
}

fn main() {
    let config: SiteConfig = toml::from_str("id = \"load.example\"").expect("a site");
    let sites = Sites::from_config(&[config]).expect("valid site");
    let at = sites
        .iter()
        .next()
        .expect("one site")
        .moment("2026-12-07T10:00:00Z".parse().expect("a timestamp"));
    println!(
        "size_of: Hit {} bytes (the queue holds up to 65,536, each with its texts)",
        std::mem::size_of::<Hit>()
    );
    sessions(&sites, at);
    deltas(&sites, at, 60_000);
    deltas(&sites, at, 200_000);
    rate_limit(250_000);
}
