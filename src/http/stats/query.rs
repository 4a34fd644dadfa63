//! The stats API: `/api/v1/stats/{aggregate,timeseries,breakdown}` and
//! `/api/v1/stats/realtime/visitors`, with bearer tokens per site; a public
//! site, or a share link's secret (`share=`), reads them without a token
//! and with small counts folded or withheld (promise 8, `query::fold`):
//! breakdowns, totals, comparisons, series and their CSV alike.
//!
//! Response shapes follow the Plausible Stats API v1; a withheld number is
//! `null`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::json;

use crate::calendar::Day;
use crate::http::errors::ApiError;
use crate::http::respond;
use crate::http::stats::access::{authorise, query_params};
use crate::http::stats::csv::{CsvForm, Language};
use crate::http::stats::{export, json};
use crate::http::store_call::store_call;
use crate::http::{AppState, Response};
use crate::query::Stats;
use crate::query::StatsQuery;
use crate::query::fold::Audience;
use crate::query::params::Endpoint;
use crate::sites::Site;

#[derive(Debug, Clone, Copy)]
pub(in crate::http) enum StatsRoute {
    Query(Endpoint),
    Realtime,
    /// Every panel for the period, as a zip of CSV files.
    Export,
}

pub(in crate::http) async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
    route: StatsRoute,
) -> Response {
    match answer(&state, &request, peer, route).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn answer(
    state: &Arc<AppState>,
    request: &Request<Incoming>,
    peer: SocketAddr,
    route: StatsRoute,
) -> Result<Response, ApiError> {
    let params = query_params(request.uri().query().unwrap_or(""))?;
    let (site, audience) = match authorise(state, request, peer, &params).await {
        Err(ApiError::Unauthorized) => shared_in_dashboard(state, &params).await?,
        decided => decided?,
    };
    let now = site.moment(state.clock.now());
    let endpoint = match route {
        StatsRoute::Realtime => {
            let visitors = state.realtime.visitors(site.idx);
            return Ok(respond::json(
                StatusCode::OK,
                &json!(realtime_shown(audience, visitors)),
            ));
        }
        StatsRoute::Export => {
            return export_all(state, &params, site.id.as_str(), audience, now.hour).await;
        }
        StatsRoute::Query(endpoint) => endpoint,
    };
    let query = StatsQuery::parse(endpoint, &params, now.hour)?;
    let as_csv = params.get("format").is_some_and(|format| format == "csv");
    let form = CsvForm::new(Language::asked(&params), query.filter.as_ref());
    let range = query.range;
    let state = state.clone();
    let site_id = site.id.as_str().to_owned();
    let answer = store_call("stats query", move || {
        let stats = Stats {
            store: &state.store,
            site: &site_id,
            audience,
        };
        stats.answer(endpoint, &query)
    })
    .await?;
    if as_csv {
        let what = params
            .get("name")
            .map(String::as_str)
            .unwrap_or(match endpoint {
                Endpoint::Aggregate => "aggregate",
                Endpoint::Timeseries => "timeseries",
                Endpoint::Breakdown => "breakdown",
            });
        let (first, last) = (Day::new(range.first).date(), Day::new(range.last).date());
        let name = export::file_name(site.id.as_str(), what, first, last);
        return Ok(respond::csv(form.write(&answer), &name));
    }
    Ok(respond::json(StatusCode::OK, &json::of(&answer)))
}

async fn export_all(
    state: &Arc<AppState>,
    params: &HashMap<String, String>,
    site: &str,
    audience: Audience,
    now_hour: i32,
) -> Result<Response, ApiError> {
    // A period or filter the panels cannot read is refused first; then
    // anything else the aggregate endpoint would refuse in the same
    // parameters (`metrics`, `compare`, `interval`, `limit`, `page`), so an
    // export link is held to the API's rules.
    let scope = StatsQuery::parse_scope(params, now_hour)?;
    StatsQuery::parse(Endpoint::Aggregate, params, now_hour)?;
    let range = scope.range;
    let language = Language::asked(params);
    let state = state.clone();
    let site_id = site.to_owned();
    let zipped = store_call("export", move || {
        let stats = Stats {
            store: &state.store,
            site: &site_id,
            audience,
        };
        export::zip(&stats, &scope, language)
    })
    .await?;
    let name = format!(
        "{site}-{}",
        export::period_name(Day::new(range.first).date(), Day::new(range.last).date())
    );
    // Named after site and period (`gemeente.example-2026-11.zip`).
    Ok(respond::attachment(
        "application/zip",
        zipped,
        &format!("{name}.zip"),
    ))
}

/// A share link made in the dashboard (kept in the store): its secret
/// reads the site as the public.
async fn shared_in_dashboard(
    state: &Arc<AppState>,
    params: &HashMap<String, String>,
) -> Result<(Site, Audience), ApiError> {
    let share = params.get("share").filter(|share| !share.is_empty());
    let site = params
        .get("site_id")
        .and_then(|id| state.sites.load().find(id).cloned());
    let (Some(share), Some(site)) = (share.cloned(), site) else {
        return Err(ApiError::Unauthorized);
    };
    let store = state.store.clone();
    let site_id = site.id.as_str().to_owned();
    let links = store_call("share links", move || store.share_links(&site_id)).await?;
    // Every link is checked, so the time taken does not tell which matched.
    let accepted = links
        .iter()
        .fold(false, |found, link| link.accepts(&share) | found);
    if !accepted {
        return Err(ApiError::Unauthorized);
    }
    let k = u64::from(site.k_anonymity);
    Ok((site, Audience::Public { k }))
}

/// Realtime visitors as the audience may see them: the public sees them
/// rounded down to a multiple of k, and nothing below k, so polling does
/// not show each arrival.
fn realtime_shown(audience: Audience, visitors: u64) -> Option<u64> {
    match audience {
        Audience::Owner => Some(visitors),
        Audience::Public { k } => (visitors >= k).then(|| visitors - visitors % k),
    }
}
