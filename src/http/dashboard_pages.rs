//! `/dashboard` and everything under it: the embedded front end. Assets
//! under `/dashboard/assets/` carry a content-hash ETag; every other path
//! is the front end's `index.html` (it routes by path). All of it with
//! the dashboard's security headers.

use hyper::Request;
use hyper::header::{self, HeaderValue};

use super::errors::ApiError;
use super::{Response, conditional, dashboard_auth};
use crate::dashboard;

pub fn serve<B>(request: &Request<B>) -> Response {
    let path = request.uri().path();
    let (bytes, content_type) = match path.strip_prefix("/dashboard/assets/") {
        Some(name) => match dashboard::asset(name) {
            Some(asset) => (asset.bytes, asset.content_type),
            None => return ApiError::NotFound.response(),
        },
        None => (dashboard::INDEX, "text/html; charset=utf-8"),
    };
    let tag = blake3::hash(bytes).to_hex()[..16].to_owned();
    let mut response =
        conditional::tagged(request.headers(), &tag, || bytes::Bytes::from_static(bytes));
    dashboard_auth::secure(&mut response);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated every time: a new build must reach every browser at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
