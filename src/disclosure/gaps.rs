//! What the configuration leaves the privacy page unable to say, told to
//! the webmaster: `kruimel check-config` prints these. None of it is ever
//! shown on the public page, which states only what is configured (or
//! "not stated").

use std::fmt;
use std::path::Path;

use jiff::civil::Date;

use crate::config::{Config, Party, SiteConfig};

/// Something the webmaster should look at before pointing people at the
/// privacy page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// The page cannot name who is responsible (Article 30(1)(a)).
    NoController {
        site: String,
    },
    /// The controller has a name but nothing to reach it by.
    ControllerWithoutContact {
        site: String,
    },
    /// The page cannot name the data protection officer (Article 30(1)(a)).
    NoDpo {
        site: String,
    },
    DpoWithoutContact {
        site: String,
    },
    /// The page cannot say who runs the server, so not who receives data.
    ProcessorNotStated {
        site: String,
    },
    /// The register entry has no date of its last change.
    NoUpdatedDate {
        site: String,
    },
    /// The configuration file changed after the entry's date.
    FileChangedSince {
        site: String,
        updated: Date,
        modified: Date,
    },
    /// The page says no data leaves the EU; that depends on the processor.
    ProcessorLocation {
        site: String,
        processor: String,
    },
    /// The page states Kruimel's default legal basis.
    ConfirmLegalBasis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The page lacks a field of the register entry.
    Warning,
    /// Worth a look; the page is complete without it.
    Note,
}

impl Gap {
    /// `warning: …` or `note: …`, as `kruimel check-config` prints it.
    pub fn line(&self) -> String {
        let severity = match self.severity() {
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        format!("{severity}: {self}")
    }

    pub(crate) fn severity(&self) -> Severity {
        match self {
            Gap::FileChangedSince { .. }
            | Gap::ProcessorLocation { .. }
            | Gap::ConfirmLegalBasis => Severity::Note,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::NoController { site } => write!(
                f,
                "site {site}: register.controller is not set; the privacy page says \"not stated\" for the controller (GDPR Art. 30(1)(a)). Set [register] controller = {{ name, address, email, phone }}"
            ),
            Gap::ControllerWithoutContact { site } => write!(
                f,
                "site {site}: register.controller has a name but no contact details; add address, email, phone or url"
            ),
            Gap::NoDpo { site } => write!(
                f,
                "site {site}: register.dpo is not set; the privacy page cannot name the data protection officer (FG, GDPR Art. 30(1)(a)). Set [register] dpo = {{ name, email }}"
            ),
            Gap::DpoWithoutContact { site } => write!(
                f,
                "site {site}: register.dpo has a name but no contact details; add email, phone or url"
            ),
            Gap::ProcessorNotStated { site } => write!(
                f,
                "site {site}: register.processor is not set; the privacy page cannot say who receives data. Name the party that runs the server for you (processor = {{ name, email }}), or set processor = \"none\" when you run it yourself"
            ),
            Gap::NoUpdatedDate { site } => write!(
                f,
                "site {site}: register.updated is not set; the register entry shows no date of last change. Set it to the date the entry last changed (updated = 2026-03-01)"
            ),
            Gap::FileChangedSince {
                site,
                updated,
                modified,
            } => write!(
                f,
                "site {site}: the configuration file changed on {modified}, after register.updated ({updated}); if the change touched what the privacy page says, set register.updated to the date of the change"
            ),
            Gap::ProcessorLocation { site, processor } => write!(
                f,
                "site {site}: the privacy page says no data leaves the European Union; make sure {processor} runs the server inside the EU (it is in the processing agreement)"
            ),
            Gap::ConfirmLegalBasis => f.write_str(
                "the privacy page states the legal basis as GDPR Art. 6(1)(e) for statistics and Art. 6(1)(c) for consent records; have your data protection officer (FG) confirm it",
            ),
        }
    }
}

/// The gaps of every site, then the notes for the whole deployment.
/// `file_modified` is the configuration file's modification date, if any.
pub fn gaps(config: &Config, file_modified: Option<Date>) -> Vec<Gap> {
    let mut found: Vec<Gap> = config
        .sites
        .iter()
        .flat_map(|site| site_gaps(site, file_modified))
        .collect();
    if !config.sites.is_empty() {
        found.push(Gap::ConfirmLegalBasis);
    }
    found
}

/// The local date a file was last modified, if it can be read.
pub fn modified_on(path: &Path) -> Option<Date> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let at = jiff::Timestamp::try_from(modified).ok()?;
    Some(at.to_zoned(jiff::tz::TimeZone::system()).date())
}

