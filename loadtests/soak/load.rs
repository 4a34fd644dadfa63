//! The load itself: paced or flat-out connections, the probe, and the
//! sampling loop that prints what was seen.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;

use crate::audience::{Audience, Beacon};
use crate::day::Day;
use crate::http::Connection;
use crate::watch::{Histogram, Server, Summary, field};

/// Visits each paced connection keeps open and interleaves.
const OPEN_VISITS: usize = 4;
/// The probe's own visitors, numbered after the flood's.
const PROBE_VISITORS: u64 = 20;

pub struct Settings {
    pub target: SocketAddr,
    pub server: Server,
    pub connections: u64,
    pub sample_every: Duration,
}

/// The answers one sender got, and how long they took.
struct Tally {
    sent: AtomicU64,
    counted: AtomicU64,
    counted_pageviews: AtomicU64,
    dropped: AtomicU64,
    other: AtomicU64,
    failed: AtomicU64,
    interval: Histogram,
    total: Histogram,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            sent: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            counted_pageviews: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            other: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            interval: Histogram::new(),
            total: Histogram::new(),
        }
    }

    fn count(&self, counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// `RESULT`-style fields: what was sent and how it was answered.
    fn fields(&self) -> String {
        let total = self.total.summary();
        format!(
            "sent={} counted={} counted_pageviews={} dropped={} other={} failed={} p50_us={} p99_us={} max_us={}",
            self.count(&self.sent),
            self.count(&self.counted),
            self.count(&self.counted_pageviews),
            self.count(&self.dropped),
            self.count(&self.other),
            self.count(&self.failed),
            total.p50,
            total.p99,
            total.max
        )
    }
}

/// Sends `beacon` on `connection`, opening it first if needed, and
/// records the answer. A beacon whose answer never came is `failed`: the
/// server may or may not have counted it.
async fn send(
    target: SocketAddr,
    connection: &mut Option<Connection>,
    beacon: &Beacon,
    tally: &Tally,
) {
    tally.sent.fetch_add(1, Ordering::Relaxed);
    if connection.is_none() {
        *connection = Connection::open(target).await.ok();
    }
    let Some(open) = connection else {
        tally.failed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(10)).await;
        return;
    };
    let started = Instant::now();
    let answer =
        tokio::time::timeout(Duration::from_secs(10), open.exchange(&beacon.request)).await;
    let micros = started.elapsed().as_micros() as u64;
    match answer {
        Ok(Ok(answer)) => {
            tally.interval.record(micros);
            tally.total.record(micros);
            let counter = match answer.status {
                202 if answer.dropped => &tally.dropped,
                202 => &tally.counted,
                _ => &tally.other,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            if answer.is_counted() && beacon.is_pageview {
                tally.counted_pageviews.fetch_add(1, Ordering::Relaxed);
            }
        }
        _ => {
            tally.failed.fetch_add(1, Ordering::Relaxed);
            *connection = None;
        }
    }
}

// --- paced ----------------------------------------------------------------

struct Paced {
    target: SocketAddr,
    audience: Audience,
    day: Day,
    tally: Tally,
}

pub async fn paced(settings: Settings, day: Day, rate: f64, duration: Duration) {
    let shared = Arc::new(Paced {
        target: settings.target,
        audience: Audience::new(),
        day,
        tally: Tally::new(),
    });
    let started = tokio::time::Instant::now();
    let period = Duration::from_secs_f64(settings.connections as f64 / rate);
    let mut senders = JoinSet::new();
    for connection in 0..settings.connections {
        let first = started + period.mul_f64(connection as f64 / settings.connections as f64);
        senders.spawn(paced_connection(
            shared.clone(),
            connection,
            first,
            period,
            started + duration,
        ));
    }
    let line = {
        let shared = shared.clone();
        move |elapsed: f64, seconds: f64, interval: Summary, snapshot_fields: String| {
            let due = (rate * elapsed).min(rate * duration.as_secs_f64()) as u64;
            let sent = shared.tally.count(&shared.tally.sent);
            format!(
                "SAMPLE t={elapsed:.1} sent={sent} behind={} rate={:.0} p50_us={} p99_us={} max_us={} distinct={} {snapshot_fields}",
                due.saturating_sub(sent),
                interval.count as f64 / seconds,
                interval.p50,
                interval.p99,
                interval.max,
                shared.day.distinct(),
            )
        }
    };
    let tally_for_samples = shared.clone();
    run_sampled(
        &settings,
        senders,
        move || tally_for_samples.tally.interval.take(),
        line,
    )
    .await;
    println!(
        "RESULT {} distinct={}",
        shared.tally.fields(),
        shared.day.distinct()
    );
}

async fn paced_connection(
    shared: Arc<Paced>,
    number: u64,
    first: tokio::time::Instant,
    period: Duration,
    end: tokio::time::Instant,
) {
    let mut rng = StdRng::seed_from_u64(1000 + number);
    let mut visits: Vec<Vec<Beacon>> = (0..OPEN_VISITS)
        .map(|_| new_visit(&shared, &mut rng))
        .collect();
    let mut connection = None;
    let mut due = first;
    while due < end {
        tokio::time::sleep_until(due).await;
        let slot = rng.random_range(0..visits.len());
        let beacon = visits[slot].pop().expect("visits are never empty");
        if visits[slot].is_empty() {
            visits[slot] = new_visit(&shared, &mut rng);
        }
        send(shared.target, &mut connection, &beacon, &shared.tally).await;
        due += period;
    }
}

