//! Answers a client may keep: tagged with an ETag, and `304 Not Modified`
//! without a body when the client sends the tag it already holds.

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderValue};

use super::Response;

/// `body` under the ETag `"tag"`, or a 304 when `If-None-Match` names it
/// (then `body` is not made).
pub(super) fn tagged(request: &HeaderMap, tag: &str, body: impl FnOnce() -> Bytes) -> Response {
    let etag = format!("\"{tag}\"");
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes());
    let mut response = match unchanged {
        true => super::respond::empty(StatusCode::NOT_MODIFIED),
        false => super::respond::respond(StatusCode::OK, None, body()),
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
