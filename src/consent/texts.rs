//! The notice's texts per language, from the files in `lang/`.
//!
//! A language is one TOML file: `[texts]` with every key Dutch has, and
//! `[categories.<id>]` with a label and description for each known
//! category. Adding a language is adding a file and a line to `FILES`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// Language tag and file, Dutch first: it is the reference every other
/// file must match key for key.
const FILES: [(&str, &str); 2] = [
    ("nl", include_str!("lang/nl.toml")),
    ("en", include_str!("lang/en.toml")),
];

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryText {
    pub label: String,
    /// One short line for the notice's first layer.
    pub summary: String,
    /// What the second layer says beside the category's checkbox.
    pub(crate) description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    texts: BTreeMap<String, String>,
    #[serde(default)]
    categories: BTreeMap<String, CategoryText>,
}

#[derive(Debug)]
pub(crate) struct Language {
    pub tag: &'static str,
    pub texts: BTreeMap<String, String>,
    pub categories: BTreeMap<String, CategoryText>,
}

static LANGUAGES: LazyLock<Vec<Language>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(tag, text)| {
            let file: LanguageFile = toml::from_str(text)
                .unwrap_or_else(|error| panic!("lang/{tag}.toml is not valid: {error}"));
            Language {
                tag,
                texts: file.texts,
                categories: file.categories,
            }
        })
        .collect()
});

pub(crate) fn languages() -> &'static [Language] {
    &LANGUAGES
}

pub(crate) fn language(tag: &str) -> Option<&'static Language> {
    languages().iter().find(|language| language.tag == tag)
}

/// The ids every language file names a text for.
pub(crate) fn known_categories() -> impl Iterator<Item = &'static str> {
    languages()[0].categories.keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_category_dutch_has() {
        let dutch = &languages()[0];
        assert_eq!(dutch.tag, "nl");
        assert!(dutch.texts.contains_key("accept_all"));
        for language in languages() {
            let keys: Vec<&String> = language.texts.keys().collect();
            assert_eq!(
                keys,
                dutch.texts.keys().collect::<Vec<_>>(),
                "{}",
                language.tag
            );
            let ids: Vec<&String> = language.categories.keys().collect();
            assert_eq!(
                ids,
                dutch.categories.keys().collect::<Vec<_>>(),
                "{}",
                language.tag
            );
            assert!(language.texts.values().all(|text| !text.trim().is_empty()));
        }
    }

    #[test]
    fn the_first_layer_has_a_short_line_per_category_and_names_the_services() {
        for language in languages() {
            for (id, text) in &language.categories {
                assert!(
                    !text.summary.trim().is_empty() && text.summary.len() < 120,
                    "{} {id}: {:?}",
                    language.tag,
                    text.summary
                );
            }
            assert!(language.texts["on_this_page"].contains("{services}"));
        }
    }

    #[test]
    fn placeholders_name_the_host_and_the_category() {
        for language in languages() {
            let text = &language.texts["placeholder"];
            assert!(
                text.contains("{host}") && text.contains("{label}"),
                "{}",
                language.tag
            );
        }
    }
}
