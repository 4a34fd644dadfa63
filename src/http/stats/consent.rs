//! `GET /api/v1/stats/consent`: a site's consent choices per day and
//! banner version — how many choices by each method, and per category
//! how many granted and denied. Bearer token as the other stats endpoints.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{Map, Value as Json, json};

use crate::calendar::Day;
use crate::consent::Method;
use crate::http::errors::ApiError;
use crate::http::respond;
use crate::http::stats::access::{authorise, query_params};
use crate::http::store_call::store_call;
use crate::http::{AppState, Response};
use crate::query::params::parse_range;
use crate::store::consent::Tally;

pub(in crate::http) async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    match answer(&state, &request, peer).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn answer(
    state: &Arc<AppState>,
    request: &Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response, ApiError> {
    let params = query_params(request.uri().query().unwrap_or(""))?;
    let (site, audience) = authorise(state, request, peer, &params).await?;
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
    let tallies = store_call("consent stats", move || {
        store.consent_tallies(site.id.as_str(), range.first, range.last)
    })
    .await?;
    let rows = rows(&tallies);
    if params.get("format").is_some_and(|format| format == "csv") {
        return Ok(respond::csv(csv(&rows), "consent"));
    }
    Ok(respond::json(StatusCode::OK, &json!({ "results": rows })))
}

/// The rows flat, for a spreadsheet: date, banner version, choices, one
/// column per method, then `<category>_granted` and `<category>_denied`
/// for every category that occurs.
pub(in crate::http) fn csv(rows: &[Json]) -> Vec<u8> {
    let mut categories: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            row["categories"]
                .as_object()
                .into_iter()
                .flat_map(|map| map.keys().cloned())
        })
        .collect();
    categories.sort();
    categories.dedup();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["date", "banner_version", "choices"]
        .map(str::to_owned)
        .to_vec();
    header.extend(Method::ALL.iter().map(|method| method.as_str().to_owned()));
    for category in &categories {
        header.push(format!("{category}_granted"));
        header.push(format!("{category}_denied"));
    }
    let _ = writer.write_record(&header);
    for row in rows {
        let text = |value: &Json| match value {
            Json::String(text) => text.clone(),
            Json::Null => "0".to_owned(),
            other => other.to_string(),
        };
        let mut record = vec![
            text(&row["date"]),
            text(&row["banner_version"]),
            text(&row["choices"]),
        ];
        record.extend(
            Method::ALL
                .iter()
                .map(|method| text(&row["methods"][method.as_str()])),
        );
        for category in &categories {
            record.push(text(&row["categories"][category]["granted"]));
            record.push(text(&row["categories"][category]["denied"]));
        }
        let _ = writer.write_record(&record);
    }
    writer.into_inner().unwrap_or_default()
}

/// One row per (day, banner version), in that order.
pub(in crate::http) fn rows(tallies: &[Tally]) -> Vec<Json> {
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
                "date": Day::new(day).to_string(),
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
        let text = String::from_utf8(csv(&rows)).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "date,banner_version,choices,accept_all,reject_all,custom,withdraw,privacy_signal,media_granted,media_denied",
                "2024-10-04,a,1,0,0,0,1,0,0,1",
                "2024-10-04,b,3,2,1,0,0,0,2,1",
            ]
        );
    }
}
