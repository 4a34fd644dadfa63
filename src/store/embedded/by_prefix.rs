//! The two jobs that walk a whole site: the monthly roll-up and retention.
//!
//! A site's keys are grouped by prefix (filter, breakdown, granularity),
//! each prefix's rows in bucket order. Both jobs skip from prefix to
//! prefix with one seek each and read or delete only the buckets they
//! need, instead of decoding every key of the site.
//! The months rolled up are listed in the `rollups` table; a month's
//! rows and its entry are removed together by retention, and a flush that
//! writes a day of a listed month takes the month off the list, so its
//! days are read until it is rolled up again. A month being summed sits
//! in `rollups_pending` first; a flush into it takes it off there too, and
//! the roll-up lists only a month still pending when it is done, so a
//! flush the sum may have missed is never hidden behind a listed month.

use redb::{ReadableTable, TableDefinition};

use super::{COUNTS, Embedded, operation, sealed};
use crate::calendar::Day;
use crate::store::StoreError;
use crate::store::schema::{Counts, Granularity, encoded_bucket, prefix_of, site_range, split_row};

/// `[site len][site][first day of the month]` → nothing.
pub(super) const ROLLUPS: TableDefinition<&[u8], ()> = TableDefinition::new("rollups");
/// The months being rolled up, keyed like `ROLLUPS`.
pub(super) const ROLLUPS_PENDING: TableDefinition<&[u8], ()> =
    TableDefinition::new("rollups_pending");

pub(super) fn rollup_key(site: &str, month: i32) -> Vec<u8> {
    let (mut key, _) = site_range(site);
    key.extend_from_slice(&encoded_bucket(month));
    key
}

/// `prefix` followed by `bucket`: where the prefix's rows of that bucket start.
pub(super) fn at_bucket(prefix: &[u8], bucket: i32) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&encoded_bucket(bucket));
    key
}

/// The first prefix with a key in `from..end`, and its granularity.
pub(super) fn next_prefix(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    from: &[u8],
    end: &[u8],
) -> Result<Option<(Vec<u8>, Granularity)>, StoreError> {
    let Some(entry) = table.range(from..end).map_err(operation)?.next() else {
        return Ok(None);
    };
    let (key, _) = entry.map_err(operation)?;
    let key = key.value();
    let (len, granularity) = prefix_of(key).ok_or(StoreError::Corrupt("key prefix"))?;
    Ok(Some((key[..len].to_vec(), granularity)))
}

/// The first key after every key under `prefix`: its last byte is the
/// granularity, which is never 0xFF.
pub(super) fn after(prefix: &[u8]) -> Vec<u8> {
    let mut next = prefix.to_vec();
    if let Some(last) = next.last_mut() {
        *last += 1;
    }
    next
}

