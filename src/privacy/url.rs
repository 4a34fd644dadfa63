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
//! A path longer than [`MAX_PATH_BYTES`] and a campaign value longer than
//! [`MAX_CAMPAIGN_BYTES`] are cut under the rule of [`super::cut`]: what a cut leaves is cleaned
//! again, so a stored path or campaign never holds personal data that a cut made; a cut path
//! never ends in a bare `#`, `?` or `&`, nor in a partial escape. Campaign values are plain
//! text (control characters read as spaces).
//!
//! Deliberately not done here: the user info (`user:pass@`) and port are dropped, not kept;
//! hosts are not mapped to sites and `www.` is not stripped (the edge decides which hosts
//! belong to a site); referrers are not handled (they are reduced to a host elsewhere).

use std::borrow::Cow;

use ::url::Url;
use ::url::form_urlencoded;
use percent_encoding::percent_decode_str;

use super::clean::CleanPath;
use super::cut;
use super::pii::{self, PiiPattern};

/// Longer than any page URL a browser will send for a real page; bounds the parsing work.
pub(crate) const MAX_URL_BYTES: usize = 8 * 1024;
/// Paths are stored as dimension values, so one odd URL must not cost a kilobyte per counter.
pub const MAX_PATH_BYTES: usize = 1024;
pub const MAX_CAMPAIGN_BYTES: usize = 200;

const PATH_RESERVED: &[char] = &['%', '/', '?', '#'];
const QUERY_RESERVED: &[char] = &['%', '&', '=', '#', '+'];

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

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Campaign {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
}

/// A page URL as it may be counted; only `clean` makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanUrl {
    host: String,
    path: CleanPath,
    campaign: Campaign,
}

impl CleanUrl {
    /// The host, lower-cased, for matching the site's hostnames (never stored).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn path(&self) -> &CleanPath {
        &self.path
    }

    /// The `utm_*` parameters the URL carried.
    pub fn campaign(&self) -> &Campaign {
        &self.campaign
    }
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
    let path = cut::to_limit(path, MAX_PATH_BYTES, |stored| {
        clean_stored_path(stored, &policy.patterns)
    });
    Ok(CleanUrl {
        path: CleanPath::new(if path.is_empty() {
            "/".to_owned()
        } else {
            path
        }),
        host,
        campaign,
    })
}

/// A path (percent-encoded as in a URL) cleaned as `clean` cleans a page
/// URL's path, without a query: for code that has a path but no URL.
pub fn clean_page_path(encoded: &str, patterns: &[PiiPattern]) -> CleanPath {
    let path = cut::to_limit(clean_path(encoded, patterns), MAX_PATH_BYTES, |stored| {
        clean_stored_path(stored, patterns)
    });
    CleanPath::new(path)
}

/// Only fragments that look like a route count as a page; `#section` is an anchor on the same
/// page. The hashbang form `#!/route` is stored as `#/route` so both spellings count together.
fn hash_route(fragment: &str) -> Option<&str> {
    let route = fragment.strip_prefix('!').unwrap_or(fragment);
    route.starts_with('/').then_some(route)
}

