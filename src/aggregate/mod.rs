//! The aggregator: the single owner of the hot state and the count deltas.
//!
//! One task receives hits from the bounded queue, runs them through
//! `sessions`, turns them into count deltas (`scopes`) and flushes the
//! deltas to the store in one transaction per interval, earlier when many
//! are pending, and once more when the queue closes. It also sweeps the
//! hot state and the salts, publishes realtime visitor counts, and runs
//! the retention job.
//! Invariant: only this task touches `Sessions` and `Deltas`.

mod deltas;
mod realtime;
mod scopes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

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

impl Aggregator {
    /// Runs until `close` fires (or every sender is gone), then drains the
    /// queue and flushes a last time.
    pub async fn run(self, mut close: oneshot::Receiver<()>) {
        let interval = Duration::from_millis(self.config.flush_interval_ms.max(10));
        let mut running = Running {
            parts: self,
            deltas: Deltas::default(),
            scratch: scopes::Scratch::default(),
            unwritten: Vec::new(),
            ticks: 0,
        };
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Draining on a short timer instead of waking on every hit: a waiting
        // receiver would make every `try_send` on the request path wake this
        // task across threads.
        let mut drain = tokio::time::interval(DRAIN_EVERY);
        drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = drain.tick() => {
                    let queue = running.drain_queue();
                    running.count_ended_visits();
                    if queue == Queue::Closed {
                        break;
                    }
                    if running.deltas.len() >= running.parts.config.flush_max_keys {
                        running.flush().await;
                    }
                }
                _ = ticker.tick() => running.tick().await,
                _ = &mut close => {
                    running.parts.hits.close();
                    while let Some(hit) = running.parts.hits.recv().await {
                        running.apply(&hit);
                    }
                    break;
                }
            }
        }
        // The hot state ends with the process: its open visits end here.
        running.parts.sessions.end_all();
        running.count_ended_visits();
        running.flush().await;
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

    async fn tick(&mut self) {
        self.ticks += 1;
        self.flush().await;
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
            self.retain(&moments).await;
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

    async fn flush(&mut self) {
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
        let store = self.parts.store.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let result = store.apply(&batch);
            (result, batch)
        })
        .await;
        let metrics = &self.parts.metrics;
        match outcome {
            Ok((Ok(()), _)) => {
                metrics
                    .flush_seconds
                    .observe(started.elapsed().as_secs_f64());
                metrics.flush_keys.observe(keys as f64);
            }
            Ok((Err(error), batch)) => {
                metrics.store_errors.inc();
                tracing::error!(%error, keys, "flush failed; deltas kept for the next flush");
                self.unwritten = batch;
            }
            Err(error) => {
                metrics.store_errors.inc();
                tracing::error!(%error, keys, "flush task failed; deltas lost");
            }
        }
    }

    async fn retain(&mut self, moments: &[Moment]) {
        for site in self.parts.sites.iter() {
            let today = moments[site.idx.index()].day;
            let first_kept_day = today - i32::try_from(site.retention_days).unwrap_or(i32::MAX);
            let store = self.parts.store.clone();
            let id = site.id.as_str().to_owned();
            let result = tokio::task::spawn_blocking(move || {
                store.purge(&id, first_kept_day, first_kept_day.saturating_mul(24))
            })
            .await;
            match result {
                Ok(Ok(removed)) if removed > 0 => {
                    tracing::info!(site = %site.id, removed, "retention removed old rows");
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    self.parts.metrics.store_errors.inc();
                    tracing::error!(site = %site.id, %error, "retention failed");
                }
                Err(error) => tracing::error!(%error, "retention task failed"),
            }
        }
    }
}
