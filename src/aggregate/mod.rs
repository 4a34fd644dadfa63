//! The aggregator: the single owner of the hot state and the count deltas.
//!
//! One thread receives hits from the bounded queue, runs them through
//! `sessions`, turns them into count deltas (`scopes`) and flushes the
//! deltas to the store in one transaction per interval (on Redis, per
//! `store.redis.write_interval_ms`), earlier when many are pending, and
//! once more when the queue closes. It also sweeps the
//! hot state and the salts, publishes realtime visitor counts, and runs
//! the retention job; `rollup` sums finished months on a thread of its
//! own. With the Redis backend the hot state is shared and
//! the hits are resolved against it at each flush (`shared`).
//! Invariant: only this thread touches `Sessions` and `Deltas`.

mod credit_memo;
mod deltas;
pub mod distinct;
pub(crate) mod realtime;
pub(crate) mod rollup;
mod scopes;
pub(crate) mod shared;
pub(crate) mod stored_bytes;
mod upkeep;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{AggregateConfig, DistinctValues};
use crate::ingest::hit::{Hit, HitKind};
use crate::metrics::Metrics;
use crate::privacy::salt::SaltBook;
use crate::sessions::Sessions;
use crate::sites::{LiveSites, Moment};
use crate::store::{Counts, Store, StoreError};

pub use deltas::Deltas;
pub(crate) use realtime::Realtime;
pub(crate) use rollup::Rollup;
pub(crate) use shared::Shared;

/// How often, in flush ticks, the hot state and salts are swept.
const SWEEP_EVERY_TICKS: u64 = 10;
/// How often, in flush ticks, the retention job runs.
const RETENTION_EVERY_TICKS: u64 = 3_600;
/// How often the aggregator empties the queue.
const DRAIN_EVERY: Duration = Duration::from_millis(5);