pub(super) fn clean_path(encoded: &str, patterns: &[PiiPattern]) -> String {
    let mut path = String::with_capacity(encoded.len() + 1);
    for (index, segment) in encoded.split('/').enumerate() {
        if index > 0 {
            path.push('/');
        }
        push_clean_segment(&mut path, segment, patterns, PATH_RESERVED);
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// One percent-encoded piece (a path segment, a stored query value), decoded, scrubbed and
/// escaped again with `reserved` encoded, pushed onto `out`.
fn push_clean_segment(out: &mut String, segment: &str, patterns: &[PiiPattern], reserved: &[char]) {
    match percent_decode_str(segment).decode_utf8() {
        Ok(decoded) => {
            let scrubbed = pii::scrub(&decoded, patterns);
            out.push_str(&escape(&scrubbed, reserved));
        }
        // Kept as sent, unless what it says (invalid bytes read as U+FFFD) holds personal
        // data: then that reading, scrubbed, is kept instead. Scrubbing the encoded form
        // would miss `jan%40example.nl%FF`.
        Err(_) => {
            let readable = percent_decode_str(segment).decode_utf8_lossy();
            match pii::scrub(&readable, patterns) {
                // A fragment may hold a bare `#`, which would read as another route.
                Cow::Borrowed(_) => out.push_str(&escape(segment, &['#'])),
                Cow::Owned(scrubbed) => out.push_str(&escape(&scrubbed, reserved)),
            }
        }
    }
}

/// A stored path read back and cleaned again, piece by piece as [`clean`] wrote it (each piece
/// escapes the delimiters that follow, so they split it unambiguously); a `#`, `?` or `&` that a
/// cut left with nothing after it is dropped, and a value cut to nothing leaves its bare key.
/// Borrows when nothing changed, which is the case for every path that [`clean`] wrote whole.
fn clean_stored_path<'p>(stored: &'p str, patterns: &[PiiPattern]) -> Cow<'p, str> {
    let mut cleaned = String::with_capacity(stored.len());
    let (page, route) = match stored.split_once('#') {
        Some((page, route)) => (page, Some(route)),
        None => (stored, None),
    };
    clean_stored_part(page, patterns, &mut cleaned);
    if let Some(route) = route.filter(|route| !route.is_empty()) {
        cleaned.push('#');
        clean_stored_part(route, patterns, &mut cleaned);
    }
    if cleaned == stored {
        Cow::Borrowed(stored)
    } else {
        Cow::Owned(cleaned)
    }
}

/// `/a/b?k=v&k2` of a stored path: segments and kept parameters' values cleaned again.
fn clean_stored_part(part: &str, patterns: &[PiiPattern], cleaned: &mut String) {
    let (segments, query) = match part.split_once('?') {
        Some((segments, query)) => (segments, query),
        None => (part, ""),
    };
    for (index, segment) in segments.split('/').enumerate() {
        if index > 0 {
            cleaned.push('/');
        }
        push_clean_segment(cleaned, segment, patterns, PATH_RESERVED);
    }
    let pairs = query.split('&').filter(|pair| !pair.is_empty());
    for (index, pair) in pairs.enumerate() {
        cleaned.push(if index == 0 { '?' } else { '&' });
        match pair.split_once('=') {
            Some((key, value)) => {
                cleaned.push_str(key);
                let mut value_cleaned = String::with_capacity(value.len());
                push_clean_segment(&mut value_cleaned, value, patterns, QUERY_RESERVED);
                if !value_cleaned.is_empty() {
                    cleaned.push('=');
                    cleaned.push_str(&value_cleaned);
                }
            }
            None => cleaned.push_str(pair),
        }
    }
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

/// A campaign value is stored as plain text: control characters read as spaces (they would
/// otherwise have to be escaped, and a literal `%` would make the escapes ambiguous), trimmed,
/// scrubbed, and cut to [`MAX_CAMPAIGN_BYTES`] under the rule of [`cut`].
fn campaign_value(value: &str, patterns: &[PiiPattern]) -> Option<String> {
    let plain: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let scrubbed = pii::scrub(plain.trim(), patterns).into_owned();
    let stored = cut::to_limit(scrubbed, MAX_CAMPAIGN_BYTES, |text| {
        clean_stored_campaign(text, patterns)
    });
    (!stored.is_empty()).then_some(stored)
}

fn clean_stored_campaign<'t>(stored: &'t str, patterns: &[PiiPattern]) -> Cow<'t, str> {
    let trimmed = stored.trim_end();
    match pii::scrub(trimmed, patterns) {
        Cow::Borrowed(_) if trimmed.len() == stored.len() => Cow::Borrowed(stored),
        other => Cow::Owned(other.into_owned()),
    }
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

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
