//! A site's consent settings as the server uses them, and the notice it
//! shows in each language.
//!
//! The banner version is a hash of everything a notice shows (texts,
//! categories, policy version, links), so a receipt that names it proves
//! what the visitor saw; every version is archived in the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::texts::{self, CategoryText};
use crate::config::{CategoryConfig, ConsentConfig, NoticeMode};

const MAX_CATEGORIES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Consent,
    Info,
    None,
}

/// What one notice shows, in one language: sent to the script as is.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub site: String,
    pub language: &'static str,
    pub languages: Vec<&'static str>,
    pub mode: Mode,
    pub policy_version: String,
    pub banner_version: String,
    pub(crate) reask_days: u32,
    pub privacy_url: Option<String>,
    pub categories: Vec<NoticeCategory>,
    pub texts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeCategory {
    pub id: String,
    pub label: String,
    /// The first layer's short line.
    pub summary: String,
    pub(crate) description: String,
}

impl Notice {
    /// The notice as JSON, the form that is archived and served.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notice serialises")
    }

    pub(crate) fn terms(&self) -> Terms {
        Terms {
            policy_version: self.policy_version.clone(),
            banner_version: self.banner_version.clone(),
            language: self.language.to_owned(),
            categories: self
                .categories
                .iter()
                .map(|category| TermsCategory {
                    id: category.id.clone(),
                })
                .collect(),
        }
    }
}

/// What a choice is checked against: the parts of a notice, current or
/// archived, that a choice answers.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Terms {
    pub policy_version: String,
    pub banner_version: String,
    pub language: String,
    pub categories: Vec<TermsCategory>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct TermsCategory {
    pub id: String,
}

impl Terms {
    /// The terms of an archived notice's JSON.
    pub(crate) fn from_json(json: &str) -> Option<Terms> {
        serde_json::from_str(json).ok()
    }

    pub fn category_ids(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|category| category.id.as_str())
    }
}

/// A site's consent settings, checked, with its notice in every language.
#[derive(Debug, Clone)]
pub struct SiteConsent {
    pub mode: Mode,
    pub(crate) reask_days: u32,
    pub retention_days: u32,
    pub max_choices_per_day: u32,
    default_language: &'static str,
    notices: Vec<Arc<Notice>>,
}

impl SiteConsent {
    pub fn build(site: &str, config: &ConsentConfig) -> Result<SiteConsent, String> {
        let default_language = texts::language(&config.default_language)
            .ok_or_else(|| format!("unknown default_language {:?}", config.default_language))?
            .tag;
        check_policy_version(&config.policy_version)?;
        if let Some(url) = &config.privacy_url {
            let parsed =
                url::Url::parse(url).map_err(|_| format!("privacy_url {url:?} is not a URL"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("privacy_url {url:?} must be http(s)"));
            }
        }
        check_categories(&config.categories)?;
        if config.reask_days == 0 || config.retention_days == 0 || config.max_choices_per_day == 0 {
            return Err(
                "reask_days, retention_days and max_choices_per_day must be at least 1".to_owned(),
            );
        }
        let mode = match (config.notice, config.categories.is_empty()) {
            (NoticeMode::None, _) => Mode::None,
            (_, false) => Mode::Consent,
            (NoticeMode::Info, true) => Mode::Info,
            (NoticeMode::Auto, true) => Mode::None,
        };
        if config.notice == NoticeMode::None && !config.categories.is_empty() {
            return Err("notice = \"none\" cannot ask for optional categories".to_owned());
        }
        let notices = texts::languages()
            .iter()
            .map(|language| {
                let categories = config
                    .categories
                    .iter()
                    .map(|category| category_text(category, language.tag, default_language))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Arc::new(sealed(Notice {
                    site: site.to_owned(),
                    language: language.tag,
                    languages: texts::languages().iter().map(|l| l.tag).collect(),
                    mode,
                    policy_version: config.policy_version.clone(),
                    banner_version: String::new(),
                    reask_days: config.reask_days,
                    privacy_url: config.privacy_url.clone(),
                    categories,
                    texts: language.texts.clone(),
                })))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(SiteConsent {
            mode,
            reask_days: config.reask_days,
            retention_days: config.retention_days,
            max_choices_per_day: config.max_choices_per_day,
            default_language,
            notices,
        })
    }

    /// The notice in `language`, or in the site's default language.
    pub fn notice(&self, language: Option<&str>) -> &Arc<Notice> {
        let wanted = language.unwrap_or(self.default_language);
        self.notices
            .iter()
            .find(|notice| notice.language == wanted)
            .or_else(|| {
                self.notices
                    .iter()
                    .find(|notice| notice.language == self.default_language)
            })
            .expect("every language has a notice")
    }

    pub fn notices(&self) -> &[Arc<Notice>] {
        &self.notices
    }

    /// The current notice with this banner version, if any.
    pub fn current(&self, banner_version: &str) -> Option<&Arc<Notice>> {
        self.notices
            .iter()
            .find(|notice| notice.banner_version == banner_version)
    }
}

/// Sets the banner version: the hash of the notice's JSON without it.
fn sealed(mut notice: Notice) -> Notice {
    notice.banner_version = String::new();
    let hash = blake3::hash(notice.to_json().as_bytes());
    notice.banner_version = hash.to_hex()[..16].to_owned();
    notice
}

fn check_policy_version(version: &str) -> Result<(), String> {
    let fine = !version.is_empty()
        && version.len() <= 64
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(format!(
            "policy_version {version:?} must be 1 to 64 letters, digits, '.', '_' or '-'"
        ))
    }
}

