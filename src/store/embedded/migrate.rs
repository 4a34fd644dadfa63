//! `kruimel migrate`: converts a database written before days were sealed.
//!
//! Such a file (schema `kruimel-counts-2`) holds every count as an open row;
//! the server refuses to start on it rather than rewrite it unasked. A dry
//! run reads it through the overlay (nothing is written) and reports what
//! it holds. The conversion seals every day before yesterday (in UTC; a day
//! sealed early only means its late rows are merged at the next seal),
//! compacts the file so the space of the rows moved is given back, and
//! writes the new schema marker last: a conversion cut short is run again.

use std::path::Path;

use redb::Database;

use super::sealed;
use super::{
    COUNTS, Embedded, FILE_NAME, SCHEMA, SCHEMA_OPEN_ROWS, builder, operation, schema_marker,
};
use crate::store::StoreError;
use crate::store::schema::{site_of_key, site_range};

/// What a migration found, and what it did.
#[derive(Debug)]
pub struct Migration {
    pub path: String,
    /// The schema the file was in.
    pub schema: String,
    pub sites: Vec<String>,
    /// Open rows before the conversion.
    pub open_rows: u64,
    /// Open rows moved into sealed days (0 in a dry run).
    pub sealed_rows: u64,
    /// Sealed days and months stored in the earlier layout, a block per
    /// key (read as they are; rewritten in pieces by a conversion).
    pub units_in_blocks: u64,
    /// Those rewritten in pieces (0 in a dry run).
    pub repacked_units: u64,
    pub bytes_before: u64,
    /// The file's size after the conversion, when there was one.
    pub bytes_after: Option<u64>,
}

impl Migration {
    /// Whether the file was in the current format already, every unit in
    /// pieces.
    pub fn was_current(&self) -> bool {
        self.schema == SCHEMA && self.units_in_blocks == 0
    }
}

/// Whether `migrate` only reports or converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationRun {
    DryRun,
    Convert,
}

impl Embedded {
    /// Converts the database in `data_dir` to the current schema (see the
    /// module comment), or with `MigrationRun::DryRun` only reports what it holds.
    pub fn migrate(
        data_dir: &Path,
        cache_bytes: usize,
        today: i32,
        run: MigrationRun,
    ) -> Result<Migration, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let shown = path.display().to_string();
        let bytes_before = std::fs::metadata(&path)
            .map_err(|error| StoreError::Open {
                path: shown.clone(),
                message: error.to_string(),
            })?
            .len();
        let (schema, sites, open_rows, blocks) = {
            let db = Embedded::untouched(&path)?;
            let schema = schema_marker(&db)?.unwrap_or_default();
            if schema != SCHEMA && schema != SCHEMA_OPEN_ROWS {
                return Err(StoreError::Foreign {
                    path: shown,
                    message: format!("unknown schema {schema:?}"),
                });
            }
            let (mut sites, rows) = open_rows_by_site(&db)?;
            let blocks = sealed::units_in_blocks(&db)?;
            for (site, _) in &blocks {
                if !sites.contains(site) {
                    sites.push(site.clone());
                }
            }
            (schema, sites, rows, blocks)
        };
        let mut migration = Migration {
            path: shown,
            schema,
            sites,
            open_rows,
            sealed_rows: 0,
            units_in_blocks: blocks.len() as u64,
            repacked_units: 0,
            bytes_before,
            bytes_after: None,
        };
        if run == MigrationRun::DryRun || migration.was_current() {
            return Ok(migration);
        }
        let open_failed = |error: redb::DatabaseError| StoreError::Open {
            path: migration.path.clone(),
            message: error.to_string(),
        };
        let store = Embedded::with(
            builder(cache_bytes).open(&path).map_err(open_failed)?,
            path.clone(),
            cache_bytes,
        );
        store.create_tables()?;
        store.recover()?;
        for site in &migration.sites {
            migration.sealed_rows += store.seal(site, today - 1)?;
        }
        // Sealing rewrote the units it merged into; the rest are rewritten
        // a few to a transaction.
        let in_blocks = sealed::units_in_blocks(&*store.db()?)?;
        for chunk in in_blocks.chunks(sealed::WINDOW_DAYS as usize) {
            let write = store.begin_write()?;
            for (site, unit) in chunk {
                sealed::repack(&write, site, *unit)?;
            }
            store.commit(write)?;
            migration.repacked_units += chunk.len() as u64;
        }
        let mut db = store
            .db
            .swap(None)
            .and_then(std::sync::Arc::into_inner)
            .ok_or(StoreError::Operation("database still in use".to_owned()))?;
        db.compact().map_err(operation)?;
        let write = db.begin_write().map_err(operation)?;
        write
            .open_table(super::META)
            .map_err(operation)?
            .insert(super::SCHEMA_KEY, SCHEMA)
            .map_err(operation)?;
        write.commit().map_err(operation)?;
        drop(db);
        migration.bytes_after = std::fs::metadata(&path).ok().map(|meta| meta.len());
        Ok(migration)
    }
}

