//! The page URL a browser reports, reduced to what may be counted: the host, a readable path
//! with personal data replaced (see [`super::pii`]), the allow-listed query parameters, and the
//! campaign named by `utm_source`, `utm_medium` and `utm_campaign`.
//!
//! The stored `path` is percent-decoded so dashboards show "/zoek/{email}", except for `%`, `/`,
//! `?`, `#` and control characters inside a segment, which stay encoded so the path can still be
//! split into segments and decoded back without ambiguity. A segment that is not UTF-8 once
//! decoded is kept as sent (still encoded), unless it holds personal data, which is looked for in
//! its decoded reading; then that reading, scrubbed, is kept. Kept query parameters follow the same rule with
//! `%`, `&`, `=`, `#` and `+` encoded; a parameter without a value is written as its bare key.
//! Keys are matched against the allow-list after decoding, exactly and case-sensitively; `utm_*`
//! keys never reach the path, even when allow-listed, and the first non-empty `utm_source`,
//! `utm_medium` and `utm_campaign` (path query first, then a hash route's query) fill the campaign.
//! Personal-data rules see one decoded path segment or one query value at a time, so `^` and
//! `$` in a configured pattern anchor to a segment.
//!
//! Deliberately not done here: the user info (`user:pass@`) and port are dropped, not kept;
//! hosts are not mapped to sites and `www.` is not stripped (the edge decides which hosts
//! belong to a site); referrers are not handled (they are reduced to a host elsewhere).

use std::borrow::Cow;

use ::url::Url;
use ::url::form_urlencoded;
use percent_encoding::percent_decode_str;

use super::pii::{self, PiiPattern};

/// Longer than any page URL a browser will send for a real page; bounds the parsing work.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Paths are stored as dimension values, so one odd URL must not cost a kilobyte per counter.
pub const MAX_PATH_BYTES: usize = 1024;
pub const MAX_CAMPAIGN_BYTES: usize = 200;

const PATH_RESERVED: &[char] = &['%', '/', '?', '#'];
const QUERY_RESERVED: &[char] = &['%', '&', '=', '#', '+'];
const NOTHING_RESERVED: &[char] = &[];

/// What a site lets through beyond the path: allow-listed query keys and its own PII patterns.
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    query_allow: Vec<String>,
    patterns: Vec<PiiPattern>,
}

impl UrlPolicy {
    pub fn new(query_allow: &[String], patterns: Vec<PiiPattern>) -> Self {
        Self {
            query_allow: query_allow.to_vec(),
            patterns,
        }
    }

    fn allows(&self, key: &str) -> bool {
        self.query_allow.iter().any(|allowed| allowed == key)
    }
}

/// How the site routes pages: by path, or (single-page apps) by a `#/route` fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    Path,
    Hash,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaign {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanUrl {
    pub host: String,
    pub path: String,
    pub campaign: Campaign,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("page URL is longer than {MAX_URL_BYTES} bytes")]
    TooLong,
    #[error("page URL is not absolute")]
    NotAbsolute,
    #[error("page URL is not http or https")]
    NotHttp,
    #[error("page URL has no host")]
    NoHost,
    #[error("page URL is malformed")]
    Malformed(#[source] ::url::ParseError),
}

pub fn clean(raw: &str, policy: &UrlPolicy, routing: Routing) -> Result<CleanUrl, UrlError> {
    if raw.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong);
    }
    let parsed = Url::parse(raw).map_err(|error| match error {
        ::url::ParseError::RelativeUrlWithoutBase => UrlError::NotAbsolute,
        ::url::ParseError::EmptyHost => UrlError::NoHost,
        other => UrlError::Malformed(other),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlError::NotHttp);
    }
    let host = match parsed.host_str() {
        Some(host) if !host.is_empty() => host.to_ascii_lowercase(),
        _ => return Err(UrlError::NoHost),
    };
    let mut campaign = Campaign::default();
    let mut path = clean_path(parsed.path(), &policy.patterns);
    if let Some(query) = parsed.query() {
        path.push_str(&clean_query(query, policy, &mut campaign));
    }
    let route = match routing {
        Routing::Hash => parsed.fragment().and_then(hash_route),
        Routing::Path => None,
    };
    if let Some(route) = route {
        let (route_path, route_query) = match route.split_once('?') {
            Some((route_path, route_query)) => (route_path, Some(route_query)),
            None => (route, None),
        };
        path.push('#');
        path.push_str(&clean_path(route_path, &policy.patterns));
        if let Some(route_query) = route_query {
            path.push_str(&clean_query(route_query, policy, &mut campaign));
        }
    }
    truncate_path(&mut path);
    Ok(CleanUrl {
        host,
        path,
        campaign,
    })
}

