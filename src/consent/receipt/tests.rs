use super::*;
use crate::config::ConsentConfig;
use crate::consent::notice::SiteConsent;

fn notice() -> Terms {
    let config: ConsentConfig = toml::from_str(r#"categories = ["media", "marketing"]"#).unwrap();
    SiteConsent::build("a.example", &config)
        .unwrap()
        .notice(Some("nl"))
        .terms()
}

fn request(granted: &[&str], denied: &[&str], method: &str) -> ChoiceRequest {
    let notice = notice();
    ChoiceRequest {
        site: "a.example".to_owned(),
        receipt: None,
        policy_version: notice.policy_version.clone(),
        banner_version: notice.banner_version.clone(),
        language: "nl".to_owned(),
        granted: granted.iter().map(|s| s.to_string()).collect(),
        denied: denied.iter().map(|s| s.to_string()).collect(),
        method: method.to_owned(),
    }
}

#[test]
fn receipt_ids_are_32_lowercase_hex_digits_both_ways() {
    let id = ReceiptId::random();
    assert_eq!(id.hex().len(), 32);
    assert_eq!(ReceiptId::parse(&id.hex()), Some(id));
    assert_ne!(ReceiptId::random(), id);
    for bad in [
        "",
        "xyz",
        &id.hex().to_uppercase(),
        &format!("{}0", id.hex()),
        "../../etc/passwd",
    ] {
        assert_eq!(ReceiptId::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn a_choice_answers_every_category_of_its_notice_once() {
    let notice = notice();
    let choice = request(&["media"], &["marketing"], "custom")
        .check(&notice, 1_700_000_000)
        .unwrap();
    assert_eq!(choice.at, 1_700_000_000);
    assert_eq!(choice.banner_version, notice.banner_version);
    let refused = |granted: &[&str], denied: &[&str], method: &str| {
        request(granted, denied, method)
            .check(&notice, 0)
            .unwrap_err()
            .code()
    };
    assert_eq!(refused(&["media"], &[], "custom"), "invalid_categories");
    assert_eq!(
        refused(&["media", "media"], &["marketing"], "custom"),
        "invalid_categories"
    );
    assert_eq!(
        refused(&["media"], &["media", "marketing"], "custom"),
        "invalid_categories"
    );
    assert_eq!(
        refused(&["media", "video"], &["marketing"], "custom"),
        "unknown_category"
    );
    assert_eq!(
        refused(&["necessary"], &["media", "marketing"], "custom"),
        "unknown_category"
    );
    assert_eq!(
        refused(&["media"], &["marketing"], "accept_all"),
        "invalid_method"
    );
    assert_eq!(
        refused(&["media"], &["marketing"], "withdraw"),
        "invalid_method"
    );
    assert_eq!(
        refused(&[], &["media", "marketing"], "maybe"),
        "invalid_method"
    );
}

#[test]
fn a_choice_must_match_the_policy_and_language_of_its_notice() {
    let notice = notice();
    let mut stale = request(&[], &["media", "marketing"], "reject_all");
    stale.policy_version = "0".to_owned();
    assert_eq!(
        stale.check(&notice, 0).unwrap_err().code(),
        "policy_version_mismatch"
    );
    let mut english = request(&[], &["media", "marketing"], "reject_all");
    english.language = "en".to_owned();
    assert_eq!(
        english.check(&notice, 0).unwrap_err().code(),
        "language_mismatch"
    );
}

#[test]
fn a_choice_counts_its_method_and_each_category_once() {
    let choice = request(&["media"], &["marketing"], "custom")
        .check(&notice(), 0)
        .unwrap();
    assert_eq!(tally_items(&choice), ["m:custom", "g:media", "d:marketing"]);
}
