//! Kruimel's integration tests: one binary, the real server on real sockets.

mod backends;
mod bad_input;
mod cluster;
mod consent;
mod counting;
mod country;
mod dashboards;
mod exposition;
mod helpers;
mod ingest;
mod metrics;
mod midnight;
mod privacy_audit;
mod privacy_page;
mod process;
mod promtool;
mod redis_backend;
mod redis_server;
mod redis_store;
mod redis_tls;
mod reload;
mod restart;
mod retention;
mod script;
mod stats_api;
mod two_instances;