/// The sites with open rows, and how many open rows there are.
fn open_rows_by_site(db: &Database) -> Result<(Vec<String>, u64), StoreError> {
    let read = db.begin_read().map_err(operation)?;
    let table = read.open_table(COUNTS).map_err(operation)?;
    let mut sites = Vec::new();
    let mut rows = 0;
    let mut cursor: Vec<u8> = Vec::new();
    loop {
        let Some(entry) = table.range(cursor.as_slice()..).map_err(operation)?.next() else {
            break;
        };
        let (key, _) = entry.map_err(operation)?;
        let key = key.value();
        let (site, _) = site_of_key(key).map_err(StoreError::Corrupt)?;
        let site = site.to_owned();
        let (start, end) = site_range(&site);
        rows += table
            .range(start.as_slice()..end.as_slice())
            .map_err(operation)?
            .count() as u64;
        sites.push(site);
        cursor = end;
    }
    Ok((sites, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{Counts, Dim, Granularity, RowPrefix};

    const SITE: &str = "gemeente.example";
    const TODAY: i32 = 20_500;

    fn prefixes() -> Vec<RowPrefix> {
        [Granularity::Hour, Granularity::Day, Granularity::Month]
            .into_iter()
            .flat_map(|granularity| {
                [(Dim::None, ""), (Dim::Page, "/afval")].map(|filter| RowPrefix {
                    site: SITE.into(),
                    filter: (filter.0, filter.1.into()),
                    breakdown: Dim::Source,
                    granularity,
                })
            })
            .collect()
    }

    /// Every row of every prefix, as a store answers.
    fn everything(store: &Embedded) -> Vec<(i32, String, Counts)> {
        prefixes()
            .iter()
            .flat_map(|prefix| store.scan(prefix, i32::MIN, i32::MAX).unwrap())
            .map(|row| (row.bucket, row.value, row.counts))
            .collect()
    }

    /// A file as an earlier Kruimel left it: open rows over 40 days, marked
    /// with the earlier schema.
    fn earlier_file(dir: &Path) -> Vec<(i32, String, Counts)> {
        let store = Embedded::open(dir, 1 << 20).unwrap();
        let mut batch = Vec::new();
        for (at, prefix) in prefixes().iter().enumerate() {
            for day in TODAY - 40..=TODAY {
                let bucket = match prefix.granularity {
                    Granularity::Hour => day * 24 + at as i32,
                    Granularity::Day => day,
                    Granularity::Month => crate::calendar::Day::new(day).first_of_month().number(),
                };
                let counts = Counts {
                    visitors: i64::from(day % 7) + 1,
                    events: 2,
                    ..Counts::default()
                };
                batch.push((
                    prefix.row_key(bucket, ["Google", "Direct"][day as usize % 2]),
                    counts,
                ));
            }
        }
        store.apply(&batch).unwrap();
        let rows = everything(&store);
        let db = store.db().unwrap();
        let write = db.begin_write().unwrap();
        write
            .open_table(super::super::META)
            .unwrap()
            .insert(super::super::SCHEMA_KEY, SCHEMA_OPEN_ROWS)
            .unwrap();
        write.commit().unwrap();
        rows
    }

    #[test]
    fn an_earlier_file_is_refused_reported_by_a_dry_run_and_converted_by_migrate() {
        let dir = tempfile::tempdir().unwrap();
        let rows = earlier_file(dir.path());
        let file = dir.path().join(FILE_NAME);
        let bytes = std::fs::read(&file).unwrap();

        let refused = Embedded::open(dir.path(), 1 << 20).err().unwrap();
        assert!(
            matches!(refused, StoreError::Outdated { .. }),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("kruimel migrate"), "{refused}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            bytes,
            "refusing changed the file"
        );

        let dry = Embedded::migrate(dir.path(), 1 << 20, TODAY, MigrationRun::DryRun).unwrap();
        assert_eq!(
            (dry.schema.as_str(), dry.sites.as_slice()),
            (SCHEMA_OPEN_ROWS, [SITE.to_owned()].as_slice())
        );
        assert_eq!(dry.open_rows, rows.len() as u64);
        assert_eq!((dry.sealed_rows, dry.bytes_after), (0, None));
        assert_eq!(
            std::fs::read(&file).unwrap(),
            bytes,
            "a dry run changed the file"
        );

        let done = Embedded::migrate(dir.path(), 1 << 20, TODAY, MigrationRun::Convert).unwrap();
        assert!(
            done.sealed_rows > 0 && done.sealed_rows < done.open_rows,
            "{done:?}"
        );
        assert!(done.bytes_after.is_some());
        let store = Embedded::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(everything(&store), rows, "converting changed a count");
        drop(store);

        let again = Embedded::migrate(dir.path(), 1 << 20, TODAY, MigrationRun::Convert).unwrap();
        assert!(again.was_current());
        assert_eq!(again.bytes_after, None, "a current file is left alone");
    }
}
