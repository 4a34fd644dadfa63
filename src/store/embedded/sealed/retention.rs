//! Retention of sealed units: whole units before the limits are deleted
//! with their dictionaries; a day the hour limit cuts through is rewritten
//! without the hours before it.

use std::collections::HashMap;

use redb::{ReadableTable, WriteTransaction};

use super::{
    DICTIONARIES, SEGMENTS, Unit, delete_unit, unit_from, unit_key, unit_rows, write_unit,
};
use crate::store::StoreError;
use crate::store::embedded::operation;
use crate::store::schema::Granularity;

/// Deletes a site's sealed units before the limits: days (with their
/// hours) before `before_day`, hours before `before_hour`, months whose
/// first day is before `before_day`. The rows deleted.
pub(in crate::store::embedded) fn purge(
    write: &WriteTransaction,
    site: &str,
    before_day: i32,
    before_hour: i32,
) -> Result<u64, StoreError> {
    let hour_day = before_hour.div_euclid(24);
    // The first day no retention limit reaches into.
    let untouched = before_day.max(hour_day + i32::from(before_hour.rem_euclid(24) != 0));
    let mut removed = 0;
    for unit in units_between(write, site, Unit::Day(i32::MIN), Unit::Day(untouched))? {
        removed += match unit {
            Unit::Day(day) if day < before_day && day < hour_day => delete_unit(write, site, unit)?,
            _ => trim_day(write, site, unit, before_day, before_hour)?,
        };
    }
    for unit in units_between(write, site, Unit::Month(i32::MIN), Unit::Month(before_day))? {
        removed += delete_unit(write, site, unit)?;
    }
    Ok(removed)
}

/// The sealed units of one kind in `from..limit`, by their dictionaries.
fn units_between(
    write: &WriteTransaction,
    site: &str,
    from: Unit,
    limit: Unit,
) -> Result<Vec<Unit>, StoreError> {
    let table = write.open_table(DICTIONARIES).map_err(operation)?;
    let (start, end) = (unit_key(site, from), unit_key(site, limit));
    let site_len = start.len() - 5;
    let mut units = Vec::new();
    for entry in table
        .range(start.as_slice()..end.as_slice())
        .map_err(operation)?
    {
        let (key, _) = entry.map_err(operation)?;
        units.push(unit_from(key.value(), site_len)?);
    }
    Ok(units)
}

/// Removes from a day the rows retention has reached (its daily rows when
/// the day is before `before_day`, its hours before `before_hour`).
fn trim_day(
    write: &WriteTransaction,
    site: &str,
    unit: Unit,
    before_day: i32,
    before_hour: i32,
) -> Result<u64, StoreError> {
    let mut rows = HashMap::new();
    {
        let segments = write.open_table(SEGMENTS).map_err(operation)?;
        let dictionaries = write.open_table(DICTIONARIES).map_err(operation)?;
        unit_rows(&segments, &dictionaries, site, unit, &mut rows)?;
    }
    let mut removed = 0;
    rows.retain(|shape, rows| {
        rows.retain(|(_, offset, _), _| {
            let bucket = unit.bucket(shape.granularity, *offset);
            let gone = match shape.granularity {
                Granularity::Hour => bucket < before_hour,
                _ => bucket < before_day,
            };
            removed += u64::from(gone);
            !gone
        });
        !rows.is_empty()
    });
    if removed > 0 {
        write_unit(write, site, unit, &rows)?;
    }
    Ok(removed)
}