fn site_gaps(site: &SiteConfig, file_modified: Option<Date>) -> Vec<Gap> {
    let register = &site.register;
    let id = || site.id.clone();
    let mut found = Vec::new();
    let missing_contact = |party: &Option<Party>| party.as_ref().is_some_and(|p| !p.has_contact());
    match &register.controller {
        None => found.push(Gap::NoController { site: id() }),
        Some(_) if missing_contact(&register.controller) => {
            found.push(Gap::ControllerWithoutContact { site: id() })
        }
        Some(_) => {}
    }
    match &register.dpo {
        None => found.push(Gap::NoDpo { site: id() }),
        Some(_) if missing_contact(&register.dpo) => {
            found.push(Gap::DpoWithoutContact { site: id() })
        }
        Some(_) => {}
    }
    match &register.processor {
        None => found.push(Gap::ProcessorNotStated { site: id() }),
        Some(crate::config::Processor::Party(party)) => found.push(Gap::ProcessorLocation {
            site: id(),
            processor: party.name.clone(),
        }),
        Some(crate::config::Processor::SelfHosted(_)) => {}
    }
    match (register.updated, file_modified) {
        (None, _) => found.push(Gap::NoUpdatedDate { site: id() }),
        (Some(updated), Some(modified)) if modified > updated.0 => {
            found.push(Gap::FileChangedSince {
                site: id(),
                updated: updated.0,
                modified,
            })
        }
        _ => {}
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let mut config: Config = toml::from_str(text).unwrap();
        config.inherit_register();
        config
    }

    const COMPLETE: &str = r#"
        [register]
        controller = { name = "Gemeente Voorbeeld", address = "Markt 1, Voorbeeld" }
        dpo = { name = "FG", email = "fg@voorbeeld.example" }
        processor = "none"
        updated = 2026-03-01
        [[sites]]
        id = "a.example"
    "#;

    #[test]
    fn a_complete_register_leaves_only_the_note_on_the_legal_basis() {
        assert_eq!(gaps(&config(COMPLETE), None), vec![Gap::ConfirmLegalBasis]);
        let same_day = Some(jiff::civil::date(2026, 3, 1));
        assert_eq!(
            gaps(&config(COMPLETE), same_day),
            vec![Gap::ConfirmLegalBasis]
        );
    }

    #[test]
    fn each_missing_field_is_a_warning_for_each_site() {
        let found = gaps(
            &config("[[sites]]\nid = \"a.example\"\n[[sites]]\nid = \"b.example\""),
            None,
        );
        let site = |id: &str| id.to_owned();
        for id in ["a.example", "b.example"] {
            for gap in [
                Gap::NoController { site: site(id) },
                Gap::NoDpo { site: site(id) },
                Gap::ProcessorNotStated { site: site(id) },
                Gap::NoUpdatedDate { site: site(id) },
            ] {
                assert!(found.contains(&gap), "{gap:?} in {found:?}");
                assert_eq!(gap.severity(), Severity::Warning);
            }
        }
        assert_eq!(found.len(), 9);
    }

    #[test]
    fn names_without_contact_details_are_warned_about() {
        let text = COMPLETE
            .replace(", address = \"Markt 1, Voorbeeld\"", "")
            .replace(", email = \"fg@voorbeeld.example\"", "");
        let found = gaps(&config(&text), None);
        let site = "a.example".to_owned();
        assert!(found.contains(&Gap::ControllerWithoutContact { site: site.clone() }));
        assert!(found.contains(&Gap::DpoWithoutContact { site }));
    }

    #[test]
    fn a_processor_and_a_newer_file_are_notes() {
        let text = COMPLETE.replace(
            "processor = \"none\"",
            "processor = { name = \"Hoster BV\" }",
        );
        let found = gaps(&config(&text), Some(jiff::civil::date(2026, 4, 2)));
        let site = "a.example".to_owned();
        let expected = [
            Gap::ProcessorLocation {
                site: site.clone(),
                processor: "Hoster BV".to_owned(),
            },
            Gap::FileChangedSince {
                site,
                updated: jiff::civil::date(2026, 3, 1),
                modified: jiff::civil::date(2026, 4, 2),
            },
        ];
        for gap in expected {
            assert!(found.contains(&gap), "{gap:?}");
            assert_eq!(gap.severity(), Severity::Note);
        }
        assert!(
            found[1]
                .to_string()
                .contains("2026-04-02, after register.updated (2026-03-01)")
        );
    }

    #[test]
    fn without_sites_there_is_nothing_to_say() {
        assert!(gaps(&config(""), None).is_empty());
    }
}
