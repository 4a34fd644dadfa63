//! Stats API query strings through the parser (`/api/v1/stats/*`).
//!
//! Properties: every refusal has one of the documented codes; an accepted query is within its
//! bounds (a non-empty range of at most 3,700 days, hourly only up to 31 days, limit and page in
//! range, a property exactly for breakdowns, metrics the property can answer); and writing the
//! query back as an explicit query string (custom period, every parameter spelled out) parses to
//! the same query (unless its range starts before year 1, which `date` may not name). The first
//! input byte picks the endpoint.
#![no_main]

use kruimel::fuzzing::{
    Day, Dim, Endpoint, Interval, MAX_LIMIT, StatsQuery, parse_stats_query,
};
use libfuzzer_sys::fuzz_target;

const CODES: [&str; 9] = [
    "missing_parameter",
    "invalid_period",
    "invalid_date",
    "invalid_metric",
    "invalid_property",
    "invalid_filter",
    "invalid_interval",
    "invalid_pagination",
    "invalid_compare",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let endpoint = match selector % 3 {
        0 => Endpoint::Aggregate,
        1 => Endpoint::Timeseries,
        _ => Endpoint::Breakdown,
    };
    // Queries reach the parser as bytes of a URI; form decoding is lossy, so any bytes do.
    let query = String::from_utf8_lossy(rest);
    let today = Day::of("2026-11-23".parse().expect("a date")).number();
    let parsed = match parse_stats_query(endpoint, &query, today) {
        Ok(parsed) => parsed,
        Err(code) => {
            assert!(CODES.contains(&code), "{code}");
            return;
        }
    };
    check_bounds(endpoint, &parsed);
    // From a date in year 1, `12mo` reaches back into year 0, which a `date` may not name.
    if Day::new(parsed.range.first).date().year() < 1 {
        return;
    }
    let written = write(&parsed);
    let again = parse_stats_query(endpoint, &written, today)
        .unwrap_or_else(|code| panic!("{written:?} of {query:?} refused: {code}"));
    assert_eq!(again, parsed, "{written:?} of {query:?}");
});

fn check_bounds(endpoint: Endpoint, query: &StatsQuery) {
    let days = query.range.last - query.range.first + 1;
    assert!((1..=3_700).contains(&days), "{:?}", query.range);
    assert!(query.interval != Interval::Hour || days <= 31);
    assert!((1..=MAX_LIMIT).contains(&query.limit));
    assert!((1..=100_000).contains(&query.page));
    assert!(!query.metrics.is_empty());
    assert_eq!(query.property.is_some(), endpoint == Endpoint::Breakdown);
    if let Some(filter) = &query.filter {
        assert!(!filter.value.is_empty() && filter.value.len() <= 1024);
        assert!(!filter.value.contains([';', '|']));
    }
}

/// The query spelled out in full, as a client that knows its answer would ask it.
fn write(query: &StatsQuery) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let dates = format!(
        "{},{}",
        Day::new(query.range.first),
        Day::new(query.range.last)
    );
    form.append_pair("period", "custom");
    form.append_pair("date", &dates);
    let metrics: Vec<&str> = query.metrics.iter().map(|metric| metric.name()).collect();
    form.append_pair("metrics", &metrics.join(","));
    if let Some(property) = &query.property {
        form.append_pair("property", &property.name());
    }
    if let Some(filter) = &query.filter {
        let property = match filter.dim {
            Dim::Page => "event:page",
            Dim::Source => "visit:source",
            Dim::UtmCampaign => "visit:utm_campaign",
            Dim::Country => "visit:country",
            Dim::Device => "visit:device",
            other => panic!("filter on {other:?}"),
        };
        form.append_pair("filters", &format!("{property}=={}", filter.value));
    }
    if query.compare {
        form.append_pair("compare", "previous_period");
    }
    let interval = match query.interval {
        Interval::Hour => "hour",
        Interval::Day => "day",
        Interval::Month => "month",
    };
    form.append_pair("interval", interval);
    form.append_pair("limit", &query.limit.to_string());
    form.append_pair("page", &query.page.to_string());
    form.finish()
}
