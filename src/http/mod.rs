//! The HTTP edge: the only module that knows HTTP.
//!
//! Owns the listeners' accept loops (`server`), routing for the public and
//! admin listeners, the wire types of each endpoint, the mapping of errors
//! to status codes and stable codes (`errors`), client-IP resolution
//! (`client_ip`) and CORS (`cors`).
//! Invariant: no handler awaits the store on the ingest path.

mod admin;
mod body;
pub mod client_ip;
mod cors;
mod errors;
mod event;
mod public;
mod server;
mod state;
mod stats;

pub use server::{Face, Listeners, Timeouts, serve};
pub use state::AppState;

use bytes::Bytes;
use http_body_util::Full;

pub type Response = hyper::Response<Full<Bytes>>;

/// Routes, for metric labels and logs: a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Event,
    StatsAggregate,
    StatsTimeseries,
    StatsBreakdown,
    StatsRealtime,
    OpenApi,
    Healthz,
    Readyz,
    Metrics,
    NotFound,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Event => "event",
            Route::StatsAggregate => "stats_aggregate",
            Route::StatsTimeseries => "stats_timeseries",
            Route::StatsBreakdown => "stats_breakdown",
            Route::StatsRealtime => "stats_realtime",
            Route::OpenApi => "openapi",
            Route::Healthz => "healthz",
            Route::Readyz => "readyz",
            Route::Metrics => "metrics",
            Route::NotFound => "not_found",
        }
    }
}

fn status_class(status: hyper::StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
