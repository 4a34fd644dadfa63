//! A consent receipt as a page, for a visitor who follows the notice's
//! link (`GET /api/consent/{id}` asking for HTML), with a button that
//! erases it (`POST /api/consent/{id}`, form field `action=erase`).
//! In the language of the receipt's last choice.

use hyper::StatusCode;

use super::Response;
use super::page::{self, escape};
use crate::consent::{Receipt, ReceiptId};
use crate::disclosure::text;

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

pub fn shown(receipt: &Receipt) -> Response {
    let language = receipt
        .history
        .last()
        .map_or("nl", |choice| choice.language.as_str());
    let say = |key: &str, values: &[(&str, String)]| escape(&text(language, key, values));
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
         <form method=\"post\" action=\"/api/consent/{}\"><input type=\"hidden\" name=\"action\" value=\"erase\"><button type=\"submit\">{}</button></form>\n",
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

pub fn erased(_id: ReceiptId) -> Response {
    page::html(
        StatusCode::OK,
        "nl",
        &text("nl", "receipt_erased_title", &[]),
        "",
        &format!(
            "<p>{}</p>\n<p lang=\"en\">{}</p>\n",
            escape(&text("nl", "receipt_erased", &[])),
            escape(&text("en", "receipt_erased", &[]))
        ),
    )
}

pub fn unknown() -> Response {
    page::html(
        StatusCode::NOT_FOUND,
        "nl",
        &text("nl", "receipt_title", &[]),
        "",
        &format!(
            "<p>{}</p>\n<p lang=\"en\">{}</p>\n",
            escape(&text("nl", "receipt_unknown", &[])),
            escape(&text("en", "receipt_unknown", &[]))
        ),
    )
}
