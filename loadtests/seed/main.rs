//! Fills a data directory with a year of a municipal site's traffic, sent
//! through the real server: the stats-at-scale and dashboard benchmarks
//! (`loadtests/stats_bench.sh`) read what this leaves behind.
//!
//! The server runs in this process (`kruimel::startup::run_with_clock`, as
//! the integration tests run it) with a manual clock. Every beacon is a real
//! `POST /api/event` over loopback HTTP, from its visitor's address (in
//! `X-Forwarded-For`, loopback being the trusted proxy) and user agent, so
//! everything the server does to a beacon happens: URL cleaning, the daily
//! salt and visitor hash, user-agent classes, country, sessions, every
//! counter, the flushes. The clock walks through simulated time in ticks
//! (10 s by default): each tick's beacons are sent at once, a visit's own
//! beacons in order, and the next tick starts when all were answered.
//! Salts rotate at each simulated midnight and visits time out, as they do
//! in production. Time inside one tick is the tick's start, so visit
//! durations are multiples of the tick.
//!
//! It writes nothing itself but `seed.env` (what the benchmark needs to
//! know: site, token, range, a popular page), next to the server's files.
//!
//! Usage: `cargo run --release --example seed -- --data-dir DIR [--pageviews N
//! | --per-month N] [--months 12] [--end YYYY-MM-DD]`; see `loadtests/seed.sh`.
// Not a library: `pub` here is how its modules reach each other.
#![allow(unreachable_pub)]
#![forbid(unsafe_code)]

mod population;
mod traffic;
mod weighted;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use kruimel::clock::Clock;
use kruimel::config::{self, TokenHash};
use kruimel::http::Listeners;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::oneshot;

use traffic::{Beacon, SITE, Traffic};

#[derive(Parser)]
#[command(about = "Fill a Kruimel data directory with a year of simulated traffic")]
struct Args {
    /// The data directory to fill (created; must not hold a database yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// Pageviews in the whole range.
    #[arg(long, default_value_t = 10_000_000)]
    pageviews: u64,
    /// Pageviews per month instead: the total is this times `--months`.
    #[arg(long)]
    per_month: Option<u64>,
    /// Calendar months to fill, ending with `--end`: the range the stats
    /// API's `period=12mo&date=END` reads when this is 12.
    #[arg(long, default_value_t = 12)]
    months: i32,
    /// The last day to fill (local), by default yesterday.
    #[arg(long)]
    end: Option<Date>,
    /// The stats API token of the site (benchmarks only: it is written in
    /// clear to `seed.env`).
    #[arg(long, default_value = "seed-bench-token")]
    token: String,
    /// Seed of the random simulation: the same seed gives the same beacons.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Simulated seconds per step of the clock.
    #[arg(long, default_value_t = 10)]
    tick_seconds: i64,
    /// A MaxMind-format country database (default: `.ci/cache/country.mmdb`
    /// when present; without one every country is unknown).
    #[arg(long)]
    country_db: Option<PathBuf>,
    /// Seed a Redis instead of the embedded store (`redis://…`).
    #[arg(long)]
    redis_url: Option<String>,
}

const TIME_ZONE: &str = "Europe/Amsterdam";

