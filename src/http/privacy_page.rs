//! `/privacy/<site>` (HTML, Dutch or English) and `/privacy/<site>.json`:
//! the privacy page generated from the settings in force (`disclosure`),
//! and `/assets/kruimel.css`, its stylesheet.

use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use serde_json::Value as Json;

use super::errors::{ApiError, json_response};
use super::page::{self, escape};
use super::{AppState, Response};
use crate::disclosure;

const STYLESHEET: &str = include_str!("assets/kruimel.css");

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
    if json {
        let mut response = json_response(StatusCode::OK, &page);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return response;
    }
    let language = page["language"].as_str().unwrap_or("nl");
    let header = format!(
        "<nav aria-label=\"{}\">{}</nav>",
        if language == "en" { "Language" } else { "Taal" },
        language_links(request.uri().path(), language)
    );
    page::html(
        StatusCode::OK,
        language,
        page["title"].as_str().unwrap_or(""),
        &header,
        &render(&page, request.uri().path()),
    )
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

fn text(value: &Json) -> String {
    escape(value.as_str().unwrap_or(""))
}

fn render(page: &Json, path: &str) -> String {
    let language = page["language"].as_str().unwrap_or("nl");
    let mut html = format!("<p>{}</p>\n", text(&page["intro"]));
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
    html.push_str("</dl>\n");
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
