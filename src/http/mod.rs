//! The HTTP edge: the only module that knows HTTP.
//!
//! Owns the listeners' accept loops (`server`), routing for the public and
//! admin listeners (`public`, `admin`), the mapping of errors to status
//! codes and stable codes (`errors`) and the building of every response
//! (`respond`); the handlers are grouped by what they serve: `ingest`
//! (beacons, the script, client addresses, CORS), `stats` (the stats API
//! and its exports), `dashboard` and `pages` (the citizen's pages).
//! Invariant: no handler awaits the store on the ingest path.

// Edge-wide: the listeners, routing, state, errors and responses.
mod admin;
mod body;
mod conditional;
mod errors;
pub mod probe;
mod public;
mod respond;
mod server;
mod state;
mod store_call;

// By what they serve.
mod dashboard;
mod ingest;
mod pages;
mod stats;

pub(crate) use ingest::{client_ip, event};
pub use ingest::{rate_limit, script};

pub use server::Listeners;
pub(crate) use server::{Face, Timeouts, serve};
pub(crate) use state::AppState;

use bytes::Bytes;
use http_body_util::Full;

pub type Response = hyper::Response<Full<Bytes>>;

/// Routes, for metric labels and logs: a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Event,
    Script,
    ConsentNotice,
    Consent,
    Receipt,
    ReceiptStatus,
    StatsConsent,
    StatsExport,
    PrivacyPage,
    Asset,
    Login,
    Logout,
    Session,
    Dashboard,
    ShareLinks,
    StatsAggregate,
    StatsTimeseries,
    StatsBreakdown,
    StatsRealtime,
    OpenApi,
    Healthz,
    Readyz,
    Metrics,
    Reload,
    NotFound,
}

impl Route {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Route::Event => "event",
            Route::Script => "script",
            Route::ConsentNotice => "consent_notice",
            Route::Consent => "consent",
            Route::Receipt => "consent_receipt",
            Route::ReceiptStatus => "consent_receipt_status",
            Route::StatsConsent => "stats_consent",
            Route::StatsExport => "stats_export",
            Route::PrivacyPage => "privacy_page",
            Route::Asset => "asset",
            Route::Login => "login",
            Route::Logout => "logout",
            Route::Session => "session",
            Route::Dashboard => "dashboard",
            Route::ShareLinks => "share_links",
            Route::StatsAggregate => "stats_aggregate",
            Route::StatsTimeseries => "stats_timeseries",
            Route::StatsBreakdown => "stats_breakdown",
            Route::StatsRealtime => "stats_realtime",
            Route::OpenApi => "openapi",
            Route::Healthz => "healthz",
            Route::Readyz => "readyz",
            Route::Metrics => "metrics",
            Route::Reload => "reload",
            Route::NotFound => "not_found",
        }
    }
}

const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The token of an `Authorization: Bearer …` header; empty without one.
pub(crate) fn bearer_token(headers: &hyper::HeaderMap) -> &str {
    headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim())
}

fn status_class(status: hyper::StatusCode) -> usize {
    usize::from((status.as_u16() / 100).clamp(1, 5) - 1)
}

impl Route {
    const ALL: [Route; 25] = [
        Route::Event,
        Route::Script,
        Route::ConsentNotice,
        Route::Consent,
        Route::Receipt,
        Route::ReceiptStatus,
        Route::StatsConsent,
        Route::StatsExport,
        Route::PrivacyPage,
        Route::Asset,
        Route::Login,
        Route::Logout,
        Route::Session,
        Route::Dashboard,
        Route::ShareLinks,
        Route::StatsAggregate,
        Route::StatsTimeseries,
        Route::StatsBreakdown,
        Route::StatsRealtime,
        Route::OpenApi,
        Route::Healthz,
        Route::Readyz,
        Route::Metrics,
        Route::Reload,
        Route::NotFound,
    ];
}

/// The request counter of every (route, status class) and the latency
/// histogram of every route, looked up once at start so a request pays
/// atomic increments, not label lookups.
pub(crate) struct RequestCounters {
    counts: Vec<[prometheus::IntCounter; 5]>,
    durations: Vec<prometheus::Histogram>,
}

impl RequestCounters {
    pub(crate) fn new(metrics: &crate::metrics::Metrics) -> RequestCounters {
        for code in errors::ApiError::BEACON_CODES {
            // Present from the start, so a rate over them is never empty.
            metrics.beacons_invalid.with_label_values(&[code]);
        }
        RequestCounters {
            counts: Route::ALL
                .iter()
                .map(|route| {
                    STATUS_CLASSES.map(|class| {
                        metrics
                            .http_requests
                            .with_label_values(&[route.as_str(), class])
                    })
                })
                .collect(),
            durations: Route::ALL
                .iter()
                .map(|route| metrics.http_duration.with_label_values(&[route.as_str()]))
                .collect(),
        }
    }

    fn count(&self, route: Route, status: hyper::StatusCode, seconds: f64) {
        let row = Route::ALL
            .iter()
            .position(|known| *known == route)
            .unwrap_or(0);
        self.counts[row][status_class(status)].inc();
        self.durations[row].observe(seconds);
    }
}
