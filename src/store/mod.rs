//! Durable aggregate counts (promise 4: only counts at rest).
//!
//! Owns the stored schema (`schema`: dimensions, granularities, row keys,
//! counts) and the backends. The embedded backend is a single-file redb
//! database in the data directory. Rows are `(site, filter, breakdown
//! dimension, granularity, bucket, breakdown value) → counts`; the
//! granularities are hours, days, and months summed once they are over.
//! Invariant: no row holds a visitor hash, an IP address or a user agent;
//! every value written is a sum.
//! Calls block: callers run them on a blocking thread.

pub(crate) mod consent;
mod embedded;
pub(crate) mod logins;
pub mod redis;
pub(crate) mod schema;
mod segment;
pub(crate) mod sharing;
mod unit;

use std::path::Path;

pub use embedded::{Embedded, MigrationRun};
pub use redis::RedisStore;
pub use schema::{Counts, Dim, Granularity, KeyParts, Row, RowPrefix};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {message}")]
    Open { path: String, message: String },
    #[error("database {path} is not a Kruimel database ({message}); it was left untouched")]
    Foreign { path: String, message: String },
    #[error(
        "database {path} holds counts in the format of an earlier Kruimel; it was left untouched. \
         Run `kruimel migrate --dry-run` to see what converting it does, then `kruimel migrate`"
    )]
    Outdated { path: String },
    #[error("database operation failed: {0}")]
    Operation(String),
    /// The server answered, with an error that a retry will meet again.
    #[error("database refused the operation: {0}")]
    Rejected(String),
    #[error("stored row is corrupt: {0}")]
    Corrupt(&'static str),
}

impl StoreError {
    /// Whether retrying the same call can only fail the same way.
    pub(crate) fn is_deterministic(&self) -> bool {
        matches!(self, StoreError::Rejected(_) | StoreError::Corrupt(_))
    }
}

/// The store backends; one `match` per operation.
pub enum Store {
    Embedded(Embedded),
    Redis(RedisStore),
}

impl Store {
    /// The embedded store, with a page cache of at most `cache_bytes`.
    pub fn open_embedded(data_dir: &Path, cache_bytes: usize) -> Result<Store, StoreError> {
        Embedded::open(data_dir, cache_bytes).map(Store::Embedded)
    }

    /// Adds each delta to its stored row, in one transaction. A batch
    /// retried under the same id after an unclear failure is not added
    /// twice on Redis; the embedded store fails cleanly or not at all.
    pub fn apply(&self, batch_id: u64, batch: &[(Vec<u8>, Counts)]) -> Result<(), StoreError> {
        match self {
            Store::Embedded(store) => store.apply(batch),
            Store::Redis(store) => store.apply(batch_id, batch),
        }
    }

    /// Rows under `prefix` with buckets in `first..=last`.
    pub fn scan(&self, prefix: &RowPrefix, first: i32, last: i32) -> Result<Vec<Row>, StoreError> {
        match self {
            Store::Embedded(store) => store.scan(prefix, first, last),
            Store::Redis(store) => store.scan(prefix, first, last),
        }
    }

    /// Hands each row under `prefix` with a bucket in `first..=last` to
    /// `each`: the bucket, the breakdown value and the counts. On the
    /// embedded store nothing is allocated per row.
    pub(crate) fn scan_each(
        &self,
        prefix: &RowPrefix,
        first: i32,
        last: i32,
        mut each: impl FnMut(i32, &str, Counts),
    ) -> Result<(), StoreError> {
        match self {
            Store::Embedded(store) => store.scan_each(prefix, first, last, each),
            Store::Redis(store) => {
                for row in store.scan(prefix, first, last)? {
                    each(row.bucket, &row.value, row.counts);
                }
                Ok(())
            }
        }
    }

    /// The months of a site summed into monthly rows (by their first day).
    pub fn rolled_months(&self, site: &str) -> Result<Vec<i32>, StoreError> {
        match self {
            Store::Embedded(store) => store.rolled_months(site),
            Store::Redis(store) => store.rolled_months(site),
        }
    }

    /// Moves a site's counts of days before `before_day` into their sealed,
    /// compact form; the rows moved (none on Redis while another instance
    /// holds the site's roll-up claim: its next pass seals them).
    pub fn seal(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.seal(site, before_day),
            Store::Redis(store) => store.seal(site, before_day),
        }
    }

    /// Sums the daily rows of the month `first..=last` into monthly rows
    /// and lists the month as rolled up; the number of monthly rows, or
    /// `None` when another instance is rolling the site up.
    pub fn roll_up(&self, site: &str, first: i32, last: i32) -> Result<Option<u64>, StoreError> {
        match self {
            Store::Embedded(store) => store.roll_up(site, first, last).map(Some),
            Store::Redis(store) => store.roll_up(site, first, last),
        }
    }

    /// Deletes a site's rows in buckets before the given day and hour
    /// (monthly rows with their first day before it) and forgets the
    /// roll-ups of those months.
    pub fn purge(&self, site: &str, before_day: i32, before_hour: i32) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.purge(site, before_day, before_hour),
            Store::Redis(store) => store.purge(site, before_day),
        }
    }

    /// The bytes a site's counts take at rest, measured by reading every
    /// one of its rows: on the embedded store its keys and values (redb's
    /// pages add their own overhead, see README), on Redis the memory of
    /// its count hashes and sealed units as `MEMORY USAGE` reports it. A read of the whole
    /// site: for a background thread, not for the aggregator.
    pub(crate) fn site_bytes(&self, site: &str) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.site_bytes(site),
            Store::Redis(store) => store.site_bytes(site),
        }
    }

    /// A cheap round trip proving the store answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Embedded(store) => store.ping(),
            Store::Redis(store) => store.ping(),
        }
    }
}
