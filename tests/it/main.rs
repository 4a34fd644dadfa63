//! Kruimel's integration tests: one binary, the real server on real sockets.

mod bad_input;
mod counting;
mod country;
mod helpers;
mod ingest;
mod midnight;
mod privacy_audit;
mod process;
mod redis_server;
mod restart;
mod retention;
mod stats_api;
