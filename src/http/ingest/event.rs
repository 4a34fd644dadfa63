//! `POST /api/event`: the wire format (Plausible Events API compatible)
//! and its handler.
//!
//! Wire fields: `n`/`name`, `u`/`url`, `d`/`domain` (comma-separated),
//! `r`/`referrer`, `w` (screen width), `p`/`props` or `m`/`meta` (an object,
//! or a JSON string of one, with at most 30 scalar values), `h` (hash
//! routing), `i` (interactive), and on an engagement report `sd` (scroll
//! depth in percent) and `e` (engaged milliseconds). Every field is bounded here, before the
//! pipeline sees it.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::Value as Json;

use crate::http::body::read_limited;
use crate::http::errors::ApiError;
use crate::http::{AppState, Response, ingest::cors};
use crate::ingest::beacon::{Beacon, Engagement, EventName, Interaction, MAX_PROPS, Sender};
use crate::ingest::{DropReason, Outcome};
use crate::privacy::Signals;
use crate::privacy::ip::TruncatedIp;

pub(crate) const BODY_LIMIT: usize = 16 * 1024;
const MAX_URL: usize = 4096;
const MAX_DOMAINS: usize = 10;
const MAX_PROP_KEY: usize = 300;
const MAX_PROP_VALUE: usize = 2000;
pub(crate) const DROPPED_HEADER: &str = "x-kruimel-dropped";

#[derive(Deserialize)]
struct WireEvent {
    #[serde(alias = "name")]
    n: String,
    #[serde(alias = "url")]
    u: String,
    #[serde(alias = "domain")]
    d: String,
    #[serde(default, alias = "referrer")]
    r: Option<String>,
    #[serde(default)]
    w: Option<u32>,
    #[serde(default, alias = "props", alias = "m", alias = "meta")]
    p: Option<Json>,
    #[serde(default)]
    h: Option<Json>,
    #[serde(default)]
    i: Option<Json>,
    /// Scroll depth in percent, on an engagement report.
    #[serde(default)]
    sd: Option<Json>,
    /// Engaged milliseconds, on an engagement report.
    #[serde(default)]
    e: Option<Json>,
}

/// The most engaged time one report may carry: a day. The tracker sends
/// a report at least whenever the page is hidden, so more is not a
/// measurement, and it is counted as none.
const MAX_ENGAGED_MS: u64 = 24 * 60 * 60 * 1_000;

