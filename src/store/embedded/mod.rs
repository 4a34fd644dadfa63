//! The embedded backend: one redb file, `kruimel.redb`, in the data directory.
//!
//! A marker row in a `meta` table names the schema. A file that is not a
//! redb database, or a redb database without Kruimel's marker, is refused
//! with its path and left as it was: an existing file is first checked
//! through `probe`, which keeps every write redb makes in memory.
//!
//! After a failed write (a full or read-only disk) redb refuses every later
//! call on the same handle, even once the disk has room again, so a failed
//! write closes the handle; the next call reopens the file (probing it
//! again), at most twice a second, and never creates it anew. Until a
//! write succeeds, `ping` fails, so the server reports itself not ready.

mod by_prefix;
mod consent;
mod journal;
mod logins;
mod migrate;
mod probe;
mod sealed;
mod sharing;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};

pub use migrate::MigrationRun;
use probe::Overlay;

use super::StoreError;
use super::schema::{Counts, Row, RowPrefix, split_row};

const COUNTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("counts");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const SCHEMA_KEY: &str = "schema";
const SCHEMA: &str = "kruimel-counts-3";
/// The schema before sealed days: every row an open row. Opened only by
/// `kruimel migrate`.
const SCHEMA_OPEN_ROWS: &str = "kruimel-counts-2";
pub(super) const FILE_NAME: &str = "kruimel.redb";

/// How often a closed handle may be reopened.
const REOPEN_EVERY: Duration = Duration::from_millis(500);

pub struct Embedded {
    /// `None` after a failed write, until a call reopens the file.
    db: ArcSwapOption<Database>,
    path: PathBuf,
    /// Bytes of page cache redb may hold (its default is 1 GiB).
    cache_bytes: usize,
    /// Whether the last write failed.
    writes_failing: AtomicBool,
    last_reopen: Mutex<Option<Instant>>,
    /// Sums journaled and not yet in the open rows (see `journal`).
    pending: RwLock<journal::Pending>,
    /// Held by whoever writes the journal or folds it.
    journal: Mutex<journal::Writer>,
}

/// redb with a bounded page cache: its own default of 1 GiB would let
/// resident memory grow with the file for weeks.
fn builder(cache_bytes: usize) -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(cache_bytes);
    builder
}

/// A new database file is readable by its owner only, like the server's other data files:
/// the mode is given at creation, so no other user can open it in between (the umask can
/// only take bits away), and an existing file of that name is never taken over.
fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A file made before databases were created owner-only (or copied in with a wider mode)
/// loses its group and other bits; when that is not allowed (another owner), the server
/// still opens it and says so.
fn keep_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            return;
        }
        let owner_only = std::fs::Permissions::from_mode(mode & 0o700);
        match std::fs::set_permissions(path, owner_only) {
            Ok(()) => tracing::info!(
                path = %path.display(),
                was = format!("{mode:o}"),
                "database file made owner-only"
            ),
            Err(error) => tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                %error,
                "database file is readable by others and its mode could not be changed"
            ),
        }
    }
}

fn operation(error: impl std::fmt::Display) -> StoreError {
    StoreError::Operation(error.to_string())
}

