//! The cost of the storage bounds, in isolation (`cargo run --release
//! --example bounds_bench`): the per-network rate limit on each beacon,
//! on one thread and on two at once (its table sits behind one mutex),
//! and the daily cap on distinct values on each hit, each against a
//! baseline loop that does everything but the measured call, in the same run.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use kruimel::aggregate::distinct::DistinctCap;
use kruimel::config::{DistinctValues, SiteConfig};
use kruimel::enrich::agent::Device;
use kruimel::enrich::country::Country;
use kruimel::http::rate_limit::RateLimit;
use kruimel::ingest::beacon::Interaction;
use kruimel::ingest::hit::{Hit, HitKind};
use kruimel::privacy::ip::{ClientIp, TruncatedIp, Truncation};
use kruimel::privacy::pii::{referrer, scrubbed};
use kruimel::privacy::url::{Campaign, clean_page_path};
use kruimel::sites::Sites;

const CHECKS: usize = 4_000_000;
const HITS: usize = 2_000_000;

fn networks() -> Vec<TruncatedIp> {
    let truncation = Truncation::new(24, 48).expect("valid prefixes");
    (0..200_000u32)
        .map(|n| {
            let address = Ipv4Addr::from(0x5100_0000 + n.wrapping_mul(2_654_435_761) % 0x2000_0000);
            truncation.apply(ClientIp::new(IpAddr::V4(address)))
        })
        .collect()
}

/// Nanoseconds per call of `each` over `count` calls on `threads` threads.
fn per_call(threads: usize, count: usize, each: impl Fn(usize) + Sync) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let each = &each;
            scope.spawn(move || {
                for n in (thread..count).step_by(threads) {
                    each(n);
                }
            });
        }
    });
    started.elapsed().as_nanos() as f64 / count as f64
}

fn rate_limit() {
    let networks = networks();
    for threads in [1, 2] {
        let baseline = per_call(threads, CHECKS, |n| {
            black_box(networks[n % networks.len()]);
        });
        // As in production: 500 a window, 250,000 networks remembered.
        let limit = RateLimit::new(500, Duration::from_secs(10), 250_000);
        let now = Instant::now();
        let checked = per_call(threads, CHECKS, |n| {
            black_box(limit.check(networks[n % networks.len()], now).is_ok());
        });
        // Both threads together do `CHECKS` in the time measured: per
        // check of one core, the time counts once per thread.
        let core_ns = (checked - baseline) * threads as f64;
        println!(
            "rate limit, {threads} thread(s): baseline {baseline:.1} ns, with check {checked:.1} ns wall per check; {core_ns:.0} ns of CPU per check; at 20,000 beacons/s {:.2}% of one core",
            core_ns * 20_000.0 / 1e9 * 100.0
        );
    }
}

fn hits() -> Vec<Hit> {
    let config: SiteConfig = toml::from_str("id = \"load.example\"").expect("a site");
    let sites = Sites::from_config(&[config]).expect("valid site");
    let site = sites.iter().next().expect("one site");
    let at = site.moment("2026-11-23T10:00:00Z".parse().expect("a timestamp"));
    (0..4_096u32)
        .map(|n| {
            // About 2,000 paths, some referrers and campaigns, 5% events.
            let page = format!("/pagina/{}", (n * n) % 2_000);
            let kind = if n % 20 == 0 {
                HitKind::Event {
                    name: scrubbed("Formulier verzonden", &[]),
                    props: vec![(
                        scrubbed("formulier", &[]),
                        scrubbed(&format!("f{}", n % 40), &[]),
                    )],
                }
            } else {
                HitKind::Pageview
            };
            Hit {
                site: site.idx,
                at,
                visitor: None,
                kind,
                page_props: Vec::new(),
                interaction: Interaction::Interactive,
                page: clean_page_path(&page, &[]),
                referrer: (n % 3 == 0).then(|| referrer(&format!("www.r{}.example", n % 300), &[])),
                source: format!("www.r{}.example", n % 300),
                campaign: Campaign {
                    source: (n % 10 == 0).then(|| "nieuwsbrief".to_owned()),
                    medium: (n % 10 == 0).then(|| "email".to_owned()),
                    campaign: (n % 10 == 0).then(|| format!("c{}", n % 12)),
                },
                country: Country::UNKNOWN,
                browser: "Firefox",
                os: "Linux",
                device: Device::Desktop,
            }
        })
        .collect()
}

fn cap() {
    let pool = hits();
    let mut cap = DistinctCap::new(DistinctValues::default());
    let started = Instant::now();
    for n in 0..HITS {
        black_box(pool[n % pool.len()].clone());
    }
    let baseline = started.elapsed().as_nanos() as f64 / HITS as f64;
    let started = Instant::now();
    for n in 0..HITS {
        let mut hit = pool[n % pool.len()].clone();
        cap.apply(&mut hit);
        black_box(hit);
    }
    let capped = started.elapsed().as_nanos() as f64 / HITS as f64;
    println!(
        "distinct-value cap: baseline (clone a hit) {baseline:.1} ns, with the cap {capped:.1} ns per hit; the cap adds {:.1} ns",
        capped - baseline
    );
}

fn main() {
    for round in 1..=3 {
        println!("round {round}");
        rate_limit();
        cap();
    }
}