// The allocator the server binary runs with (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread for the client and the server's request handling: handing
// every beacon between threads cost more than either side's work (perf).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    if args.tick_seconds < 1 {
        bail!("--tick-seconds must be at least 1");
    }
    let tz = TimeZone::get(TIME_ZONE)?;
    let end = match args.end {
        Some(end) => end,
        None => Timestamp::now().to_zoned(tz.clone()).date().yesterday()?,
    };
    let first = end
        .first_of_month()
        .checked_sub(jiff::Span::new().months(args.months - 1))?;
    let total = args
        .per_month
        .map_or(args.pageviews, |monthly| monthly * args.months as u64);
    if args.data_dir.join("kruimel.redb").exists() {
        bail!(
            "{} already holds a database: seed an empty directory",
            args.data_dir.display()
        );
    }
    let country_db = args.country_db.clone().or_else(|| {
        let default = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/cache/country.mmdb");
        default.is_file().then_some(default)
    });
    match &country_db {
        Some(path) => check_countries(path)?,
        None => eprintln!("no country database (.ci/fetch-country-db): countries stay unknown"),
    }

    let days = plan(first, end, total, args.seed);
    eprintln!(
        "seeding {SITE}: {total} pageviews, {first} to {end} ({} days), into {}",
        days.len(),
        args.data_dir.display()
    );
    let server = Server::start(&args, country_db.as_deref(), first, &tz).await?;
    let started = Instant::now();
    let mut traffic = Traffic::new(args.seed);
    let mut sender = Sender::new(&server, args.tick_seconds);
    let mut pending: Vec<Beacon> = Vec::new();
    let mut sealed = 0;
    for (index, &(day, pageviews)) in days.iter().enumerate() {
        let midnight = day.to_zoned(tz.clone())?.timestamp().as_second();
        let next = day
            .tomorrow()?
            .to_zoned(tz.clone())?
            .timestamp()
            .as_second();
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        let month = day.strftime("%Y-%m").to_string();
        pending.extend(traffic.day(midnight, next - midnight, weekend, &month, pageviews));
        // Stable: a visit's beacons at the same second keep their order.
        pending.sort_by_key(|beacon| beacon.at);
        let due = pending.partition_point(|beacon| beacon.at < next);
        sender.send(pending.drain(..due).collect()).await?;
        if day.day() == 1 || index + 1 == days.len() {
            sender.report(day, started.elapsed());
        }
        // Entering a day seals the day before yesterday, of what has been
        // flushed by then. Waiting for each day's flush, and from the third
        // day on for its sealing, keeps the database as a server's would
        // be, whose days pass in real time: a few open days, the rest sealed.
        let stored = server
            .wait_for_pageviews(first, day, sender.pageviews)
            .await?;
        if stored != sender.pageviews {
            bail!(
                "{day}: the stats API shows {stored} pageviews for {} sent",
                sender.pageviews
            );
        }
        if index >= 2 {
            sealed = server.wait_for_sealing(sealed).await?;
        }
    }
    // What the range holds; visits still running at the end's midnight
    // go on into the next day, as real ones do.
    let in_range = sender.pageviews;
    sender.send(std::mem::take(&mut pending)).await?;
    let sent_for = started.elapsed();
    let stored = server.wait_for_pageviews(first, end, in_range).await?;
    let top_page = traffic.popular_page().to_owned();
    server.stop().await?;
    let backend = match args.redis_url {
        Some(_) => "redis",
        None => "embedded",
    };
    std::fs::write(
        args.data_dir.join("seed.env"),
        format!(
            "SEED_SITE={SITE}\nSEED_TOKEN={}\nSEED_FIRST={first}\nSEED_END={end}\n\
             SEED_PAGEVIEWS={in_range}\nSEED_BEACONS={}\nSEED_PAGE={top_page}\n\
             SEED_BACKEND={backend}\nSEED_SECONDS={:.0}\n",
            args.token,
            sender.beacons,
            sent_for.as_secs_f64(),
        ),
    )?;
    eprintln!(
        "done: {} beacons ({} pageviews, {} custom events) sent in {:.1} s: {:.0} beacons/s; \
         {in_range} pageviews up to {end}, {stored} stored; {} paths; shed and sent again: {}; \
         stopped after {:.1} s",
        sender.beacons,
        sender.pageviews,
        sender.beacons - sender.pageviews,
        sent_for.as_secs_f64(),
        sender.beacons as f64 / sent_for.as_secs_f64(),
        traffic.page_count(),
        sender.retried.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    if stored != in_range {
        bail!("the stats API shows {stored} pageviews for {in_range} sent");
    }
    if !sender.dropped.is_empty() {
        bail!("beacons were dropped: {:?}", sender.dropped);
    }
    Ok(())
}

/// Pageviews per day: weekdays busier than weekends, January (the waste
/// calendar, tax assessments) busier and the summer quieter, and a few
/// peak days (a storm warning, an election).
fn plan(first: Date, end: Date, total: u64, seed: u64) -> Vec<(Date, u64)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut weights: Vec<(Date, f64)> = Vec::new();
    let mut day = first;
    while day <= end {
        let weekday = match day.weekday() {
            Weekday::Monday => 1.15,
            Weekday::Tuesday => 1.12,
            Weekday::Wednesday => 1.08,
            Weekday::Thursday => 1.05,
            Weekday::Friday => 0.95,
            Weekday::Saturday => 0.62,
            Weekday::Sunday => 0.7,
        };
        let season = [
            1.3, 1.2, 1.05, 1.0, 0.95, 0.95, 0.8, 0.78, 1.0, 1.02, 1.05, 0.85,
        ][day.month() as usize - 1];
        let noise = rng.random_range(0.9..1.1);
        weights.push((day, weekday * season * noise));
        day = day.tomorrow().expect("dates within range");
    }
    for peak in [2.6, 2.0, 1.6] {
        let index = rng.random_range(0..weights.len());
        weights[index].1 *= peak;
    }
    let sum: f64 = weights.iter().map(|(_, weight)| weight).sum();
    let mut left = total;
    let count = weights.len();
    weights
        .into_iter()
        .enumerate()
        .map(|(index, (day, weight))| {
            let share = match index + 1 == count {
                true => left,
                false => ((total as f64 * weight / sum).round() as u64).min(left),
            };
            left -= share;
            (day, share)
        })
        .collect()
}

