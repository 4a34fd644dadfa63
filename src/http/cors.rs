//! CORS for the endpoints the script calls (ingest, notice, receipts):
//! browsers on a configured site's hostnames may call them and read the
//! answer; other origins get no grant.

use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderValue};

use super::Response;
use crate::sites::Sites;

/// The `Origin` to echo back, when it belongs to a configured site.
pub fn allowed_origin(headers: &HeaderMap, sites: &Sites) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    let host = url::Url::parse(text).ok()?.host_str()?.to_ascii_lowercase();
    sites.any_allows_hostname(&host).then(|| origin.clone())
}

pub fn grant(response: &mut Response, origin: Option<HeaderValue>) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("X-Kruimel-Dropped"),
        );
    }
}

/// The answer to a preflight `OPTIONS` request; `methods` is the
/// `Access-Control-Allow-Methods` list.
pub fn preflight(origin: Option<HeaderValue>, methods: &'static str) -> Response {
    let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if origin.is_some() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    grant(&mut response, origin);
    response
}
