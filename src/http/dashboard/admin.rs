//! What a site's administrators do in the dashboard: share links.
//! `GET /dashboard/api/sites/<site>/share-links` lists them (never their
//! secrets), `POST` makes one and answers its secret once, `DELETE
//! …/share-links/<id>` revokes one. Changes need the session's CSRF token
//! and are written to the audit log, refusals too.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::Role;
use crate::http::body::read_limited;
use crate::http::dashboard::auth::{audit, csrf_ok, over_tls, same_origin, secure, signed_in};
use crate::http::errors::ApiError;
use crate::http::respond;
use crate::http::store_call::store_call;
use crate::http::{AppState, Response};
use crate::store::sharing::ShareLink;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLink {
    name: String,
}

pub(in crate::http) async fn share_links(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let tls = over_tls(&state, peer, request.headers());
    let mut response = match handle(&state, request, peer, tls).await {
        Ok(response) => response,
        Err(error) => error.response(),
    };
    secure(&mut response);
    response
}

async fn handle(
    state: &Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    tls: bool,
) -> Result<Response, ApiError> {
    let path = request.uri().path().to_owned();
    let rest = path.strip_prefix("/dashboard/api/sites/").unwrap_or("");
    let (site, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let id = match tail {
        "share-links" => None,
        other => Some(
            other
                .strip_prefix("share-links/")
                .ok_or(ApiError::NotFound)?
                .to_owned(),
        ),
    };
    if state.sites.load().find(site).is_none() {
        return Err(ApiError::NotFound);
    }
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let (session, user) = signed_in(state, headers, tls)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let changes = parts.method != Method::GET && parts.method != Method::HEAD;
    let object = format!(
        "{site}/share-links{}",
        id.as_deref().map(|id| format!("/{id}")).unwrap_or_default()
    );
    let action = match (&parts.method, &id) {
        (&Method::POST, None) => "share_link_create",
        (&Method::DELETE, Some(_)) => "share_link_revoke",
        (&Method::GET | &Method::HEAD, None) => "share_link_list",
        _ => return Err(ApiError::MethodNotAllowed("GET, POST, DELETE")),
    };
    if user.role(site) != Some(Role::Admin) {
        if changes {
            audit(
                state,
                peer,
                headers,
                action,
                &object,
                "forbidden",
                &user.name,
            );
        }
        return Err(ApiError::Forbidden);
    }
    if changes && (!csrf_ok(headers, &session) || !same_origin(headers)) {
        audit(
            state,
            peer,
            headers,
            action,
            &object,
            "csrf_refused",
            &user.name,
        );
        return Err(ApiError::CsrfRefused);
    }
    let store = state.store.clone();
    let site_id = site.to_owned();
    match (parts.method, id) {
        (Method::POST, None) => {
            let bytes = read_limited(body, headers, 1024, state.body_timeout).await?;
            let wanted: NewLink = serde_json::from_slice(&bytes)
                .map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
            let name = wanted.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(ApiError::InvalidRequest(
                    "a share link's name is 1 to 100 characters".to_owned(),
                ));
            }
            let secret = hex::encode(rand::random::<[u8; 32]>());
            let link = ShareLink {
                id: hex::encode(rand::random::<[u8; 8]>()),
                name,
                created: state.clock.now().as_second(),
                created_by: user.name.clone(),
                secret_hash: blake3::hash(secret.as_bytes()).to_hex().to_string(),
            };
            let stored = link.clone();
            store_call("share links", move || {
                store.add_share_link(&site_id, &stored)
            })
            .await?;
            audit(
                state,
                peer,
                headers,
                action,
                &format!("{object}/{}", link.id),
                "ok",
                &user.name,
            );
            Ok(respond::json(
                StatusCode::CREATED,
                &json!({
                    "id": link.id,
                    "name": link.name,
                    "created": link.created,
                    "created_by": link.created_by,
                    "secret": secret,
                    "url": format!("/dashboard/{site}?share={secret}"),
                }),
            ))
        }
        (Method::DELETE, Some(id)) => {
            let revoked = store_call("share links", move || {
                store.revoke_share_link(&site_id, &id)
            })
            .await?;
            audit(
                state,
                peer,
                headers,
                action,
                &object,
                if revoked { "ok" } else { "not_found" },
                &user.name,
            );
            if !revoked {
                return Err(ApiError::NotFound);
            }
            Ok(respond::empty(StatusCode::NO_CONTENT))
        }
        _ => {
            let links = store_call("share links", move || store.share_links(&site_id)).await?;
            let shown: Vec<serde_json::Value> = links
                .iter()
                .map(|link| {
                    json!({ "id": link.id, "name": link.name, "created": link.created, "created_by": link.created_by })
                })
                .collect();
            Ok(respond::json(
                StatusCode::OK,
                &json!({ "share_links": shown }),
            ))
        }
    }
}
