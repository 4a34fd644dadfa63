//! The admin listener: `/healthz`, `/readyz`, `/metrics`, `POST /reload`.
//!
//! It serves machines (Prometheus, probes, an operator's curl), never web
//! pages, so a request a browser sends on behalf of another site (with
//! `Origin`, or `Sec-Fetch-Site` other than `none`) is refused whatever it
//! asks. With `server.admin_tokens` set, `/metrics` and `/reload` need one
//! of them as a bearer token; without, `/reload` is accepted from loopback
//! peers only. The probes stay open: they tell nothing about the sites.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode};
use serde_json::json;

use super::errors::ApiError;
use super::respond;
use super::{AppState, Response, Route};
use crate::config::TokenHash;
use crate::reload::ReloadError;

pub(super) fn route_of(request: &Request<Incoming>) -> Route {
    match request.uri().path() {
        "/healthz" => Route::Healthz,
        "/readyz" => Route::Readyz,
        "/metrics" => Route::Metrics,
        "/reload" => Route::Reload,
        _ => Route::NotFound,
    }
}

/// Whether a browser sent this for a page of some site.
fn from_a_browser_page(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
        || headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() != b"none")
}

/// Whether the request may read `/metrics` or ask for `/reload`.
fn authorised(tokens: &[TokenHash], headers: &HeaderMap, peer: SocketAddr, route: Route) -> bool {
    if tokens.is_empty() {
        return route != Route::Reload || peer.ip().is_loopback();
    }
    TokenHash::any_matches(tokens, super::bearer_token(headers))
}

pub(super) async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    route: Route,
) -> Response {
    if from_a_browser_page(request.headers()) {
        return ApiError::CrossOrigin.response();
    }
    if matches!(route, Route::Metrics | Route::Reload)
        && !authorised(&state.admin_tokens, request.headers(), peer, route)
    {
        return ApiError::Unauthorized.response();
    }
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
        Route::Healthz => respond::json(StatusCode::OK, &json!({ "status": "ok" })),
        Route::Readyz => readiness(&state).await,
        Route::Metrics => {
            let ready = readiness_failures(&state).await.is_empty();
            state.metrics.ready.set(i64::from(ready));
            respond::respond(
                StatusCode::OK,
                Some("text/plain; version=0.0.4; charset=utf-8"),
                state.metrics.render(),
            )
        }
        _ => ApiError::NotFound.response(),
    }
}

async fn reload(state: Arc<AppState>) -> Response {
    let reloaded = tokio::task::spawn_blocking(move || state.reload())
        .await
        .unwrap_or(Err(ReloadError::Stopped));
    match reloaded {
        Ok(reloaded) => respond::json(
            StatusCode::OK,
            &json!({
                "status": "reloaded",
                "sites": reloaded.sites,
                "added": reloaded.added,
                "country_database": reloaded.country_database,
            }),
        ),
        Err(reason) => ApiError::ReloadRejected(reason.to_string()).response(),
    }
}

async fn readiness(state: &Arc<AppState>) -> Response {
    let failed = readiness_failures(state).await;
    let warnings = readiness_warnings(state);
    if failed.is_empty() {
        respond::json(
            StatusCode::OK,
            &json!({ "status": "ready", "failed": [], "warnings": warnings }),
        )
    } else {
        respond::json(
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn check(tokens: &[TokenHash], bearer: Option<&str>, peer: &str, route: Route) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            headers.insert(header::AUTHORIZATION, value);
        }
        authorised(tokens, &headers, peer.parse().unwrap(), route)
    }

    #[test]
    fn without_tokens_only_loopback_peers_may_reload() {
        assert!(check(&[], None, "127.0.0.1:5000", Route::Reload));
        assert!(check(&[], None, "[::1]:5000", Route::Reload));
        assert!(!check(&[], None, "10.0.0.7:5000", Route::Reload));
        assert!(check(&[], None, "10.0.0.7:5000", Route::Metrics));
    }

    #[test]
    fn with_tokens_metrics_and_reload_need_one_from_anywhere() {
        let tokens = [TokenHash::of_token("een"), TokenHash::of_token("twee")];
        for route in [Route::Metrics, Route::Reload] {
            assert!(check(&tokens, Some("twee"), "10.0.0.7:5000", route));
            assert!(!check(&tokens, None, "127.0.0.1:5000", route));
            assert!(!check(&tokens, Some("drie"), "127.0.0.1:5000", route));
        }
    }

    #[test]
    fn requests_a_browser_sends_for_a_page_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(!from_a_browser_page(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("none"));
        assert!(!from_a_browser_page(&headers), "typed into the address bar");
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(from_a_browser_page(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(from_a_browser_page(&headers));
    }
}
