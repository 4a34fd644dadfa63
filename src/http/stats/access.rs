//! Who may read a site's counts, and the query string they ask with: shared
//! by the stats API, its exports and the consent counts.

use std::collections::HashMap;
use std::net::SocketAddr;

use hyper::Request;
use hyper::body::Incoming;

use crate::http::AppState;
use crate::http::errors::ApiError;
use crate::query::fold::Audience;
use crate::sites::Site;

const MAX_QUERY_STRING: usize = 4096;

pub(in crate::http) fn query_params(query: &str) -> Result<HashMap<String, String>, ApiError> {
    if query.len() > MAX_QUERY_STRING {
        return Err(ApiError::QueryTooLong(MAX_QUERY_STRING));
    }
    Ok(url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect())
}

/// The site the request may read, from the sites of this moment, and as
/// whom: the site's token, or a signed-in user with a role on the site,
/// reads everything; a share link's secret, or no credentials on a public
/// site, read as the public.
pub(in crate::http) async fn authorise(
    state: &AppState,
    request: &Request<Incoming>,
    peer: SocketAddr,
    params: &HashMap<String, String>,
) -> Result<(Site, Audience), ApiError> {
    let site_id = params
        .get("site_id")
        .ok_or(crate::query::QueryError::Missing("site_id"))?;
    let token = crate::http::bearer_token(request.headers());
    // An unknown site and a wrong token look the same from outside.
    let site = state
        .sites
        .load()
        .find(site_id)
        .cloned()
        .ok_or(ApiError::Unauthorized)?;
    let public = Audience::Public {
        k: u64::from(site.k_anonymity),
    };
    let share = params.get("share").map(String::as_str).unwrap_or("");
    if !token.is_empty() {
        return site
            .accepts_token(token)
            .then_some((site, Audience::Owner))
            .ok_or(ApiError::Unauthorized);
    }
    if !share.is_empty() {
        return site
            .accepts_share_link(share)
            .then_some((site, public))
            .ok_or(ApiError::Unauthorized);
    }
    // A signed-in user with a role on the site reads it like its token.
    let role =
        crate::http::dashboard::auth::role_on(state, request.headers(), peer, site.id.as_str())
            .await?;
    if role.is_some() {
        return Ok((site, Audience::Owner));
    }
    if site.public {
        return Ok((site, public));
    }
    Err(ApiError::Unauthorized)
}
