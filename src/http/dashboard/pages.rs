//! `/dashboard` and everything under it: the embedded front end. Assets
//! under `/dashboard/assets/` carry a content-hash ETag and go out gzipped
//! to browsers that accept it (`Vary: Accept-Encoding`, and an ETag of
//! their own, so a cache never hands one form to a client of the other);
//! every other path is the front end's `index.html` (it routes by path).
//! All of it with the dashboard's security headers.

use hyper::Request;
use hyper::header::{self, HeaderValue};

use crate::dashboard;
use crate::http::errors::ApiError;
use crate::http::{Response, conditional, dashboard::auth as dashboard_auth, ingest::script};

pub(in crate::http) fn serve<B>(request: &Request<B>) -> Response {
    let path = request.uri().path();
    let asset = match path.strip_prefix("/dashboard/assets/") {
        Some(name) => match dashboard::asset(name) {
            Some(asset) => Some(asset),
            None => return ApiError::NotFound.response(),
        },
        None => None,
    };
    let (bytes, content_type) = match asset {
        Some(asset) => (asset.bytes, asset.content_type),
        None => (dashboard::INDEX, "text/html; charset=utf-8"),
    };
    let gzipped = asset.filter(|_| script::accepts_gzip(request));
    let mut tag = blake3::hash(bytes).to_hex()[..16].to_owned();
    if gzipped.is_some() {
        tag.push_str("-gz");
    }
    let mut response = conditional::tagged(request.headers(), &tag, || match gzipped {
        Some(asset) => bytes::Bytes::from_static(asset.gzipped()),
        None => bytes::Bytes::from_static(bytes),
    });
    dashboard_auth::secure(&mut response);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if asset.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if gzipped.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // Revalidated every time: a new build must reach every browser at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
