//! The consent endpoints the script calls: `GET /api/consent/notice`,
//! `POST /api/consent` (a choice), `GET` and `DELETE /api/consent/{id}`
//! (inzage and erasure), and `GET /api/consent/{id}/status`, the check
//! that tells the script, once per visit, whether its receipt still exists.
//!
//! A choice is checked against the notice it names by banner version (the
//! current one, or one archived earlier), so a receipt only ever refers
//! to a notice the server can show again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde_json::json;

use crate::consent::{ChoiceRequest, Mode, Notice, Receipt, ReceiptId, Terms};
use crate::http::body::read_limited;
use crate::http::errors::ApiError;
use crate::http::respond;
use crate::http::store_call::store_call;
use crate::http::{AppState, Response, conditional, ingest::cors, pages::receipt as receipt_page};

/// A choice is a few hundred bytes; this leaves room for long category lists.
const BODY_LIMIT: usize = 4 * 1024;
const SECONDS_PER_DAY: i64 = 86_400;

fn with_cors(state: &AppState, request: &Request<Incoming>) -> Option<HeaderValue> {
    cors::allowed_origin(request.headers(), &state.sites.load())
}

fn finish(result: Result<Response, ApiError>, origin: Option<HeaderValue>) -> Response {
    let mut response = result.unwrap_or_else(|error| error.response());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    cors::grant(&mut response, origin);
    response
}

/// `GET /api/consent/notice?site=…&lang=…`
pub(in crate::http) fn notice(state: &AppState, request: &Request<Incoming>) -> Response {
    let origin = with_cors(state, request);
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let Some(site_id) = params.get("site") else {
        return finish(
            Err(crate::query::QueryError::Missing("site").into()),
            origin,
        );
    };
    let sites = state.sites.load();
    let Some(site) = sites.find(site_id) else {
        return finish(Err(ApiError::UnknownSite), origin);
    };
    let notice = site.consent.notice(params.get("lang").map(String::as_str));
    let mut response = conditional::tagged(request.headers(), &notice.banner_version, || {
        bytes::Bytes::from(notice.to_json())
    });
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    cors::grant(&mut response, origin);
    response
}

/// `POST /api/consent`
pub(in crate::http) async fn choose(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let origin = with_cors(&state, &request);
    finish(record(state, request, peer).await, origin)
}

async fn record(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // Every choice is stored: one network may make only so many a minute.
    let network = state
        .pipeline
        .truncate(state.proxies.client_ip(peer.ip(), &parts.headers));
    state
        .consent_limit
        .check(network, std::time::Instant::now())
        .map_err(|limited| ApiError::TooManyRequests(limited.retry_after))?;
    crate::http::ingest::event::check_content_type(&parts.headers)?;
    let bytes = read_limited(body, &parts.headers, BODY_LIMIT, state.body_timeout).await?;
    let wanted: ChoiceRequest =
        serde_json::from_slice(&bytes).map_err(|error| match error.classify() {
            serde_json::error::Category::Data => ApiError::InvalidChoice(error.to_string()),
            _ => ApiError::InvalidJson(error.to_string()),
        })?;
    let continues = wanted.receipt_id()?;
    let site = state
        .sites
        .load()
        .find(&wanted.site)
        .cloned()
        .ok_or(ApiError::UnknownSite)?;
    if site.consent.mode != Mode::Consent {
        return Err(ApiError::ConsentNotAsked);
    }
    let terms = terms_of(&state, &site.consent, &wanted).await?;
    let now = state.clock.now();
    let choice = wanted.check(&terms, now.as_second())?;
    let method = choice.method;
    let day = site.moment(now).day;
    if !state
        .consent_cap
        .take(site.id.as_str(), day, site.consent.max_choices_per_day)
    {
        state
            .metrics
            .consent_capped
            .with_label_values(&[site.id.as_str()])
            .inc();
        let next_day = site.start_of_day(day + 1).as_second();
        let until_then = u64::try_from(next_day - now.as_second()).unwrap_or(1);
        return Err(ApiError::ConsentCapReached(std::time::Duration::from_secs(
            until_then,
        )));
    }
    let expires = now.as_second() + i64::from(site.consent.retention_days) * SECONDS_PER_DAY;
    let store = state.store.clone();
    let site_id = site.id.as_str().to_owned();
    let recorded = store_call("consent", move || {
        store.record_choice(&site_id, continues, choice, day, expires)
    })
    .await?;
    state
        .metrics
        .consent_choices
        .with_label_values(&[method.as_str()])
        .inc();
    let id = recorded.receipt.receipt.hex();
    let status = if recorded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = respond::json(
        status,
        &json!({
            "receipt": id,
            "created": recorded.created,
            "expires": timestamp(recorded.receipt.expires),
        }),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/api/consent/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The terms of the notice a choice names: the current notice (archived on
/// first use), or one archived before a configuration change.
async fn terms_of(
    state: &Arc<AppState>,
    consent: &crate::consent::SiteConsent,
    wanted: &ChoiceRequest,
) -> Result<Terms, ApiError> {
    if let Some(notice) = consent.current(&wanted.banner_version) {
        archive_once(state, notice.clone()).await?;
        return Ok(notice.terms());
    }
    if wanted.banner_version.len() != 16
        || !wanted.banner_version.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ApiError::UnknownBannerVersion);
    }
    let store = state.store.clone();
    let (site, version) = (wanted.site.clone(), wanted.banner_version.clone());
    let archived = store_call("consent", move || store.archived_notice(&site, &version)).await?;
    archived
        .as_deref()
        .and_then(Terms::from_json)
        .ok_or(ApiError::UnknownBannerVersion)
}

/// Archives a current notice the first time this process records a choice
/// made on it (startup and reloads archive them too; this covers a store
/// that was away then).
async fn archive_once(state: &Arc<AppState>, notice: Arc<Notice>) -> Result<(), ApiError> {
    let key = format!("{}\0{}", notice.site, notice.banner_version);
    if state
        .archived
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&key)
    {
        return Ok(());
    }
    let store = state.store.clone();
    store_call("consent", move || store.archive_notice(&notice)).await?;
    state
        .archived
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key);
    Ok(())
}