/// The aggregator thread's nice value. Its work can wait a few
/// milliseconds (the queue holds 65,536 hits and is drained every 5 ms),
/// an answer cannot: at equal priority the scheduler preempts request
/// workers for it, and every beacon in flight waits. Niced, it takes the
/// time the workers leave, which on a busy machine is most of what it needs;
/// when it is not enough the queue fills and the door sheds, counted, as
/// before. Measured in BENCHMARKS.md ("The aggregator yields").
const AGGREGATOR_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority (on Linux a nice value
/// belongs to a thread). Lowering needs no privilege; should it fail, the
/// aggregator runs as it did before, at the process's priority.
fn yield_to_requests() {
    if let Err(error) = rustix::process::setpriority_process(None, AGGREGATOR_NICE) {
        tracing::debug!(%error, "aggregator priority unchanged");
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Queue {
    Open,
    /// Every sender is gone: nothing more will arrive.
    Closed,
}

pub(crate) struct Aggregator {
    pub hits: mpsc::Receiver<Hit>,
    pub sessions: Sessions,
    pub store: Arc<Store>,
    pub sites: LiveSites,
    pub salts: Arc<SaltBook>,
    pub realtime: Arc<Realtime>,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
    pub config: AggregateConfig,
    /// How long count deltas merge before they are written: one flush
    /// interval on the embedded store, `store.redis.write_interval_ms` on
    /// Redis, where each write is a script call on a server every instance
    /// shares.
    pub write_every: Duration,
    /// The daily cap on distinct values per site and property.
    pub distinct: DistinctValues,
    /// The shared hot state, with the Redis backend.
    pub shared: Option<Shared>,
}

struct Running {
    parts: Aggregator,
    deltas: Deltas,
    scratch: scopes::Scratch,
    cap: distinct::DistinctCap,
    /// Hits waiting for the shared hot state, with the Redis backend.
    flow: Option<shared::Flow>,
    /// A batch the store refused and its id, retried before any other.
    unwritten: Option<(u64, Batch)>,
    /// Whether the last store call failed, so failures are logged once.
    failing: bool,
    ticks: u64,
    /// Ticks between writes of the deltas (at least one).
    write_every_ticks: u64,
}

type Batch = Vec<(Vec<u8>, Counts)>;

/// Resolve the shared backlog early once this many hits wait.
const EARLY_RESOLVE_HITS: usize = 20_000;

/// Asks the aggregator to drain, flush and stop.
pub(crate) struct CloseSignal(Arc<AtomicBool>);

impl CloseSignal {
    pub(crate) fn close(&self) {
        self.0.store(true, Ordering::Release);
    }
}

impl Aggregator {
    /// Starts the aggregator on a thread of its own: its work is CPU-bound
    /// and must not hold up request handlers, and a plain thread sleeping
    /// between drains costs the request path nothing (no waker to call).
    /// The thread runs at a lower scheduling priority than the request
    /// workers (`AGGREGATOR_NICE`).
    pub(crate) fn spawn(self) -> std::io::Result<(CloseSignal, std::thread::JoinHandle<()>)> {
        let closing = Arc::new(AtomicBool::new(false));
        let signal = CloseSignal(closing.clone());
        let handle = std::thread::Builder::new()
            .name("kruimel-aggregator".to_owned())
            .spawn(move || {
                yield_to_requests();
                self.run(&closing)
            })?;
        Ok((signal, handle))
    }

    /// Runs until `closing` is set (or every sender is gone), then drains
    /// the queue, ends open visits and flushes a last time.
    fn run(mut self, closing: &AtomicBool) {
        let interval = Duration::from_millis(self.config.flush_interval_ms.max(10));
        let write_every_ticks = self
            .write_every
            .as_millis()
            .div_ceil(interval.as_millis())
            .clamp(1, u128::from(u64::MAX)) as u64;
        let flow = self
            .shared
            .take()
            .map(|shared| shared::Flow::new(shared, self.sites.load().len()));
        let cap = distinct::DistinctCap::new(self.distinct.clone());
        let mut running = Running {
            parts: self,
            deltas: Deltas::default(),
            scratch: scopes::Scratch::default(),
            cap,
            flow,
            unwritten: None,
            failing: false,
            ticks: 0,
            write_every_ticks,
        };
        running.sync_salts();
        let sites = running.parts.sites.load_full();
        let now = running.parts.clock.now();
        let moments: Vec<Moment> = sites.iter().map(|site| site.moment(now)).collect();
        running.seed_cap(&sites, &moments);
        running.publish_visitors_today(&sites, &moments);
        let mut next_tick = Instant::now();
        loop {
            let closed = closing.load(Ordering::Acquire);
            if closed {
                running.parts.hits.close();
            }
            let queue = running.drain_queue();
            running.count_ended_visits();
            if closed || queue == Queue::Closed {
                break;
            }
            let waiting = running.flow.as_ref().map_or(0, shared::Flow::waiting);
            // A failing store is retried at the interval, not every drain.
            if !running.failing
                && (running.deltas.len() >= running.parts.config.flush_max_keys
                    || waiting >= EARLY_RESOLVE_HITS)
            {
                running.flush(false);
            }
            if Instant::now() >= next_tick {
                running.tick();
                next_tick = Instant::now() + interval;
            }
            std::thread::sleep(DRAIN_EVERY);
        }
        if running.flow.is_none() {
            // The local hot state ends with the process: so do its visits.
            running.parts.sessions.end_all();
            running.count_ended_visits();
        }
        running.final_flush();
        running.report_unwritten();
        if let Some(flow) = &running.flow
            && flow.waiting() > 0
        {
            tracing::error!(
                hits = flow.waiting(),
                "stopping with hits the shared state could not take"
            );
        }
        tracing::info!("aggregator stopped after final flush");
    }
}

impl Running {
    fn count_ended_visits(&mut self) {
        for ended in self.parts.sessions.take_ended() {
            scopes::apply_ended(&mut self.deltas, &ended);
        }
    }

    fn drain_queue(&mut self) -> Queue {
        loop {
            match self.parts.hits.try_recv() {
                Ok(hit) => self.apply(hit),
                Err(mpsc::error::TryRecvError::Empty) => return Queue::Open,
                Err(mpsc::error::TryRecvError::Disconnected) => return Queue::Closed,
            }
        }
    }

    fn apply(&mut self, mut hit: Hit) {
        self.cap.apply(&mut hit);
        if let Some(flow) = &mut self.flow {
            flow.push(hit);
            return;
        }
        let hit = &hit;
        if matches!(hit.kind, HitKind::Engagement(_)) {
            if let Some(added) = self.parts.sessions.engage(hit) {
                scopes::apply_engagement(&mut self.deltas, hit, added);
            }
            return;
        }
        let observation = self.parts.sessions.observe(hit);
        scopes::apply(&mut self.deltas, &mut self.scratch, hit, observation);
    }

    fn tick(&mut self) {
        self.ticks += 1;
        self.flush(self.ticks.is_multiple_of(self.write_every_ticks));
        let now = self.parts.clock.now();
        let sites = self.parts.sites.load_full();
        let moments: Vec<Moment> = sites.iter().map(|site| site.moment(now)).collect();
        self.sync_salts();
        match &mut self.flow {
            None => {
                let window = realtime::WINDOW_SECONDS;
                let counts =
                    self.parts
                        .sessions
                        .recent_per_site(now.as_second(), window, sites.len());
                self.parts.realtime.publish_counts(&counts);
            }
            Some(flow) => match flow.realtime(&sites, now) {
                Ok(counts) => self.parts.realtime.publish_counts(&counts),
                Err(error) => tracing::debug!(%error, "realtime count unavailable"),
            },
        }
        if self.ticks % SWEEP_EVERY_TICKS == 1 {
            match &mut self.flow {
                None => {
                    self.parts.sessions.sweep(&moments);
                    self.count_ended_visits();
                }
                Some(flow) => {
                    let swept = flow.sweep(&sites, &mut self.deltas, now);
                    self.note_store(swept, "sweeping shared visits");
                }
            }
            self.parts.salts.sweep(&sites, now);
            self.publish_visitors_today(&sites, &moments);
        }
        if self.ticks % RETENTION_EVERY_TICKS == 1 {
            self.retain(&sites, &moments);
        }
        let metrics = &self.parts.metrics;
        metrics.hot_visitors.set(self.parts.sessions.len() as i64);
        metrics
            .hot_credits
            .set(self.parts.sessions.credits_held() as i64);
        metrics.queue_depth.set(self.parts.hits.len() as i64);
        metrics
            .visitors_evicted
            .inc_by(self.parts.sessions.take_evicted());
        metrics
            .salt_rotations
            .inc_by(self.parts.salts.take_rotations());
        metrics
            .salt_age
            .set(self.parts.salts.oldest_age(&sites, now));
        self.report_capped(&sites);
        let metrics = &self.parts.metrics;
        if let Some(flow) = &mut self.flow {
            metrics.redis_backlog.set(flow.waiting() as i64);
            metrics.redis_dropped.inc_by(flow.take_dropped());
            flow.note_shedding();
        }
    }

    fn sync_salts(&mut self) {
        if let Some(flow) = &self.flow {
            let sites = self.parts.sites.load();
            let synced = flow.sync_salts(&self.parts.salts, &sites, self.parts.clock.now());
            self.note_store(synced, "fetching the shared salt");
        }
    }

    /// Logs a store failure once, and its recovery once.
    fn note_store(&mut self, result: Result<(), StoreError>, doing: &str) {
        match result {
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("store reachable again");
            }
            Ok(()) => {}
            Err(error) => {
                self.parts.metrics.store_errors.inc();
                if !self.failing {
                    tracing::error!(%error, "{doing} failed; retrying");
                }
                self.failing = true;
            }
        }
    }

    /// Retries a refused batch, resolves the hits waiting for the shared
    /// state, and writes the deltas when `write` is set or they reached
    /// `aggregate.flush_max_keys`.
    fn flush(&mut self, write: bool) {
        if let Some((id, batch)) = self.unwritten.take()
            && let Err(batch) = self.write(id, batch)
        {
            self.unwritten = Some((id, batch));
            return;
        }
        self.resolve_shared();
        if !write && self.deltas.len() < self.parts.config.flush_max_keys {
            return;
        }
        let sites = self.parts.sites.load_full();
        let site_ids: Vec<&str> = sites.iter().map(|site| site.id.as_str()).collect();
        let batch = self.deltas.drain_to_batch(&site_ids);
        if batch.is_empty() {
            return;
        }
        let id = rand::random();
        if let Err(batch) = self.write(id, batch) {
            self.unwritten = Some((id, batch));
        }
    }

    /// Logs what the store did not take at shutdown, in beacons: the
    /// refused batch and the deltas counted since (a refused batch holds
    /// later flushes back).
    fn report_unwritten(&mut self) {
        let sites = self.parts.sites.load_full();
        let site_ids: Vec<&str> = sites.iter().map(|site| site.id.as_str()).collect();
        let mut lost = self
            .unwritten
            .take()
            .map(|(_, batch)| batch)
            .unwrap_or_default();
        lost.extend(self.deltas.drain_to_batch(&site_ids));
        if lost.is_empty() {
            return;
        }
        let (mut pageviews, mut events) = (0, 0);
        for (key, counts) in &lost {
            if let Ok((prefix, _)) = crate::store::schema::decode_key(key)
                && prefix.filter.0 == crate::store::Dim::None
                && prefix.breakdown == crate::store::Dim::None
                && prefix.granularity == crate::store::Granularity::Day
            {
                pageviews += counts.pageviews;
                events += counts.events;
            }
        }
        tracing::error!(
            keys = lost.len(),
            pageviews,
            events,
            "stopping with counts the store did not take: they are lost"
        );
    }

    /// Flushes until nothing waits, or a flush no longer makes progress.
    fn final_flush(&mut self) {
        loop {
            let before = self.flow.as_ref().map_or(0, shared::Flow::waiting);
            self.flush(true);
            let after = self.flow.as_ref().map_or(0, shared::Flow::waiting);
            if after == 0 || after >= before {
                return;
            }
        }
    }

    /// Resolves the hits waiting for the shared state, job by job, taking
    /// new hits off the queue between jobs so it does not fill meanwhile.
    /// Hits that arrive during the call wait for the next one, and so do
    /// those left after one flush interval, so ticks keep their pace.
    fn resolve_shared(&mut self) {
        let Some(flow) = &self.flow else {
            return;
        };
        let started = Instant::now();
        let budget = Duration::from_millis(self.parts.config.flush_interval_ms.max(10));
        for _ in 0..flow.jobs_waiting() {
            if started.elapsed() >= budget {
                return;
            }
            let Some(flow) = &mut self.flow else {
                return;
            };
            let sites = self.parts.sites.load_full();
            let resolved = flow.resolve_job(
                &sites,
                &mut self.deltas,
                &mut self.scratch,
                self.parts.clock.now(),
            );
            let more = matches!(resolved, Ok(true));
            self.note_store(
                resolved.map(drop),
                "resolving hits against the shared state",
            );
            if !more {
                return;
            }
            // A closed queue is seen again by the main loop.
            let _ = self.drain_queue();
        }
    }

    /// Writes one batch; gives it back when the store refused it.
    fn write(&mut self, id: u64, batch: Batch) -> Result<(), Batch> {
        let started = Instant::now();
        let keys = batch.len();
        let result = self.parts.store.apply(id, &batch);
        let failed = result.is_err();
        self.note_store(result, "writing counts");
        if failed {
            return Err(batch);
        }
        let metrics = &self.parts.metrics;
        metrics
            .flush_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.flush_keys.observe(keys as f64);
        Ok(())
    }
}
