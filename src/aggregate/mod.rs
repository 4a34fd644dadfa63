//! The aggregator: the single owner of the hot state and the count deltas.
//!
//! One thread receives hits from the bounded queue, runs them through
//! `sessions`, turns them into count deltas (`scopes`) and flushes the
//! deltas to the store in one transaction per interval, earlier when many
//! are pending, and once more when the queue closes. It also sweeps the
//! hot state and the salts, publishes realtime visitor counts, and runs
//! the retention job.
//! Invariant: only this thread touches `Sessions` and `Deltas`.

mod deltas;
mod realtime;
mod scopes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::AggregateConfig;
use crate::ingest::hit::Hit;
use crate::metrics::Metrics;
use crate::privacy::salt::SaltBook;
use crate::sessions::Sessions;
use crate::sites::{Moment, Sites};
use crate::store::{Counts, Store};

pub use deltas::Deltas;
pub use realtime::Realtime;

/// How often, in flush ticks, the hot state and salts are swept.
const SWEEP_EVERY_TICKS: u64 = 10;
/// How often, in flush ticks, the retention job runs.
const RETENTION_EVERY_TICKS: u64 = 3_600;
/// How often the aggregator empties the queue.
const DRAIN_EVERY: Duration = Duration::from_millis(5);

#[derive(Debug, PartialEq, Eq)]
enum Queue {
    Open,
    /// Every sender is gone: nothing more will arrive.
    Closed,
}

pub struct Aggregator {
    pub hits: mpsc::Receiver<Hit>,
    pub sessions: Sessions,
    pub store: Arc<Store>,
    pub sites: Arc<Sites>,
    pub salts: Arc<SaltBook>,
    pub realtime: Arc<Realtime>,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
    pub config: AggregateConfig,
}

struct Running {
    parts: Aggregator,
    deltas: Deltas,
    scratch: scopes::Scratch,
    /// A batch the store refused, retried at the next flush.
    unwritten: Vec<(Vec<u8>, Counts)>,
    ticks: u64,
}

/// Asks the aggregator to drain, flush and stop.
pub struct CloseSignal(Arc<AtomicBool>);

impl CloseSignal {
    pub fn close(&self) {
        self.0.store(true, Ordering::Release);
    }
}

impl Aggregator {
    /// Starts the aggregator on a thread of its own: its work is CPU-bound
    /// and must not hold up request handlers, and a plain thread sleeping
    /// between drains costs the request path nothing (no waker to call).
    pub fn spawn(self) -> std::io::Result<(CloseSignal, std::thread::JoinHandle<()>)> {
        let closing = Arc::new(AtomicBool::new(false));
        let signal = CloseSignal(closing.clone());
        let handle = std::thread::Builder::new()
            .name("kruimel-aggregator".to_owned())
            .spawn(move || self.run(&closing))?;
        Ok((signal, handle))
    }

    /// Runs until `closing` is set (or every sender is gone), then drains
    /// the queue, ends open visits and flushes a last time.
    fn run(self, closing: &AtomicBool) {
        let interval = Duration::from_millis(self.config.flush_interval_ms.max(10));
        let mut running = Running {
            parts: self,
            deltas: Deltas::default(),
            scratch: scopes::Scratch::default(),
            unwritten: Vec::new(),
            ticks: 0,
        };
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
            if running.deltas.len() >= running.parts.config.flush_max_keys {
                running.flush();
            }
            if Instant::now() >= next_tick {
                running.tick();
                next_tick = Instant::now() + interval;
            }
            std::thread::sleep(DRAIN_EVERY);
        }
        // The hot state ends with the process: its open visits end here.
        running.parts.sessions.end_all();
        running.count_ended_visits();
        running.flush();
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
                Ok(hit) => self.apply(&hit),
                Err(mpsc::error::TryRecvError::Empty) => return Queue::Open,
                Err(mpsc::error::TryRecvError::Disconnected) => return Queue::Closed,
            }
        }
    }

    fn apply(&mut self, hit: &Hit) {
        if let Some(visitor) = hit.visitor {
            self.parts
                .realtime
                .seen(hit.site, visitor.today, hit.at.unix);
        }
        let observation = self.parts.sessions.observe(hit);
        scopes::apply(&mut self.deltas, &mut self.scratch, hit, observation);
    }

    fn tick(&mut self) {
        self.ticks += 1;
        self.flush();
        let now = self.parts.clock.now();
        let moments: Vec<Moment> = self
            .parts
            .sites
            .iter()
            .map(|site| site.moment(now))
            .collect();
        self.parts.realtime.publish(now.as_second());
        if self.ticks % SWEEP_EVERY_TICKS == 1 {
            self.parts.sessions.sweep(&moments);
            self.count_ended_visits();
            self.parts.salts.sweep(&self.parts.sites, now);
        }
        if self.ticks % RETENTION_EVERY_TICKS == 1 {
            self.retain(&moments);
        }
        let metrics = &self.parts.metrics;
        metrics.hot_visitors.set(self.parts.sessions.len() as i64);
        metrics.queue_depth.set(self.parts.hits.len() as i64);
        metrics
            .visitors_evicted
            .inc_by(self.parts.sessions.take_evicted());
        metrics
            .salt_rotations
            .inc_by(self.parts.salts.take_rotations());
    }

    fn flush(&mut self) {
        let site_ids: Vec<&str> = self
            .parts
            .sites
            .iter()
            .map(|site| site.id.as_str())
            .collect();
        let mut batch = std::mem::take(&mut self.unwritten);
        batch.extend(self.deltas.drain_to_batch(&site_ids));
        if batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let keys = batch.len();
        let metrics = &self.parts.metrics;
        match self.parts.store.apply(&batch) {
            Ok(()) => {
                metrics
                    .flush_seconds
                    .observe(started.elapsed().as_secs_f64());
                metrics.flush_keys.observe(keys as f64);
            }
            Err(error) => {
                metrics.store_errors.inc();
                tracing::error!(%error, keys, "flush failed; deltas kept for the next flush");
                self.unwritten = batch;
            }
        }
    }

    fn retain(&mut self, moments: &[Moment]) {
        for site in self.parts.sites.iter() {
            let today = moments[site.idx.index()].day;
            let first_kept_day = today - i32::try_from(site.retention_days).unwrap_or(i32::MAX);
            let purged = self.parts.store.purge(
                site.id.as_str(),
                first_kept_day,
                first_kept_day.saturating_mul(24),
            );
            match purged {
                Ok(removed) if removed > 0 => {
                    tracing::info!(site = %site.id, removed, "retention removed old rows");
                }
                Ok(_) => {}
                Err(error) => {
                    self.parts.metrics.store_errors.inc();
                    tracing::error!(site = %site.id, %error, "retention failed");
                }
            }
        }
    }
}
