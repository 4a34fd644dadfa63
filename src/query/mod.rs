//! Stats queries over stored counts.
//!
//! Owns the query vocabulary (modelled on the Plausible Stats API v1:
//! periods, metrics, properties, filters, intervals), its parsing from
//! parameter pairs (`params`), periods as ranges of local days (`period`,
//! over `calendar::Day`), the reader of a site's stored counts (`stats`)
//! and the rows and points it hands on (`rows`), the computations
//! (`compute`; comparisons with the previous period in `comparison`;
//! conversion rates in `conversion`; scroll depth and time on page in
//! `engagement`), what the public may read of them (`fold`'s rules,
//! applied by `published`), and the answers as values (`answer`). It does
//! not know HTTP: the edge hands it parameters and writes each `Answer` as
//! JSON or CSV.

pub mod answer;
pub(crate) mod comparison;
pub(crate) mod compute;
pub(crate) mod conversion;
pub(crate) mod engagement;
pub mod fold;
pub mod params;
pub(crate) mod period;
mod published;
pub(crate) mod rows;
mod stats;

pub use params::{Filter, Metric, Property, QueryError, StatsQuery};
pub use stats::Stats;