/// Category ids are short lowercase words, unique, never `necessary`.
pub(crate) fn is_category_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check_categories(categories: &[CategoryConfig]) -> Result<(), String> {
    if categories.len() > MAX_CATEGORIES {
        return Err(format!("at most {MAX_CATEGORIES} categories"));
    }
    for (at, category) in categories.iter().enumerate() {
        let id = category.id();
        if !is_category_id(id) || id == "necessary" {
            return Err(format!(
                "category {id:?}: ids are 1 to 32 of a-z, 0-9, '_' or '-', and not \"necessary\""
            ));
        }
        if categories[..at].iter().any(|earlier| earlier.id() == id) {
            return Err(format!("category {id:?} is listed twice"));
        }
        if let CategoryConfig::Known(id) = category
            && !texts::known_categories().any(|known| known == id)
        {
            let known: Vec<&str> = texts::known_categories().collect();
            return Err(format!(
                "category {id:?} is not one of {known:?}; give it an id, label and description"
            ));
        }
    }
    Ok(())
}

fn category_text(
    category: &CategoryConfig,
    language: &str,
    default_language: &str,
) -> Result<NoticeCategory, String> {
    let text = match category {
        CategoryConfig::Known(id) => texts::language(language)
            .and_then(|texts| texts.categories.get(id))
            .cloned()
            .ok_or_else(|| format!("category {id:?} has no {language} text"))?,
        CategoryConfig::Own(own) => {
            let pick = |texts: &BTreeMap<String, String>, what: &str| {
                texts
                    .get(language)
                    .or_else(|| texts.get(default_language))
                    .cloned()
                    .filter(|text| !text.trim().is_empty())
                    .ok_or_else(|| {
                        format!(
                            "category {:?} needs a {what} in {default_language:?}",
                            own.id
                        )
                    })
            };
            // A site's own category has one text: its description is also
            // the first layer's line.
            let description = pick(&own.description, "description")?;
            CategoryText {
                label: pick(&own.label, "label")?,
                summary: description.clone(),
                description,
            }
        }
    };
    Ok(NoticeCategory {
        id: category.id().to_owned(),
        label: text.label,
        summary: text.summary,
        description: text.description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(text: &str) -> Result<SiteConsent, String> {
        let config: ConsentConfig = toml::from_str(text).unwrap();
        SiteConsent::build("a.example", &config)
    }

    #[test]
    fn a_banner_version_changes_with_what_the_notice_shows() {
        let one = consent(r#"categories = ["media"]"#).unwrap();
        let same = consent(r#"categories = ["media"]"#).unwrap();
        let policy = consent("categories = [\"media\"]\npolicy_version = \"2\"").unwrap();
        let more = consent(r#"categories = ["media", "marketing"]"#).unwrap();
        let version = |c: &SiteConsent| c.notice(Some("nl")).banner_version.clone();
        assert_eq!(version(&one), version(&same));
        assert_ne!(version(&one), version(&policy));
        assert_ne!(version(&one), version(&more));
        assert_ne!(version(&one), one.notice(Some("en")).banner_version);
        assert_eq!(version(&one).len(), 16);
    }

    #[test]
    fn the_mode_follows_the_categories_and_the_setting() {
        assert_eq!(consent("").unwrap().mode, Mode::None);
        assert_eq!(consent(r#"notice = "info""#).unwrap().mode, Mode::Info);
        assert_eq!(
            consent(r#"categories = ["media"]"#).unwrap().mode,
            Mode::Consent
        );
        assert!(consent("notice = \"none\"\ncategories = [\"media\"]").is_err());
    }

    #[test]
    fn own_categories_need_texts_and_fall_back_to_the_default_language() {
        let own = r#"categories = [{ id = "chat", label = { nl = "Chat" }, description = { nl = "Chatten met de gemeente." } }]"#;
        let built = consent(own).unwrap();
        assert_eq!(built.notice(Some("en")).categories[0].label, "Chat");
        assert!(consent(r#"categories = [{ id = "chat" }]"#).is_err());
        assert!(consent(r#"categories = ["chat"]"#).is_err());
        assert!(consent(r#"categories = ["necessary"]"#).is_err());
        assert!(consent(r#"categories = ["media", "media"]"#).is_err());
        assert!(consent(r#"policy_version = "a b""#).is_err());
        assert!(consent(r#"privacy_url = "javascript:alert(1)""#).is_err());
        assert!(consent(r#"default_language = "xx""#).is_err());
    }

    #[test]
    fn an_unknown_language_gets_the_default() {
        let built = consent("categories = [\"media\"]\ndefault_language = \"en\"").unwrap();
        assert_eq!(built.notice(Some("de")).language, "en");
        assert_eq!(built.notice(None).language, "en");
        assert_eq!(
            built.notice(Some("nl")).texts["accept_all"],
            "Alles accepteren"
        );
    }
}
