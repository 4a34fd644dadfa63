//! The part of the privacy page for visitors: what happens to a page
//! view, what is kept and how long, which cookies they can get, who gets
//! the data, and whom to ask. Plain language (B1); nothing meant for the
//! webmaster appears here (that is `gaps`).

use serde::Serialize;

use super::{Cookie, CookiePurpose, Hosting, Say, cookies};
use crate::consent::Mode;
use crate::sites::Site;

#[derive(Serialize)]
pub(super) struct Section {
    heading: String,
    paragraphs: Vec<String>,
    /// A table after the paragraphs (the cookies), when the section has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<Table>,
}

#[derive(Serialize)]
pub(super) struct Table {
    caption: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn section(heading: String, paragraphs: Vec<String>) -> Section {
    Section {
        heading,
        paragraphs,
        table: None,
    }
}

pub(super) fn sections(say: &Say, site: &Site, language: &str) -> Vec<Section> {
    let receipts = match site.consent.mode {
        Mode::Consent => say.say("receipts"),
        Mode::Info | Mode::None => say.say("receipts_none"),
    };
    vec![
        section(
            say.say("processing_heading"),
            ["ip", "user_agent", "visitor_hash", "urls", "signals"]
                .iter()
                .map(|key| say.say(key))
                .collect(),
        ),
        section(
            say.say("stored_heading"),
            vec![say.say("aggregates"), say.say("visitor_state"), receipts],
        ),
        cookie_section(say, site, language),
        section(say.say("recipients_heading"), recipients(say, site)),
        section(say.say("questions_heading"), questions(say, site)),
    ]
}

fn cookie_section(say: &Say, site: &Site, language: &str) -> Section {
    let notice = site.consent.notice(Some(language));
    let categories: Vec<&str> = notice.categories.iter().map(|c| c.label.as_str()).collect();
    let privacy_url = notice
        .privacy_url
        .as_ref()
        .map(|url| format!(": {url}"))
        .unwrap_or_default();
    let mut paragraphs = vec![say.say("cookies_statistics")];
    match site.consent.mode {
        Mode::Consent => {
            paragraphs.push(say.say_with("consent_some", &[("categories", categories.join(", "))]));
            paragraphs.push(say.say_with("consent_others", &[("privacy_url", privacy_url)]));
        }
        Mode::Info => paragraphs.push(say.say("consent_info")),
        Mode::None => paragraphs.push(say.say("consent_none")),
    }
    let listed = cookies(site);
    let table = (!listed.is_empty()).then(|| Table {
        caption: say.say("cookie_caption"),
        columns: ["cookie_name", "cookie_purpose", "cookie_lifetime"]
            .iter()
            .map(|key| say.say(key))
            .collect(),
        rows: listed
            .iter()
            .map(|cookie| cookie_row(say, cookie))
            .collect(),
    });
    Section {
        heading: say.say("consent_heading"),
        paragraphs,
        table,
    }
}

fn cookie_row(say: &Say, cookie: &Cookie) -> Vec<String> {
    let purpose = match cookie.purpose {
        CookiePurpose::ConsentChoice => "cookie_purpose_consent",
        CookiePurpose::NoticeClosed => "cookie_purpose_info",
        CookiePurpose::ReceiptChecked => "cookie_purpose_checked",
    };
    let lifetime = match cookie.lifetime_days {
        Some(days) => say.days(days),
        None => say.say("cookie_lifetime_tab"),
    };
    vec![cookie.name.to_owned(), say.say(purpose), lifetime]
}

fn recipients(say: &Say, site: &Site) -> Vec<String> {
    let hosting = match Hosting::of(site) {
        Hosting::SelfHosted => say.say("recipients_none"),
        Hosting::Processor(_) => say.say("recipients_processor"),
        Hosting::NotStated => say.say("recipients_unknown"),
    };
    let shared = if site.public {
        say.say("recipients_public")
    } else {
        say.say("recipients_shared")
    };
    vec![hosting, say.say("recipients_rest"), shared]
}

fn questions(say: &Say, site: &Site) -> Vec<String> {
    let register = &site.register;
    let controller = register
        .controller
        .as_ref()
        .map_or_else(|| say.say("controller_unknown"), |party| party.one_line());
    let mut paragraphs = vec![say.say_with("questions_controller", &[("party", controller)])];
    if let Some(dpo) = &register.dpo {
        paragraphs.push(say.say_with("questions_dpo", &[("party", dpo.one_line())]));
    }
    paragraphs
}
