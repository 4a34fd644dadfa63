//! `GET /js/kruimel.js`: the script, built from `js-snippet/` and embedded
//! at compile time, so the server needs no Node at run time.
//!
//! The ETag is a hash of the content. `?v=<version>` (the form
//! `kruimel snippet` prints) names this exact content and may be cached
//! for a year; the bare URL is cached for a day and then revalidated.
//! Browsers that accept gzip get it compressed once at start.

use std::sync::LazyLock;

use base64::Engine;
use hyper::Request;
use hyper::header::{self, HeaderValue};
use sha2::{Digest, Sha384};

use super::{Response, conditional};

const SCRIPT: &[u8] = include_bytes!("../../js-snippet/dist/kruimel.js");

/// The first 16 hex digits of the content's BLAKE3 hash.
pub static VERSION: LazyLock<String> =
    LazyLock::new(|| blake3::hash(SCRIPT).to_hex()[..16].to_owned());

static GZIPPED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(SCRIPT).expect("writing to memory");
    encoder.finish().expect("writing to memory")
});

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

/// Whether the request's `Accept-Encoding` takes gzip (and does not
/// refuse it with `q=0`).
pub(super) fn accepts_gzip<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|param| param.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

pub fn serve<B>(request: &Request<B>) -> Response {
    let gzip = accepts_gzip(request);
    let etag = if gzip {
        format!("{}-gz", *VERSION)
    } else {
        VERSION.clone()
    };
    let pinned = request.uri().query().is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(key, value)| key == "v" && value == VERSION.as_str())
    });
    let mut response = conditional::tagged(request.headers(), &etag, || {
        if gzip {
            bytes::Bytes::from(GZIPPED.as_slice())
        } else {
            bytes::Bytes::from_static(SCRIPT)
        }
    });
    let headers = response.headers_mut();
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
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
    fn gzip_is_sent_only_to_clients_that_accept_it_and_decodes_to_the_script() {
        use std::io::Read;
        let request = |accept: &str| {
            Request::builder()
                .uri("/js/kruimel.js")
                .header(header::ACCEPT_ENCODING, accept)
                .body(())
                .unwrap()
        };
        assert!(accepts_gzip(&request("gzip, deflate, br")));
        assert!(accepts_gzip(&request("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&request("gzip;q=0, br")));
        assert!(!accepts_gzip(&request("identity")));
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(GZIPPED.as_slice())
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, SCRIPT);
        assert!(GZIPPED.len() < SCRIPT.len() / 2);
    }

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
