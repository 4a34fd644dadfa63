//! The privacy page's content (`/privacy/<site>`): what the running
//! configuration processes, stores and keeps for one site, in Dutch or
//! English, with an entry shaped like a record in a register of
//! processing activities (register van verwerkingsactiviteiten). The
//! language files also hold the texts of a consent receipt's page.
//!
//! Everything is derived from the settings in force, never written by
//! hand, so the page cannot drift from what the server does. `citizen`
//! writes the part for visitors, `register` the entry for the privacy
//! officer, and `gaps` tells the webmaster (in `kruimel check-config`)
//! what the configuration leaves the page unable to say.

mod citizen;
mod gaps;
mod period;
mod register;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::config::{Backend, Config, Party, Processor, SignalPolicy};
use crate::consent::Mode;
use crate::privacy::pii::BUILT_IN_PLACEHOLDERS;
use crate::sites::Site;

pub use gaps::{gaps, modified_on};

pub use gaps::{Gap, Severity};

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

pub(crate) const LANGUAGES: [&str; 2] = ["nl", "en"];

/// The name of the one cookie the script sets, on the site's own domain.
pub(crate) const CONSENT_COOKIE: &str = "kruimel_consent";
/// The `sessionStorage` key where the script notes, for one visit, that the
/// stored choice's receipt is still kept.
pub(crate) const RECEIPT_CHECKED: &str = "kruimel_consent_checked";

/// A page text in `language` (Dutch when unknown), with `{name}`s filled.
pub fn text(language: &str, key: &str, values: &[(&str, String)]) -> String {
    let (_, texts) = language_texts(language);
    fill(texts.get(key).map_or("", String::as_str), values)
}

fn language_texts(language: &str) -> &'static (&'static str, BTreeMap<String, String>) {
    TEXTS
        .iter()
        .find(|(tag, _)| *tag == language)
        .unwrap_or(&TEXTS[0])
}

/// The deployment-wide settings the page reports, taken at start.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub ipv4_prefix: u8,
    pub(crate) ipv6_prefix: u8,
    pub(crate) visit_timeout_minutes: u32,
    pub gpc: SignalPolicy,
    pub dnt: SignalPolicy,
    pub(crate) query_allow: Vec<String>,
    pub(crate) pii_patterns: Vec<String>,
    pub(crate) shared_state: bool,
}

impl Facts {
    pub(crate) fn from_config(config: &Config) -> Facts {
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
            // With visitor affinity each instance keeps its visitors and salts.
            shared_state: config.store.backend == Backend::Redis
                && !config.store.redis.visitor_affinity,
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

/// Who runs the server Kruimel runs on, as the configuration says.
#[derive(Debug, Clone, Copy)]
enum Hosting<'a> {
    SelfHosted,
    Processor(&'a Party),
    NotStated,
}

impl<'a> Hosting<'a> {
    fn of(site: &'a Site) -> Hosting<'a> {
        match &site.register.processor {
            Some(Processor::SelfHosted(_)) => Hosting::SelfHosted,
            Some(Processor::Party(party)) => Hosting::Processor(party),
            None => Hosting::NotStated,
        }
    }

    /// Who receives personal data from Kruimel: `null` when not stated.
    fn recipients(self) -> Json {
        match self {
            Hosting::SelfHosted => json!([]),
            Hosting::Processor(party) => json!([{ "role": "processor", "party": party }]),
            Hosting::NotStated => Json::Null,
        }
    }
}

/// Why the script sets its cookie, which follows the site's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum CookiePurpose {
    /// The visitor's choice: receipt number, policy version, granted, when.
    ConsentChoice,
    /// That an information-only notice was closed, and when.
    NoticeClosed,
    /// For the rest of a visit, that the stored choice's receipt is still
    /// kept (the script asks once a visit, so an erased choice asks again).
    ReceiptChecked,
}

/// Where in the browser an entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Storage {
    Cookie,
    /// The tab's `sessionStorage`: gone when the tab closes.
    SessionStorage,
}

/// A cookie, or other entry in the browser, a visitor can get through Kruimel.
#[derive(Debug, Clone, Serialize)]
struct Cookie {
    name: &'static str,
    purpose: CookiePurpose,
    storage: Storage,
    /// A cookie's `Max-Age` as the script sets it (the site's `reask_days`);
    /// none for what lives only as long as the tab.
    lifetime_days: Option<u32>,
    /// Set by the script on the site's own domain, never by Kruimel's.
    domain: &'static str,
}

/// Every cookie a visitor can get through Kruimel on `site`. The
/// statistics set none.
fn cookies(site: &Site) -> Vec<Cookie> {
    let purpose = match site.consent.mode {
        Mode::Consent => CookiePurpose::ConsentChoice,
        Mode::Info => CookiePurpose::NoticeClosed,
        Mode::None => return Vec::new(),
    };
    let mut listed = vec![Cookie {
        name: CONSENT_COOKIE,
        purpose,
        storage: Storage::Cookie,
        lifetime_days: Some(site.consent.reask_days),
        domain: "site",
    }];
    if site.consent.mode == Mode::Consent {
        listed.push(Cookie {
            name: RECEIPT_CHECKED,
            purpose: CookiePurpose::ReceiptChecked,
            storage: Storage::SessionStorage,
            lifetime_days: None,
            domain: "site",
        });
    }
    listed
}

/// The texts of one language with the values of one site filled in.
struct Say<'a> {
    texts: &'a BTreeMap<String, String>,
    values: Vec<(&'static str, String)>,
}

impl Say<'_> {
    fn raw(&self, key: &str) -> String {
        self.texts.get(key).cloned().unwrap_or_default()
    }

