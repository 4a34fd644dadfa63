//! Units of the earlier layout (a block per key), rewritten in pieces.
//!
//! Readers take both layouts, so nothing needs this to be done; `kruimel
//! migrate` does it on request, and compacts the file, to give back what
//! redb's rounding of large values took.

use redb::{Database, ReadableTable, WriteTransaction};

use super::{DICTIONARIES, Layout, SEGMENTS, Unit, layout_of, unit_from, unit_rows, write_unit};
use crate::store::StoreError;
use crate::store::embedded::operation;
use crate::store::schema::site_of_key;

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
        if matches!(layout_of(value.value())?, Layout::Pieces(_)) {
            continue;
        }
        let key = key.value();
        let (site, head) = site_of_key(key).map_err(StoreError::Corrupt)?;
        units.push((site.to_owned(), unit_from(key, head)?));
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
