//! The public listener's routes: ingest, the script, consent, stats API,
//! OpenAPI document.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};

use super::dashboard::{
    admin as dashboard_admin, auth as dashboard_auth, pages as dashboard_pages,
};
use super::errors::ApiError;
use super::ingest::{cors, event, script};
use super::pages::{consent, privacy as privacy_page};
use super::stats::query::StatsRoute;
use super::stats::{consent as consent_stats, query as stats};
use super::{AppState, Response, Route};
use crate::query::params::Endpoint;

const OPENAPI: &str = include_str!("stats/openapi.json");

pub(super) fn route_of(request: &Request<Incoming>) -> Route {
    match request.uri().path() {
        "/api/event" => Route::Event,
        "/js/kruimel.js" | "/js/kruimel-tracker.js" => Route::Script,
        "/api/consent" => Route::Consent,
        "/api/consent/notice" => Route::ConsentNotice,
        path if path.starts_with("/api/consent/") && path.ends_with("/status") => {
            Route::ReceiptStatus
        }
        path if path.starts_with("/api/consent/") => Route::Receipt,
        "/api/v1/stats/consent" => Route::StatsConsent,
        "/api/v1/stats/export" => Route::StatsExport,
        "/assets/kruimel.css" => Route::Asset,
        "/dashboard/api/login" => Route::Login,
        "/dashboard/api/logout" => Route::Logout,
        "/dashboard/api/session" => Route::Session,
        path if path.starts_with("/dashboard/api/sites/") => Route::ShareLinks,
        path if path.starts_with("/dashboard/api/") => Route::NotFound,
        path if path == "/dashboard" || path.starts_with("/dashboard/") => Route::Dashboard,
        path if path.starts_with("/privacy/") => Route::PrivacyPage,
        "/api/v1/stats/aggregate" => Route::StatsAggregate,
        "/api/v1/stats/timeseries" => Route::StatsTimeseries,
        "/api/v1/stats/breakdown" => Route::StatsBreakdown,
        "/api/v1/stats/realtime/visitors" => Route::StatsRealtime,
        "/api/openapi.json" => Route::OpenApi,
        _ => Route::NotFound,
    }
}

pub(super) async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    route: Route,
) -> Response {
    let method = request.method().clone();
    match route {
        Route::Event => match method {
            Method::POST => event::handle(state, request, peer).await,
            Method::OPTIONS => cors::preflight(
                cors::allowed_origin(request.headers(), &state.sites.load()),
                "POST",
            ),
            _ => ApiError::MethodNotAllowed("POST, OPTIONS").response(),
        },
        Route::Consent => match method {
            Method::POST => consent::choose(state, request, peer).await,
            Method::OPTIONS => cors::preflight(
                cors::allowed_origin(request.headers(), &state.sites.load()),
                "POST",
            ),
            _ => ApiError::MethodNotAllowed("POST, OPTIONS").response(),
        },
        Route::Receipt => match method {
            Method::GET | Method::HEAD | Method::DELETE | Method::POST => {
                consent::receipt(state, request).await
            }
            Method::OPTIONS => cors::preflight(
                cors::allowed_origin(request.headers(), &state.sites.load()),
                "GET, DELETE",
            ),
            _ => ApiError::MethodNotAllowed("GET, HEAD, DELETE, POST, OPTIONS").response(),
        },
        Route::Login if method == Method::POST => dashboard_auth::login(state, request, peer).await,
        Route::Logout if method == Method::POST => {
            dashboard_auth::logout(state, request, peer).await
        }
        Route::Login | Route::Logout => ApiError::MethodNotAllowed("POST").response(),
        Route::ShareLinks => dashboard_admin::share_links(state, request, peer).await,
        Route::NotFound => ApiError::NotFound.response(),
        _ if method != Method::GET && method != Method::HEAD => {
            ApiError::MethodNotAllowed("GET, HEAD").response()
        }
        Route::Script => script::serve(&request),
        Route::Session => dashboard_auth::session(&state, &request, peer).await,
        Route::Dashboard => dashboard_pages::serve(&request),
        Route::PrivacyPage => privacy_page::serve(&state, &request),
        Route::Asset => privacy_page::stylesheet(),
        Route::ConsentNotice => consent::notice(&state, &request),
        Route::ReceiptStatus => consent::receipt_status(state, request).await,
        Route::StatsConsent => consent_stats::handle(state, request, peer).await,
        Route::StatsExport => stats::handle(state, request, peer, StatsRoute::Export).await,
        Route::OpenApi => super::respond::respond(
            StatusCode::OK,
            Some("application/json"),
            bytes::Bytes::from_static(OPENAPI.as_bytes()),
        ),
        Route::StatsAggregate => {
            stats::handle(state, request, peer, StatsRoute::Query(Endpoint::Aggregate)).await
        }
        Route::StatsTimeseries => {
            stats::handle(
                state,
                request,
                peer,
                StatsRoute::Query(Endpoint::Timeseries),
            )
            .await
        }
        Route::StatsBreakdown => {
            stats::handle(state, request, peer, StatsRoute::Query(Endpoint::Breakdown)).await
        }
        Route::StatsRealtime => stats::handle(state, request, peer, StatsRoute::Realtime).await,
        Route::Healthz | Route::Readyz | Route::Metrics | Route::Reload => {
            ApiError::NotFound.response()
        }
    }
}
