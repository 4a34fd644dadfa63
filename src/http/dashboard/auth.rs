//! Dashboard sign-in: `POST /dashboard/api/login`, `POST
//! /dashboard/api/logout`, `GET /dashboard/api/session`, and the session
//! check the stats API uses for signed-in users.
//!
//! The session lives in a technical cookie, HttpOnly and SameSite=Strict:
//! `__Host-kruimel_session` (Secure) behind TLS, `kruimel_session` without. Every change needs the session's
//! CSRF token in `X-CSRF-Token` and, when the browser sends one, an
//! `Origin` of this server. Every sign-in, failed sign-in and sign-out is
//! in the audit log.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::audit::Entry;
use crate::accounts::lockout::{Attempt, Failure};
use crate::accounts::{LoginSession, Role, User, password};
use crate::config::SecureCookies;
use crate::http::body::read_limited;
use crate::http::errors::ApiError;
use crate::http::respond;
use crate::http::store_call::store_call;
use crate::http::{AppState, Response};

pub(in crate::http) const COOKIE: &str = "kruimel_session";
/// The session cookie's name behind TLS: the `__Host-` prefix makes the
/// browser refuse it unless it is Secure, for this host only (no `Domain`)
/// and for every path, so a sibling subdomain cannot plant one that wins.
pub(in crate::http) const SECURE_COOKIE: &str = "__Host-kruimel_session";

/// The name the session cookie has on this transport; the other name is
/// never read, so a plain cookie planted from elsewhere is ignored.
pub(in crate::http) fn cookie_name(tls: bool) -> &'static str {
    if tls { SECURE_COOKIE } else { COOKIE }
}
const BODY_LIMIT: usize = 2 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    user: String,
    password: String,
    #[serde(default)]
    code: Option<String>,
}

/// The session token the request's cookie carries.
pub(in crate::http) fn token(headers: &HeaderMap, tls: bool) -> Option<String> {
    let name = cookie_name(tls);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// The signed-in user of a request, when the session is alive and the
/// user still exists in the users file with the credentials it began with. The session is read from the
/// store: a store that fails answers `store_unavailable`, never a user.
pub(in crate::http) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    tls: bool,
) -> Result<Option<(LoginSession, User)>, ApiError> {
    let Some(token) = token(headers, tls) else {
        return Ok(None);
    };
    let (sessions, now) = (state.sessions.clone(), state.clock.now().as_second());
    let presented = token.clone();
    let session = store_call("session check", move || sessions.use_token(&presented, now)).await?;
    let Some(session) = session else {
        return Ok(None);
    };
    // A removed user, a new password or a new second factor ends it.
    let user = state.users.current().get(&session.user).cloned();
    match user.filter(|user| user.credential() == session.credential) {
        Some(user) => Ok(Some((session, user))),
        None => {
            let sessions = state.sessions.clone();
            store_call("session end", move || sessions.end(&token)).await?;
            Ok(None)
        }
    }
}

pub(in crate::http) fn over_tls(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    match state.dashboard.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => state.proxies.forwarded_https(peer.ip(), headers),
    }
}

/// The headers of every dashboard answer: a policy without inline script,
/// never framed, no referrer to other sites. (HSTS is the edge's, for every
/// answer of the public listener behind TLS: `server::dispatch`.)
pub(in crate::http) fn secure(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Writes one audit line: the request's truncated network is the origin.
pub(in crate::http) fn audit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    action: &str,
    object: &str,
    result: &str,
    actor: &str,
) {
    let network = state
        .pipeline
        .truncate(state.proxies.client_ip(peer.ip(), headers));
    state.audit.record(&Entry {
        time: state
            .clock
            .now()
            .round(jiff::Unit::Second)
            .unwrap_or_default()
            .to_string(),
        action,
        object,
        result,
        origin: network.network().to_string(),
        actor,
    });
}

/// The session as the dashboard needs it: per site of the user that is
/// still configured, its role, time zone (for "yesterday" and "last
/// month"), whether it is public, and its k.
fn session_body(state: &AppState, user: &User, session: &LoginSession) -> serde_json::Value {
    let configured = state.sites.load();
    let sites: Vec<serde_json::Value> = user
        .sites
        .iter()
        .filter_map(|(id, role)| {
            let site = configured.find(id)?;
            Some(json!({
                "site": id,
                "role": role.as_str(),
                "time_zone": site.time_zone.iana_name().unwrap_or("UTC"),
                "public": site.public,
                "k_anonymity": site.k_anonymity,
            }))
        })
        .collect();
    json!({ "user": user.name, "sites": sites, "csrf": session.csrf })
}

/// Refuses a change from another origin. A browser that sends
/// `Sec-Fetch-Site` says it outright (and says it even where a referrer
/// policy makes `Origin` read `null`); otherwise `Origin`, which a browser
/// sends with every POST, must name the host the request was sent to.
pub(in crate::http) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    url::Url::parse(origin).is_ok_and(|url| {
        let origin_host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_owned(),
        };
        origin_host.eq_ignore_ascii_case(host)
    })
}

pub(in crate::http) async fn login(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let tls = over_tls(&state, peer, request.headers());
    let mut response = match sign_in(&state, request, peer, tls).await {
        Ok(response) => response,
        Err(error) => error.response(),
    };
    secure(&mut response);
    response
}

