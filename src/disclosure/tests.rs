use super::*;
use crate::config::{Config, SiteConfig};
use crate::sites::Sites;

/// Every `{name}` the language files use for a value of the configuration.
const TEMPLATE_NAMES: [&str; 17] = [
    "site",
    "ipv4",
    "ipv6",
    "country",
    "time_zone",
    "salt_where",
    "salt_life",
    "query_allow",
    "placeholders",
    "gpc",
    "dnt",
    "retention_days",
    "consent_retention_days",
    "state_where",
    "categories",
    "reask_days",
    "json_url",
];

fn site(extra: &str) -> Site {
    let config: SiteConfig = toml::from_str(&format!("id = \"a.example\"\n{extra}")).unwrap();
    Sites::from_config(&[config])
        .unwrap()
        .find("a.example")
        .unwrap()
        .clone()
}

#[test]
fn both_languages_have_the_same_texts() {
    let keys = |at: usize| TEXTS[at].1.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(0), keys(1));
}

#[test]
fn the_page_reports_the_settings_in_force() {
    let mut config: Config = toml::from_str("").unwrap();
    config.privacy.ipv4_prefix = 16;
    config.privacy.query_allow = vec!["zoek".to_owned()];
    let facts = Facts::from_config(&config);
    let site =
        site("retention_days = 400\nconsent = { categories = [\"media\"], retention_days = 200 }");
    let page = disclose(&facts, &site, "nl", false);
    assert_eq!(page["settings"]["ipv4_prefix"], 16);
    assert_eq!(page["settings"]["aggregate_retention_days"], 400);
    assert_eq!(page["settings"]["consent_receipt_retention_days"], 200);
    assert_eq!(page["settings"]["salt_life_minutes"], 1470);
    assert_eq!(page["settings"]["query_kept"], json!(["utm_*", "zoek"]));
    let all = page.to_string();
    assert!(all.contains("/16") && all.contains("400 dagen") && all.contains("Externe media"));
    assert!(all.contains("niet ingesteld"), "no country database");
    for name in TEMPLATE_NAMES {
        assert!(
            !all.contains(&format!("{{{name}}}")),
            "{{{name}}} left unfilled"
        );
    }
    for field in [
        "name",
        "purpose",
        "legal_basis",
        "data_subjects",
        "personal_data",
        "recipients",
        "transfers",
        "retention",
        "security_measures",
    ] {
        assert!(
            !page["register"][field]["text"].as_str().unwrap().is_empty(),
            "{field}"
        );
    }
}

#[test]
fn english_is_available_and_unknown_languages_get_dutch() {
    let facts = Facts::from_config(&toml::from_str("").unwrap());
    let site = site("");
    assert_eq!(disclose(&facts, &site, "en", true)["language"], "en");
    assert_eq!(disclose(&facts, &site, "fr", true)["language"], "nl");
    let page = disclose(&facts, &site, "en", true).to_string();
    // No optional categories: the page says no consent is asked.
    assert!(page.contains("The statistics use no cookies."));
    assert!(!page.contains("asks consent"));
    for unfilled in [
        "{site}",
        "{ipv4}",
        "{salt_life}",
        "{retention_days}",
        "{categories}",
    ] {
        assert!(!page.contains(unfilled), "{unfilled}");
    }
}
