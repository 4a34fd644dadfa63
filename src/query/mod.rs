//! Stats queries over stored counts.
//!
//! Owns the query vocabulary (modelled on the Plausible Stats API v1:
//! periods, metrics, properties, filters, intervals), its parsing from
//! parameter pairs (`params`), calendar arithmetic in the site's time zone
//! (`period`), and the computations (`compute`). It does not know HTTP:
//! the edge hands it parameters and serialises what it returns.

pub mod compute;
pub mod fold;
pub mod params;
pub mod period;

pub use compute::{BreakdownRow, SeriesPoint, Stats};
pub use params::{Filter, Interval, Metric, Property, QueryError, StatsQuery};
pub use period::DateRange;