/// Only fragments that look like a route count as a page; `#section` is an anchor on the same
/// page. The hashbang form `#!/route` is stored as `#/route` so both spellings count together.
fn hash_route(fragment: &str) -> Option<&str> {
    let route = fragment.strip_prefix('!').unwrap_or(fragment);
    route.starts_with('/').then_some(route)
}

fn clean_path(encoded: &str, patterns: &[PiiPattern]) -> String {
    let mut path = String::with_capacity(encoded.len() + 1);
    for (index, segment) in encoded.split('/').enumerate() {
        if index > 0 {
            path.push('/');
        }
        match percent_decode_str(segment).decode_utf8() {
            Ok(decoded) => {
                let scrubbed = pii::scrub(&decoded, patterns);
                path.push_str(&escape(&scrubbed, PATH_RESERVED));
            }
            // Kept as sent, unless what it says (invalid bytes read as U+FFFD) holds personal
            // data: then that reading, scrubbed, is kept instead. Scrubbing the encoded form
            // would miss `jan%40example.nl%FF`.
            Err(_) => {
                let readable = percent_decode_str(segment).decode_utf8_lossy();
                match pii::scrub(&readable, patterns) {
                    // A fragment may hold a bare `#`, which would read as another route.
                    Cow::Borrowed(_) => path.push_str(&escape(segment, &['#'])),
                    Cow::Owned(scrubbed) => path.push_str(&escape(&scrubbed, PATH_RESERVED)),
                }
            }
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// Returns "?k=v&k2=v2" with the allow-listed parameters in the order sent (empty when none).
fn clean_query(query: &str, policy: &UrlPolicy, campaign: &mut Campaign) -> String {
    let mut kept = String::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "utm_source" => Some(&mut campaign.source),
            "utm_medium" => Some(&mut campaign.medium),
            "utm_campaign" => Some(&mut campaign.campaign),
            _ => None,
        };
        if let Some(slot) = slot {
            // The first non-empty value wins, also over one repeated in a hash route.
            if slot.is_none() {
                *slot = campaign_value(&value, &policy.patterns);
            }
            continue;
        }
        if key.starts_with("utm_") || !policy.allows(&key) {
            continue;
        }
        kept.push(if kept.is_empty() { '?' } else { '&' });
        kept.push_str(&escape(&key, QUERY_RESERVED));
        let scrubbed = pii::scrub(&value, &policy.patterns);
        if !scrubbed.is_empty() {
            kept.push('=');
            kept.push_str(&escape(&scrubbed, QUERY_RESERVED));
        }
    }
    kept
}

fn campaign_value(value: &str, patterns: &[PiiPattern]) -> Option<String> {
    let scrubbed = pii::scrub(value, patterns);
    let mut readable = escape(scrubbed.trim(), NOTHING_RESERVED).into_owned();
    let end = floor_char_boundary(&readable, MAX_CAMPAIGN_BYTES);
    readable.truncate(end);
    let trimmed = readable.trim_end().len();
    readable.truncate(trimmed);
    (!readable.is_empty()).then_some(readable)
}

/// Percent-encodes control characters and the given reserved characters, nothing else.
fn escape<'t>(text: &'t str, reserved: &[char]) -> Cow<'t, str> {
    let needs_escape = |c: char| c.is_control() || reserved.contains(&c);
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            escaped.push(c);
            continue;
        }
        let mut buffer = [0u8; 4];
        for byte in c.encode_utf8(&mut buffer).bytes() {
            escaped.push('%');
            escaped.push(char::from(HEX[usize::from(byte >> 4)]));
            escaped.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    Cow::Owned(escaped)
}

