//! The aggregator's side of the shared hot state (Redis backend).
//!
//! Hits wait in a backlog until a flush resolves them: in jobs of a few
//! thousand hits, each site's share goes through `visits.lua`, then a dry
//! run of the scopes collects the credit questions for `credits.lua`, then
//! the hits are counted with the answers. A job that fails half-way is
//! retried from where it stopped under the same batch ids, so nothing is
//! counted twice. The backlog needs no bound of its own: the door admits
//! a hit only within the budget of hits queued and waiting
//! (`ingest::admission`), which this side gives back as hits are counted,
//! so when the writer falls behind or Redis is away the door sheds new
//! beacons, with the drop header, and no acknowledged hit is pushed out.
//! A job part Redis refuses five times (a script error, a key of another
//! type) is dropped and counted, so one bad batch cannot stop the rest;
//! Redis does not roll a failed script back, so part of its visit state
//! may have moved on.
//! Invariant: a hit is counted once, or dropped and counted as dropped;
//! while Redis takes the hits' batches, none is dropped.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::Timestamp;

use crate::aggregate::credit_memo::CreditMemo;
use crate::aggregate::deltas::Deltas;
use crate::aggregate::scopes::{self, Scratch};
use crate::ingest::admission::{Admission, ShedCause};
use crate::ingest::hit::Hit;
use crate::privacy::salt::SaltBook;
use crate::privacy::shared_salt::SharedSalts;
use crate::sessions::shared::{CreditAsk, SharedSessions, VisitsAnswer};
use crate::sessions::{CreditCheck, Observation};
use crate::sites::{Site, SiteIdx, Sites};
use crate::store::StoreError;

/// Hits per job: one script call per site per stage stays short.
const JOB_HITS: usize = 4_000;
/// Visitors whose known credits are remembered (about 200 bytes each).
const MEMO_VISITORS: usize = 200_000;
/// Tries of a job part that Redis refuses (a script error, out of
/// memory) before its hits are dropped and counted, so one bad batch
/// cannot stop the rest.
const REFUSALS_BEFORE_DROP: u32 = 5;

/// The shared state's handles, built at startup for the Redis backend.
pub(crate) struct Shared {
    pub sessions: SharedSessions,
    pub salts: SharedSalts,
    /// The door's budget: hits queued or waiting here, given back as they
    /// are counted.
    pub(crate) admission: Arc<Admission>,
}

struct SiteJob {
    site: SiteIdx,
    batch: u64,
    hits: Vec<Hit>,
    /// Set once `visits.lua` answered; its ended visits are counted then.
    visits: Option<VisitsAnswer>,
    refusals: u32,
}

pub(crate) struct Flow {
    shared: Shared,
    backlog: VecDeque<Hit>,
    /// Site jobs of the job in progress, still to finish.
    job: Vec<SiteJob>,
    /// Per site, a sweep that failed and is retried under its batch id.
    sweeps: Vec<Option<u64>>,
    dropped: u64,
    /// Scratch for one job: every scope asked, and those Redis must answer.
    asked: Vec<u32>,
    unknown: Vec<u32>,
    memo: CreditMemo,
    /// Whether the last call to Redis failed: then a new job waits for a
    /// ping, so hits stay in the backlog.
    failing: bool,
    /// Why the door is shedding, while it is: logged when it starts and
    /// when it stops.
    shedding: Option<ShedCause>,
}

impl Flow {
    pub(crate) fn new(shared: Shared, site_count: usize) -> Flow {
        Flow {
            shared,
            backlog: VecDeque::new(),
            job: Vec::new(),
            sweeps: vec![None; site_count],
            dropped: 0,
            asked: Vec::new(),
            unknown: Vec::new(),
            memo: CreditMemo::new(MEMO_VISITORS),
            failing: false,
            shedding: None,
        }
    }

    /// Queues a hit the door admitted; its budget holds its place.
    pub(crate) fn push(&mut self, hit: Hit) {
        self.backlog.push_back(hit);
    }

    /// Hits waiting, in the backlog and in the job in progress.
    pub(crate) fn waiting(&self) -> usize {
        self.backlog.len() + self.job.iter().map(|job| job.hits.len()).sum::<usize>()
    }

    /// Hits dropped since the last call: batches Redis refused.
    pub(crate) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// Logs when the door starts shedding, with its cause, and when it
    /// stops; called at each tick.
    pub(crate) fn note_shedding(&mut self) {
        let admission = &self.shared.admission;
        let shed = admission.take_shed();
        let now = (shed > 0).then(|| admission.cause());
        match (self.shedding, now) {
            (None, Some(cause)) => tracing::warn!(
                cause = cause.as_str(),
                waiting = admission.admitted(),
                bound = admission.limit(),
                "hits waiting for Redis reached their bound; shedding new beacons"
            ),
            (Some(before), Some(cause)) if before != cause => tracing::warn!(
                cause = cause.as_str(),
                "still shedding new beacons, for another cause"
            ),
            (Some(_), None) => tracing::info!("no longer shedding for Redis"),
            _ => {}
        }
        self.shedding = now;
    }