impl Embedded {
    /// Opens (or creates) the file, with a page cache of at most `cache_bytes`.
    pub fn open(data_dir: &Path, cache_bytes: usize) -> Result<Embedded, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let existed = path.exists();
        if existed {
            // Opening with redb writes to the file (its header, and a repair
            // if it was not closed cleanly), so a file that may not be ours
            // is first read through an overlay that keeps writes in memory.
            Embedded::probe(&path)?;
        }
        let builder = builder(cache_bytes);
        let open_failed = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let opened = if existed {
            keep_to_owner(&path);
            builder.open(&path)
        } else {
            let file = create_owner_only(&path).map_err(|error| open_failed(error.to_string()))?;
            builder.create_file(file)
        };
        let db = opened.map_err(|error| open_failed(error.to_string()))?;
        let store = Embedded::with(db, path, cache_bytes);
        if !existed {
            store.mark_schema()?;
        }
        store.create_tables()?;
        store.recover()?;
        Ok(store)
    }

    fn with(db: Database, path: PathBuf, cache_bytes: usize) -> Embedded {
        Embedded {
            db: ArcSwapOption::from_pointee(db),
            path,
            cache_bytes,
            writes_failing: AtomicBool::new(false),
            last_reopen: Mutex::new(None),
            pending: RwLock::new(journal::Pending::default()),
            journal: Mutex::new(journal::Writer::default()),
        }
    }

    /// The open database, reopened first when a failed write closed it.
    fn db(&self) -> Result<Arc<Database>, StoreError> {
        if let Some(db) = self.db.load_full() {
            return Ok(db);
        }
        let mut last = self.last_reopen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = self.db.load_full() {
            return Ok(db);
        }
        if last.is_some_and(|at| at.elapsed() < REOPEN_EVERY) {
            return Err(self.failed("closed after a failed write; reopening"));
        }
        *last = Some(Instant::now());
        // The file must still be there and still be Kruimel's: a missing
        // file (an unmounted disk) is not created again.
        if !self.path.exists() {
            return Err(self.failed("missing; waiting for it to return"));
        }
        Embedded::probe(&self.path)?;
        let db = builder(self.cache_bytes)
            .open(&self.path)
            .map_err(|error| self.failed(error))?;
        let db = Arc::new(db);
        self.db.store(Some(db.clone()));
        tracing::debug!(path = %self.path.display(), "database reopened");
        Ok(db)
    }

    /// An error naming the file.
    fn failed(&self, error: impl std::fmt::Display) -> StoreError {
        StoreError::Operation(format!("{}: {error}", self.path.display()))
    }

    /// Begins a write; a failure closes the handle (see the module comment).
    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let begun = self.db()?.begin_write();
        begun.map_err(|error| self.write_failed(error))
    }

    /// Commits a write; a failure closes the handle.
    fn commit(&self, write: WriteTransaction) -> Result<(), StoreError> {
        write.commit().map_err(|error| self.write_failed(error))?;
        self.writes_failing.store(false, Ordering::Release);
        Ok(())
    }

    fn write_failed(&self, error: impl std::fmt::Display) -> StoreError {
        self.writes_failing.store(true, Ordering::Release);
        self.db.store(None);
        self.failed(error)
    }

    /// Refuses an existing file that is not a Kruimel database, without
    /// writing to it.
    fn probe(path: &Path) -> Result<(), StoreError> {
        let foreign = |message: String| StoreError::Foreign {
            path: path.display().to_string(),
            message,
        };
        match schema_marker(&Embedded::untouched(path)?)?.as_deref() {
            Some(SCHEMA) => Ok(()),
            Some(SCHEMA_OPEN_ROWS) => Err(StoreError::Outdated {
                path: path.display().to_string(),
            }),
            Some(other) => Err(foreign(format!("unknown schema {other:?}"))),
            None => Err(foreign("no Kruimel schema marker".to_owned())),
        }
    }

    /// An existing file opened through an overlay that keeps every write
    /// redb makes in memory: the file itself is left as it is.
    fn untouched(path: &Path) -> Result<Database, StoreError> {
        let foreign = |message: String| StoreError::Foreign {
            path: path.display().to_string(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|error| foreign(error.to_string()))?;
        let overlay = Overlay::new(file).map_err(|error| foreign(error.to_string()))?;
        Database::builder()
            .create_with_backend(overlay)
            .map_err(|error| foreign(error.to_string()))
    }

    /// Writes the schema marker into a database this server just created.
    fn mark_schema(&self) -> Result<(), StoreError> {
        let write = self.begin_write()?;
        {
            write.open_table(COUNTS).map_err(operation)?;
            let mut meta = write.open_table(META).map_err(operation)?;
            meta.insert(SCHEMA_KEY, SCHEMA).map_err(operation)?;
        }
        self.commit(write)
    }

    /// Creates the tables added since the schema was first written, so
    /// readers never meet a missing table.
    fn create_tables(&self) -> Result<(), StoreError> {
        let write = self.begin_write()?;
        write.open_table(consent::RECEIPTS).map_err(operation)?;
        write
            .open_table(consent::RECEIPT_EXPIRY)
            .map_err(operation)?;
        write.open_table(consent::NOTICES).map_err(operation)?;
        write.open_table(consent::TALLIES).map_err(operation)?;
        write.open_table(sharing::SHARE_LINKS).map_err(operation)?;
        write.open_table(by_prefix::ROLLUPS).map_err(operation)?;
        write
            .open_table(by_prefix::ROLLUPS_PENDING)
            .map_err(operation)?;
        write.open_table(logins::LOGINS).map_err(operation)?;
        write.open_table(sealed::SEGMENTS).map_err(operation)?;
        write.open_table(sealed::DICTIONARIES).map_err(operation)?;
        write.open_table(journal::JOURNAL).map_err(operation)?;
        self.commit(write)
    }

    /// Writes a flush's deltas as one journal record, in one transaction,
    /// and adds them to the pending sums; folds those into the open rows
    /// when they are due. Once the record is written the flush is kept:
    /// a failed fold is logged and tried again at the next flush.
    pub fn apply(&self, batch: &[(Vec<u8>, Counts)]) -> Result<(), StoreError> {
        let mut writer = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let number = writer.next;
        let write = self.begin_write()?;
        write
            .open_table(journal::JOURNAL)
            .map_err(operation)?
            .insert(number, writer.record(batch))
            .map_err(|error| self.write_failed(error))?;
        by_prefix::unlist_touched(&write, batch)?;
        self.commit(write)?;
        writer.next += 1;
        let due = {
            let mut pending = self.pending.write().unwrap_or_else(|e| e.into_inner());
            pending.add(number, batch);
            pending.is_due()
        };
        if due && let Err(error) = self.fold_held() {
            tracing::warn!(%error, "journaled counts not yet added to their rows; trying again at the next flush");
        }
        Ok(())
    }

    /// Adds the pending sums to the open rows now: before a job that reads
    /// or rewrites open rows in write transactions of its own.
    pub(super) fn fold(&self) -> Result<(), StoreError> {
        let _journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        self.fold_held()
    }

    /// `fold`, for a caller holding the journal's lock. Readers see the
    /// sums either pending or in the open rows, never both: the commit and
    /// the emptying of `pending` happen under its write lock.
    fn fold_held(&self) -> Result<(), StoreError> {
        let pending = self.pending.read().unwrap_or_else(|e| e.into_inner());
        let Some(through) = pending.through() else {
            return Ok(());
        };
        let started = Instant::now();
        let write = self.begin_write()?;
        {
            let mut table = write.open_table(COUNTS).map_err(operation)?;
            for (key, delta) in pending.rows() {
                let mut total = match table.get(key).map_err(operation)? {
                    Some(stored) => Counts::decode(stored.value())
                        .ok_or(StoreError::Corrupt("counts length"))?,
                    None => Counts::default(),
                };
                total += *delta;
                table
                    .insert(key, total.encode().as_slice())
                    .map_err(|error| self.write_failed(error))?;
            }
            write
                .open_table(journal::JOURNAL)
                .map_err(operation)?
                .retain_in(..=through, |_, _| false)
                .map_err(|error| self.write_failed(error))?;
        }
        drop(pending);
        let mut pending = self.pending.write().unwrap_or_else(|e| e.into_inner());
        self.commit(write)?;
        tracing::debug!(
            rows = pending.len(),
            through,
            ms = started.elapsed().as_millis() as u64,
            "journal folded into the open rows"
        );
        *pending = journal::Pending::default();
        Ok(())
    }

    /// Folds the records a process left in the journal when it stopped
    /// between folds; called once, when the file is opened.
    pub(super) fn recover(&self) -> Result<(), StoreError> {
        let mut writer = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        {
            let read = self.db()?.begin_read().map_err(operation)?;
            let table = read.open_table(journal::JOURNAL).map_err(operation)?;
            let mut pending = self.pending.write().unwrap_or_else(|e| e.into_inner());
            for entry in table.iter().map_err(operation)? {
                let (number, record) = entry.map_err(operation)?;
                pending.add(number.value(), &journal::decode(record.value())?);
                writer.next = number.value() + 1;
            }
        }
        self.fold_held()
    }

    pub fn scan(&self, prefix: &RowPrefix, first: i32, last: i32) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        self.scan_each(prefix, first, last, |bucket, value, counts| {
            rows.push(Row {
                bucket,
                value: value.to_owned(),
                counts,
            });
        })?;
        Ok(rows)
    }

    /// Hands each row under `prefix` with a bucket in `first..=last` to
    /// `each`, in key order: open rows borrowed from the database page, and
    /// sealed rows from their decoded table, one row per key (an open row
    /// written to a sealed day is added to its sealed row).
    pub(crate) fn scan_each(
        &self,
        prefix: &RowPrefix,
        first: i32,
        last: i32,
        mut each: impl FnMut(i32, &str, Counts),
    ) -> Result<(), StoreError> {
        if first > last {
            return Ok(());
        }
        // The snapshot and the pending sums are taken together, so a fold
        // between them cannot count a sum twice or miss it.
        let (read, journaled) = {
            let pending = self.pending.read().unwrap_or_else(|e| e.into_inner());
            let read = self.db()?.begin_read().map_err(operation)?;
            let mut journaled: Vec<(i32, String, Counts)> = Vec::new();
            pending.each_in(prefix, (first, last), |bucket, value, counts| {
                journaled.push((bucket, value.to_owned(), counts));
            })?;
            (read, journaled)
        };
        let segments = read.open_table(sealed::SEGMENTS).map_err(operation)?;
        let dictionaries = read.open_table(sealed::DICTIONARIES).map_err(operation)?;
        let table = read.open_table(COUNTS).map_err(operation)?;
        let mut open: Vec<(i32, String, Counts)> = Vec::new();
        each_open(&table, prefix, (first, last), |bucket, value, counts| {
            open.push((bucket, value.to_owned(), counts));
        })?;
        let open = merge_sorted(open, journaled);
        let mut waiting = open.into_iter().peekable();
        sealed::each_sealed(
            &segments,
            &dictionaries,
            prefix,
            (first, last),
            |bucket, value, mut counts| {
                while let Some((open_bucket, open_value, open_counts)) = waiting.peek() {
                    match (*open_bucket, open_value.as_str()).cmp(&(bucket, value)) {
                        std::cmp::Ordering::Less => each(*open_bucket, open_value, *open_counts),
                        std::cmp::Ordering::Equal => counts += *open_counts,
                        std::cmp::Ordering::Greater => break,
                    }
                    waiting.next();
                }
                each(bucket, value, counts);
            },
        )?;
        for (bucket, value, counts) in waiting {
            each(bucket, &value, counts);
        }
        Ok(())
    }

    /// Moves a site's open rows of days before `before_day` (and of months
    /// that started before it) into sealed units, a unit per transaction;
    /// the number of open rows moved. A day already sealed takes its late
    /// rows in.
    pub fn seal(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        self.fold()?;
        let days = {
            let read = self.db()?.begin_read().map_err(operation)?;
            let table = read.open_table(COUNTS).map_err(operation)?;
            sealed::open_days(&table, site, before_day)?
        };
        let Some((mut day, last)) = days else {
            return Ok(0);
        };
        let mut moved = 0;
        while day <= last {
            let end = day.saturating_add(sealed::WINDOW_DAYS).min(last + 1);
            let write = self.begin_write()?;
            moved += sealed::seal_window(&write, site, (day, end))
                .map_err(|error| self.write_failed(error))?;
            self.commit(write)?;
            day = end;
        }
        Ok(moved)
    }

    /// Fails while writes fail: reading alone would pass on a full disk.
    pub fn ping(&self) -> Result<(), StoreError> {
        if self.writes_failing.load(Ordering::Acquire) {
            return Err(self.failed("the last write failed"));
        }
        let read = self.db()?.begin_read().map_err(operation)?;
        read.open_table(COUNTS).map_err(operation)?;
        Ok(())
    }
}