/// Takes off the roll-up list every month a batch writes a daily row in:
/// those days changed after their month was summed. Called in the flush's
/// own transaction; a batch touches a day or two per site.
pub(super) fn unlist_touched(
    write: &redb::WriteTransaction,
    batch: &[(Vec<u8>, Counts)],
) -> Result<(), StoreError> {
    let mut touched: Vec<(&[u8], i32)> = Vec::new();
    for (key, _) in batch {
        let Some((len, Granularity::Day)) = prefix_of(key) else {
            continue;
        };
        let Some(bucket) = key.get(len..len + 4) else {
            continue;
        };
        let (day, _) = split_row(bucket).map_err(StoreError::Corrupt)?;
        let site = &key[..1 + usize::from(key[0])];
        if !touched.contains(&(site, day)) {
            touched.push((site, day));
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    let mut rollups = write.open_table(ROLLUPS).map_err(operation)?;
    let mut pending = write.open_table(ROLLUPS_PENDING).map_err(operation)?;
    for (site, day) in touched {
        let mut listed = site.to_vec();
        listed.extend_from_slice(&encoded_bucket(Day::new(day).first_of_month().number()));
        rollups.remove(listed.as_slice()).map_err(operation)?;
        pending.remove(listed.as_slice()).map_err(operation)?;
    }
    Ok(())
}

impl Embedded {
    /// The months of a site whose daily rows have been summed into monthly
    /// rows, as the day numbers of their first days, in order.
    /// The length of every key and value of the site's rows, summed, in
    /// one read snapshot (writers are not held up).
    pub(crate) fn site_bytes(&self, site: &str) -> Result<u64, StoreError> {
        self.fold()?;
        let (start, end) = site_range(site);
        let read = self.db()?.begin_read().map_err(operation)?;
        let sealed = sealed::bytes(
            &read.open_table(sealed::SEGMENTS).map_err(operation)?,
            &read.open_table(sealed::DICTIONARIES).map_err(operation)?,
            site,
        )?;
        let table = read.open_table(COUNTS).map_err(operation)?;
        let mut bytes = 0u64;
        for entry in table
            .range(start.as_slice()..end.as_slice())
            .map_err(operation)?
        {
            let (key, value) = entry.map_err(operation)?;
            bytes += (key.value().len() + value.value().len()) as u64;
        }
        Ok(bytes + sealed)
    }

    pub fn rolled_months(&self, site: &str) -> Result<Vec<i32>, StoreError> {
        self.months_in(ROLLUPS, site)
    }

    /// The months of a site in one of the two month lists, in order.
    pub(super) fn months_in(
        &self,
        listing: TableDefinition<&[u8], ()>,
        site: &str,
    ) -> Result<Vec<i32>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(listing).map_err(operation)?;
        let (start, end) = (rollup_key(site, i32::MIN), rollup_key(site, i32::MAX));
        let mut months = Vec::new();
        for entry in table
            .range(start.as_slice()..=end.as_slice())
            .map_err(operation)?
        {
            let (key, _) = entry.map_err(operation)?;
            let (month, _) = split_row(&key.value()[start.len() - 4..])
                .map_err(|_| StoreError::Corrupt("roll-up key"))?;
            months.push(month);
        }
        Ok(months)
    }

    /// Sums every daily row of the month `first..=last` (sealed or open)
    /// into the month's sealed unit, then lists the month as rolled up
    /// unless a flush wrote one of its days meanwhile (it is summed again
    /// next time). Reading happens in short snapshots, so flushes are not
    /// held up; the unit is written whole in one short transaction, replacing an
    /// earlier one. Returns how many monthly rows were written.
    pub fn roll_up(&self, site: &str, first: i32, last: i32) -> Result<u64, StoreError> {
        self.roll_up_with(site, (first, last), || {})
    }

    /// As `roll_up`, calling `between` once the month is summed and before
    /// it is written: where a test lands a flush the sum has missed.
    pub(super) fn roll_up_with(
        &self,
        site: &str,
        (first, last): (i32, i32),
        between: impl FnOnce(),
    ) -> Result<u64, StoreError> {
        let listed = rollup_key(site, first);
        // Pending before the snapshot: a flush after it unmarks the month.
        let write = self.begin_write()?;
        self.list(&write, ROLLUPS_PENDING, &listed)?;
        self.commit(write)?;
        // The snapshot reads open rows: flushes before the mark join them first.
        self.fold()?;
        let begin = || self.db()?.begin_read().map_err(operation);
        let (unit, written) = sealed::month_unit(begin, site, (first, last))?;
        between();
        let write = self.begin_write()?;
        sealed::write_month(&write, site, first, unit.as_ref())
            .map_err(|error| self.write_failed(error))?;
        let untouched = write
            .open_table(ROLLUPS_PENDING)
            .map_err(operation)?
            .remove(listed.as_slice())
            .map_err(|error| self.write_failed(error))?
            .is_some();
        if untouched {
            self.list(&write, ROLLUPS, &listed)?;
        }
        self.commit(write)?;
        Ok(written)
    }

    /// Puts a month's key (`rollup_key`) in one of the two month lists.
    pub(super) fn list(
        &self,
        write: &redb::WriteTransaction,
        listing: TableDefinition<&[u8], ()>,
        key: &[u8],
    ) -> Result<(), StoreError> {
        write
            .open_table(listing)
            .map_err(operation)?
            .insert(key, ())
            .map_err(|error| self.write_failed(error))?;
        Ok(())
    }

    /// Deletes a site's rows in buckets before the given day and hour (a
    /// month's rows when its first day is before `before_day`) and forgets
    /// those months' roll-ups. Returns how many rows were deleted.
    pub fn purge(&self, site: &str, before_day: i32, before_hour: i32) -> Result<u64, StoreError> {
        self.fold()?;
        let (start, end) = site_range(site);
        let write = self.begin_write()?;
        let mut removed = 0;
        {
            let mut table = write.open_table(COUNTS).map_err(operation)?;
            let mut cursor = start;
            while let Some((prefix, granularity)) = next_prefix(&table, &cursor, &end)? {
                cursor = after(&prefix);
                let before = match granularity {
                    Granularity::Hour => before_hour,
                    Granularity::Day | Granularity::Month => before_day,
                };
                let (from, to) = (at_bucket(&prefix, i32::MIN), at_bucket(&prefix, before));
                table
                    .retain_in(from.as_slice()..to.as_slice(), |_, _| {
                        removed += 1;
                        false
                    })
                    .map_err(|error| self.write_failed(error))?;
            }
            removed += sealed::purge(&write, site, before_day, before_hour)
                .map_err(|error| self.write_failed(error))?;
            let (from, to) = (rollup_key(site, i32::MIN), rollup_key(site, before_day));
            for listing in [ROLLUPS, ROLLUPS_PENDING] {
                write
                    .open_table(listing)
                    .map_err(operation)?
                    .retain_in(from.as_slice()..to.as_slice(), |_, _| false)
                    .map_err(|error| self.write_failed(error))?;
            }
        }
        self.commit(write)?;
        Ok(removed)
    }
}
