//! CORS for the endpoints the script calls (ingest, notice, receipts):
//! browsers on a configured site's hostnames, over https on the default
//! port, may call them and read the answer; other origins get no grant.
//! Plain http, or another port, is granted only for names that never reach
//! the public internet (`localhost`, loopback addresses, and the reserved
//! `.localhost` and `.test` domains of RFC 6761), for development: a page
//! an attacker serves over http, or on another port of the same name, is
//! not the municipality's site.

use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderValue};

use crate::http::Response;
use crate::sites::Sites;

/// The `Origin` to echo back, when it belongs to a configured site.
pub(in crate::http) fn allowed_origin(headers: &HeaderMap, sites: &Sites) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let parsed = url::Url::parse(origin.to_str().ok()?).ok()?;
    let host = parsed.host()?;
    let secure_default = parsed.scheme() == "https" && parsed.port().is_none();
    let scheme_ok =
        secure_default || (matches!(parsed.scheme(), "http" | "https") && is_local(&host));
    let name = parsed.host_str()?.to_ascii_lowercase();
    (scheme_ok && sites.any_allows_hostname(&name)).then(|| origin.clone())
}

/// Names no one on the internet can serve a page from.
fn is_local(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || name.ends_with(".test")
        }
        url::Host::Ipv4(address) => address.is_loopback(),
        url::Host::Ipv6(address) => address.is_loopback(),
    }
}

pub(in crate::http) fn grant(response: &mut Response, origin: Option<HeaderValue>) {
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
pub(in crate::http) fn preflight(origin: Option<HeaderValue>, methods: &'static str) -> Response {
    let mut response = crate::http::respond::empty(StatusCode::NO_CONTENT);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;

    fn check(origin: &str, granted: bool) {
        let site: SiteConfig = toml::from_str(
            r#"
            id = "gemeente.example"
            hostnames = ["www.gemeente.example", "www.gemeente.test", "localhost"]
            "#,
        )
        .expect("a site");
        let sites = Sites::from_config(&[site]).expect("valid sites");
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        assert_eq!(
            allowed_origin(&headers, &sites).is_some(),
            granted,
            "{origin}"
        );
    }

    #[test]
    fn only_https_on_the_default_port_is_granted_on_public_names() {
        check("https://www.gemeente.example", true);
        check("https://WWW.Gemeente.Example", true);
        check("http://www.gemeente.example", false);
        check("https://www.gemeente.example:8443", false);
        check("ws://www.gemeente.example", false);
        check("https://evil.example", false);
        check("null", false);
    }

    #[test]
    fn development_names_may_use_http_and_any_port() {
        check("http://www.gemeente.test:8080", true);
        check("http://localhost:3000", true);
        check("https://localhost:8443", true);
        check("http://127.0.0.1:3000", false);
    }
}
