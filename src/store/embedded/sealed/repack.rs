//! Units of the earlier layout (a block per key), rewritten in pieces.
//!
//! Readers take both layouts, so nothing needs this to be done; `kruimel
//! migrate` does it on request, and compacts the file, to give back what
//! redb's rounding of large values took.

use redb::{Database, ReadableTable, WriteTransaction};

use super::pieces::Head;
use super::{DICTIONARIES, SEGMENTS, Unit, unit_from, unit_rows, write_unit};
use crate::store::StoreError;
use crate::store::embedded::operation;

/// Every unit still in the earlier layout, with its site.
pub(in crate::store::embedded) fn units_in_blocks(
    db: &Database,
) -> Result<Vec<(String, Unit)>, StoreError> {
    let read = db.begin_read().map_err(operation)?;
    let table = match read.open_table(DICTIONARIES) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(error) => return Err(operation(error)),
    };
    let mut units = Vec::new();
    for entry in table.iter().map_err(operation)? {
        let (key, value) = entry.map_err(operation)?;
        if Head::is_head(value.value()) {
            continue;
        }
        let key = key.value();
        let length = usize::from(*key.first().ok_or(StoreError::Corrupt("empty key"))?);
        let site = std::str::from_utf8(key.get(1..1 + length).ok_or(StoreError::Corrupt("site"))?)
            .map_err(|_| StoreError::Corrupt("site is not UTF-8"))?;
        units.push((site.to_owned(), unit_from(key, 1 + length)?));
    }
    Ok(units)
}

/// Rewrites one unit in the current layout, its rows unchanged.
pub(in crate::store::embedded) fn repack(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
) -> Result<(), StoreError> {
    let mut rows = super::Rows::new();
    {
        let segments = write.open_table(SEGMENTS).map_err(operation)?;
        let dictionaries = write.open_table(DICTIONARIES).map_err(operation)?;
        unit_rows(&segments, &dictionaries, site, unit, &mut rows)?;
    }
    write_unit(write, site, unit, &rows)
}
