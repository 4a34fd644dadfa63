//! `/privacy/<site>` (HTML, Dutch or English) and `/privacy/<site>.json`:
//! the privacy page generated from the settings in force (`disclosure`),
//! and `/assets/kruimel.css`, its stylesheet.

use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use serde_json::Value as Json;

use crate::disclosure;
use crate::http::errors::ApiError;
use crate::http::pages::page::{self, escape};
use crate::http::respond;
use crate::http::{AppState, Response};

const STYLESHEET: &str = include_str!("assets/kruimel.css");

pub(in crate::http) fn stylesheet() -> Response {
    let mut response = respond::respond(
        StatusCode::OK,
        Some("text/css; charset=utf-8"),
        bytes::Bytes::from_static(STYLESHEET.as_bytes()),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub(in crate::http) fn serve<B>(state: &AppState, request: &Request<B>) -> Response {
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
        let mut response = respond::json(StatusCode::OK, &page);
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

/// A paragraph's text, escaped, with each of `links` made a link.
fn linked(value: &Json, links: &[Link]) -> String {
    linkify(value.as_str().unwrap_or(""), links)
}

fn render(page: &Json, path: &str) -> String {
    let language = page["language"].as_str().unwrap_or("nl");
    let links = links(page, path, language);
    let mut html = format!("<p>{}</p>\n", linked(&page["intro"], &links));
    for section in page["sections"].as_array().into_iter().flatten() {
        html.push_str(&format!("<h2>{}</h2>\n", text(&section["heading"])));
        for paragraph in section["paragraphs"].as_array().into_iter().flatten() {
            html.push_str(&format!("<p>{}</p>\n", linked(paragraph, &links)));
        }
        if section["table"].is_object() {
            html.push_str(&table(&section["table"]));
        }
    }
    let register = &page["register"];
    html.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n<h3>{}</h3>\n<dl class=\"register\">\n",
        text(&page["register_heading"]),
        linked(&page["register_intro"], &links),
        text(&register["name"]),
    ));
    for field in register["fields"].as_array().into_iter().flatten() {
        let citation = match field["citation"].as_str() {
            Some(citation) => format!(" <span class=\"citation\">({})</span>", escape(citation)),
            None => String::new(),
        };
        html.push_str(&format!(
            "<dt>{}{citation}</dt><dd>{}</dd>\n",
            text(&field["label"]),
            linked(&field["text"], &links)
        ));
    }
    html.push_str("</dl>\n");
    html
}

/// A table as one description list per row: a three-column table does
/// not fit a 320 px screen without scrolling sideways.
fn table(table: &Json) -> String {
    let columns: Vec<String> = table["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    let mut html = format!("<h3>{}</h3>\n", text(&table["caption"]));
    for row in table["rows"].as_array().into_iter().flatten() {
        html.push_str("<dl class=\"row\">\n");
        for (column, cell) in columns.iter().zip(row.as_array().into_iter().flatten()) {
            html.push_str(&format!("<dt>{column}</dt><dd>{}</dd>\n", text(cell)));
        }
        html.push_str("</dl>\n");
    }
    html
}

/// Text the page shows that is better as a link: the JSON address, the
/// site's privacy statement, and the contact addresses of the register.
struct Link {
    text: String,
    href: String,
}

fn links(page: &Json, path: &str, language: &str) -> Vec<Link> {
    let mut links = vec![Link {
        text: format!("{path}.json"),
        href: format!("{path}.json?lang={language}"),
    }];
    let web = |url: &str| url.starts_with("https://") || url.starts_with("http://");
    if let Some(url) = page["privacy_url"].as_str().filter(|url| web(url)) {
        links.push(Link {
            text: url.to_owned(),
            href: url.to_owned(),
        });
    }
    let parties = page["register"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|field| {
            let value = &field["value"];
            [
                value.clone(),
                value["controller"].clone(),
                value["joint_controller"].clone(),
                value["representative"].clone(),
            ]
        });
    for party in parties {
        if let Some(email) = party["email"].as_str().filter(|email| email.contains('@')) {
            links.push(Link {
                text: email.to_owned(),
                href: format!("mailto:{email}"),
            });
        }
        if let Some(url) = party["url"].as_str().filter(|url| web(url)) {
            links.push(Link {
                text: url.to_owned(),
                href: url.to_owned(),
            });
        }
    }
    links
}

/// Escapes `text` and links each occurrence of a link's text, longest
/// first where two start at the same place, in one pass (so no link ends
/// up inside another).
fn linkify(text: &str, links: &[Link]) -> String {
    let mut html = String::new();
    let mut rest = text;
    loop {
        let next = links
            .iter()
            .filter(|link| !link.text.is_empty())
            .filter_map(|link| rest.find(&link.text).map(|at| (at, link)))
            .min_by_key(|(at, link)| (*at, std::cmp::Reverse(link.text.len())));
        let Some((at, link)) = next else {
            html.push_str(&escape(rest));
            return html;
        };
        html.push_str(&escape(&rest[..at]));
        html.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape(&link.href),
            escape(&link.text)
        ));
        rest = &rest[at + link.text.len()..];
    }
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