/// Cuts to [`MAX_PATH_BYTES`] without splitting a character or a `%XX` escape, so what is
/// stored still decodes to a prefix of the cleaned path.
fn truncate_path(path: &mut String) {
    if path.len() <= MAX_PATH_BYTES {
        return;
    }
    let mut end = floor_char_boundary(path, MAX_PATH_BYTES);
    let tail_start = end.saturating_sub(2);
    // Bytes, not a str slice: two bytes back may fall inside a multi-byte character.
    if let Some(percent) = path.as_bytes()[tail_start..end]
        .iter()
        .position(|b| *b == b'%')
    {
        end = tail_start + percent;
    }
    path.truncate(end);
}

/// `str::floor_char_boundary` is newer than the crate's minimum Rust version.
fn floor_char_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> UrlPolicy {
        let zaak = PiiPattern::new("zaaknummer", r"Z-\d{6}").expect("valid pattern");
        UrlPolicy::new(&["q".to_owned(), "page".to_owned()], vec![zaak])
    }

    /// `expected` is host and path run together ("gemeente.nl/wonen"), or the error.
    fn check(routing: Routing, raw: &str, expected: Result<&str, UrlError>) {
        let cleaned = clean(raw, &policy(), routing).map(|url| format!("{}{}", url.host, url.path));
        assert_eq!(cleaned.as_deref(), expected.as_deref(), "{raw:?}");
    }

    fn check_paths(cases: &[(&str, &str)]) {
        for (raw, expected) in cases {
            check(Routing::Path, raw, Ok(expected));
        }
    }

    fn campaign(source: Option<&str>, medium: Option<&str>, name: Option<&str>) -> Campaign {
        Campaign {
            source: source.map(str::to_owned),
            medium: medium.map(str::to_owned),
            campaign: name.map(str::to_owned),
        }
    }

    #[test]
    fn plain_paths_are_kept_with_their_trailing_slash() {
        check_paths(&[
            (
                "https://www.Gemeente.NL/wonen/parkeren",
                "www.gemeente.nl/wonen/parkeren",
            ),
            ("https://gemeente.nl:8443/wonen/", "gemeente.nl/wonen/"),
            ("https://gemeente.nl", "gemeente.nl/"),
            ("http://user:geheim@gemeente.nl/a", "gemeente.nl/a"),
            (
                "https://gemeente.nl/nieuws/2024/",
                "gemeente.nl/nieuws/2024/",
            ),
            ("https://gemeente.nl/a//b", "gemeente.nl/a//b"),
        ]);
    }

    #[test]
    fn personal_data_in_path_segments_is_replaced() {
        check_paths(&[
            (
                "https://g.nl/profiel/jan.jansen@example.nl/instellingen",
                "g.nl/profiel/{email}/instellingen",
            ),
            ("https://g.nl/zoek/jan%40example.nl", "g.nl/zoek/{email}"),
            ("https://g.nl/bsn/%31%31%31222333", "g.nl/bsn/{bsn}"),
            ("https://g.nl/bsn/123456789", "g.nl/bsn/123456789"),
            (
                "https://g.nl/rekening/NL91ABNA0417164300",
                "g.nl/rekening/{iban}",
            ),
            (
                "https://g.nl/adres/1234%20AB/kaart",
                "g.nl/adres/{postcode}/kaart",
            ),
            ("https://g.nl/bel/06-12345678", "g.nl/bel/{phone}"),
            (
                "https://g.nl/zaken/Z-123456/status",
                "g.nl/zaken/{zaaknummer}/status",
            ),
            ("https://g.nl/agenda/2024-01-15", "g.nl/agenda/2024-01-15"),
        ]);
    }

    #[test]
    fn decoded_paths_stay_readable_and_unambiguous() {
        check_paths(&[
            ("https://g.nl/stra%C3%9Fe/caf%C3%A9", "g.nl/straße/café"),
            ("https://g.nl/afval kalender", "g.nl/afval kalender"),
            (
                "https://g.nl/a%2Fb/100%25/faq%3F",
                "g.nl/a%2Fb/100%25/faq%3F",
            ),
            ("https://g.nl/a%0Ab%00", "g.nl/a%0Ab%00"),
            ("https://g.nl/%zz/%", "g.nl/%25zz/%25"),
            ("https://g.nl/%FF%FE/jan@example.nl", "g.nl/%FF%FE/{email}"),
        ]);
    }

    #[test]
    fn personal_data_in_segments_that_are_not_utf8_is_replaced() {
        check_paths(&[
            ("https://g.nl/jan%40example.nl%FF", "g.nl/{email}\u{FFFD}"),
            (
                "https://g.nl/%F7%00111222333%00",
                "g.nl/\u{FFFD}%00{bsn}%00",
            ),
            (
                "https://g.nl/zaak%FFZ-123456",
                "g.nl/zaak\u{FFFD}{zaaknummer}",
            ),
            ("https://g.nl/%FFnieuws", "g.nl/%FFnieuws"),
        ]);
    }

    #[test]
    fn only_allow_listed_query_parameters_are_kept() {
        check_paths(&[
            (
                "https://g.nl/zoek?q=afval&sessie=abc&page=2",
                "g.nl/zoek?q=afval&page=2",
            ),
            (
                "https://g.nl/zoek?page=2&q=jan%40example.nl",
                "g.nl/zoek?page=2&q={email}",
            ),
            ("https://g.nl/zoek?Q=afval&token=x", "g.nl/zoek"),
            ("https://g.nl/zoek?q=a%26b%3Dc+d", "g.nl/zoek?q=a%26b%3Dc d"),
            ("https://g.nl/zoek?q&page=", "g.nl/zoek?q&page"),
            ("https://g.nl/zoek?", "g.nl/zoek"),
        ]);
    }

    #[test]
    fn utm_parameters_never_reach_the_path() {
        check_paths(&[
            (
                "https://g.nl/wonen?utm_source=nieuwsbrief&utm_term=afval&utm_content=knop",
                "g.nl/wonen",
            ),
            ("https://g.nl/wonen?utm_medium=email&q=x", "g.nl/wonen?q=x"),
        ]);
    }

    #[test]
    fn campaigns_come_from_the_utm_parameters() {
        let cases = [
            (
                "https://g.nl/?utm_source=Nieuwsbrief&utm_medium=email&utm_campaign=afval%202024",
                campaign(Some("Nieuwsbrief"), Some("email"), Some("afval 2024")),
            ),
            (
                "https://g.nl/?utm_source=+&utm_medium=",
                campaign(None, None, None),
            ),
            (
                "https://g.nl/?utm_source=&utm_source=b",
                campaign(Some("b"), None, None),
            ),
            (
                "https://g.nl/?utm_campaign=jan%40example.nl&utm_source=%20x%20",
                campaign(Some("x"), None, Some("{email}")),
            ),
        ];
        for (raw, expected) in cases {
            let cleaned = clean(raw, &policy(), Routing::Path).expect("valid URL");
            assert_eq!(cleaned.campaign, expected, "{raw:?}");
        }
        let long = format!("https://g.nl/?utm_campaign={}", "é".repeat(300));
        let cleaned = clean(&long, &policy(), Routing::Path).expect("valid URL");
        let name = cleaned.campaign.campaign.expect("non-empty campaign");
        assert_eq!(name, "é".repeat(100));
    }

    #[test]
    fn fragments_are_dropped_when_routing_by_path() {
        check(Routing::Path, "https://g.nl/app#/zaken/1", Ok("g.nl/app"));
        check(Routing::Path, "https://g.nl/a?q=1#top", Ok("g.nl/a?q=1"));
    }

    #[test]
    fn hash_routes_are_kept_and_anchors_dropped_when_routing_by_hash() {
        let cases = [
            (
                "https://g.nl/app#/zaken/overzicht",
                "g.nl/app#/zaken/overzicht",
            ),
            ("https://g.nl/app#!/zaken", "g.nl/app#/zaken"),
            ("https://g.nl/app#/a#b%FF", "g.nl/app#/a%23b%FF"),
            ("https://g.nl/app#section", "g.nl/app"),
            ("https://g.nl/app#", "g.nl/app"),
            (
                "https://g.nl/app#/profiel/jan@example.nl",
                "g.nl/app#/profiel/{email}",
            ),
            (
                "https://g.nl/app?q=1#/zoek?q=2&x=3",
                "g.nl/app?q=1#/zoek?q=2",
            ),
        ];
        for (raw, expected) in cases {
            check(Routing::Hash, raw, Ok(expected));
        }
    }

    #[test]
    fn urls_that_are_not_absolute_http_are_rejected() {
        let cases = [
            ("/wonen", UrlError::NotAbsolute),
            ("gemeente.nl/wonen", UrlError::NotAbsolute),
            ("", UrlError::NotAbsolute),
            ("ftp://gemeente.nl/", UrlError::NotHttp),
            ("javascript:alert(1)", UrlError::NotHttp),
            ("file:///etc/passwd", UrlError::NotHttp),
            ("http://", UrlError::NoHost),
            (
                "https://[::1/",
                UrlError::Malformed(::url::ParseError::InvalidIpv6Address),
            ),
        ];
        for (raw, expected) in cases {
            check(Routing::Path, raw, Err(expected));
        }
        let long = format!("https://g.nl/{}", "a".repeat(MAX_URL_BYTES));
        check(Routing::Path, &long, Err(UrlError::TooLong));
    }

    #[test]
    fn long_paths_are_cut_on_a_character_and_escape_boundary() {
        let cases = [
            (format!("https://g.nl/{}", "é".repeat(600)), 1 + 2 * 511),
            (format!("https://g.nl/a{}", "%0A".repeat(400)), 1022),
            (format!("https://g.nl/{}", "中".repeat(400)), 1 + 3 * 341),
            (
                format!("https://g.nl/ab{}", "🙂".repeat(300)),
                2 + 1 + 4 * 255,
            ),
        ];
        for (raw, expected_len) in cases {
            let cleaned = clean(&raw, &policy(), Routing::Path).expect("valid URL");
            assert_eq!(cleaned.path.len(), expected_len);
            assert!(!cleaned.path.ends_with('%') && !cleaned.path.ends_with("%0"));
        }
    }

    #[test]
    fn adversarial_urls_never_panic() {
        let inputs = [
            "https://[::1]:8080/a?b#c".to_owned(),
            "https://[2001:db8::1]/%".to_owned(),
            "http://g.nl/\u{0}\u{1}\u{7f}?q=\u{0}#/\u{0}".to_owned(),
            "https://xn--caf-dma.nl/é/中文/🙂?q=🙂".to_owned(),
            "https://g.nl/?%zz=%zz&=&&==".to_owned(),
            format!("https://g.nl/{}", "1".repeat(MAX_URL_BYTES - 13)),
            format!("https://g.nl/#/{}", "%".repeat(MAX_URL_BYTES - 15)),
            "https://g.nl/?q=%F0%9F".to_owned(),
        ];
        for raw in &inputs {
            for routing in [Routing::Path, Routing::Hash] {
                if let Ok(cleaned) = clean(raw, &policy(), routing) {
                    assert!(cleaned.path.len() <= MAX_PATH_BYTES, "{raw:?}");
                    assert!(!cleaned.path.chars().any(char::is_control), "{raw:?}");
                }
            }
        }
        check(Routing::Path, "https://[::1]:8080/a", Ok("[::1]/a"));
    }
}
