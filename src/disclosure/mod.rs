//! The privacy page's content (`/privacy/<site>`): what the running
//! configuration processes, stores and keeps for one site, in Dutch or
//! English, with an entry shaped like a record in a register of
//! processing activities (register van verwerkingsactiviteiten). The
//! language files also hold the texts of a consent receipt's page.
//!
//! Everything is derived from the settings in force, never written by
//! hand, so the page cannot drift from what the server does.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::config::{Backend, Config, SignalPolicy};
use crate::consent::Mode;
use crate::sites::Site;

const FILES: [(&str, &str); 2] = [
    ("nl", include_str!("lang/nl.toml")),
    ("en", include_str!("lang/en.toml")),
];

static TEXTS: LazyLock<Vec<(&'static str, BTreeMap<String, String>)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(tag, text)| {
            let texts = toml::from_str(text)
                .unwrap_or_else(|error| panic!("disclosure lang/{tag}.toml: {error}"));
            (*tag, texts)
        })
        .collect()
});

pub const LANGUAGES: [&str; 2] = ["nl", "en"];

/// A page text in `language` (Dutch when unknown), with `{name}`s filled.
pub fn text(language: &str, key: &str, values: &[(&str, String)]) -> String {
    let (_, texts) = TEXTS
        .iter()
        .find(|(tag, _)| *tag == language)
        .unwrap_or(&TEXTS[0]);
    fill(texts.get(key).map_or("", String::as_str), values)
}

/// The deployment-wide settings the page reports, taken at start.
#[derive(Debug, Clone)]
pub struct Facts {
    pub ipv4_prefix: u8,
    pub ipv6_prefix: u8,
    pub visit_timeout_minutes: u32,
    pub gpc: SignalPolicy,
    pub dnt: SignalPolicy,
    pub query_allow: Vec<String>,
    pub pii_patterns: Vec<String>,
    pub shared_state: bool,
}

impl Facts {
    pub fn from_config(config: &Config) -> Facts {
        Facts {
            ipv4_prefix: config.privacy.ipv4_prefix,
            ipv6_prefix: config.privacy.ipv6_prefix,
            visit_timeout_minutes: config.sessions.visit_timeout_minutes,
            gpc: config.privacy.gpc,
            dnt: config.privacy.dnt,
            query_allow: config.privacy.query_allow.clone(),
            pii_patterns: config
                .privacy
                .pii_patterns
                .iter()
                .map(|pattern| pattern.name.clone())
                .collect(),
            shared_state: config.store.backend == Backend::Redis,
        }
    }

    /// Minutes a day's salt lives: its day, then the visit timeout.
    fn salt_life_minutes(&self) -> u32 {
        24 * 60 + self.visit_timeout_minutes
    }
}

fn signal_name(policy: SignalPolicy) -> &'static str {
    match policy {
        SignalPolicy::Ignore => "ignore",
        SignalPolicy::CountAnonymously => "count_anonymously",
        SignalPolicy::Drop => "drop",
    }
}

