//! A site's consent notice settings (`[sites.consent]`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// Whether the script shows a notice, and which kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeMode {
    /// A consent notice when the site has optional categories, else none.
    #[default]
    Auto,
    /// An information-only notice, even without optional categories.
    Info,
    /// No notice: the site has only technical cookies and needs no consent.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsentConfig {
    pub notice: NoticeMode,
    /// Raised by the site when its cookie policy changes: visitors are
    /// asked again.
    pub policy_version: String,
    /// Optional categories, each asked for separately.
    pub categories: Vec<CategoryConfig>,
    /// Visitors are asked again after this many days.
    pub(crate) reask_days: u32,
    /// A receipt is deleted this many days after its last change.
    pub retention_days: u32,
    /// Choices stored at most per local day (per instance): the bound on
    /// the disk an unauthenticated flood of receipts can take.
    pub max_choices_per_day: u32,
    /// The notice's language when the page asks for none the server has.
    pub(crate) default_language: String,
    pub privacy_url: Option<String>,
}

impl Default for ConsentConfig {
    fn default() -> Self {
        ConsentConfig {
            notice: NoticeMode::Auto,
            policy_version: "1".to_owned(),
            categories: Vec::new(),
            reask_days: 182,
            retention_days: 365,
            max_choices_per_day: 20_000,
            default_language: "nl".to_owned(),
            privacy_url: None,
        }
    }
}

/// A category: a known id (`media`, `preferences`, `marketing`,
/// `statistics`) with the texts of the language files, or an id of the
/// site's own with its texts per language.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CategoryConfig {
    Known(String),
    Own(OwnCategory),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnCategory {
    pub id: String,
    /// Language tag → label; languages without one use the default language's.
    #[serde(default)]
    pub label: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) description: BTreeMap<String, String>,
}

impl CategoryConfig {
    pub fn id(&self) -> &str {
        match self {
            CategoryConfig::Known(id) => id,
            CategoryConfig::Own(own) => &own.id,
        }
    }
}
