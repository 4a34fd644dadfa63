//! The monthly roll-up: once a month is over, its daily rows are summed
//! into one row per prefix and value (`Granularity::Month`), so a 12-month
//! breakdown reads twelve rows of each value instead of 365.
//!
//! It runs on a thread of its own, at start and every `ROLLUP_EVERY`, so
//! the aggregator's flushes never wait for it: the store reads a month in
//! one snapshot and writes monthly rows in short transactions. A month is
//! due once the whole day after it has passed (every visit of it has ended
//! and been flushed by then) and only while all of it is within retention,
//! so its monthly rows are the exact sums of its days. Queries read a month
//! from its monthly rows only while it is listed as rolled up; a flush that
//! writes one of its days later takes it off the list, and it is due again.
//! The same thread seals finished days first (`Store::seal`: either
//! store moves a day's rows into its compact form once the whole day after
//! it has passed), and measures each site's bytes at rest (`stored_bytes`)
//! before its first pass and every hour after. Besides every
//! `ROLLUP_EVERY`, a pass runs when a site's local day changes, so days are
//! sealed as they finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::CloseSignal;
use crate::calendar::Day;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::sites::{LiveSites, Site};
use crate::store::Store;

/// How often the roll-up looks for months that are due.
const ROLLUP_EVERY: Duration = Duration::from_secs(600);
/// How often each site's bytes at rest are measured.
const MEASURE_EVERY: Duration = Duration::from_secs(3600);
/// A month is due on this day after its last day, in local time: the
/// whole day between has passed.
const DAYS_AFTER_MONTH: i32 = 2;
/// How often a sleeping roll-up thread checks whether to stop.
const NAP: Duration = Duration::from_millis(200);

pub(crate) struct Rollup {
    pub store: Arc<Store>,
    pub sites: LiveSites,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
}

/// The months of a site due for a roll-up, by their first days: over for
/// `DAYS_AFTER_MONTH` days, wholly within retention, not rolled up yet.
pub(crate) fn due_months(today: i32, retention_days: u32, rolled: &[i32]) -> Vec<i32> {
    let first_kept = today.saturating_sub(i32::try_from(retention_days).unwrap_or(i32::MAX));
    let month_end = |month: i32| Day::new(month).last_of_month().number();
    let mut month = Day::new(first_kept).first_of_month().number();
    if month < first_kept {
        month = month_end(month) + 1;
    }
    let mut due = Vec::new();
    while month_end(month) + DAYS_AFTER_MONTH <= today {
        if rolled.binary_search(&month).is_err() {
            due.push(month);
        }
        month = month_end(month) + 1;
    }
    due
}

impl Rollup {
    pub(crate) fn spawn(self) -> std::io::Result<(CloseSignal, std::thread::JoinHandle<()>)> {
        let closing = Arc::new(AtomicBool::new(false));
        let signal = CloseSignal(closing.clone());
        let handle = std::thread::Builder::new()
            .name("kruimel-rollup".to_owned())
            .spawn(move || self.run(&closing))?;
        Ok((signal, handle))
    }

    fn run(self, closing: &AtomicBool) {
        let mut measured = None;
        loop {
            if measured.is_none_or(|at: Instant| at.elapsed() >= MEASURE_EVERY) {
                let sites = self.sites.load_full();
                super::stored_bytes::measure(&self.store, &sites, &self.metrics);
                measured = Some(Instant::now());
            }
            let days = self.days();
            self.pass(closing);
            let next = Instant::now() + ROLLUP_EVERY;
            while Instant::now() < next && self.days() == days {
                if closing.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(NAP);
            }
        }
    }

    /// Each site's local day now.
    fn days(&self) -> Vec<i32> {
        let now = self.clock.now();
        let sites = self.sites.load_full();
        sites.iter().map(|site| site.moment(now).day).collect()
    }

