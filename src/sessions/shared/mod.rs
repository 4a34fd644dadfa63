//! Visitor and visit state shared by every instance, in Redis (promises 3
//! and 4 across instances).
//!
//! The same rules as the in-memory `Sessions`, run by Lua scripts inside
//! Redis so that two instances seeing one visitor agree: a batch of one
//! site's hits moves its visits on (`visits.lua`), then credits its
//! visitors to counting scopes (`credits.lua`); idle visits are ended by
//! `sweep.lua`. The aggregator calls these once per flush per site, never
//! per hit. Each call records its answer under the batch id, so a call
//! retried after a lost reply gets the same answer and changes nothing.
//! Keys (`<prefix>:{site}:v:<visitor>`, `…:c:<visitor>`, `…:open:<day>`) expire
//! with the salt of their day: the end of the day plus the visit timeout.
//! Invariant: they hold visitor hashes, cleaned pages and classes, never
//! an IP address or a user agent.

mod attrs;

use std::sync::Arc;

use redis::Script;

use crate::aggregate::realtime::WINDOW_SECONDS;
use crate::ingest::hit::{Hit, HitKind};
use crate::privacy::visitor::VisitorId;
use crate::sessions::visit::ends_bounce_alone;
use crate::sessions::{EndedVisit, PageEngagement, VisitChange};
use crate::sites::{Moment, Site};
use crate::store::StoreError;
use crate::store::redis::Pool;

/// How long an answer is kept for a retry after a lost reply. The next
/// stage deletes it once used; the expiry only bounds what a stopped
/// instance leaves behind. A retry comes at the next flush, or once
/// Redis is back; an answer Redis persisted survives its restart.
const ANSWER_LIFE_MS: u64 = 15 * 60 * 1_000;

pub struct SharedSessions {
    pool: Arc<Pool>,
    timeout_seconds: i64,
    visits: Script,
    credits: Script,
    sweep: Script,
}

/// What one batch did to its hits' visits.
pub struct VisitsAnswer {
    /// Per hit, in order; `None` for anonymous hits.
    pub changes: Vec<Option<VisitChange>>,
    /// Visits replaced by a new one after their timeout.
    pub ended: Vec<EndedVisit>,
    /// Per engagement report that was counted: its place among the hits
    /// and what it adds to its page's sums.
    pub engaged: Vec<(usize, PageEngagement)>,
}

/// One hit's question to `credits.lua`.
pub struct CreditAsk<'a> {
    pub visitor: VisitorId,
    pub(crate) life_ms: i64,
    pub scopes: &'a [u32],
}

type HitAnswer = (i64, i64, i32, i32, i64, i64, Vec<u8>);
type EndedAnswer = (Vec<u8>, Vec<u8>, i64, i32, i32);

impl SharedSessions {
    pub fn new(pool: Arc<Pool>, timeout_seconds: i64) -> SharedSessions {
        SharedSessions {
            pool,
            timeout_seconds,
            visits: Script::new(include_str!("visits.lua")),
            credits: Script::new(include_str!("credits.lua")),
            sweep: Script::new(include_str!("sweep.lua")),
        }
    }

    /// Milliseconds until a visitor's state of `day` must be gone: a second
    /// before its salt, which ends with that day plus the visit timeout.
    pub(crate) fn life_ms(&self, site: &Site, day: i32, now: i64) -> i64 {
        let ends = site.start_of_day(day + 1).as_second() + self.timeout_seconds;
        ((ends - now).max(2) - 1) * 1_000
    }

    fn answer_key(&self, site: &Site, stage: &str, batch: u64) -> String {
        format!(
            "{}res:{stage}:{batch:016x}",
            self.pool.site_prefix(site.id.as_str())
        )
    }

