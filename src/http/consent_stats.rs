//! `GET /api/v1/stats/consent`: a site's consent choices per day and
//! banner version — how many choices by each method, and per category
//! how many granted and denied. Bearer token as the other stats endpoints.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{Map, Value as Json, json};

use super::errors::{ApiError, json_response};
use super::stats::{authorise, query_params};
use super::{AppState, Response};
use crate::consent::Method;
use crate::query::params::parse_range;
use crate::query::period::date_of;
use crate::store::consent::Tally;

pub async fn handle(state: Arc<AppState>, request: Request<Incoming>) -> Response {
    match answer(&state, &request).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn answer(state: &Arc<AppState>, request: &Request<Incoming>) -> Result<Response, ApiError> {
    let params = query_params(request.uri().query().unwrap_or(""))?;
    let (site, audience) = authorise(state, request, &params)?;
    if audience != crate::query::fold::Audience::Owner {
        // Consent choices are for the site's own people only.
        return Err(ApiError::Unauthorized);
    }
    let today = site.moment(state.clock.now()).day;
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let range = parse_range(get("period").unwrap_or("30d"), get("date"), today)?;
    let store = state.store.clone();
    let tallies = tokio::task::spawn_blocking(move || {
        store.consent_tallies(site.id.as_str(), range.first, range.last)
    })
    .await
    .map_err(|_| ApiError::StoreUnavailable)?
    .map_err(|error| {
        tracing::error!(%error, "consent stats query failed");
        ApiError::StoreUnavailable
    })?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "results": rows(&tallies) }),
    ))
}

/// One row per (day, banner version), in that order.
fn rows(tallies: &[Tally]) -> Vec<Json> {
    let mut grouped: BTreeMap<(i32, &str), Vec<&Tally>> = BTreeMap::new();
    for tally in tallies {
        grouped
            .entry((tally.day, tally.banner_version.as_str()))
            .or_default()
            .push(tally);
    }
    grouped
        .into_iter()
        .map(|((day, banner_version), tallies)| {
            let mut methods: Map<String, Json> = Method::ALL
                .iter()
                .map(|method| (method.as_str().to_owned(), json!(0)))
                .collect();
            let mut categories: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            let mut choices = 0;
            for tally in tallies {
                match tally.item.split_once(':') {
                    Some(("m", method)) => {
                        choices += tally.count;
                        methods.insert(method.to_owned(), json!(tally.count));
                    }
                    Some(("g", category)) => {
                        categories.entry(category).or_default().0 += tally.count
                    }
                    Some(("d", category)) => {
                        categories.entry(category).or_default().1 += tally.count
                    }
                    _ => {}
                }
            }
            let categories: Map<String, Json> = categories
                .into_iter()
                .map(|(id, (granted, denied))| {
                    (
                        id.to_owned(),
                        json!({ "granted": granted, "denied": denied }),
                    )
                })
                .collect();
            json!({
                "date": date_of(day).to_string(),
                "banner_version": banner_version,
                "choices": choices,
                "methods": methods,
                "categories": categories,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_group_counts_by_day_and_banner_version() {
        let tally = |day: i32, banner: &str, item: &str, count: u64| Tally {
            day,
            banner_version: banner.to_owned(),
            item: item.to_owned(),
            count,
        };
        let rows = rows(&[
            tally(20_000, "b", "m:accept_all", 2),
            tally(20_000, "b", "g:media", 2),
            tally(20_000, "b", "m:reject_all", 1),
            tally(20_000, "b", "d:media", 1),
            tally(20_000, "a", "m:withdraw", 1),
            tally(20_000, "a", "d:media", 1),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["banner_version"], "a");
        assert_eq!(rows[1]["choices"], 3);
        assert_eq!(rows[1]["methods"]["accept_all"], 2);
        assert_eq!(rows[1]["methods"]["custom"], 0);
        assert_eq!(
            rows[1]["categories"]["media"],
            json!({ "granted": 2, "denied": 1 })
        );
        assert_eq!(rows[1]["date"], "2024-10-04");
    }
}
