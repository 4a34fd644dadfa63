//! Exports: any stats answer as CSV (`format=csv` on aggregate, timeseries,
//! breakdown and consent), and `GET /api/v1/stats/export`, a zip of every
//! panel for a period (with the consent choices for the site's own
//! readers). Built from the same answers as the JSON, so an export
//! folds small counts exactly as the API does for the same reader.
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`,
//! `+`, `-`, `@`, tab or carriage return) are prefixed with `'`: paths
//! and referrers come from the internet.

use std::collections::HashMap;
use std::io::Write;

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};
use serde_json::Value as Json;

use super::Response;
use crate::query::compute::Stats;
use crate::query::fold::Audience;
use crate::query::params::Endpoint;
use crate::query::{QueryError, StatsQuery};
use crate::store::StoreError;

/// The panels of the zip: file name and breakdown property.
const PANELS: [(&str, &str); 16] = [
    ("pages", "event:page"),
    ("entry_pages", "visit:entry_page"),
    ("exit_pages", "visit:exit_page"),
    ("sources", "visit:source"),
    ("referrers", "visit:referrer"),
    ("utm_sources", "visit:utm_source"),
    ("utm_mediums", "visit:utm_medium"),
    ("utm_campaigns", "visit:utm_campaign"),
    ("countries", "visit:country"),
    ("browsers", "visit:browser"),
    ("operating_systems", "visit:os"),
    ("devices", "visit:device"),
    ("events", "event:name"),
    ("event_properties", "event:props"),
    ("link_targets", "event:props:url"),
    ("not_found_paths", "event:props:path"),
];

const VISIT_METRICS: &str = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration";

fn cell(value: &Json) -> String {
    let text = match value {
        Json::Null => String::new(),
        Json::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// A stats answer (`{"results": …}`) as CSV.
pub fn csv(endpoint: Endpoint, answer: &Json) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let results = &answer["results"];
    match endpoint {
        Endpoint::Aggregate => {
            let _ = writer.write_record(["metric", "value", "change"]);
            for (metric, entry) in results.as_object().into_iter().flatten() {
                let _ = writer.write_record([
                    metric.clone(),
                    cell(&entry["value"]),
                    cell(&entry["change"]),
                ]);
            }
        }
        Endpoint::Timeseries | Endpoint::Breakdown => {
            let rows = results.as_array().map(Vec::as_slice).unwrap_or(&[]);
            let header: Vec<String> = rows
                .first()
                .and_then(Json::as_object)
                .map(|row| row.keys().cloned().collect())
                .unwrap_or_default();
            // The dimension first (date, page, …), then the metrics.
            let is_metric =
                |key: &String| rows[0][key.as_str()].is_number() || rows[0][key.as_str()].is_null();
            let (metrics, mut ordered): (Vec<String>, Vec<String>) =
                header.into_iter().partition(is_metric);
            ordered.extend(metrics);
            let _ = writer.write_record(&ordered);
            for row in rows {
                let _ = writer.write_record(ordered.iter().map(|key| cell(&row[key.as_str()])));
            }
        }
    }
    writer.into_inner().unwrap_or_default()
}

pub fn csv_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(bytes)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The zip of every panel for the period (and filter) of `params`.
pub fn zip(
    stats: &Stats,
    params: &HashMap<String, String>,
    today: i32,
    compute: impl Fn(&Stats, Endpoint, &StatsQuery) -> Result<Json, StoreError>,
) -> Result<Result<Vec<u8>, QueryError>, StoreError> {
    let with = |extra: &[(&str, &str)]| {
        let mut all: HashMap<String, String> = params
            .iter()
            .filter(|(key, _)| ["period", "date", "filters", "share"].contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        all.extend(
            extra
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string())),
        );
        all
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str,
                   endpoint: Endpoint,
                   extra: &[(&str, &str)]|
     -> Result<Result<(), QueryError>, StoreError> {
        let query = match StatsQuery::parse(endpoint, &with(extra), today) {
            Ok(query) => query,
            Err(error) => return Ok(Err(error)),
        };
        let answer = compute(stats, endpoint, &query)?;
        files.push((format!("{name}.csv"), csv(endpoint, &answer)));
        Ok(Ok(()))
    };
    let all_metrics = format!("{VISIT_METRICS},events");
    if let Err(error) = add(
        "aggregate",
        Endpoint::Aggregate,
        &[("metrics", &all_metrics)],
    )? {
        return Ok(Err(error));
    }
    if let Err(error) = add(
        "timeseries",
        Endpoint::Timeseries,
        &[("metrics", &all_metrics)],
    )? {
        return Ok(Err(error));
    }
    for (name, property) in PANELS {
        let metrics = match property {
            "visit:exit_page" => "visits",
            "event:props" => "events",
            "visit:entry_page" => "visitors,visits,views_per_visit,bounce_rate,visit_duration",
            _ if property.starts_with("event:") && property != "event:page" => "visitors,events",
            _ => VISIT_METRICS,
        };
        let extra = [
            ("property", property),
            ("metrics", metrics),
            ("limit", "1000"),
        ];
        if let Err(error) = add(name, Endpoint::Breakdown, &extra)? {
            return Ok(Err(error));
        }
    }
    // The site's own readers also get its consent choices.
    if stats.audience == Audience::Owner {
        let range = match StatsQuery::parse(Endpoint::Aggregate, &with(&[]), today) {
            Ok(query) => query.range,
            Err(error) => return Ok(Err(error)),
        };
        let tallies = stats
            .store
            .consent_tallies(stats.site, range.first, range.last)?;
        files.push((
            "consent.csv".to_owned(),
            super::consent_stats::csv(&super::consent_stats::rows(&tallies)),
        ));
    }
    let mut archive = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        archive
            .start_file(name, options)
            .and_then(|()| archive.write_all(&bytes).map_err(Into::into))
            .map_err(|error| StoreError::Operation(format!("zip: {error}")))?;
    }
    let cursor = archive
        .finish()
        .map_err(|error| StoreError::Operation(format!("zip: {error}")))?;
    Ok(Ok(cursor.into_inner()))
}

pub fn zip_response(bytes: Vec<u8>, site: &str) -> Response {
    let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(bytes)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"kruimel-{site}.zip\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn breakdowns_become_csv_with_the_dimension_first_and_formulas_defused() {
        let answer = json!({ "results": [
            { "visitors": 3, "page": "/afval" },
            { "visitors": 2, "page": "=HYPERLINK(\"http://evil\")" },
            { "visitors": 1, "page": "/a,b" },
        ]});
        let text = String::from_utf8(csv(Endpoint::Breakdown, &answer)).unwrap();
        assert_eq!(
            text,
            "page,visitors\n/afval,3\n\"'=HYPERLINK(\"\"http://evil\"\")\",2\n\"/a,b\",1\n"
        );
    }

    #[test]
    fn an_aggregate_is_one_row_per_metric_and_withheld_values_are_empty() {
        let answer = json!({ "results": {
            "visitors": { "value": 12, "change": 50 },
            "pageviews": { "value": null },
        }});
        let text = String::from_utf8(csv(Endpoint::Aggregate, &answer)).unwrap();
        assert_eq!(text, "metric,value,change\npageviews,,\nvisitors,12,50\n");
    }
}
