//! Who answers for the processing (`[register]` and `[sites.register]`):
//! the controller, the data protection officer (FG), the processor that
//! runs the server, and the date the register entry last changed.
//!
//! `[register]` is the deployment's default; a site's own
//! `[sites.register]` replaces it field by field (`inherit`). Nothing here
//! checks completeness: `disclosure::gaps` tells the webmaster what the
//! privacy page lacks.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// The body responsible for the processing (the municipality).
    pub controller: Option<Party>,
    /// A body that decides on the processing together with the controller.
    pub(crate) joint_controller: Option<Party>,
    /// The controller's representative in the EU (Article 27), if any.
    pub(crate) representative: Option<Party>,
    /// The data protection officer (functionaris gegevensbescherming).
    pub dpo: Option<Party>,
    /// Who runs the server for the controller: a party, or `"none"` when
    /// the controller runs it itself.
    pub processor: Option<Processor>,
    /// When the register entry last changed (`"2026-03-01"`).
    pub updated: Option<RegisterDate>,
}

impl RegisterConfig {
    /// This entry with every field it leaves out taken from `default`.
    pub(crate) fn inherit(&self, default: &RegisterConfig) -> RegisterConfig {
        fn or<T: Clone>(own: &Option<T>, default: &Option<T>) -> Option<T> {
            own.as_ref().or(default.as_ref()).cloned()
        }
        RegisterConfig {
            controller: or(&self.controller, &default.controller),
            joint_controller: or(&self.joint_controller, &default.joint_controller),
            representative: or(&self.representative, &default.representative),
            dpo: or(&self.dpo, &default.dpo),
            processor: or(&self.processor, &default.processor),
            updated: or(&self.updated, &default.updated),
        }
    }
}

/// A named body and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    /// Postal or visiting address.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// A web page (for a contact form, say).
    #[serde(default)]
    pub url: Option<String>,
}

impl Party {
    /// Whether anything besides the name says how to reach the party.
    pub(crate) fn has_contact(&self) -> bool {
        [&self.address, &self.email, &self.phone, &self.url]
            .iter()
            .any(|field| field.as_deref().is_some_and(|text| !text.trim().is_empty()))
    }

    /// Name and contact details in one line, in the order written.
    pub(crate) fn one_line(&self) -> String {
        [
            Some(&self.name),
            self.address.as_ref(),
            self.email.as_ref(),
            self.phone.as_ref(),
            self.url.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|text| text.trim())
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Who runs the server Kruimel runs on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Processor {
    /// `processor = "none"`: the controller runs the server itself.
    SelfHosted(NoProcessor),
    /// A party runs the server for the controller.
    Party(Party),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum NoProcessor {
    #[serde(rename = "none")]
    None,
}

/// A calendar date, written as a TOML date (`2026-03-01`) or a string
/// (`"2026-03-01"`, which is what an environment variable gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "DateInput")]
pub struct RegisterDate(pub jiff::civil::Date);

#[derive(Deserialize)]
#[serde(untagged)]
enum DateInput {
    Toml(toml::value::Datetime),
    Text(String),
}

impl TryFrom<DateInput> for RegisterDate {
    type Error = String;

    fn try_from(input: DateInput) -> Result<Self, Self::Error> {
        let text = match input {
            DateInput::Toml(datetime) => datetime.to_string(),
            DateInput::Text(text) => text,
        };
        text.parse::<jiff::civil::Date>()
            .map(RegisterDate)
            .map_err(|_| format!("{text:?} is not a date like 2026-03-01"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RegisterConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn a_date_is_a_toml_date_or_a_string() {
        let date = jiff::civil::date(2026, 3, 1);
        assert_eq!(
            parse("updated = 2026-03-01").unwrap().updated.unwrap().0,
            date
        );
        assert_eq!(
            parse("updated = \"2026-03-01\"")
                .unwrap()
                .updated
                .unwrap()
                .0,
            date
        );
        assert!(parse("updated = \"maart\"").is_err());
        assert!(parse("updated = 2026-03-01T10:00:00Z").is_err());
    }

    #[test]
    fn the_processor_is_a_party_or_none() {
        let own = parse("processor = \"none\"").unwrap();
        assert_eq!(
            own.processor,
            Some(Processor::SelfHosted(NoProcessor::None))
        );
        let hosted = parse("processor = { name = \"Hoster BV\", email = \"a@hoster.example\" }");
        assert!(
            matches!(hosted.unwrap().processor, Some(Processor::Party(party)) if party.name == "Hoster BV")
        );
        assert!(parse("processor = \"nobody\"").is_err());
        assert!(parse("processor = { name = \"X\", mail = \"typo\" }").is_err());
    }

    #[test]
    fn a_site_inherits_each_field_it_leaves_out() {
        let default = parse(
            "updated = 2026-01-01\ncontroller = { name = \"Gemeente\" }\ndpo = { name = \"FG\", email = \"fg@g.example\" }",
        )
        .unwrap();
        let site = parse("controller = { name = \"Samenwerking\" }").unwrap();
        let merged = site.inherit(&default);
        assert_eq!(merged.controller.unwrap().name, "Samenwerking");
        assert_eq!(merged.dpo, default.dpo);
        assert_eq!(merged.updated, default.updated);
        assert_eq!(merged.processor, None);
    }

    #[test]
    fn contact_details_are_more_than_a_name() {
        let party = |text: &str| toml::from_str::<Party>(text).unwrap();
        assert!(!party("name = \"Gemeente\"").has_contact());
        assert!(!party("name = \"Gemeente\"\nemail = \" \"").has_contact());
        let full = party("name = \"Gemeente\"\naddress = \"Markt 1\"\nphone = \"14 0123\"");
        assert!(full.has_contact());
        assert_eq!(full.one_line(), "Gemeente, Markt 1, 14 0123");
    }
}