/// The page's content for `site` in `language` (Dutch when unknown):
/// `settings` for machines, `register` for the register, `sections` for
/// people.
pub fn disclose(facts: &Facts, site: &Site, language: &str, country_lookup: bool) -> Json {
    let (language, texts) = TEXTS
        .iter()
        .find(|(tag, _)| *tag == language)
        .unwrap_or(&TEXTS[0]);
    let notice = site.consent.notice(Some(language));
    let mut placeholders: Vec<String> = ["email", "bsn", "iban", "postcode", "phone"]
        .iter()
        .map(|name| format!("{{{name}}}"))
        .collect();
    placeholders.extend(facts.pii_patterns.iter().map(|name| format!("{{{name}}}")));
    let categories: Vec<&str> = notice.categories.iter().map(|c| c.label.as_str()).collect();
    let text = |key: &str| texts.get(key).cloned().unwrap_or_default();
    let values: Vec<(&str, String)> = vec![
        ("site", site.id.to_string()),
        ("ipv4", facts.ipv4_prefix.to_string()),
        ("ipv6", facts.ipv6_prefix.to_string()),
        (
            "country",
            text(if country_lookup {
                "country_some"
            } else {
                "country_none"
            }),
        ),
        (
            "time_zone",
            site.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        ),
        (
            "salt_where",
            if facts.shared_state {
                text("salt_redis")
            } else {
                String::new()
            },
        ),
        ("salt_life", facts.salt_life_minutes().to_string()),
        (
            "query_allow",
            facts
                .query_allow
                .iter()
                .map(|key| format!(", {key}"))
                .collect(),
        ),
        ("placeholders", placeholders.join(", ")),
        ("gpc", text(&format!("signal_{}", signal_name(facts.gpc)))),
        ("dnt", text(&format!("signal_{}", signal_name(facts.dnt)))),
        ("retention_days", site.retention_days.to_string()),
        (
            "consent_retention_days",
            site.consent.retention_days.to_string(),
        ),
        (
            "state_where",
            text(if facts.shared_state {
                "state_redis"
            } else {
                "state_memory"
            }),
        ),
        ("categories", categories.join(", ")),
        ("reask_days", site.consent.reask_days.to_string()),
        ("json_url", format!("/privacy/{}.json", site.id)),
    ];
    let say = |key: &str| fill(&text(key), &values);
    let consent_text = if site.consent.mode == Mode::Consent {
        say("consent_some")
    } else {
        say("consent_none")
    };
    let register_keys = [
        ("name", "name"),
        ("purpose", "purpose"),
        ("legal_basis", "basis"),
        ("data_subjects", "subjects"),
        ("personal_data", "data"),
        ("recipients", "recipients"),
        ("transfers", "transfer"),
        ("retention", "retention"),
        ("security_measures", "security"),
    ];
    let register: serde_json::Map<String, Json> = register_keys
        .iter()
        .map(|(field, key)| {
            let label_key = if *key == "recipients" {
                "recipients_label".to_owned()
            } else {
                format!("{key}_label")
            };
            (
                (*field).to_owned(),
                json!({ "label": say(&label_key), "text": say(key) }),
            )
        })
        .collect();
    json!({
        "site": site.id.as_str(),
        "language": language,
        "languages": LANGUAGES,
        "title": say("title"),
        "intro": say("intro"),
        "settings": {
            "ipv4_prefix": facts.ipv4_prefix,
            "ipv6_prefix": facts.ipv6_prefix,
            "country_lookup": country_lookup,
            "user_agent_stored": false,
            "ip_address_stored": false,
            "visitor_hash": "BLAKE3 keyed with a daily salt over site, truncated IP address and user agent",
            "salt_rotation_time_zone": site.time_zone.iana_name().unwrap_or("UTC"),
            "salt_life_minutes": facts.salt_life_minutes(),
            "visitor_state": if facts.shared_state { "redis" } else { "memory" },
            "query_kept": std::iter::once("utm_*".to_owned()).chain(facts.query_allow.iter().cloned()).collect::<Vec<_>>(),
            "placeholders": placeholders,
            "global_privacy_control": signal_name(facts.gpc),
            "do_not_track": signal_name(facts.dnt),
            "aggregate_retention_days": site.retention_days,
            "consent_receipt_retention_days": site.consent.retention_days,
            "consent_notice": site.consent.mode,
            "consent_categories": notice.categories,
            "consent_policy_version": notice.policy_version,
            "consent_reask_days": site.consent.reask_days,
            "recipients": Vec::<String>::new(),
            "public_statistics": site.public,
            "k_anonymity": site.k_anonymity,
        },
        "sections": [
            section(say("processing_heading"), vec![say("ip"), say("user_agent"), say("visitor_hash"), say("urls"), say("signals")]),
            section(say("stored_heading"), vec![say("aggregates"), say("visitor_state"), say("receipts")]),
            section(say("consent_heading"), vec![consent_text]),
            section(say("recipients_heading"), vec![say("recipients")]),
        ],
        "register_heading": say("register_heading"),
        "register_intro": say("register_intro"),
        "register": register,
    })
}

#[derive(Serialize)]
struct Section {
    heading: String,
    paragraphs: Vec<String>,
}

fn section(heading: String, paragraphs: Vec<String>) -> Section {
    Section {
        heading,
        paragraphs,
    }
}

/// Replaces each `{name}` in `template` with its value.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests;