async fn sign_in(
    state: &Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    tls: bool,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers) {
        return Err(ApiError::CrossOrigin);
    }
    let network = state
        .pipeline
        .truncate(state.proxies.client_ip(peer.ip(), &parts.headers));
    state
        .login_limit
        .check(network, std::time::Instant::now())
        .map_err(|limited| ApiError::TooManyRequests(limited.retry_after))?;
    let bytes = read_limited(body, &parts.headers, BODY_LIMIT, state.body_timeout).await?;
    let login: Login = serde_json::from_slice(&bytes)
        .map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    let now = state.clock.now().as_second();
    let users = state.users.current();
    let user = users.get(&login.user);
    let account = login.user.chars().take(64).collect::<String>();
    let attempt = Attempt {
        account: &account,
        network,
        now,
        unlocked_at: user.and_then(|user| user.unlocked_at).unwrap_or(0),
    };
    let locked = state.lockout.is_locked(attempt);
    // The hash is checked even for an unknown or locked account, so the
    // answer takes as long either way.
    let password_ok = password::verify(user.map(|u| u.password.as_str()), &login.password);
    let headers = &parts.headers;
    let failed = |first_factor: bool| {
        let result = match (first_factor, state.lockout.fail(attempt)) {
            (true, Failure::Counted) => "failed",
            (true, Failure::LockedFromNetwork) => "failed_now_locked",
            (true, Failure::LockedFromUnknownNetworks) => "failed_now_locked_everywhere",
            (false, Failure::Counted) => "code_failed",
            (false, Failure::LockedFromNetwork) => "code_failed_now_locked",
            (false, Failure::LockedFromUnknownNetworks) => "code_failed_now_locked_everywhere",
        };
        audit(state, peer, headers, "login", "dashboard", result, &account);
        ApiError::LoginFailed
    };
    let Some(user) = user.filter(|_| password_ok && !locked) else {
        if locked {
            audit(
                state,
                peer,
                headers,
                "login",
                "dashboard",
                "locked",
                &account,
            );
            return Err(ApiError::LoginFailed);
        }
        return Err(failed(true));
    };
    if let Some(secret) = &user.totp {
        match login.code.as_deref() {
            None | Some("") => return Err(ApiError::SecondFactorNeeded),
            Some(code) if !state.used_codes.accept(&user.name, secret, code, now) => {
                return Err(failed(false));
            }
            Some(_) => {}
        }
    } else if state.dashboard.require_totp_for_admins && user.is_admin_anywhere() {
        audit(
            state,
            peer,
            headers,
            "login",
            "dashboard",
            "second_factor_missing",
            &account,
        );
        return Err(ApiError::SecondFactorMissing);
    }
    state.lockout.succeed(&account, network, now);
    let (sessions, name, credential) =
        (state.sessions.clone(), user.name.clone(), user.credential());
    let (token, session) = store_call("session start", move || {
        sessions.start(&name, credential, now)
    })
    .await?;
    audit(state, peer, headers, "login", "dashboard", "ok", &user.name);
    let mut response = respond::json(StatusCode::OK, &session_body(state, user, &session));
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        cookie_name(tls),
        if tls { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(in crate::http) async fn logout(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let headers = request.headers();
    let tls = over_tls(&state, peer, headers);
    let result = match signed_in(&state, headers, tls).await {
        Err(error) => Err(error),
        Ok(None) => Err(ApiError::Unauthorized),
        Ok(Some((session, _))) if !csrf_ok(headers, &session) || !same_origin(headers) => {
            audit(
                &state,
                peer,
                headers,
                "logout",
                "dashboard",
                "csrf_refused",
                &session.user,
            );
            Err(ApiError::CsrfRefused)
        }
        Ok(Some((session, _))) => end_session(&state, peer, headers, tls, &session).await,
    };
    let mut response = result.unwrap_or_else(|error| error.response());
    secure(&mut response);
    response
}

/// Ends the request's session in the store, then expires the cookie.
async fn end_session(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    tls: bool,
    session: &LoginSession,
) -> Result<Response, ApiError> {
    if let Some(token) = token(headers, tls) {
        let sessions = state.sessions.clone();
        store_call("session end", move || sessions.end(&token)).await?;
    }
    audit(
        state,
        peer,
        headers,
        "logout",
        "dashboard",
        "ok",
        &session.user,
    );
    let mut response = respond::empty(StatusCode::NO_CONTENT);
    let expired = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        cookie_name(tls),
        if tls { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Whether a change carries the session's CSRF token (compared in
/// constant time).
pub(in crate::http) fn csrf_ok(headers: &HeaderMap, session: &LoginSession) -> bool {
    headers.get("x-csrf-token").is_some_and(|value| {
        blake3::hash(value.as_bytes()) == blake3::hash(session.csrf.as_bytes())
    })
}

pub(in crate::http) async fn session(
    state: &AppState,
    request: &Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let tls = over_tls(state, peer, request.headers());
    let mut response = match signed_in(state, request.headers(), tls).await {
        Ok(Some((session, user))) => {
            respond::json(StatusCode::OK, &session_body(state, &user, &session))
        }
        Ok(None) => ApiError::Unauthorized.response(),
        Err(error) => error.response(),
    };
    secure(&mut response);
    response
}

/// The role a signed-in user has on `site`, for the stats API.
pub(in crate::http) async fn role_on(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    site: &str,
) -> Result<Option<Role>, ApiError> {
    let tls = over_tls(state, peer, headers);
    let signed_in = signed_in(state, headers, tls).await?;
    Ok(signed_in.and_then(|(_, user)| user.role(site)))
}
