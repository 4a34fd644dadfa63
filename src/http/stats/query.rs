//! The stats API: `/api/v1/stats/{aggregate,timeseries,breakdown}` and
//! `/api/v1/stats/realtime/visitors`, with bearer tokens per site; a public
//! site, or a share link's secret (`share=`), reads them without a token
//! and with small counts folded or withheld (promise 6, `query::fold`):
//! breakdowns, totals, comparisons, series and their CSV alike.
//!
//! Response shapes follow the Plausible Stats API v1; a withheld number is
//! `null`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{Map, Value as Json, json};

use crate::calendar::Day;
use crate::http::errors::{ApiError, json_response};
use crate::http::stats::access::{authorise, query_params};
use crate::http::store_call::store_call;
use crate::http::{AppState, Response, stats::export};
use crate::query::comparison::Change;
use crate::query::compute::Stats;
use crate::query::fold::Audience;
use crate::query::params::Endpoint;
use crate::query::period::Stretch;
use crate::query::{Metric, StatsQuery};
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
            return Ok(json_response(
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
    let range = query.range;
    let state = state.clone();
    let site_id = site.id.as_str().to_owned();
    let body = store_call("stats query", move || {
        let stats = Stats {
            store: &state.store,
            site: &site_id,
            audience,
        };
        compute(&stats, endpoint, &query)
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
        let form = export::CsvForm::from_params(&params);
        return Ok(crate::http::respond::csv(
            export::csv_in(&form, endpoint, &body),
            &name,
        ));
    }
    Ok(json_response(StatusCode::OK, &body))
}

async fn export_all(
    state: &Arc<AppState>,
    params: &HashMap<String, String>,
    site: &str,
    audience: Audience,
    now_hour: i32,
) -> Result<Response, ApiError> {
    let state = state.clone();
    let (owned_params, site_id) = (params.clone(), site.to_owned());
    let zipped = store_call("export", move || {
        let stats = Stats {
            store: &state.store,
            site: &site_id,
            audience,
        };
        export::zip(&stats, &owned_params, now_hour, compute)
    })
    .await??;
    let range = StatsQuery::parse(Endpoint::Aggregate, params, now_hour)?.range;
    let name = format!(
        "{site}-{}",
        export::period_name(Day::new(range.first).date(), Day::new(range.last).date())
    );
    // Named after site and period (`gemeente.example-2026-11.zip`).
    Ok(crate::http::respond::attachment(
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

fn number(metric: Metric, value: f64) -> Json {
    match metric {
        Metric::ViewsPerVisit | Metric::ConversionRate => json!(value),
        _ => json!(value as i64),
    }
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

/// A row's or point's metrics; `null` where the audience may not see one
/// (a figure per visit from fewer than k visits). `base` is what its
/// conversion rate divides by.
fn metric_fields(
    audience: Audience,
    metrics: &[Metric],
    counts: &crate::store::Counts,
    base: Option<i64>,
) -> Map<String, Json> {
    metrics
        .iter()
        .map(|metric| {
            let value = audience.metric(*metric, counts, base);
            let shown = value.map_or(Json::Null, |value| number(*metric, value));
            (metric.name().to_owned(), shown)
        })
        .collect()
}

/// A page row's scroll depth and time on page, from its engagement sums
/// (`null`: nothing reported, or not for this audience).
fn engagement_fields(
    fields: &mut Map<String, Json>,
    audience: Audience,
    metrics: &[Metric],
    page: Option<&crate::store::Counts>,
) {
    for metric in metrics
        .iter()
        .filter(|metric| metric.is_engagement_metric())
    {
        let value = crate::query::engagement::value(audience, *metric, page);
        let shown = value.map_or(Json::Null, |value| number(*metric, value));
        fields.insert(metric.name().to_owned(), shown);
    }
}

fn null_fields(metrics: &[Metric]) -> Map<String, Json> {
    metrics
        .iter()
        .map(|metric| (metric.name().to_owned(), Json::Null))
        .collect()
}

/// The answer under a filter too small to show: every number `null`, no
/// breakdown rows.
fn withheld(endpoint: Endpoint, query: &StatsQuery) -> Json {
    let results = match endpoint {
        Endpoint::Aggregate => Json::Object(
            query
                .metrics
                .iter()
                .map(|metric| (metric.name().to_owned(), json!({ "value": null })))
                .collect(),
        ),
        Endpoint::Timeseries => Json::Array(Vec::new()),
        Endpoint::Breakdown => Json::Array(Vec::new()),
    };
    json!({ "results": results })
}

/// A compared stretch as local times: from, and until (not included).
fn stretch_json(stretch: Stretch) -> Json {
    let at = |hour: i32| {
        format!(
            "{}T{:02}:00:00",
            Day::new(hour.div_euclid(24)),
            hour.rem_euclid(24)
        )
    };
    json!({ "from": at(stretch.from), "until": at(stretch.until) })
}

fn compute(
    stats: &Stats,
    endpoint: Endpoint,
    query: &StatsQuery,
) -> Result<Json, crate::store::StoreError> {
    if stats.filter_withheld(query)? {
        return Ok(withheld(endpoint, query));
    }
    let results = match endpoint {
        Endpoint::Aggregate => {
            let (values, compared) = stats.aggregate(query)?;
            let fields: Map<String, Json> = values
                .into_iter()
                .map(|(metric, value, change)| {
                    let mut entry = Map::new();
                    entry.insert(
                        "value".to_owned(),
                        value.map_or(Json::Null, |value| number(metric, value)),
                    );
                    // `null`: against nothing, never a percentage.
                    match change {
                        Some(Change::By(change)) => {
                            entry.insert("change".to_owned(), json!(change))
                        }
                        Some(Change::AgainstNothing) => {
                            entry.insert("change".to_owned(), Json::Null)
                        }
                        None => None,
                    };
                    (metric.name().to_owned(), Json::Object(entry))
                })
                .collect();
            if let Some(compared) = compared {
                return Ok(json!({
                    "results": fields,
                    "comparison": {
                        "current": stretch_json(compared.current),
                        "previous": stretch_json(compared.previous),
                    },
                }));
            }
            Json::Object(fields)
        }
        Endpoint::Timeseries => {
            let bases = stats.series_bases(query)?;
            Json::Array(
                stats
                    .timeseries(query)?
                    .into_iter()
                    .enumerate()
                    .map(|(at, point)| {
                        let base = bases.get(at).copied().flatten();
                        let mut fields = match &point.counts {
                            Some(counts) => {
                                metric_fields(stats.audience, &query.metrics, counts, base)
                            }
                            None => null_fields(&query.metrics),
                        };
                        fields.insert("date".to_owned(), json!(point.label));
                        Json::Object(fields)
                    })
                    .collect(),
            )
        }
        Endpoint::Breakdown => {
            let property = query
                .property
                .as_ref()
                .expect("breakdown queries have a property");
            let bases = stats.row_bases(query, property)?;
            let engaged = stats.engagement_of(query)?;
            Json::Array(
                stats
                    .breakdown(query, property)?
                    .into_iter()
                    .map(|row| {
                        let base = bases.of(&row.value);
                        let mut fields =
                            metric_fields(stats.audience, &query.metrics, &row.counts, base);
                        let page = engaged.as_ref().and_then(|pages| pages.get(&row.value));
                        engagement_fields(&mut fields, stats.audience, &query.metrics, page);
                        fields.insert(property.field().to_owned(), json!(row.value));
                        Json::Object(fields)
                    })
                    .collect(),
            )
        }
    };
    Ok(json!({ "results": results }))
}