/// Hands the open rows under `prefix` with a bucket in `first..=last` to
/// `each`, in key order, borrowing each from the database page.
fn each_open(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &RowPrefix,
    (first, last): (i32, i32),
    mut each: impl FnMut(i32, &str, Counts),
) -> Result<(), StoreError> {
    let encoded = prefix.encode();
    let (start, end) = bucket_range(prefix, (first, last));
    let range = match &end {
        Some(end) => table.range(start.as_slice()..end.as_slice()),
        None => table.range(start.as_slice()..),
    }
    .map_err(operation)?;
    for entry in range {
        let (key, value) = entry.map_err(operation)?;
        let Some(row) = row_under(&encoded, key.value()) else {
            break;
        };
        let (bucket, text) = row?;
        let counts = Counts::decode(value.value()).ok_or(StoreError::Corrupt("counts length"))?;
        each(bucket, text, counts);
    }
    Ok(())
}

/// Where the keys under `prefix` with a bucket in `first..=last` start,
/// and where they end (`None`: after the last bucket there is).
fn bucket_range(prefix: &RowPrefix, (first, last): (i32, i32)) -> (Vec<u8>, Option<Vec<u8>>) {
    let end = last.checked_add(1).map(|after| prefix.bucket_start(after));
    (prefix.bucket_start(first), end)
}