/// Says which prefixes of the simulated networks the country database
/// places elsewhere than the model assumes.
fn check_countries(path: &Path) -> anyhow::Result<()> {
    let db = kruimel::enrich::country::CountryDb::open(path)?;
    let mut moved = Vec::new();
    for country in &population::COUNTRIES {
        for &(a, b) in country.prefixes {
            let found = db.lookup(std::net::IpAddr::from([a, b, 77, 0]));
            if found.as_str() != country.code {
                moved.push(format!(
                    "{a}.{b}/16: {} not {}",
                    found.as_str(),
                    country.code
                ));
            }
        }
    }
    if !moved.is_empty() {
        eprintln!("prefixes the country database places elsewhere: {moved:?}");
    }
    Ok(())
}

/// The real server, in this process, on loopback port 0.
struct Server {
    public: std::net::SocketAddr,
    admin: std::net::SocketAddr,
    clock: Clock,
    client: reqwest::Client,
    token: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(
        args: &Args,
        country_db: Option<&Path>,
        first: Date,
        tz: &TimeZone,
    ) -> anyhow::Result<Server> {
        let mut env: Vec<(String, String)> = vec![
            (
                "KRUIMEL_SERVER__DATA_DIR".into(),
                args.data_dir.display().to_string(),
            ),
            (
                "KRUIMEL_SERVER__TRUSTED_PROXIES".into(),
                r#"["127.0.0.1/32"]"#.into(),
            ),
            // One simulated day is sent in a second or two from the
            // seeder's few networks: the per-network limit is for real time.
            ("KRUIMEL_LIMITS__INGEST_PER_NETWORK".into(), "0".into()),
            (
                "KRUIMEL_SITES".into(),
                format!(
                    r#"[{{ id = "{SITE}", hostnames = ["{SITE}", "www.{SITE}"], time_zone = "{TIME_ZONE}", tokens = ["{}"] }}]"#,
                    TokenHash::of_token(&args.token).stored_form()
                ),
            ),
        ];
        if let Some(path) = country_db {
            env.push(("KRUIMEL_GEOIP__DATABASE".into(), path.display().to_string()));
        }
        if let Some(url) = &args.redis_url {
            env.push(("KRUIMEL_STORE__BACKEND".into(), "redis".into()));
            env.push(("KRUIMEL_STORE__REDIS__URLS".into(), format!(r#"["{url}"]"#)));
        }
        let config = config::load(None, env.clone()).context("seed configuration")?;
        let source: kruimel::reload::ConfigSource =
            Box::new(move || config::load(None, env.clone()));
        let public = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (public_address, admin_address) = (public.local_addr()?, admin.local_addr()?);
        let clock = Clock::manual(first.to_zoned(tz.clone())?.timestamp());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(kruimel::startup::run_with_clock(
            config,
            source,
            Listeners { public, admin },
            async move {
                let _ = stopped.await;
            },
            clock.clone(),
        ));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .tcp_nodelay(true)
            .build()?;
        let ready = format!("http://{admin_address}/readyz");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if task.is_finished() {
                return match task.await? {
                    Ok(()) => Err(anyhow::anyhow!("the server stopped at once")),
                    Err(error) => Err(error),
                };
            }
            let answer = client.get(&ready).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server was not ready within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Server {
            public: public_address,
            admin: admin_address,
            clock,
            client,
            token: args.token.clone(),
            stop,
            task,
        })
    }

    /// Waits until the stats API shows every pageview sent (the aggregator
    /// flushes once a second), and returns what it shows.
    async fn wait_for_pageviews(&self, first: Date, end: Date, sent: u64) -> anyhow::Result<u64> {
        let url = format!(
            "http://{}/api/v1/stats/aggregate?site_id={SITE}&period=custom&date={first},{end}&metrics=pageviews",
            self.public
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer: serde_json::Value = self
                .client
                .get(&url)
                .bearer_auth(&self.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let stored = answer["results"]["pageviews"]["value"]
                .as_f64()
                .unwrap_or(0.0) as u64;
            if stored >= sent || Instant::now() > deadline {
                return Ok(stored);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the server has sealed more rows than `before`, and
    /// returns how many it has sealed.
    async fn wait_for_sealing(&self, before: u64) -> anyhow::Result<u64> {
        let url = format!("http://{}/metrics", self.admin);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = self.client.get(&url).send().await?.text().await?;
            let sealed = text
                .lines()
                .find_map(|line| line.strip_prefix("kruimel_store_sealed_rows_total "))
                .and_then(|value| value.trim().parse::<f64>().ok())
                .unwrap_or(0.0) as u64;
            if sealed > before {
                return Ok(sealed);
            }
            if Instant::now() > deadline {
                bail!("no day was sealed within 120 s ({sealed} rows sealed so far)");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Shuts down the way SIGTERM does: the aggregator ends open visits
    /// (their exit pages) and flushes.
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

/// Sends beacons tick by tick with the clock set to each tick.
struct Sender {
    url: String,
    clock: Clock,
    client: reqwest::Client,
    tick: i64,
    beacons: u64,
    pageviews: u64,
    retried: Arc<AtomicU64>,
    /// Drop reasons other than `overloaded`, which should never happen.
    dropped: HashMap<String, u64>,
}

impl Sender {
    fn new(server: &Server, tick: i64) -> Sender {
        Sender {
            url: format!("http://{}/api/event", server.public),
            clock: server.clock.clone(),
            client: server.client.clone(),
            tick,
            beacons: 0,
            pageviews: 0,
            retried: Arc::default(),
            dropped: HashMap::new(),
        }
    }

    /// Sends beacons sorted by time.
    async fn send(&mut self, beacons: Vec<Beacon>) -> anyhow::Result<()> {
        let mut beacons = beacons.into_iter().peekable();
        while let Some(first) = beacons.next() {
            let tick = first.at.div_euclid(self.tick);
            self.clock
                .set(Timestamp::from_second(tick * self.tick).expect("in range"));
            let mut visits: HashMap<u64, Vec<Beacon>> = HashMap::new();
            visits.entry(first.visit).or_default().push(first);
            while let Some(beacon) = beacons.next_if(|b| b.at.div_euclid(self.tick) == tick) {
                visits.entry(beacon.visit).or_default().push(beacon);
            }
            let mut tasks = tokio::task::JoinSet::new();
            for (_, visit) in visits {
                self.beacons += visit.len() as u64;
                self.pageviews += visit.iter().filter(|b| b.is_pageview).count() as u64;
                let (client, url, retried) =
                    (self.client.clone(), self.url.clone(), self.retried.clone());
                tasks.spawn(async move {
                    let mut dropped = Vec::new();
                    for beacon in visit {
                        if let Some(reason) = post(&client, &url, &beacon, &retried).await? {
                            dropped.push(reason);
                        }
                    }
                    anyhow::Ok(dropped)
                });
            }
            while let Some(done) = tasks.join_next().await {
                for reason in done?? {
                    *self.dropped.entry(reason).or_default() += 1;
                }
            }
        }
        Ok(())
    }

    fn report(&self, day: Date, elapsed: Duration) {
        eprintln!(
            "{day}: {} beacons, {} pageviews sent in {:.0} s ({:.0} beacons/s){}",
            self.beacons,
            self.pageviews,
            elapsed.as_secs_f64(),
            self.beacons as f64 / elapsed.as_secs_f64(),
            match self.dropped.is_empty() {
                true => String::new(),
                false => format!("; dropped: {:?}", self.dropped),
            }
        );
    }
}

/// Posts one beacon; a beacon shed because the queue was full is sent
/// again (it was not counted). Returns any other drop reason.
async fn post(
    client: &reqwest::Client,
    url: &str,
    beacon: &Beacon,
    retried: &AtomicU64,
) -> anyhow::Result<Option<String>> {
    loop {
        let answer = client
            .post(url)
            .header("content-type", "text/plain")
            .header("user-agent", beacon.agent)
            .header("x-forwarded-for", beacon.ip.to_string())
            .body(beacon.body.clone())
            .send()
            .await?;
        let status = answer.status();
        let dropped = answer
            .headers()
            .get("x-kruimel-dropped")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = answer.text().await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("{status} {text} for {}", beacon.body);
        }
        match dropped.as_deref() {
            Some("overloaded") => {
                retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            _ => return Ok(dropped),
        }
    }
}