pub(crate) async fn handle(
    state: Arc<AppState>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response {
    let origin = cors::allowed_origin(request.headers(), &state.sites.load());
    let mut response = match accept(&state, request, peer).await {
        Ok(response) => response,
        Err(error) => {
            state
                .metrics
                .beacons_invalid
                .with_label_values(&[error.code()])
                .inc();
            error.response()
        }
    };
    cors::grant(&mut response, origin);
    response
}

async fn accept(
    state: &AppState,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    check_content_type(&parts.headers)?;
    let bytes = read_limited(body, &parts.headers, BODY_LIMIT, state.body_timeout).await?;
    let beacon = parse(&bytes)?;
    // The full address ends here: everything after sees the network only.
    let network = state
        .pipeline
        .truncate(state.proxies.client_ip(peer.ip(), &parts.headers));
    if over_budget(state, network) {
        state.metrics.dropped(DropReason::RateLimited);
        return Ok(dropped(DropReason::RateLimited));
    }
    let sender = Sender {
        network,
        user_agent: parts
            .headers
            .get(hyper::header::USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        signals: signals(&parts.headers),
    };
    match state.pipeline.process(beacon, sender, state.clock.now()) {
        Outcome::Counted => Ok(accepted()),
        Outcome::Dropped(reason) => Ok(dropped(reason)),
        Outcome::InvalidUrl => Err(ApiError::InvalidUrl),
    }
}

/// Whether the sender's network has used up its budget of beacons. The
/// tracker ignores the answer, so past it beacons are answered like any
/// other drop (202 with the reason), never 429.
fn over_budget(state: &AppState, network: TruncatedIp) -> bool {
    let Some(limit) = &state.ingest_limit else {
        return false;
    };
    limit.check(network, std::time::Instant::now()).is_err()
}

/// `202 {}` with the reason the beacon was not counted.
fn dropped(reason: DropReason) -> Response {
    let mut response = accepted();
    response
        .headers_mut()
        .insert(DROPPED_HEADER, HeaderValue::from_static(reason.as_str()));
    response
}

/// `202 {}`: the same bytes for every beacon, built without serialising.
fn accepted() -> Response {
    crate::http::respond::respond(
        StatusCode::ACCEPTED,
        Some("application/json"),
        bytes::Bytes::from_static(b"{}"),
    )
}

pub(in crate::http) fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(hyper::header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value.as_bytes().split(|&byte| byte == b';').next();
    let essence = essence.unwrap_or_default().trim_ascii();
    if essence.eq_ignore_ascii_case(b"application/json")
        || essence.eq_ignore_ascii_case(b"text/plain")
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

fn signals(headers: &HeaderMap) -> Signals {
    let is_one = |name: &str| {
        headers
            .get(name)
            .is_some_and(|value| value.as_bytes().trim_ascii() == b"1")
    };
    Signals {
        global_privacy_control: is_one("sec-gpc"),
        do_not_track: is_one("dnt"),
    }
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Beacon, ApiError> {
    let wire: WireEvent =
        serde_json::from_slice(bytes).map_err(|error| match error.classify() {
            serde_json::error::Category::Data => ApiError::InvalidEvent(error.to_string()),
            _ => ApiError::InvalidJson(error.to_string()),
        })?;
    wire.into_beacon()
}

fn invalid(message: &str) -> ApiError {
    ApiError::InvalidEvent(message.to_owned())
}

impl WireEvent {
    fn into_beacon(self) -> Result<Beacon, ApiError> {
        let name = EventName::parse(&self.n).map_err(|error| invalid(&error.to_string()))?;
        if self.u.len() > MAX_URL {
            return Err(invalid("`u` is longer than 4096 bytes"));
        }
        let domains: Vec<String> = self
            .d
            .split(',')
            .map(|domain| domain.trim().to_ascii_lowercase())
            .filter(|domain| !domain.is_empty())
            .collect();
        if domains.is_empty()
            || domains.len() > MAX_DOMAINS
            || domains.iter().any(|d| d.len() > 253)
        {
            return Err(invalid("`d` must name 1 to 10 sites"));
        }
        let referrer = self.r.filter(|r| !r.trim().is_empty());
        if referrer.as_ref().is_some_and(|r| r.len() > MAX_URL) {
            return Err(invalid("`r` is longer than 4096 bytes"));
        }
        if self.w.is_some_and(|width| width > 100_000) {
            return Err(invalid("`w` must be a screen width in pixels"));
        }
        let engagement = match name {
            EventName::Engagement => engagement(self.sd.as_ref(), self.e.as_ref()),
            _ => Engagement::default(),
        };
        Ok(Beacon {
            name,
            engagement,
            url: self.u,
            domains,
            referrer,
            screen_width: self.w,
            props: props(self.p)?,
            hash_routing: truthy(self.h.as_ref()),
            interaction: match self.i {
                Some(Json::Bool(false)) => Interaction::NonInteractive,
                Some(Json::Number(n)) if n.as_u64() == Some(0) => Interaction::NonInteractive,
                _ => Interaction::Interactive,
            },
        })
    }
}

/// An engagement report's figures; a figure out of bounds, or not a
/// whole number, is counted as not reported rather than refused: the
/// report still tells the rest.
fn engagement(scroll: Option<&Json>, engaged: Option<&Json>) -> Engagement {
    let whole = |value: Option<&Json>| value.and_then(Json::as_u64);
    Engagement {
        scroll_depth: whole(scroll)
            .filter(|depth| *depth <= 100)
            .map(|depth| depth as u8),
        engaged_ms: whole(engaged)
            .filter(|ms| *ms <= MAX_ENGAGED_MS)
            .map_or(0, |ms| ms as u32),
    }
}

fn truthy(value: Option<&Json>) -> bool {
    match value {
        Some(Json::Bool(flag)) => *flag,
        Some(Json::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

/// Properties: an object of scalars, or that object encoded as a string
/// (older Plausible scripts send `m` that way).
fn props(value: Option<Json>) -> Result<Vec<(String, String)>, ApiError> {
    let object = match value {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Object(object)) => object,
        Some(Json::String(text)) => match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(object)) => object,
            _ => return Err(invalid("`p` must be an object of scalar values")),
        },
        Some(_) => return Err(invalid("`p` must be an object of scalar values")),
    };
    if object.len() > MAX_PROPS {
        return Err(invalid("`p` has more than 30 properties"));
    }
    let mut pairs = Vec::with_capacity(object.len());
    for (key, value) in object {
        if key.is_empty() || key.chars().count() > MAX_PROP_KEY || key.contains('\0') {
            return Err(invalid("a property name must be 1 to 300 characters"));
        }
        let text = match value {
            Json::Null => continue,
            Json::String(text) => text,
            Json::Bool(flag) => flag.to_string(),
            Json::Number(number) => number.to_string(),
            Json::Array(_) | Json::Object(_) => {
                return Err(invalid(
                    "property values must be strings, numbers or booleans",
                ));
            }
        };
        if text.chars().count() > MAX_PROP_VALUE || text.contains('\0') {
            return Err(invalid("a property value must be at most 2000 characters"));
        }
        pairs.push((key, text));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> &'static str {
        match parse(body.as_bytes()) {
            Ok(_) => "ok",
            Err(error) => error.code(),
        }
    }

    #[test]
    fn bodies_map_to_stable_codes() {
        let base = r#""n":"pageview","u":"https://a.example/","d":"a.example""#;
        for (body, expected) in [
            (format!("{{{base}}}"), "ok"),
            (
                r#"{"name":"pageview","url":"https://a.example/","domain":"a.example","props":{"a":1,"b":true,"c":null}}"#.to_owned(),
                "ok",
            ),
            (format!(r#"{{{base},"m":"{{\"author\":\"x\"}}"}}"#), "ok"),
            ("{".to_owned(), "invalid_json"),
            ("[]".to_owned(), "invalid_event"),
            (
                r#"{"n":"pageview","u":"https://a.example/"}"#.to_owned(),
                "invalid_event",
            ),
            (format!(r#"{{{base},"w":"wide"}}"#), "invalid_event"),
            (format!(r#"{{{base},"w":-1}}"#), "invalid_event"),
            (format!(r#"{{{base},"p":{{"a":[1]}}}}"#), "invalid_event"),
            (format!(r#"{{{base},"p":"not json"}}"#), "invalid_event"),
            (
                r#"{"n":"","u":"https://a.example/","d":"a.example"}"#.to_owned(),
                "invalid_event",
            ),
            (
                r#"{"n":"pageview","u":"https://a.example/","d":" , "}"#.to_owned(),
                "invalid_event",
            ),
        ] {
            assert_eq!(code(&body), expected, "{body}");
        }
    }

    #[test]
    fn thirty_properties_are_accepted_and_thirty_one_are_not() {
        let props = |count: usize| {
            (0..count)
                .map(|i| format!("\"k{i}\":\"v\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        let body = |count| {
            format!(
                r#"{{"n":"x","u":"https://a.example/","d":"a.example","p":{{{}}}}}"#,
                props(count)
            )
        };
        assert_eq!(code(&body(30)), "ok");
        assert_eq!(code(&body(31)), "invalid_event");
    }

    #[test]
    fn invalid_utf8_is_invalid_json() {
        let mut body = br#"{"n":"pageview","u":"https://a.example/"#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#"","d":"a.example"}"#);
        assert!(matches!(parse(&body), Err(ApiError::InvalidJson(_))));
    }

    #[test]
    fn an_engagement_report_keeps_its_depth_and_time_within_bounds() {
        let report = |fields: &str| {
            let body =
                format!(r#"{{"n":"engagement","u":"https://a.example/","d":"a.example"{fields}}}"#);
            parse(body.as_bytes()).unwrap().engagement
        };
        let engagement = |scroll_depth, engaged_ms| Engagement {
            scroll_depth,
            engaged_ms,
        };
        assert_eq!(
            report(r#","sd":60,"e":35000"#),
            engagement(Some(60), 35_000)
        );
        assert_eq!(report(r#","sd":100,"e":0"#), engagement(Some(100), 0));
        assert_eq!(report(r#","sd":110,"e":-5"#), engagement(None, 0));
        assert_eq!(report(r#","sd":"60","e":4.5"#), engagement(None, 0));
        assert_eq!(report(""), engagement(None, 0));
        assert_eq!(report(r#","e":86400001"#), engagement(None, 0));
        let pageview =
            parse(br#"{"n":"pageview","u":"https://a.example/","d":"a.example","sd":50,"e":9}"#)
                .unwrap();
        assert_eq!(
            pageview.engagement,
            Engagement::default(),
            "only a report has them"
        );
    }

    #[test]
    fn interactive_defaults_to_true() {
        let beacon =
            parse(br#"{"n":"x","u":"https://a.example/","d":"a.example","i":false}"#).unwrap();
        assert_eq!(beacon.interaction, Interaction::NonInteractive);
        let beacon = parse(br#"{"n":"x","u":"https://a.example/","d":"a.example"}"#).unwrap();
        assert_eq!(beacon.interaction, Interaction::Interactive);
    }
}