    /// Jobs the waiting hits make: how many `resolve_job` calls empty
    /// the backlog as it is now.
    pub(crate) fn jobs_waiting(&self) -> usize {
        usize::from(!self.job.is_empty()) + self.backlog.len().div_ceil(JOB_HITS)
    }

    /// Resolves the job in progress, or a new one from the oldest hits,
    /// into `deltas`; false when nothing waits. A failure leaves the job
    /// to go on from where it stopped next time.
    pub(crate) fn resolve_job(
        &mut self,
        sites: &Sites,
        deltas: &mut Deltas,
        scratch: &mut Scratch,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = self.run_job(sites, deltas, scratch, now);
        self.note_answer(result.is_ok());
        result
    }

    fn run_job(
        &mut self,
        sites: &Sites,
        deltas: &mut Deltas,
        scratch: &mut Scratch,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.forget_past_days(sites, now);
        if self.job.is_empty() {
            if self.backlog.is_empty() {
                return Ok(false);
            }
            if self.failing {
                self.shared.sessions.ping()?;
            }
            self.start_job();
        }
        while let Some(job) = self.job.first_mut() {
            let site = sites.get(job.site);
            let now = site.moment(now).unix;
            let scratch_lists = CreditLists {
                asked: &mut self.asked,
                unknown: &mut self.unknown,
                memo: &mut self.memo,
            };
            match run_site_job(&self.shared, job, scratch_lists, deltas, scratch, site, now) {
                Ok(()) => {
                    let done = self.job.remove(0);
                    self.shared.admission.release(done.hits.len());
                }
                Err(error) if error.is_deterministic() => {
                    job.refusals += 1;
                    if job.refusals < REFUSALS_BEFORE_DROP {
                        return Err(error);
                    }
                    tracing::error!(%error, hits = job.hits.len(), "Redis refused a batch repeatedly; its hits are dropped");
                    self.dropped += job.hits.len() as u64;
                    let refused = self.job.remove(0);
                    self.shared.admission.release(refused.hits.len());
                }
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }

    /// Moves the oldest hits into a new job, one part per site.
    fn start_job(&mut self) {
        let take = self.backlog.len().min(JOB_HITS);
        let mut parts: Vec<SiteJob> = Vec::new();
        for hit in self.backlog.drain(..take) {
            match parts.iter_mut().find(|job| job.site == hit.site) {
                Some(job) => job.hits.push(hit),
                None => parts.push(SiteJob {
                    site: hit.site,
                    batch: rand::random(),
                    hits: vec![hit],
                    visits: None,
                    refusals: 0,
                }),
            }
        }
        self.job = parts;
    }

    /// Empties the credit memo when any site's day has moved, also when no
    /// hit has come since, so no visitor hash outlives its salt here.
    fn forget_past_days(&mut self, sites: &Sites, now: Timestamp) {
        self.memo
            .enter_days(sites.iter().map(|site| site.moment(now).day));
    }

    /// Ends idle visits of every site and counts their exit pages. Idle is
    /// judged at the oldest hit still waiting, if it is older than `now`:
    /// a visit that waiting hit continues must not end before the hit is
    /// resolved, or the hit would open a second visit.
    pub(crate) fn sweep(
        &mut self,
        sites: &Sites,
        deltas: &mut Deltas,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.forget_past_days(sites, now);
        let oldest_waiting = self
            .job
            .iter()
            .filter_map(|job| job.hits.first())
            .chain(self.backlog.front())
            .map(|hit| hit.at.unix)
            .min();
        let judged_at = oldest_waiting
            .and_then(|unix| Timestamp::from_second(unix).ok())
            .map_or(now, |oldest| oldest.min(now));
        for site in sites.iter() {
            if self.sweeps.len() <= site.idx.index() {
                self.sweeps.resize(site.idx.index() + 1, None);
            }
            let batch = *self.sweeps[site.idx.index()].get_or_insert_with(rand::random);
            let ended = self
                .shared
                .sessions
                .sweep(site, batch, site.moment(judged_at))?;
            for visit in &ended {
                scopes::apply_ended(deltas, visit);
            }
            self.sweeps[site.idx.index()] = None;
        }
        Ok(())
    }

    /// Realtime visitors per site, from the shared visit state. Called at
    /// every tick, it is also how an outage is noticed between jobs.
    pub(crate) fn realtime(
        &mut self,
        sites: &Sites,
        now: Timestamp,
    ) -> Result<Vec<u64>, StoreError> {
        let result: Result<Vec<u64>, StoreError> = sites
            .iter()
            .map(|site| self.shared.sessions.realtime(site, site.moment(now)))
            .collect();
        if result.is_err() {
            self.note_answer(false);
        }
        result
    }

    /// Remembers whether Redis answered the last call, for the next job
    /// and for the door's count of why it sheds.
    fn note_answer(&mut self, answered: bool) {
        self.failing = !answered;
        self.shared.admission.set_redis_away(!answered);
    }

    pub(crate) fn sync_salts(
        &self,
        book: &SaltBook,
        sites: &Sites,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.shared.salts.sync(book, sites, now)
    }
}

/// The credit questions of one job, and what this instance already knows.
struct CreditLists<'a> {
    asked: &'a mut Vec<u32>,
    unknown: &'a mut Vec<u32>,
    memo: &'a mut CreditMemo,
}

/// Takes one site's part of a job through the stages it has not passed.
fn run_site_job(
    shared: &Shared,
    job: &mut SiteJob,
    lists: CreditLists,
    deltas: &mut Deltas,
    scratch: &mut Scratch,
    site: &Site,
    now: i64,
) -> Result<(), StoreError> {
    let CreditLists {
        asked,
        unknown,
        memo,
    } = lists;
    if job.visits.is_none() {
        let answer = shared.sessions.visits(site, job.batch, &job.hits, now)?;
        for ended in &answer.ended {
            scopes::apply_ended(deltas, ended);
        }
        for (at, added) in &answer.engaged {
            scopes::apply_engagement(deltas, &job.hits[*at], *added);
        }
        job.visits = Some(answer);
    }
    let changes = &job.visits.as_ref().expect("set above").changes;
    // A dry run collects each hit's credit questions; those this instance
    // already knows the answer to are not sent.
    let mut asked_at = Vec::with_capacity(job.hits.len());
    let mut unknown_at = Vec::with_capacity(job.hits.len());
    asked.clear();
    unknown.clear();
    // Per asked scope: whether it goes to Redis.
    let mut sent = Vec::new();
    for (hit, change) in job.hits.iter().zip(changes) {
        let (start, unknown_start) = (asked.len(), unknown.len());
        if let (Some(visitor), Some(_)) = (hit.visitor, change) {
            let observation = Observation {
                credits: CreditCheck::Record(asked),
                visit: change.clone(),
            };
            scopes::apply(deltas, scratch, hit, observation);
            let visitor = visitor.today.value();
            for scope in &asked[start..] {
                let known = memo.knows(visitor, *scope);
                sent.push(!known);
                if !known {
                    unknown.push(*scope);
                }
            }
        }
        asked_at.push(start..asked.len());
        unknown_at.push(unknown_start..unknown.len());
    }
    let asks: Vec<CreditAsk> = job
        .hits
        .iter()
        .zip(&unknown_at)
        .filter(|(_, range)| !range.is_empty())
        .filter_map(|(hit, range)| {
            Some(CreditAsk {
                visitor: hit.visitor?.today,
                life_ms: shared.sessions.life_ms(site, hit.at.day, now),
                scopes: &unknown[range.clone()],
            })
        })
        .collect();
    let mut answers = if asks.is_empty() {
        Vec::new()
    } else {
        shared.sessions.credits(site, job.batch, &asks)?
    }
    .into_iter();
    let mut bits = Vec::new();
    for ((hit, change), (asked_range, unknown_range)) in job
        .hits
        .iter()
        .zip(changes)
        .zip(asked_at.into_iter().zip(unknown_at))
    {
        let credits = match hit.visitor {
            Some(visitor) => {
                let visitor = visitor.today.value();
                let answered = if unknown_range.is_empty() {
                    Vec::new()
                } else {
                    answers.next().unwrap_or_default()
                };
                let mut answered = answered.into_iter();
                bits.clear();
                for was_sent in &sent[asked_range.clone()] {
                    bits.push(if *was_sent {
                        answered.next().unwrap_or(b'0')
                    } else {
                        b'0'
                    });
                }
                memo.learn(visitor, &asked[asked_range]);
                CreditCheck::Answered {
                    bits: &bits,
                    next: 0,
                }
            }
            None => CreditCheck::Anonymous,
        };
        let observation = Observation {
            credits,
            visit: change.clone(),
        };
        scopes::apply(deltas, scratch, hit, observation);
    }
    if let Err(error) = shared.sessions.forget(site, job.batch) {
        tracing::debug!(%error, "credits answer left to expire");
    }
    Ok(())
}
