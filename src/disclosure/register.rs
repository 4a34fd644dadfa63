//! The register entry (register van verwerkingsactiviteiten): the fields
//! of GDPR/AVG Article 30(1), (a) to (g) in that order, then the
//! processor, the legal basis and the date of the last change. Each field
//! has a label and a text for people and a `value` for machines.
//!
//! The fields are a JSON array, so their order survives every JSON
//! library (`serde_json` here sorts object keys).

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{Hosting, Say, cookies};
use crate::config::Party;
use crate::consent::Mode;
use crate::sites::Site;

#[derive(Serialize)]
pub(super) struct Entry {
    name: String,
    fields: Vec<Field>,
}

#[derive(Serialize)]
struct Field {
    key: &'static str,
    /// `30(1)(a)` for a field of Article 30(1); `null` for the others.
    article: Option<String>,
    /// How the article is cited in the page's language.
    citation: Option<String>,
    label: String,
    text: String,
    value: Json,
}

fn field(say: &Say, key: &'static str, letter: Option<char>, text: String, value: Json) -> Field {
    Field {
        key,
        article: letter.map(|letter| format!("30(1)({letter})")),
        citation: letter
            .map(|letter| say.say_with("register_article", &[("letter", letter.to_string())])),
        label: say.say(&format!("register_{}_label", label_key(key))),
        text,
        value,
    }
}

fn label_key(key: &str) -> &str {
    match key {
        "data_protection_officer" => "dpo",
        "data_subjects" => "subjects",
        "personal_data" => "data",
        "security_measures" => "security",
        "legal_basis" => "basis",
        other => other,
    }
}

pub(super) fn entry(say: &Say, site: &Site) -> Entry {
    let register = &site.register;
    let consent = site.consent.mode == Mode::Consent;
    let fields = vec![
        controller(say, site),
        field(
            say,
            "data_protection_officer",
            Some('a'),
            party_text(say, register.dpo.as_ref()),
            json!(register.dpo),
        ),
        purposes(say, consent),
        field(
            say,
            "data_subjects",
            Some('c'),
            say.say("register_subjects"),
            json!(["website_visitors"]),
        ),
        personal_data(say, site),
        recipients(say, site),
        field(
            say,
            "transfers",
            Some('e'),
            say.say("register_transfers"),
            json!([]),
        ),
        retention(say, site),
        field(
            say,
            "security_measures",
            Some('g'),
            say.say("register_security"),
            Json::Null,
        ),
        processor(say, site),
        legal_basis(say, consent),
        updated(say, site),
    ];
    Entry {
        name: say.say("register_name"),
        fields,
    }
}

fn party_text(say: &Say, party: Option<&Party>) -> String {
    party.map_or_else(|| say.say("not_stated"), Party::one_line)
}

fn controller(say: &Say, site: &Site) -> Field {
    let register = &site.register;
    let mut text = party_text(say, register.controller.as_ref());
    for (key, party) in [
        ("register_joint_controller", &register.joint_controller),
        ("register_representative", &register.representative),
    ] {
        if let Some(party) = party {
            text.push_str(if text.ends_with('.') { " " } else { ". " });
            text.push_str(&say.say_with(key, &[("party", party.one_line())]));
        }
    }
    let value = json!({
        "controller": register.controller,
        "joint_controller": register.joint_controller,
        "representative": register.representative,
    });
    field(say, "controller", Some('a'), text, value)
}

fn purposes(say: &Say, consent: bool) -> Field {
    let mut texts = vec![say.say("register_purpose_statistics")];
    let mut ids = vec!["statistics"];
    if consent {
        texts.push(say.say("register_purpose_consent"));
        ids.push("consent_records");
    }
    field(say, "purposes", Some('b'), texts.join(" "), json!(ids))
}

fn personal_data(say: &Say, site: &Site) -> Field {
    let mut text = say.say("register_data");
    let mut ids = vec![
        "truncated_ip_address",
        "user_agent",
        "daily_visitor_code",
        "pages_visited",
        "referring_domain",
        "campaign_parameters",
    ];
    match site.consent.mode {
        Mode::Consent => {
            text = format!("{text} {}", say.say("register_data_consent"));
            ids.extend(["consent_choices", "consent_cookie"]);
        }
        Mode::Info => {
            text = format!("{text} {}", say.say("register_data_info"));
            ids.push("consent_cookie");
        }
        Mode::None => {}
    }
    field(say, "personal_data", Some('c'), text, json!(ids))
}

fn recipients(say: &Say, site: &Site) -> Field {
    let hosting = Hosting::of(site);
    let text = match hosting {
        Hosting::SelfHosted => say.say("register_recipients_none"),
        Hosting::Processor(_) => say.say("register_recipients_processor"),
        Hosting::NotStated => say.say("register_recipients_unknown"),
    };
    let text = format!("{text} {}", say.say("register_recipients_aggregates"));
    field(say, "recipients", Some('d'), text, hosting.recipients())
}

fn retention(say: &Say, site: &Site) -> Field {
    let mut text = say.say("register_retention");
    match site.consent.mode {
        Mode::Consent => text = format!("{text} {}", say.say("register_retention_consent")),
        Mode::Info => text = format!("{text} {}", say.say("register_retention_info")),
        Mode::None => {}
    }
    let consent_days = (site.consent.mode == Mode::Consent).then_some(site.consent.retention_days);
    let value = json!({
        "aggregates_days": site.retention_days,
        "consent_receipts_days_after_last_change": consent_days,
        "visitor_state": "end_of_local_day_plus_visit_timeout",
        "cookies": cookies(site),
    });
    field(say, "retention", Some('f'), text, value)
}

fn processor(say: &Say, site: &Site) -> Field {
    let (text, value) = match Hosting::of(site) {
        Hosting::SelfHosted => (say.say("register_processor_none"), json!("none")),
        Hosting::Processor(party) => (party.one_line(), json!(party)),
        Hosting::NotStated => (say.say("not_stated"), Json::Null),
    };
    field(say, "processor", None, text, value)
}

fn legal_basis(say: &Say, consent: bool) -> Field {
    let mut texts = vec![say.say("register_basis_statistics")];
    let mut bases = vec![json!({ "purpose": "statistics", "article": "6(1)(e)" })];
    if consent {
        texts.push(say.say("register_basis_consent"));
        bases.push(json!({ "purpose": "consent_records", "article": "6(1)(c)" }));
    }
    field(say, "legal_basis", None, texts.join(" "), json!(bases))
}

fn updated(say: &Say, site: &Site) -> Field {
    let (text, value) = match site.register.updated {
        Some(date) => (say.date(date.0), json!(date.0.to_string())),
        None => (say.say("not_stated"), Json::Null),
    };
    field(say, "updated", None, text, value)
}