    /// Moves the visits of one site's hits on; `hits` all belong to `site`.
    pub fn visits(
        &self,
        site: &Site,
        batch: u64,
        hits: &[Hit],
        now: i64,
    ) -> Result<VisitsAnswer, StoreError> {
        let mut call = self.visits.prepare_invoke();
        call.key(self.answer_key(site, "v", batch))
            .arg(self.pool.site_prefix(site.id.as_str()))
            .arg(self.timeout_seconds)
            .arg(ANSWER_LIFE_MS);
        let mut blobs = Vec::with_capacity(hits.len());
        for hit in hits {
            let Some(visitor) = hit.visitor else {
                blobs.push(Vec::new());
                continue;
            };
            let blob = attrs::encode_hit(hit);
            // A report sends its scroll depth in the slot of "interactive".
            let (kind, interactive) = match hit.kind {
                HitKind::Pageview => ("1", 0),
                HitKind::Event { .. } => ("0", i16::from(ends_bounce_alone(hit))),
                HitKind::Engagement(report) => ("e", report.scroll_depth.map_or(-1, i16::from)),
            };
            call.arg(visitor.today.to_hex())
                .arg(visitor.yesterday.map(|id| id.to_hex()).unwrap_or_default())
                .arg(hit.at.unix)
                .arg(hit.at.day)
                .arg(hit.at.hour)
                .arg(kind)
                .arg(interactive)
                .arg(hit.page.as_str())
                .arg(blob.as_slice())
                .arg(self.life_ms(site, hit.at.day, now));
            blobs.push(blob);
        }
        if blobs.iter().all(Vec::is_empty) {
            return Ok(VisitsAnswer {
                changes: hits.iter().map(|_| None).collect(),
                ended: Vec::new(),
                engaged: Vec::new(),
            });
        }
        let (answers, ended): (Vec<HitAnswer>, Vec<EndedAnswer>) =
            self.pool.with(|conn| call.invoke(conn))?;
        let mut answers = answers.into_iter();
        let mut changes = Vec::with_capacity(hits.len());
        let mut engaged = Vec::new();
        for (at, (hit, blob)) in hits.iter().zip(&blobs).enumerate() {
            if hit.visitor.is_none() {
                changes.push(None);
                continue;
            }
            let (started, unix, day, hour, bounce_delta, duration_delta, other) = answers
                .next()
                .ok_or(StoreError::Corrupt("visits answer is short"))?;
            if let HitKind::Engagement(report) = hit.kind {
                changes.push(None);
                // { -1, counted, first report, first depth, depth added }
                if started == -1 && unix == 1 {
                    engaged.push((
                        at,
                        PageEngagement {
                            engaged_views: i64::from(day),
                            engaged_ms: i64::from(report.engaged_ms),
                            scrolled_views: i64::from(hour),
                            scroll_added: bounce_delta,
                        },
                    ));
                }
                continue;
            }
            let attrs = if other.is_empty() {
                attrs::decode(blob)
            } else {
                attrs::decode(&other)
            }
            .ok_or(StoreError::Corrupt("visit attributes"))?;
            changes.push(Some(VisitChange {
                attrs: Arc::new(attrs),
                start: Moment { unix, day, hour },
                started: started == 1,
                bounce_delta,
                duration_delta,
            }));
        }
        Ok(VisitsAnswer {
            changes,
            ended: ended_visits(site, ended)?,
            engaged,
        })
    }

    /// Credits visitors to scopes; per ask, "1" or "0" per scope in order.
    pub fn credits(
        &self,
        site: &Site,
        batch: u64,
        asks: &[CreditAsk],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut call = self.credits.prepare_invoke();
        call.key(self.answer_key(site, "c", batch))
            .arg(self.pool.site_prefix(site.id.as_str()))
            .arg(ANSWER_LIFE_MS)
            .arg(self.answer_key(site, "v", batch));
        for ask in asks {
            call.arg(ask.visitor.to_hex())
                .arg(ask.life_ms)
                .arg(ask.scopes.len())
                .arg(ask.scopes);
        }
        let answers: Vec<Vec<u8>> = self.pool.with(|conn| call.invoke(conn))?;
        if answers.len() != asks.len() {
            return Err(StoreError::Corrupt("credits answer has the wrong length"));
        }
        Ok(answers)
    }

    /// The credits answer is no longer needed once the counts are written.
    pub(crate) fn forget(&self, site: &Site, batch: u64) -> Result<(), StoreError> {
        let key = self.answer_key(site, "c", batch);
        self.pool
            .with(|conn| redis::cmd("DEL").arg(key).query::<i64>(conn))
            .map(drop)
    }

    /// Ends the site's visits that have been idle for the timeout.
    pub fn sweep(
        &self,
        site: &Site,
        batch: u64,
        now: Moment,
    ) -> Result<Vec<EndedVisit>, StoreError> {
        let mut call = self.sweep.prepare_invoke();
        call.key(self.answer_key(site, "s", batch))
            .arg(self.pool.site_prefix(site.id.as_str()))
            .arg(self.timeout_seconds)
            .arg(now.unix)
            .arg(ANSWER_LIFE_MS)
            .arg(now.day)
            .arg(now.day - 1);
        let ended: Vec<EndedAnswer> = self.pool.with(|conn| call.invoke(conn))?;
        let visits = ended_visits(site, ended)?;
        let key = self.answer_key(site, "s", batch);
        self.pool
            .with(|conn| redis::cmd("DEL").arg(key).query::<i64>(conn))?;
        Ok(visits)
    }

    pub fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .with(|conn| redis::cmd("PING").query::<String>(conn))
            .map(drop)
    }

    /// Visitors seen in the realtime window, across every instance.
    pub fn realtime(&self, site: &Site, now: Moment) -> Result<u64, StoreError> {
        let prefix = self.pool.site_prefix(site.id.as_str());
        let mut pipe = redis::pipe();
        for day in [now.day, now.day - 1] {
            pipe.cmd("ZCOUNT")
                .arg(format!("{prefix}open:{day}"))
                .arg(now.unix - WINDOW_SECONDS + 1)
                .arg("+inf");
        }
        let counts: Vec<u64> = self.pool.with(|conn| pipe.query(conn))?;
        Ok(counts.iter().sum())
    }
}

fn ended_visits(site: &Site, ended: Vec<EndedAnswer>) -> Result<Vec<EndedVisit>, StoreError> {
    ended
        .into_iter()
        .map(|(exit_page, blob, unix, day, hour)| {
            let attrs = attrs::decode(&blob).ok_or(StoreError::Corrupt("visit attributes"))?;
            let exit_page = String::from_utf8(exit_page)
                .map_err(|_| StoreError::Corrupt("exit page is not UTF-8"))?;
            Ok(EndedVisit {
                site: site.idx,
                attrs: Arc::new(attrs),
                start: Moment { unix, day, hour },
                exit_page: exit_page.into(),
            })
        })
        .collect()
}
