//! `GET /js/kruimel.js` and `GET /js/kruimel-tracker.js`: the two builds
//! of `js-snippet/` (the tracker with the consent notice, and the tracker
//! alone for sites that need no notice), embedded at compile time, so the
//! server needs no Node at run time.
//!
//! The ETag is a hash of the content. `?v=<version>` (the form
//! `kruimel snippet` prints) names this exact content and may be cached
//! for a year; the bare URL is cached for a day and then revalidated.
//! Browsers that accept gzip get it compressed once, on first use.

use std::sync::LazyLock;

use base64::Engine;
use hyper::Request;
use hyper::header::{self, HeaderValue};
use sha2::{Digest, Sha384};

use crate::config::{ConsentConfig, NoticeMode};
use crate::http::{Response, conditional};

/// One build of the script.
pub struct Build {
    /// The path it is served at.
    pub path: &'static str,
    bytes: &'static [u8],
    /// The first 16 hex digits of the content's BLAKE3 hash.
    version: LazyLock<String>,
    gzipped: LazyLock<Vec<u8>>,
}

const FULL_BYTES: &[u8] = include_bytes!("../../../js-snippet/dist/kruimel.js");
const TRACKER_BYTES: &[u8] = include_bytes!("../../../js-snippet/dist/kruimel-tracker.js");

/// The tracker and the consent notice.
pub static FULL: Build = Build {
    path: "/js/kruimel.js",
    bytes: FULL_BYTES,
    version: LazyLock::new(|| version_of(FULL_BYTES)),
    gzipped: LazyLock::new(|| gzip(FULL_BYTES)),
};

/// The tracker alone: what the pages of a site without a notice load.
pub static TRACKER: Build = Build {
    path: "/js/kruimel-tracker.js",
    bytes: TRACKER_BYTES,
    version: LazyLock::new(|| version_of(TRACKER_BYTES)),
    gzipped: LazyLock::new(|| gzip(TRACKER_BYTES)),
};

fn version_of(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// The build a site's pages load: the whole script when the site shows a
/// notice (optional categories, or an information-only notice), else the
/// tracker alone.
pub fn build_for(consent: &ConsentConfig) -> &'static Build {
    let shows_notice = match consent.notice {
        NoticeMode::None => false,
        NoticeMode::Info => true,
        NoticeMode::Auto => !consent.categories.is_empty(),
    };
    if shows_notice { &FULL } else { &TRACKER }
}

impl Build {
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The Subresource Integrity value of this build.
    pub fn integrity(&self) -> String {
        let digest = Sha384::digest(self.bytes);
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    }

    /// The `<script>` tag a site embeds, served from `origin`.
    pub fn embed_tag(&self, origin: &str, site: &str) -> String {
        format!(
            r#"<script defer src="{}{}?v={}" data-site="{site}" integrity="{}" crossorigin="anonymous"></script>"#,
            origin.trim_end_matches('/'),
            self.path,
            self.version(),
            self.integrity()
        )
    }
}

/// Whether the request's `Accept-Encoding` takes gzip (and does not
/// refuse it with `q=0`).
pub(in crate::http) fn accepts_gzip<B>(request: &Request<B>) -> bool {
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
    let build = if request.uri().path() == TRACKER.path {
        &TRACKER
    } else {
        &FULL
    };
    let gzip = accepts_gzip(request);
    let etag = if gzip {
        format!("{}-gz", build.version())
    } else {
        build.version().to_owned()
    };
    let pinned = request.uri().query().is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(key, value)| key == "v" && value == build.version())
    });
    let mut response = conditional::tagged(request.headers(), &etag, || {
        if gzip {
            bytes::Bytes::from(build.gzipped.as_slice())
        } else {
            bytes::Bytes::from_static(build.bytes)
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
        for build in [&FULL, &TRACKER] {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(build.gzipped.as_slice())
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, build.bytes);
            assert!(build.gzipped.len() < build.bytes.len() * 2 / 3);
        }
        assert!(
            TRACKER.gzipped.len() <= 1200,
            "the tracker alone is within its budget: {} bytes",
            TRACKER.gzipped.len()
        );
    }

    #[test]
    fn the_integrity_value_is_sha384_of_the_served_bytes() {
        let value = FULL.integrity();
        let encoded = value.strip_prefix("sha384-").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, Sha384::digest(FULL.bytes).to_vec());
        assert!(
            FULL.embed_tag("https://stats.example/", "a.example")
                .contains(&format!(
                    "src=\"https://stats.example/js/kruimel.js?v={}\"",
                    FULL.version()
                ))
        );
        assert!(
            TRACKER
                .embed_tag("https://stats.example", "a.example")
                .contains("src=\"https://stats.example/js/kruimel-tracker.js?v=")
        );
    }

    #[test]
    fn a_site_without_a_notice_loads_the_tracker_alone() {
        let consent = |notice: &str, categories: &[&str]| {
            let categories: Vec<String> = categories.iter().map(|id| format!("\"{id}\"")).collect();
            let text = format!(
                "notice = \"{notice}\"\ncategories = [{}]",
                categories.join(",")
            );
            toml::from_str::<ConsentConfig>(&text).unwrap()
        };
        for (notice, categories, expected) in [
            ("auto", &[][..], TRACKER.path),
            ("auto", &["media"][..], FULL.path),
            ("info", &[][..], FULL.path),
            ("none", &[][..], TRACKER.path),
        ] {
            assert_eq!(
                build_for(&consent(notice, categories)).path,
                expected,
                "{notice} {categories:?}"
            );
        }
    }
}
