//! The admin listener: `/healthz`, `/readyz`, `/metrics`, `POST /reload`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use serde_json::json;

use super::errors::{ApiError, json_response};
use super::{AppState, Response, Route};

pub fn route_of(request: &Request<Incoming>) -> Route {
    match request.uri().path() {
        "/healthz" => Route::Healthz,
        "/readyz" => Route::Readyz,
        "/metrics" => Route::Metrics,
        "/reload" => Route::Reload,
        _ => Route::NotFound,
    }
}

pub async fn handle(state: Arc<AppState>, request: Request<Incoming>, route: Route) -> Response {
    if route == Route::Reload {
        if request.method() != Method::POST {
            return ApiError::MethodNotAllowed("POST").response();
        }
        return reload(state).await;
    }
    if route != Route::NotFound
        && request.method() != Method::GET
        && request.method() != Method::HEAD
    {
        return ApiError::MethodNotAllowed("GET, HEAD").response();
    }
    match route {
        Route::Healthz => json_response(StatusCode::OK, &json!({ "status": "ok" })),
        Route::Readyz => readiness(&state).await,
        Route::Metrics => {
            let ready = readiness_failures(&state).await.is_empty();
            state.metrics.ready.set(i64::from(ready));
            let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(
                state.metrics.render(),
            )));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => ApiError::NotFound.response(),
    }
}

async fn reload(state: Arc<AppState>) -> Response {
    let reloaded = tokio::task::spawn_blocking(move || state.reloader.reload(&state))
        .await
        .unwrap_or_else(|_| Err("the reload task failed".to_owned()));
    match reloaded {
        Ok(reloaded) => json_response(
            StatusCode::OK,
            &json!({
                "status": "reloaded",
                "sites": reloaded.sites,
                "added": reloaded.added,
                "country_database": reloaded.country_database,
            }),
        ),
        Err(reason) => ApiError::ReloadRejected(reason).response(),
    }
}

async fn readiness(state: &Arc<AppState>) -> Response {
    let failed = readiness_failures(state).await;
    let warnings = readiness_warnings(state);
    if failed.is_empty() {
        json_response(
            StatusCode::OK,
            &json!({ "status": "ready", "failed": [], "warnings": warnings }),
        )
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "not_ready", "failed": failed, "warnings": warnings }),
        )
    }
}

/// What an operator must act on soon but does not keep the server from
/// serving: sites over their storage budget, as `storage_budget:<site>`.
/// Not a failure: every instance shares the store, so a load balancer
/// would take them all out of service at once, and beacons would be lost
/// rather than stored.
fn readiness_warnings(state: &AppState) -> Vec<String> {
    let sites = state.sites.load();
    crate::aggregate::stored_bytes::sites_over_budget(&sites, &state.metrics)
        .into_iter()
        .map(|site| format!("storage_budget:{}", site.id.as_str()))
        .collect()
}

/// What keeps the server from being ready; empty when it is.
async fn readiness_failures(state: &Arc<AppState>) -> Vec<&'static str> {
    let mut failed = Vec::new();
    if state.draining.load(Ordering::Relaxed) {
        failed.push("draining");
    }
    let store = state.store.clone();
    let store_ok = tokio::task::spawn_blocking(move || store.ping().is_ok())
        .await
        .unwrap_or(false);
    if !store_ok {
        failed.push("store");
    }
    if let Some(salts) = &state.salts
        && !salts.all_shared(&state.sites.load(), state.clock.now())
    {
        failed.push("salt");
    }
    failed
}
