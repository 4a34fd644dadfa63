//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz), which build this crate as a
//! dependency and so reach only its public items.
//!
//! Each function is a thin call into the stage that owns the parsing, shaped as the edge calls
//! it; errors are reduced to their stable codes. Nothing here is used by the server, and it is
//! not an API: it follows the stages it calls (hence hidden from the documentation).

use std::collections::HashMap;

use crate::consent::ChoiceRequest;
use crate::ingest::beacon::Beacon;

pub use crate::calendar::Day;
pub use crate::consent::notice::Terms;
pub use crate::consent::notice::TermsCategory;
pub use crate::consent::receipt::{Choice, Method, ReceiptId};
pub use crate::enrich::source::{referrer_host, source_for_host};
pub use crate::privacy::url::{
    CleanUrl, MAX_CAMPAIGN_BYTES, MAX_PATH_BYTES, Routing, UrlPolicy, clean as clean_url,
};
pub use crate::query::StatsQuery;
pub use crate::query::params::Metric;
pub use crate::query::params::{Endpoint, Filter, Interval, MAX_LIMIT, Property};
pub use crate::store::Dim;

/// The body of `POST /api/event` as the edge parses it: a bounded beacon, or the error's code.
pub fn parse_beacon(body: &[u8]) -> Result<Beacon, &'static str> {
    crate::http::event::parse(body).map_err(|error| error.code())
}

/// A stats request's query string as the edge reads it (`site_id` and the rest are ignored by
/// the parser), parsed for `endpoint` on local day `today`.
pub fn parse_stats_query(
    endpoint: Endpoint,
    query: &str,
    today: i32,
) -> Result<StatsQuery, &'static str> {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    StatsQuery::parse(endpoint, &params, today).map_err(|error| error.code())
}

/// The body of `POST /api/consent` checked against `terms` at `now`, as the edge does once it
/// has found the notice the choice names.
pub fn check_choice(body: &[u8], terms: &Terms, now: i64) -> Result<Choice, &'static str> {
    let wanted: ChoiceRequest = serde_json::from_slice(body).map_err(|_| "invalid_choice")?;
    wanted.receipt_id().map_err(|error| error.code())?;
    wanted.check(terms, now).map_err(|error| error.code())
}