    /// Seals each site's days before yesterday: the whole day after them has
    /// passed, so every visit of theirs has ended and been flushed.
    fn seal(&self, site: &Site, today: i32) {
        let started = Instant::now();
        match self.store.seal(site.id.as_str(), today - 1) {
            Ok(0) => {}
            Ok(rows) => {
                self.metrics.sealed_rows.inc_by(rows);
                let seconds = started.elapsed().as_secs_f64();
                tracing::info!(site = %site.id, rows, seconds, "finished days sealed");
            }
            Err(error) => {
                self.metrics.store_errors.inc();
                tracing::error!(site = %site.id, %error, "sealing finished days failed");
            }
        }
    }

    /// Rolls up every due month of every site, oldest first.
    fn pass(&self, closing: &AtomicBool) {
        let sites = self.sites.load_full();
        let now = self.clock.now();
        let mut work: Vec<(&Site, Vec<i32>)> = Vec::new();
        for site in sites.iter() {
            let today = site.moment(now).day;
            self.seal(site, today);
            match self.store.rolled_months(site.id.as_str()) {
                Ok(rolled) => {
                    work.push((site, due_months(today, site.retention_days, &rolled)));
                }
                Err(error) => self.failed(site, &error),
            }
        }
        let mut pending: usize = work.iter().map(|(_, months)| months.len()).sum();
        let (due, mut written) = (pending, 0);
        self.metrics.rollup_pending.set(pending as i64);
        for (site, months) in work {
            for month in months {
                if closing.load(Ordering::Acquire) {
                    return;
                }
                let Some(rows) = self.roll_up(site, month) else {
                    break;
                };
                written += rows;
                pending -= 1;
                self.metrics.rollup_pending.set(pending as i64);
            }
        }
        // Months without rows (a fresh database lists 24) are no news.
        match written {
            0 => tracing::debug!(
                due,
                pending,
                "monthly roll-up pass finished, no rows written"
            ),
            _ => tracing::info!(
                due,
                pending,
                rows = written,
                "monthly roll-up pass finished"
            ),
        }
    }

    /// The monthly rows written, or `None` when the site's next month may
    /// not follow (another instance holds it, or the store failed).
    fn roll_up(&self, site: &Site, month: i32) -> Option<u64> {
        let started = Instant::now();
        match self.store.roll_up(
            site.id.as_str(),
            month,
            Day::new(month).last_of_month().number(),
        ) {
            Ok(Some(rows)) => {
                self.metrics.rollup_months.inc();
                let month = Day::new(month);
                let seconds = started.elapsed().as_secs_f64();
                // An empty month (a fresh database has 24) is listed, not news.
                if rows > 0 {
                    tracing::info!(site = %site.id, %month, rows, seconds, "month rolled up");
                }
                Some(rows)
            }
            // Another instance is rolling this site up.
            Ok(None) => None,
            Err(error) => {
                self.failed(site, &error);
                None
            }
        }
    }

    fn failed(&self, site: &Site, error: &crate::store::StoreError) {
        self.metrics.store_errors.inc();
        tracing::error!(site = %site.id, %error, "monthly roll-up failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> i32 {
        Day::of(text.parse().unwrap()).number()
    }

    #[test]
    fn a_month_is_due_once_the_day_after_it_has_passed() {
        let retention = 400;
        let due = due_months(day("2026-12-01"), retention, &[]);
        assert_eq!(due.last(), Some(&day("2026-10-01")), "November waits");
        let due = due_months(day("2026-12-02"), retention, &[]);
        assert_eq!(due.last(), Some(&day("2026-11-01")));
    }

    #[test]
    fn only_months_wholly_kept_and_not_yet_rolled_up_are_due() {
        // Kept from 2025-11-19: November 2025 is partly gone.
        let today = day("2026-11-23");
        let due = due_months(today, 369, &[day("2026-01-01"), day("2026-05-01")]);
        assert_eq!(due.first(), Some(&day("2025-12-01")));
        assert!(!due.contains(&day("2026-01-01")));
        assert!(!due.contains(&day("2026-05-01")));
        assert_eq!(due.len(), 11 - 2, "December 2025 to October 2026, less two");
        // Kept from exactly a first day: that month counts.
        let due = due_months(day("2026-11-23"), 357, &[]);
        assert_eq!(due.first(), Some(&day("2025-12-01")));
    }
}
