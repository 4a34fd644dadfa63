//! Link targets that built-in events report (promise 5 for links): an
//! outbound link keeps only its host, a file download its host and path,
//! both with personal data replaced (the path decoded and scrubbed segment
//! by segment, as a page path is); neither keeps a query string, fragment
//! or credentials, whatever tracker sent them.

use super::clean::Scrubbed;
use super::pii::{self, PiiPattern};
use super::url::clean_path;

/// Event names trackers use for link clicks (Plausible's spelling).
const OUTBOUND: [&str; 2] = ["Outbound Link: Click", "Cloaked Link: Click"];
const DOWNLOAD: &str = "File Download";

/// Whether property `key` of event `event` is a link target.
pub(crate) fn reports_target(event: &str, key: &str) -> bool {
    key == "url" && (OUTBOUND.contains(&event) || event == DOWNLOAD)
}

/// The value to count for property `key` of event `event`, when it is a
/// link target; `None` leaves the property to the general rules.
pub(crate) fn clean_target(
    event: &str,
    key: &str,
    value: &str,
    patterns: &[PiiPattern],
) -> Option<Scrubbed> {
    if !reports_target(event, key) {
        return None;
    }
    let outbound = OUTBOUND.contains(&event);
    let parsed = value
        .contains("://")
        .then(|| url::Url::parse(value).ok())
        .flatten();
    let Some(url) = parsed else {
        // A bare host (as Kruimel's own script sends), perhaps with a port,
        // or something else: at most its first segment, without a port, scrubbed.
        let first = value.split(['/', '?', '#']).next().unwrap_or("");
        let host = first.split(':').next().unwrap_or("");
        return Some(pii::scrubbed(host, patterns));
    };
    let host = pii::scrub(url.host_str().unwrap_or(""), patterns);
    if outbound {
        return Some(Scrubbed::new(host.into_owned()));
    }
    Some(Scrubbed::new(format!(
        "{host}{}",
        clean_path(url.path(), patterns)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_links_keep_only_their_host() {
        let clean = |value| clean_target("Outbound Link: Click", "url", value, &[]);
        assert_eq!(
            clean("https://user:pw@www.youtube.com/watch?v=abc&email=jan@example.nl#t=1")
                .as_deref(),
            Some("www.youtube.com")
        );
        assert_eq!(clean("www.youtube.com").as_deref(), Some("www.youtube.com"));
        assert_eq!(
            clean("www.example.nl:8080").as_deref(),
            Some("www.example.nl")
        );
        assert_eq!(
            clean("https://www.example.nl:8080/x").as_deref(),
            Some("www.example.nl")
        );
        let mail = clean("mailto:jan@example.nl").unwrap();
        assert!(!mail.contains("jan@example.nl"), "{mail}");
    }

    #[test]
    fn downloads_keep_host_and_path_without_query_or_personal_data() {
        let clean = |value| clean_target("File Download", "url", value, &[]);
        assert_eq!(
            clean("https://www.gemeente.example/docs/besluit.pdf?token=secret#p2").as_deref(),
            Some("www.gemeente.example/docs/besluit.pdf")
        );
        let scrubbed = clean("https://cdn.example/brief-jan@example.nl.pdf").unwrap();
        assert!(!scrubbed.contains("jan@example.nl"), "{scrubbed}");
        assert_eq!(
            clean("https://cdn.example/brieven/jan%40example.nl/aanslag%20123456782.pdf")
                .as_deref(),
            Some("cdn.example/brieven/{email}/aanslag {bsn}.pdf")
        );
    }

    #[test]
    fn hosts_of_link_targets_are_scrubbed_too() {
        let outbound = |value| clean_target("Outbound Link: Click", "url", value, &[]);
        assert_eq!(
            outbound("https://0612345678.example/").as_deref(),
            Some("{phone}.example")
        );
        assert_eq!(
            outbound("0612345678.example/x").as_deref(),
            Some("{phone}.example")
        );
    }

    #[test]
    fn other_events_and_properties_are_left_to_the_general_rules() {
        assert_eq!(
            clean_target("Signup", "url", "https://a.example/?q=1", &[]),
            None
        );
        assert_eq!(clean_target("File Download", "name", "x", &[]), None);
    }
}