fn new_visit(shared: &Paced, rng: &mut StdRng) -> Vec<Beacon> {
    let visitor = shared.audience.visitor(shared.day.next_visitor(rng));
    shared.audience.visit(&visitor, rng)
}

// --- flood ----------------------------------------------------------------

struct Flood {
    target: SocketAddr,
    audience: Audience,
    visitors: u64,
    next: AtomicU64,
    tally: Tally,
}

pub async fn flood(settings: Settings, visitors: u64, probe_rate: u64) {
    let shared = Arc::new(Flood {
        target: settings.target,
        audience: Audience::new(),
        visitors,
        next: AtomicU64::new(0),
        tally: Tally::new(),
    });
    let probe = Arc::new(Tally::new());
    let stop = Arc::new(AtomicBool::new(false));
    let probe_thread = {
        let (probe, stop, target) = (probe.clone(), stop.clone(), settings.target);
        let first_visitor = visitors;
        std::thread::spawn(move || run_probe(target, first_visitor, probe_rate, &probe, &stop))
    };
    let mut senders = JoinSet::new();
    for connection in 0..settings.connections {
        senders.spawn(flood_connection(shared.clone(), connection));
    }
    let line = {
        let (shared, probe) = (shared.clone(), probe.clone());
        move |elapsed: f64,
              seconds: f64,
              (flood, probed): (Summary, Summary),
              snapshot_fields: String| {
            let sent = shared.tally.count(&shared.tally.sent);
            format!(
                "SAMPLE t={elapsed:.1} sent={sent} rate={:.0} probe_answered={} probe_failed={} probe_p50_us={} probe_p99_us={} probe_max_us={} {snapshot_fields}",
                flood.count as f64 / seconds,
                probed.count,
                probe.count(&probe.failed),
                probed.p50,
                probed.p99,
                probed.max,
            )
        }
    };
    let (flood_tally, probe_tally) = (shared.clone(), probe.clone());
    let take = move || {
        (
            flood_tally.tally.interval.take(),
            probe_tally.interval.take(),
        )
    };
    run_sampled(&settings, senders, take, line).await;
    stop.store(true, Ordering::Relaxed);
    probe_thread
        .join()
        .expect("the probe thread does not panic");
    println!("RESULT {} distinct={visitors}", shared.tally.fields());
    println!("PROBE {} visitors={PROBE_VISITORS}", probe.fields());
}

async fn flood_connection(shared: Arc<Flood>, number: u64) {
    let mut rng = StdRng::seed_from_u64(2000 + number);
    let mut connection = None;
    loop {
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        if id >= shared.visitors {
            return;
        }
        let beacon = shared
            .audience
            .landing(&shared.audience.person(id), &mut rng);
        send(shared.target, &mut connection, &beacon, &shared.tally).await;
    }
}

/// A normal client on a thread and runtime of its own, so that its
/// latency is the server's and the machine's, not the flood's queue: one
/// keep-alive connection, `rate` pageviews a second from a few visitors
/// of its own, until `stop`.
fn run_probe(target: SocketAddr, first_visitor: u64, rate: u64, tally: &Tally, stop: &AtomicBool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the probe");
    runtime.block_on(async {
        let audience = Audience::new();
        let mut rng = StdRng::seed_from_u64(3000);
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
        let mut connection = None;
        while !stop.load(Ordering::Relaxed) {
            ticks.tick().await;
            let visitor = audience.person(first_visitor + rng.random_range(0..PROBE_VISITORS));
            let beacon = audience.landing(&visitor, &mut rng);
            send(target, &mut connection, &beacon, tally).await;
        }
    });
}

// --- sampling ---------------------------------------------------------------

/// Waits for the senders while printing a `SAMPLE` line every
/// `sample_every`, and one more when they are done. `take` returns the
/// interval's latencies and resets them; `line` formats a sample from
/// the seconds since the start and since the last sample, those
/// latencies and the server's fields.
async fn run_sampled<Latencies>(
    settings: &Settings,
    mut senders: JoinSet<()>,
    take: impl Fn() -> Latencies,
    line: impl Fn(f64, f64, Latencies, String) -> String,
) {
    let started = Instant::now();
    let mut previous = 0.0;
    let mut ticks = tokio::time::interval(settings.sample_every);
    ticks.tick().await;
    loop {
        let senders_done = tokio::select! {
            finished = senders.join_next() => match finished {
                Some(_) => continue,
                None => true,
            },
            _ = ticks.tick() => false,
        };
        let elapsed = started.elapsed().as_secs_f64();
        if senders_done && elapsed - previous < 0.5 {
            return; // the last tick's sample already holds the end
        }
        let server = server_fields(&settings.server).await;
        println!("{}", line(elapsed, elapsed - previous, take(), server));
        previous = elapsed;
        if senders_done {
            return;
        }
    }
}

async fn server_fields(server: &Server) -> String {
    let snapshot = server.snapshot().await;
    [
        field("rss_kib", snapshot.rss_kib),
        field("fds", snapshot.fds),
        field("hot", snapshot.metric("kruimel_hot_visitors")),
        field("credits", snapshot.metric("kruimel_hot_credits")),
        field(
            "evicted",
            snapshot.metric("kruimel_hot_visitors_evicted_total"),
        ),
        field("shed", snapshot.metric("kruimel_beacons_shed_total")),
        field("queue", snapshot.metric("kruimel_aggregator_queue_depth")),
        format!("ready={}", u8::from(snapshot.ready)),
    ]
    .join(" ")
}