/// `GET` or `DELETE /api/consent/{id}`; a browser asking for HTML gets a
/// page, asks to erase with `?step=erase` (a page that asks "are you
/// sure?") and erases through that page's form (`POST`, `action=erase`).
pub(in crate::http) async fn receipt(state: Arc<AppState>, request: Request<Incoming>) -> Response {
    let origin = with_cors(&state, &request);
    let id = request
        .uri()
        .path()
        .strip_prefix("/api/consent/")
        .and_then(ReceiptId::parse);
    let as_page = crate::http::pages::page::wants_html(&request);
    let erase_step = url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
        .any(|(key, value)| key == "step" && value == "erase");
    let result = match (id, request.method().clone()) {
        (None, _) => Err(ApiError::InvalidReceiptId),
        (Some(id), Method::DELETE) => erase(&state, id).await,
        (Some(id), Method::POST) => erase_from_page(&state, request, id).await,
        (Some(id), _) if as_page && erase_step => page_of(&state, id, receipt_page::confirm).await,
        (Some(id), _) if as_page => page_of(&state, id, receipt_page::shown).await,
        (Some(id), _) => show(&state, id).await,
    };
    finish(result, origin)
}

/// `GET /api/consent/{id}/status`: `204` while the receipt is kept, `404`
/// once it is erased or expired (or never was). No body, nothing of the
/// choices: the smallest answer that tells the script to ask again. Never
/// cached, since an erasure must show at once.
pub(in crate::http) async fn receipt_status(
    state: Arc<AppState>,
    request: Request<Incoming>,
) -> Response {
    let origin = with_cors(&state, &request);
    let id = request
        .uri()
        .path()
        .strip_prefix("/api/consent/")
        .and_then(|rest| rest.strip_suffix("/status"))
        .and_then(ReceiptId::parse);
    let result = match id {
        None => Err(ApiError::InvalidReceiptId),
        Some(id) => kept(&state, id).await,
    };
    finish(result, origin)
}

async fn kept(state: &Arc<AppState>, id: ReceiptId) -> Result<Response, ApiError> {
    let store = state.store.clone();
    store_call("consent", move || store.receipt(id))
        .await?
        .map(|_| no_content())
        .ok_or(ApiError::ReceiptNotFound)
}

fn no_content() -> Response {
    respond::empty(StatusCode::NO_CONTENT)
}

/// A page about a stored receipt (`render`), or the page that says there is
/// none.
async fn page_of(
    state: &Arc<AppState>,
    id: ReceiptId,
    render: fn(&Receipt) -> Response,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    Ok(
        match store_call("consent", move || store.receipt(id)).await? {
            Some(receipt) => render(&receipt),
            None => receipt_page::unknown(None),
        },
    )
}

/// The confirmation page's form: `action=erase` and the page's `lang`,
/// form-encoded. The answer stays in that language.
async fn erase_from_page(
    state: &Arc<AppState>,
    request: Request<Incoming>,
    id: ReceiptId,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // A form on another site that knows the id must not erase the receipt:
    // only the receipt page's own form may.
    if !crate::http::dashboard::auth::same_origin(&parts.headers) {
        return Err(ApiError::CrossOrigin);
    }
    let bytes = read_limited(body, &parts.headers, 256, state.body_timeout).await?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if field("action") != Some("erase") {
        return Err(ApiError::InvalidRequest(
            "a receipt page posts action=erase".to_owned(),
        ));
    }
    let language = receipt_page::language(field("lang"));
    let store = state.store.clone();
    if store_call("consent", move || store.erase_receipt(id)).await? {
        state.metrics.receipts_erased.inc();
        Ok(receipt_page::erased(language))
    } else {
        Ok(receipt_page::unknown(Some(language)))
    }
}

async fn show(state: &Arc<AppState>, id: ReceiptId) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let receipt = store_call("consent", move || store.receipt(id))
        .await?
        .ok_or(ApiError::ReceiptNotFound)?;
    Ok(respond::json(StatusCode::OK, &shown(&receipt)))
}

async fn erase(state: &Arc<AppState>, id: ReceiptId) -> Result<Response, ApiError> {
    let store = state.store.clone();
    if !store_call("consent", move || store.erase_receipt(id)).await? {
        return Err(ApiError::ReceiptNotFound);
    }
    state.metrics.receipts_erased.inc();
    Ok(no_content())
}

/// A receipt as the visitor reads it: times as RFC 3339, to the second.
fn shown(receipt: &Receipt) -> serde_json::Value {
    let history: Vec<serde_json::Value> = receipt
        .history
        .iter()
        .map(|choice| {
            json!({
                "at": timestamp(choice.at),
                "policy_version": choice.policy_version,
                "banner_version": choice.banner_version,
                "language": choice.language,
                "granted": choice.granted,
                "denied": choice.denied,
                "method": choice.method.as_str(),
            })
        })
        .collect();
    json!({
        "receipt": receipt.receipt.hex(),
        "site": receipt.site,
        "created": timestamp(receipt.created),
        "updated": timestamp(receipt.updated),
        "expires": timestamp(receipt.expires),
        "history": history,
    })
}

fn timestamp(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|at| at.to_string())
        .unwrap_or_default()
}
