//! `/privacy/<site>` (HTML, Dutch or English) and `/privacy/<site>.json`:
//! the privacy page generated from the settings in force (`disclosure`),
//! and `/assets/kruimel.css`, its stylesheet.

use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use serde_json::Value as Json;

use super::errors::{ApiError, json_response};
use super::{AppState, Response};
use crate::disclosure;

const STYLESHEET: &str = include_str!("assets/kruimel.css");

/// Headers of every page the server renders: no script at all, nothing
/// from elsewhere, never framed.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn stylesheet() -> Response {
    let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(
        STYLESHEET.as_bytes(),
    )));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub fn serve<B>(state: &AppState, request: &Request<B>) -> Response {
    let path = request.uri().path().strip_prefix("/privacy/").unwrap_or("");
    let (site_id, json) = match path.strip_suffix(".json") {
        Some(site) => (site, true),
        None => (path, false),
    };
    let sites = state.sites.load();
    let Some(site) = sites.find(site_id) else {
        return ApiError::UnknownSite.response();
    };
    let language = language_of(request);
    let page = disclosure::disclose(
        &state.disclosure,
        site,
        language,
        state.pipeline.has_countries(),
    );
    let mut response = if json {
        json_response(StatusCode::OK, &page)
    } else {
        let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(
            render(&page, request.uri().path()),
        )));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
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
            HeaderValue::from_static("no-referrer"),
        );
        response
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `?lang=` when it names a language the page has, else Dutch.
fn language_of<B>(request: &Request<B>) -> &'static str {
    let wanted = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "lang")
            .map(|(_, value)| value.into_owned())
    });
    disclosure::LANGUAGES
        .into_iter()
        .find(|tag| wanted.as_deref() == Some(*tag))
        .unwrap_or("nl")
}

fn escape(text: &str) -> String {
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

fn text(value: &Json) -> String {
    escape(value.as_str().unwrap_or(""))
}

fn render(page: &Json, path: &str) -> String {
    let language = page["language"].as_str().unwrap_or("nl");
    let mut html = format!(
        "<!doctype html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/assets/kruimel.css\">\n</head>\n<body>\n\
         <header><nav aria-label=\"{nav}\">{links}</nav></header>\n<main>\n<h1>{title}</h1>\n<p>{intro}</p>\n",
        title = text(&page["title"]),
        intro = text(&page["intro"]),
        nav = if language == "en" { "Language" } else { "Taal" },
        links = language_links(path, language),
    );
    for section in page["sections"].as_array().into_iter().flatten() {
        html.push_str(&format!("<h2>{}</h2>\n", text(&section["heading"])));
        for paragraph in section["paragraphs"].as_array().into_iter().flatten() {
            html.push_str(&format!("<p>{}</p>\n", text(paragraph)));
        }
    }
    let json_url = format!("{}.json?lang={language}", escape(path));
    let intro = text(&page["register_intro"]).replace(
        &escape(&format!("{}.json", path)),
        &format!("<a href=\"{json_url}\">{}.json</a>", escape(path)),
    );
    html.push_str(&format!(
        "<h2>{}</h2>\n<p>{intro}</p>\n<dl>\n",
        text(&page["register_heading"])
    ));
    for entry in page["register"]
        .as_object()
        .into_iter()
        .flat_map(|map| map.values())
    {
        html.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            text(&entry["label"]),
            text(&entry["text"])
        ));
    }
    html.push_str("</dl>\n</main>\n</body>\n</html>\n");
    html
}

fn language_links(path: &str, current: &str) -> String {
    [("nl", "Nederlands"), ("en", "English")]
        .iter()
        .map(|(tag, name)| {
            let marker = if *tag == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!(
                "<a href=\"{}?lang={tag}\" lang=\"{tag}\" hreflang=\"{tag}\"{marker}>{name}</a>",
                escape(path)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
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
