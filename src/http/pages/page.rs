//! Pages the server renders itself (the privacy page, a receipt's page):
//! one shell, escaping, and the headers that keep them script-free.

use hyper::StatusCode;
use hyper::header::{self, HeaderValue};

use crate::http::Response;

/// No script at all, nothing from elsewhere, never framed; forms only to
/// this server.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(in crate::http) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A whole page: `header` and `main` are HTML already escaped.
pub(in crate::http) fn html(
    status: StatusCode,
    language: &str,
    title: &str,
    header: &str,
    main: &str,
) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/assets/kruimel.css\">\n</head>\n<body>\n\
         <header>{header}</header>\n<main>\n<h1>{title}</h1>\n{main}</main>\n</body>\n</html>\n",
        language = escape(language),
        title = escape(title),
    );
    let mut response =
        crate::http::respond::respond(status, Some("text/html; charset=utf-8"), body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: with it, a browser sends `Origin: null` on the
        // page's own form, which the erase step refuses as cross-site. A
        // receipt's address still never reaches another site.
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the client asked for HTML (a browser following a link).
pub(in crate::http) fn wants_html<B>(request: &hyper::Request<B>) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_in_html() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
