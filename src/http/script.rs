//! `GET /js/kruimel.js`: the script, built from `js-snippet/` and embedded
//! at compile time, so the server needs no Node at run time.
//!
//! The ETag is a hash of the content. `?v=<version>` (the form
//! `kruimel snippet` prints) names this exact content and may be cached
//! for a year; the bare URL is cached for a day and then revalidated.

use std::sync::LazyLock;

use base64::Engine;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use sha2::{Digest, Sha384};

use super::Response;

const SCRIPT: &[u8] = include_bytes!("../../js-snippet/dist/kruimel.js");

/// The first 16 hex digits of the content's BLAKE3 hash.
pub static VERSION: LazyLock<String> =
    LazyLock::new(|| blake3::hash(SCRIPT).to_hex()[..16].to_owned());

/// The Subresource Integrity value of the embedded script.
pub fn integrity() -> String {
    let digest = Sha384::digest(SCRIPT);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The `<script>` tag a site embeds, served from `origin`.
pub fn embed_tag(origin: &str, site: &str) -> String {
    format!(
        r#"<script defer src="{}/js/kruimel.js?v={}" data-site="{site}" integrity="{}" crossorigin="anonymous"></script>"#,
        origin.trim_end_matches('/'),
        *VERSION,
        integrity()
    )
}

pub fn serve<B>(request: &Request<B>) -> Response {
    let etag = format!("\"{}\"", *VERSION);
    let pinned = request.uri().query().is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(key, value)| key == "v" && value == VERSION.as_str())
    });
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes());
    let mut response = if unchanged {
        let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(SCRIPT)))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if pinned {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=86400"
        }),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // Any site may load it; `crossorigin="anonymous"` with an integrity
    // check needs a CORS grant.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integrity_value_is_sha384_of_the_served_bytes() {
        let value = integrity();
        let encoded = value.strip_prefix("sha384-").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, Sha384::digest(SCRIPT).to_vec());
        assert!(
            embed_tag("https://stats.example/", "a.example").contains(&format!(
                "src=\"https://stats.example/js/kruimel.js?v={}\"",
                *VERSION
            ))
        );
    }
}
