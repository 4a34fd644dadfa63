//! Kruimel: privacy-first web analytics and cookie-consent server.
//!
//! Modules are declared in the order a beacon travels through them, after
//! what every stage is given and before what reads the counts back
//! (`rustfmt.toml` keeps this order).
#![forbid(unsafe_code)]

// What every stage is given.
/// Typed configuration tree, loaded from TOML and `KRUIMEL_*` variables.
pub mod config;
/// The configured sites: ids, hostnames, time zones, retention, token hashes.
pub mod sites;
/// Time as an input: the system clock, or one a test moves.
pub mod clock;
/// Local calendar days as numbers, and months of them.
pub mod calendar;

// A beacon's way in: the edge, then the pipeline's stages in order.
/// The only module that knows HTTP: listeners, routing, wire types, status codes.
pub mod http;
/// Turns a wire-free beacon into hits through `privacy` and `enrich`.
pub mod ingest;
/// IP truncation, daily salts, visitor hashes, URL scrubbing, privacy signals.
pub mod privacy;
/// Bot filter, user-agent classes, country, source from referrer.
pub mod enrich;
/// Hot per-visitor state: new today, the open visit, what was credited today.
pub mod sessions;
/// The single owner of count deltas: applies hits, flushes batches to the store.
pub mod aggregate;
/// Durable aggregate counts: the embedded single-file database, or Redis.
pub mod store;

// Reading the counts back, and watching the server.
/// Stats queries over stored counts: periods, metrics, breakdowns, filters.
pub mod query;
/// Prometheus registry and the server's metrics.
pub(crate) mod metrics;

// The server's other faces: consent, the privacy page, the dashboard.
/// The cookie notice per site and language, and consent receipts.
pub(crate) mod consent;
/// The privacy page's content, derived from the settings in force.
pub mod disclosure;
/// Dashboard accounts: users, passwords, second factors, sessions, audit log.
pub mod accounts;
/// The webmaster dashboard's front end, embedded at compile time.
pub(crate) mod dashboard;

// Running it.
/// Checking a configuration whole, and reloading it while serving (SIGHUP, admin).
pub mod reload;
/// Wires the stages together and runs the server until shutdown.
pub mod startup;
/// Entry points for the fuzz targets in `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing;