    fn say(&self, key: &str) -> String {
        fill(&self.raw(key), &self.values)
    }

    /// `key` with `extra` filled first, then the site's values.
    fn say_with(&self, key: &str, extra: &[(&str, String)]) -> String {
        fill(&fill(&self.raw(key), extra), &self.values)
    }

    fn unit(&self, (key, count): (&str, u32)) -> String {
        self.say_with(key, &[("n", count.to_string())])
    }

    fn days(&self, days: u32) -> String {
        self.unit(period::Span::of_days(days).key())
    }

    fn minutes(&self, minutes: u32) -> String {
        self.unit(period::minutes_key(minutes))
    }

    fn date(&self, date: jiff::civil::Date) -> String {
        let months = self.raw("months");
        let month = months
            .split_whitespace()
            .nth(usize::from(date.month().unsigned_abs()) - 1)
            .unwrap_or("");
        format!("{} {month} {}", date.day(), date.year())
    }
}

fn say_for<'a>(
    texts: &'a BTreeMap<String, String>,
    facts: &Facts,
    site: &Site,
    country_lookup: bool,
) -> Say<'a> {
    let mut say = Say {
        texts,
        values: vec![("site", site.id.to_string())],
    };
    let controller = match &site.register.controller {
        Some(party) => party.name.clone(),
        None => say.say("controller_unknown"),
    };
    let country = say.say(if country_lookup {
        "country_some"
    } else {
        "country_none"
    });
    let query_allow = if facts.query_allow.is_empty() {
        String::new()
    } else {
        say.say_with(
            "query_allow_some",
            &[("keys", facts.query_allow.join(", "))],
        )
    };
    let placeholders = placeholders(facts);
    let processor = match Hosting::of(site) {
        Hosting::Processor(party) => party.name.clone(),
        _ => String::new(),
    };
    let values = [
        ("controller", controller),
        ("processor", processor),
        ("ipv4", facts.ipv4_prefix.to_string()),
        ("ipv6", facts.ipv6_prefix.to_string()),
        ("country", country),
        (
            "time_zone",
            site.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        ),
        (
            "salt_where",
            if facts.shared_state {
                say.say("salt_redis")
            } else {
                String::new()
            },
        ),
        ("visit_timeout", say.minutes(facts.visit_timeout_minutes)),
        ("query_allow", query_allow),
        ("placeholders", placeholders.join(", ")),
        (
            "gpc",
            say.say(&format!("signal_{}", signal_name(facts.gpc))),
        ),
        (
            "dnt",
            say.say(&format!("signal_{}", signal_name(facts.dnt))),
        ),
        ("retention", say.days(site.retention_days)),
        ("consent_retention", say.days(site.consent.retention_days)),
        ("reask", say.days(site.consent.reask_days)),
        (
            "state_where",
            say.say(if facts.shared_state {
                "state_redis"
            } else {
                "state_memory"
            }),
        ),
        ("k", site.k_anonymity.to_string()),
        ("json_url", format!("/privacy/{}.json", site.id)),
    ];
    say.values.extend(values);
    say
}

/// The page's content for `site` in `language` (Dutch when unknown):
/// `settings` for machines, `sections` for visitors, `register` for the
/// privacy officer's register.
pub(crate) fn disclose(facts: &Facts, site: &Site, language: &str, country_lookup: bool) -> Json {
    let (language, texts) = language_texts(language);
    let say = say_for(texts, facts, site, country_lookup);
    json!({
        "site": site.id.as_str(),
        "language": language,
        "languages": LANGUAGES,
        "title": say.say("title"),
        "intro": say.say("intro"),
        "privacy_url": site.consent.notice(Some(language)).privacy_url,
        "settings": settings(facts, site, country_lookup),
        "sections": citizen::sections(&say, site, language),
        "register_heading": say.say("register_heading"),
        "register_intro": say.say("register_intro"),
        "register": register::entry(&say, site),
    })
}

/// What personal data in a path or a value is replaced by: the built-in
/// placeholders, then one per configured pattern.
fn placeholders(facts: &Facts) -> Vec<String> {
    BUILT_IN_PLACEHOLDERS
        .iter()
        .map(|placeholder| (*placeholder).to_owned())
        .chain(facts.pii_patterns.iter().map(|name| format!("{{{name}}}")))
        .collect()
}

/// The settings in force, for machines: exact numbers in fixed units.
fn settings(facts: &Facts, site: &Site, country_lookup: bool) -> Json {
    let notice = site.consent.notice(None);
    let placeholders = placeholders(facts);
    json!({
        "ipv4_prefix": facts.ipv4_prefix,
        "ipv6_prefix": facts.ipv6_prefix,
        "country_lookup": country_lookup,
        "user_agent_stored": false,
        "ip_address_stored": false,
        "visitor_hash": "BLAKE3 keyed with a daily salt over site, truncated IP address and user agent",
        "salt_rotation_time_zone": site.time_zone.iana_name().unwrap_or("UTC"),
        "salt_life_minutes": facts.salt_life_minutes(),
        "visit_timeout_minutes": facts.visit_timeout_minutes,
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
        "statistics_cookies": false,
        "cookies": cookies(site),
        "recipients": Hosting::of(site).recipients(),
        "public_statistics": site.public,
        "k_anonymity": site.k_anonymity,
    })
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