/// A key's bucket and text, when the key is a row under the encoded
/// prefix: the prefix is self-delimiting (lengths before texts), so a key
/// that starts with its bytes is one.
fn row_under<'k>(encoded: &[u8], key: &'k [u8]) -> Option<Result<(i32, &'k str), StoreError>> {
    let after = key.strip_prefix(encoded)?;
    Some(split_row(after).map_err(StoreError::Corrupt))
}

/// Two row lists in (bucket, value) order as one, rows of the same key summed.
fn merge_sorted(
    ours: Vec<(i32, String, Counts)>,
    theirs: Vec<(i32, String, Counts)>,
) -> Vec<(i32, String, Counts)> {
    if theirs.is_empty() {
        return ours;
    }
    if ours.is_empty() {
        return theirs;
    }
    let mut merged = Vec::with_capacity(ours.len() + theirs.len());
    let mut theirs = theirs.into_iter().peekable();
    for row in ours {
        while let Some(next) = theirs.next_if(|next| (next.0, &next.1) < (row.0, &row.1)) {
            merged.push(next);
        }
        match theirs.next_if(|next| (next.0, &next.1) == (row.0, &row.1)) {
            Some(same) => {
                let mut counts = row.2;
                counts += same.2;
                merged.push((row.0, row.1, counts));
            }
            None => merged.push(row),
        }
    }
    merged.extend(theirs);
    merged
}

fn schema_marker(db: &Database) -> Result<Option<String>, StoreError> {
    let read = db.begin_read().map_err(operation)?;
    match read.open_table(META) {
        Ok(meta) => Ok(meta
            .get(SCHEMA_KEY)
            .map_err(operation)?
            .map(|v| v.value().to_owned())),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(error) => Err(operation(error)),
    }
}

impl Drop for Embedded {
    /// Leaves no journal behind on a clean stop, so the next start has nothing to fold.
    fn drop(&mut self) {
        if let Err(error) = self.fold() {
            tracing::warn!(%error, "journaled counts left for the next start to fold");
        }
    }
}

#[cfg(test)]
mod tests;
