//! Kruimel: privacy-first web analytics and cookie-consent server.
//!
//! Modules are declared in the order a beacon travels through them.
#![forbid(unsafe_code)]

/// Dashboard accounts: users, passwords, second factors, sessions, audit log.
pub mod accounts;
/// The single owner of count deltas: applies hits, flushes batches to the store.
pub mod aggregate;
/// Local calendar days as numbers, and months of them.
pub mod calendar;
/// Time as an input: the system clock, or one a test moves.
pub mod clock;
/// Typed configuration tree, loaded from TOML and `KRUIMEL_*` variables.
pub mod config;
/// The cookie notice per site and language, and consent receipts.
pub(crate) mod consent;
/// The webmaster dashboard's front end, embedded at compile time.
pub(crate) mod dashboard;
/// The privacy page's content, derived from the settings in force.
pub mod disclosure;
/// Bot filter, user-agent classes, country, source from referrer.
pub mod enrich;
/// Entry points for the fuzz targets in `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing;
/// The only module that knows HTTP: listeners, routing, wire types, status codes.
pub mod http;
/// Turns a wire-free beacon into hits through `privacy` and `enrich`.
pub mod ingest;
/// Prometheus registry and the server's metrics.
pub(crate) mod metrics;
/// IP truncation, daily salts, visitor hashes, URL scrubbing, privacy signals.
pub mod privacy;
/// Stats queries over stored counts: periods, metrics, breakdowns, filters.
pub mod query;
/// Reloading sites and the country database while serving (SIGHUP, admin).
pub mod reload;
/// Hot per-visitor state: new today, the open visit, what was credited today.
pub mod sessions;
/// The configured sites: ids, hostnames, time zones, retention, token hashes.
pub mod sites;
/// Wires the stages together and runs the server until shutdown.
pub mod startup;
/// Durable aggregate counts: the embedded single-file database, or Redis.
pub mod store;
