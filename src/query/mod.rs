//! Stats queries over stored counts.
//!
//! Owns the query vocabulary (modelled on the Plausible Stats API v1:
//! periods, metrics, properties, filters, intervals), its parsing from
//! parameter pairs (`params`), calendar arithmetic in the site's time zone
//! (`period`), the computations (`compute`; comparisons with the previous
//! period in `comparison`; conversion rates in `conversion`; scroll depth
//! and time on page in `engagement`), and what the
//! public may read of them (`fold`'s rules, applied by `published`). It
//! does not know HTTP: the edge hands it parameters and serialises what it
//! returns.

pub mod comparison;
pub mod compute;
pub mod conversion;
pub mod engagement;
pub mod fold;
pub mod params;
pub mod period;
mod published;

pub use compute::{BreakdownRow, SeriesPoint, Stats};
pub use params::{Filter, Interval, Metric, Property, QueryError, StatsQuery};
pub use period::DateRange;
