use super::*;
use crate::config::{Config, SiteConfig};
use crate::sites::Sites;

/// The fields of Article 30(1), (a) to (g), then the extras, in order.
const ARTICLE_30_ORDER: [(&str, Option<&str>); 12] = [
    ("controller", Some("30(1)(a)")),
    ("data_protection_officer", Some("30(1)(a)")),
    ("purposes", Some("30(1)(b)")),
    ("data_subjects", Some("30(1)(c)")),
    ("personal_data", Some("30(1)(c)")),
    ("recipients", Some("30(1)(d)")),
    ("transfers", Some("30(1)(e)")),
    ("retention", Some("30(1)(f)")),
    ("security_measures", Some("30(1)(g)")),
    ("processor", None),
    ("legal_basis", None),
    ("updated", None),
];

/// Whether a register entry's JSON has exactly the expected fields, in
/// order, each with a label and a text.
fn in_article_30_order(register: &Json) -> Result<(), String> {
    let fields = register["fields"].as_array().ok_or("no fields array")?;
    let keys: Vec<&str> = fields.iter().filter_map(|f| f["key"].as_str()).collect();
    let expected: Vec<&str> = ARTICLE_30_ORDER.iter().map(|(key, _)| *key).collect();
    if keys != expected {
        return Err(format!("fields {keys:?}, expected {expected:?}"));
    }
    for (field, (key, article)) in fields.iter().zip(ARTICLE_30_ORDER) {
        if field["article"].as_str() != article {
            return Err(format!("{key}: article {}", field["article"]));
        }
        for part in ["label", "text"] {
            if field[part].as_str().is_none_or(str::is_empty) {
                return Err(format!("{key}: empty {part}"));
            }
        }
    }
    Ok(())
}

fn site(extra: &str) -> Site {
    site_with_default(extra, "")
}

/// A site built as `config::load` builds it: `[register]` inherited.
fn site_with_default(extra: &str, register: &str) -> Site {
    let mut config: Config = toml::from_str(&format!(
        "{register}\n[[sites]]\nid = \"a.example\"\n{extra}"
    ))
    .unwrap();
    config.inherit_register();
    let configs: Vec<SiteConfig> = config.sites;
    Sites::from_config(&configs)
        .unwrap()
        .find("a.example")
        .unwrap()
        .clone()
}

fn facts() -> Facts {
    Facts::from_config(&toml::from_str("").unwrap())
}

const REGISTER: &str = r#"
[register]
controller = { name = "Gemeente Voorbeeld", address = "Markt 1, 1234 AB Voorbeeld", phone = "14 0123" }
dpo = { name = "Functionaris gegevensbescherming", email = "fg@voorbeeld.example" }
processor = { name = "Hoster BV", email = "privacy@hoster.example" }
updated = 2026-03-01
"#;

/// Every `{name}` left in a page, except the placeholders it reports.
fn unfilled(page: &Json) -> Vec<String> {
    let text = page.to_string();
    regex::Regex::new(r"\{[a-z_0-9]+\}")
        .unwrap()
        .find_iter(&text)
        .map(|found| found.as_str().to_owned())
        .filter(|name| !BUILT_IN_PLACEHOLDERS.contains(&name.as_str()))
        .collect()
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
    assert!(all.contains("200 dagen") && all.contains("zoek"));
    assert!(
        all.contains("Het land bepalen we niet."),
        "no country database"
    );
    assert_eq!(unfilled(&page), Vec::<String>::new());
    assert_eq!(in_article_30_order(&page["register"]), Ok(()));
}

#[test]
fn the_page_says_where_salts_and_visitor_state_live() {
    let site = site("");
    let said = |toml: &str| {
        let facts = Facts::from_config(&toml::from_str(toml).unwrap());
        disclose(&facts, &site, "nl", false)["settings"]["visitor_state"].clone()
    };
    assert_eq!(said(""), "memory");
    assert_eq!(said("[store]\nbackend = \"redis\""), "redis");
    assert_eq!(
        said("[store]\nbackend = \"redis\"\nredis = { visitor_affinity = true }"),
        "memory",
        "with visitor affinity each instance keeps them in memory"
    );
}

#[test]
fn the_register_entry_has_the_article_30_fields_in_order_in_both_languages() {
    for extra in [
        "",
        "consent = { categories = [\"media\"] }",
        "consent = { notice = \"info\" }",
    ] {
        for register in ["", REGISTER] {
            let site = site_with_default(extra, register);
            for language in LANGUAGES {
                let page = disclose(&facts(), &site, language, true);
                assert_eq!(
                    in_article_30_order(&page["register"]),
                    Ok(()),
                    "{language} {extra}"
                );
                assert_eq!(unfilled(&page), Vec::<String>::new(), "{language} {extra}");
            }
        }
    }
}

