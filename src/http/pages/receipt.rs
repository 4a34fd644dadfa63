//! A consent receipt as a page, for a visitor who follows the notice's
//! link (`GET /api/consent/{id}` asking for HTML), and its erasure in two
//! steps: the page's button asks "are you sure?" (`GET …?step=erase`), and
//! only that page's button erases (`POST /api/consent/{id}`, form fields
//! `action=erase` and `lang`). Plain forms, no script: it works without
//! JavaScript and under the pages' policy, which allows none.
//! In the language of the receipt's last choice, to the end.

use hyper::StatusCode;

use crate::consent::Receipt;
use crate::disclosure::{LANGUAGES, text};
use crate::http::Response;
use crate::http::pages::page::{self, escape};

/// A language the pages have, from a form or a receipt; Dutch otherwise.
pub(in crate::http) fn language(tag: Option<&str>) -> &'static str {
    LANGUAGES
        .into_iter()
        .find(|known| Some(*known) == tag)
        .unwrap_or(LANGUAGES[0])
}

fn language_of(receipt: &Receipt) -> &'static str {
    language(
        receipt
            .history
            .last()
            .map(|choice| choice.language.as_str()),
    )
}

fn escaped_text(language: &str, key: &str, values: &[(&str, String)]) -> String {
    escape(&text(language, key, values))
}

fn date(seconds: i64, language: &str) -> String {
    let Ok(at) = jiff::Timestamp::from_second(seconds) else {
        return String::new();
    };
    let zoned =
        at.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC));
    if language == "en" {
        zoned.strftime("%-d %B %Y, %H:%M:%S %Z").to_string()
    } else {
        let months = [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ];
        let month = months[usize::from(zoned.month().unsigned_abs()) - 1];
        format!(
            "{} {month} {}, {}",
            zoned.day(),
            zoned.year(),
            zoned.strftime("%H:%M:%S %Z")
        )
    }
}

pub(in crate::http) fn shown(receipt: &Receipt) -> Response {
    let language = language_of(receipt);
    let say = |key: &str, values: &[(&str, String)]| escaped_text(language, key, values);
    let nothing = say("receipt_nothing", &[]);
    let list = |ids: &[String]| {
        if ids.is_empty() {
            nothing.clone()
        } else {
            escape(&ids.join(", "))
        }
    };
    let mut main = format!(
        "<p>{}</p>\n<div class=\"scroll\" role=\"region\" aria-labelledby=\"choices\" tabindex=\"0\">\n<table>\n<caption id=\"choices\">{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
        say(
            "receipt_intro",
            &[
                ("site", receipt.site.clone()),
                ("receipt", receipt.receipt.hex())
            ]
        ),
        say("receipt_title", &[]),
        say("receipt_when", &[]),
        say("receipt_method", &[]),
        say("receipt_granted", &[]),
        say("receipt_denied", &[]),
        say("receipt_version", &[]),
    );
    for choice in &receipt.history {
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td></tr>\n",
            escape(&date(choice.at, language)),
            say(&format!("method_{}", choice.method.as_str()), &[]),
            list(&choice.granted),
            list(&choice.denied),
            escape(&choice.policy_version),
            escape(&choice.banner_version),
        ));
    }
    main.push_str(&format!(
        "</tbody>\n</table>\n</div>\n<p>{}</p>\n<p>{}</p>\n\
         <form method=\"get\" action=\"/api/consent/{}\"><input type=\"hidden\" name=\"step\" value=\"erase\"><button type=\"submit\">{}</button></form>\n",
        say("receipt_expires", &[("expires", date(receipt.expires, language))]),
        say("receipt_change", &[]),
        receipt.receipt.hex(),
        say("receipt_erase", &[]),
    ));
    page::html(
        StatusCode::OK,
        language,
        &text(language, "receipt_title", &[]),
        "",
        &main,
    )
}

/// The second step: what erasing means, and the button that does it.
pub(in crate::http) fn confirm(receipt: &Receipt) -> Response {
    let language = language_of(receipt);
    let id = receipt.receipt.hex();
    page::html(
        StatusCode::OK,
        language,
        &text(language, "receipt_confirm_title", &[]),
        "",
        &format!(
            "<p>{}</p>\n<form method=\"post\" action=\"/api/consent/{id}\">\
             <input type=\"hidden\" name=\"action\" value=\"erase\">\
             <input type=\"hidden\" name=\"lang\" value=\"{language}\">\
             <button type=\"submit\">{}</button></form>\n<p><a href=\"/api/consent/{id}\">{}</a></p>\n",
            escaped_text(language, "receipt_confirm", &[]),
            escaped_text(language, "receipt_confirm_yes", &[]),
            escaped_text(language, "receipt_confirm_no", &[]),
        ),
    )
}

pub(in crate::http) fn erased(language: &str) -> Response {
    page::html(
        StatusCode::OK,
        language,
        &text(language, "receipt_erased_title", &[]),
        "",
        &format!("<p>{}</p>\n", escaped_text(language, "receipt_erased", &[])),
    )
}

/// No receipt under this id. In the language of the form that led here;
/// a link followed from elsewhere says it in every language.
pub(in crate::http) fn unknown(language: Option<&'static str>) -> Response {
    let main = match language {
        Some(language) => format!(
            "<p>{}</p>\n",
            escaped_text(language, "receipt_unknown", &[])
        ),
        None => LANGUAGES
            .into_iter()
            .map(|each| {
                let lang = if each == LANGUAGES[0] {
                    String::new()
                } else {
                    format!(" lang=\"{each}\"")
                };
                format!(
                    "<p{lang}>{}</p>\n",
                    escaped_text(each, "receipt_unknown", &[])
                )
            })
            .collect(),
    };
    let language = language.unwrap_or(LANGUAGES[0]);
    page::html(
        StatusCode::NOT_FOUND,
        language,
        &text(language, "receipt_title", &[]),
        "",
        &main,
    )
}