#[test]
fn the_order_check_fails_when_a_field_is_missing_or_moved() {
    let page = disclose(&facts(), &site(""), "nl", true);
    let fields = page["register"]["fields"].as_array().unwrap().clone();
    for missing in 0..fields.len() {
        let mut without = fields.clone();
        without.remove(missing);
        let register = json!({ "fields": without });
        assert!(
            in_article_30_order(&register).is_err(),
            "without field {missing}"
        );
    }
    let mut swapped = fields.clone();
    swapped.swap(2, 3);
    assert!(in_article_30_order(&json!({ "fields": swapped })).is_err());
    let mut unlabelled = fields;
    unlabelled[0]["label"] = json!("");
    assert!(in_article_30_order(&json!({ "fields": unlabelled })).is_err());
}

#[test]
fn the_serialized_json_keeps_the_field_order() {
    let page = disclose(&facts(), &site(""), "en", true);
    let text = serde_json::to_string(&page).unwrap();
    let positions: Vec<usize> = ARTICLE_30_ORDER
        .iter()
        .map(|(key, _)| text.find(&format!("\"key\":\"{key}\"")).expect(key))
        .collect();
    assert!(positions.is_sorted(), "{positions:?}");
}

#[test]
fn controller_dpo_processor_and_date_come_from_the_configuration() {
    let site = site_with_default("", REGISTER);
    let page = disclose(&facts(), &site, "nl", true);
    let field = |key: &str| {
        page["register"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|field| field["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(
        field("controller")["text"],
        "Gemeente Voorbeeld, Markt 1, 1234 AB Voorbeeld, 14 0123"
    );
    assert_eq!(
        field("controller")["value"]["controller"]["name"],
        "Gemeente Voorbeeld"
    );
    assert_eq!(
        field("data_protection_officer")["value"]["email"],
        "fg@voorbeeld.example"
    );
    assert_eq!(field("processor")["value"]["name"], "Hoster BV");
    assert_eq!(field("updated")["value"], "2026-03-01");
    assert_eq!(field("updated")["text"], "1 maart 2026");
    let english = disclose(&facts(), &site, "en", true);
    assert!(english.to_string().contains("1 March 2026"));
    // The processor receives data: it is named as a recipient, not "none".
    let recipients = field("recipients");
    assert!(
        recipients["text"]
            .as_str()
            .unwrap()
            .contains("Verwerker Hoster BV")
    );
    assert_eq!(recipients["value"][0]["role"], "processor");
    assert_eq!(
        page["settings"]["recipients"][0]["party"]["name"],
        "Hoster BV"
    );
    let all = page.to_string();
    assert!(all.contains("Hoster BV beheert de server van Kruimel voor Gemeente Voorbeeld"));
    assert!(all.contains("fg@voorbeeld.example"));
}

#[test]
fn recipients_say_none_only_when_the_controller_runs_the_server() {
    let own = site_with_default("", "[register]\nprocessor = \"none\"");
    let page = disclose(&facts(), &own, "nl", true);
    assert_eq!(page["settings"]["recipients"], json!([]));
    assert!(page.to_string().contains("Niemand anders."));
    let unstated = disclose(&facts(), &site(""), "nl", true);
    assert_eq!(unstated["settings"]["recipients"], Json::Null);
    let all = unstated.to_string();
    assert!(!all.contains("Niemand anders.") && !all.contains("Geen:"));
    assert!(all.contains("Er is niet opgegeven wie de server van Kruimel beheert."));
}

#[test]
fn a_site_overrides_the_deployment_register_field_by_field() {
    let site = site_with_default("register = { controller = { name = \"Regio\" } }", REGISTER);
    assert_eq!(site.register.controller.as_ref().unwrap().name, "Regio");
    assert_eq!(
        site.register.dpo.as_ref().unwrap().name,
        "Functionaris gegevensbescherming"
    );
}

#[test]
fn retention_reads_in_days_months_or_years_never_minutes() {
    let defaults = "consent = { categories = [\"media\"] }";
    let short = "retention_days = 1\nconsent = { categories = [\"media\"], retention_days = 730, reask_days = 30 }";
    let cases = [
        (
            defaults,
            "nl",
            "Aantallen: 25 maanden.",
            ["1 jaar", "6 maanden"],
        ),
        (defaults, "en", "Counts: 25 months.", ["1 year", "6 months"]),
        (short, "nl", "Aantallen: 1 dag.", ["2 jaar", "30 dagen"]),
        (short, "en", "Counts: 1 day.", ["2 years", "30 days"]),
    ];
    for (extra, language, aggregates, [receipts, cookie]) in cases {
        let page = disclose(&facts(), &site(extra), language, true);
        let retention = page["register"]["fields"][7]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(retention.starts_with(aggregates), "{retention}");
        assert!(retention.contains(&format!(": {receipts} ")), "{retention}");
        assert!(retention.ends_with(&format!(": {cookie}.")), "{retention}");
        assert!(
            retention.contains("30 minut"),
            "the visit timeout: {retention}"
        );
        let all = page.to_string();
        assert!(!all.contains("1470 minuten") && !all.contains("1470 minutes"));
    }
    // The exact values stay in the JSON for machines.
    let page = disclose(
        &facts(),
        &site("consent = { categories = [\"media\"] }"),
        "nl",
        true,
    );
    let value = &page["register"]["fields"][7]["value"];
    assert_eq!(value["aggregates_days"], 760);
    assert_eq!(value["consent_receipts_days_after_last_change"], 365);
    assert_eq!(value["cookies"][0]["lifetime_days"], 182);
}

#[test]
fn every_cookie_is_named_with_its_purpose_and_lifetime() {
    let consent = disclose(
        &facts(),
        &site("consent = { categories = [\"media\"], reask_days = 182 }"),
        "nl",
        true,
    );
    assert_eq!(
        consent["settings"]["cookies"],
        json!([
            { "name": "kruimel_consent", "purpose": "consent_choice", "storage": "cookie", "lifetime_days": 182, "domain": "site" },
            { "name": "kruimel_consent_checked", "purpose": "receipt_checked", "storage": "session_storage", "lifetime_days": null, "domain": "site" }
        ])
    );
    assert_eq!(consent["settings"]["statistics_cookies"], false);
    let cookies = &consent["sections"][2];
    assert!(
        cookies["paragraphs"][0]
            .as_str()
            .unwrap()
            .contains("Voor de statistieken gebruiken we geen cookies.")
    );
    let row = &cookies["table"]["rows"][0];
    assert_eq!(row[0], "kruimel_consent");
    assert!(row[1].as_str().unwrap().starts_with("Onthoudt uw keuze"));
    assert_eq!(row[2], "6 maanden");
    let checked = &cookies["table"]["rows"][1];
    assert_eq!(checked[0], "kruimel_consent_checked");
    assert_eq!(checked[2], "Tot u het tabblad sluit");

    let info = disclose(
        &facts(),
        &site("consent = { notice = \"info\", reask_days = 30 }"),
        "en",
        true,
    );
    assert_eq!(info["settings"]["cookies"][0]["purpose"], "notice_closed");
    assert_eq!(info["settings"]["cookies"].as_array().unwrap().len(), 1);
    assert_eq!(info["sections"][2]["table"]["rows"][0][2], "30 days");

    let none = disclose(&facts(), &site(""), "en", true);
    assert_eq!(none["settings"]["cookies"], json!([]));
    assert!(none["sections"][2].get("table").is_none());
    assert!(
        none.to_string()
            .contains("Kruimel sets no cookies on this site.")
    );
}

#[test]
fn nothing_on_the_page_is_addressed_to_the_webmaster() {
    for language in LANGUAGES {
        let page = disclose(
            &facts(),
            &site("consent = { categories = [\"media\"] }"),
            language,
            true,
        );
        let all = page.to_string().to_lowercase();
        for meant_for_the_webmaster in [
            "bevestigen",
            "privacyfunctionaris",
            "confirm",
            "check-config",
            "register.",
        ] {
            assert!(
                !all.contains(meant_for_the_webmaster),
                "{meant_for_the_webmaster:?} in {language}"
            );
        }
    }
}

#[test]
fn english_is_available_and_unknown_languages_get_dutch() {
    let site = site("");
    assert_eq!(disclose(&facts(), &site, "en", true)["language"], "en");
    assert_eq!(disclose(&facts(), &site, "fr", true)["language"], "nl");
    let page = disclose(&facts(), &site, "en", true);
    // No optional categories: the page says no consent is asked.
    assert!(page.to_string().contains("The statistics use no cookies."));
    assert!(!page.to_string().contains("asks your consent"));
    assert_eq!(unfilled(&page), Vec::<String>::new());
}
