//! Personal data inside one piece of text (a decoded path segment, a query value, a campaign
//! name): finds it and replaces it by a stable placeholder, so that nothing after `privacy` can
//! count an e-mail address or a BSN as if it were a page.
//!
//! Placeholders, stable because they end up in stored dimensions and dashboards:
//!
//! | placeholder  | what it replaces                                                          |
//! |--------------|---------------------------------------------------------------------------|
//! | `{email}`    | an e-mail address, anywhere in the text                                   |
//! | `{iban}`     | an IBAN (ISO 13616), compact or in groups, any case, that passes mod-97   |
//! | `{bsn}`      | 9 digits (optionally `123.456.789`, `123 456 789`, `1234.56.789`) that pass the elfproef and are not part of a longer digit run |
//! | `{phone}`    | a Dutch number (`06-12345678`, `020 123 4567`, `(020) 1234567`, `0031 6 …`) or `+` with 8–15 digits |
//! | `{postcode}` | a standalone Dutch postcode (`1234AB`, `1234 ab`), except the unissued `SA`, `SD`, `SS` |
//! | `{<name>}`   | a match of an operator-configured [`PiiPattern`] called `<name>`          |
//!
//! Rules run in this order: e-mail, IBAN, BSN, phone, postcode, then the configured patterns in
//! the order given. Built-in placeholders contain no digits and no `@`, so a later built-in rule
//! can never match inside an earlier placeholder; an IBAN goes before the BSN and phone rules so
//! that its account number is not half-replaced. "Standalone" means the neighbouring characters
//! are not letters or digits (`-`, `_`, `/`, space and punctuation all separate); the BSN only
//! asks that it is not part of a longer digit run.
//!
//! This module deliberately does not percent-decode (the caller does, so that `jan%40example.nl`
//! is seen as an address), does not know about URLs, and does not try to recognise names or
//! street addresses: what it cannot check with a checksum or a fixed shape stays as it is.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::{NoExpand, Regex};

use super::clean::{ReferrerHost, Scrubbed};

const EMAIL: &str = "{email}";
const IBAN: &str = "{iban}";
const BSN: &str = "{bsn}";
const PHONE: &str = "{phone}";
const POSTCODE: &str = "{postcode}";

/// The built-in placeholders, in the order the privacy page lists them.
pub(crate) const BUILT_IN_PLACEHOLDERS: [&str; 5] = [EMAIL, BSN, IBAN, POSTCODE, PHONE];

/// Names end up in stored dimensions, so they are kept short and URL-safe.
const MAX_NAME_BYTES: usize = 64;
const IBAN_MIN_LEN: usize = 15;
const IBAN_MAX_LEN: usize = 34;

static EMAIL_RE: LazyLock<Regex> =
    LazyLock::new(|| built_in(r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+"));
/// Only the start of an IBAN: its end is found by hand, because the groups of four may be
/// followed by ordinary words that a greedy regex would swallow.
static IBAN_START_RE: LazyLock<Regex> = LazyLock::new(|| built_in(r"[A-Za-z]{2}[0-9]{2}"));
static BSN_RE: LazyLock<Regex> =
    LazyLock::new(|| built_in(r"[0-9]{3}[. ]?[0-9]{3}[. ]?[0-9]{3}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}"));
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    built_in(
        r"(?x)
          \+[0-9]{1,3}[\ -]?(?:\(0\)[\ -]?)?[0-9](?:[\ -]?[0-9]){4,13}
        | 00[\ ]?31[\ -]?(?:\(0\)[\ -]?)?[1-9](?:[\ -]?[0-9]){8}
        | (?:\(0[1-9][0-9]{0,2}\)[\ ]?|0[1-9])(?:[\ -]?[0-9]){6,8}",
    )
});
static POSTCODE_RE: LazyLock<Regex> = LazyLock::new(|| built_in(r"[1-9][0-9]{3} ?[A-Za-z]{2}"));

fn built_in(pattern: &str) -> Regex {
    // A constant pattern; the tests exercise every one of them.
    Regex::new(pattern).expect("built-in PII pattern compiles")
}

/// An operator-configured kind of personal data, such as a case number.
#[derive(Debug, Clone)]
pub struct PiiPattern {
    name: String,
    placeholder: String,
    regex: Regex,
}

#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    #[error("PII pattern name {name:?} must be 1-64 of a-z, 0-9, '-' and '_'")]
    InvalidName { name: String },
    #[error("PII pattern {name:?} is not a valid regular expression")]
    InvalidPattern {
        name: String,
        #[source]
        source: regex::Error,
    },
    #[error("PII pattern {name:?} matches the empty string")]
    MatchesEmpty { name: String },
    #[error("PII pattern {name:?} matches the placeholder {placeholder}")]
    MatchesPlaceholder { name: String, placeholder: String },
}

impl PiiPattern {
    pub fn new(name: &str, regex: &str) -> Result<Self, PiiError> {
        let name_is_valid = !name.is_empty()
            && name.len() <= MAX_NAME_BYTES
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_is_valid {
            return Err(PiiError::InvalidName {
                name: name.to_owned(),
            });
        }
        let compiled = Regex::new(regex).map_err(|source| PiiError::InvalidPattern {
            name: name.to_owned(),
            source,
        })?;
        // A pattern that matches nothing would put a placeholder between every character.
        if compiled.is_match("") {
            return Err(PiiError::MatchesEmpty {
                name: name.to_owned(),
            });
        }
        // A pattern that matches a placeholder would replace it again at every cleaning
        // ("{zaak}" becoming "{{zaak}}"), so a stored text could never be clean.
        let placeholder = format!("{{{name}}}");
        if let Some(matched) = BUILT_IN_PLACEHOLDERS
            .into_iter()
            .chain([placeholder.as_str()])
            .find(|placeholder| compiled.is_match(placeholder))
        {
            return Err(PiiError::MatchesPlaceholder {
                name: name.to_owned(),
                placeholder: matched.to_owned(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            placeholder,
            regex: compiled,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The text with every personal datum replaced, as a text that may be counted.
pub fn scrubbed(text: &str, custom: &[PiiPattern]) -> Scrubbed {
    Scrubbed::new(scrub(text, custom).into_owned())
}

/// A referrer's host (see `enrich::source::referrer_host`), scrubbed.
pub fn referrer(host: &str, custom: &[PiiPattern]) -> ReferrerHost {
    ReferrerHost::new(scrub(host, custom).into_owned())
}

/// Returns the text with every personal datum replaced; borrows when nothing changed.
pub(crate) fn scrub<'a>(text: &'a str, custom: &[PiiPattern]) -> Cow<'a, str> {
    let mut current = built_in_rules(Cow::Borrowed(text));
    let mut custom_changed = false;
    for pattern in custom {
        current = apply(current, |t| {
            let replaced = changed(pattern.regex.replace_all(t, NoExpand(&pattern.placeholder)));
            custom_changed |= replaced.is_some();
            replaced
        });
    }
    // A configured pattern can cut a long number so that what is left is,
    // say, a valid BSN: the built-in rules look once more.
    if custom_changed {
        current = built_in_rules(current);
    }
    current
}

/// The built-in rules: e-mail, IBAN, BSN, phone, postcode.
fn built_in_rules(text: Cow<'_, str>) -> Cow<'_, str> {
    // One pass over the bytes decides which rules could possibly match, so the common path
    // segment (letters and dashes only) never reaches a regex. Replacing only removes digits
    // and '@', so these counts stay upper bounds as the rules run.
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let has_at = text.contains('@');
    let mut current = text;
    if has_at {
        current = apply(current, |t| changed(EMAIL_RE.replace_all(t, EMAIL)));
    }
    if digits >= 2 {
        current = apply(current, |t| {
            replace_confirmed(t, &IBAN_START_RE, IBAN, confirm_iban)
        });
    }
    if digits >= 9 {
        current = apply(current, |t| replace_confirmed(t, &BSN_RE, BSN, confirm_bsn));
    }
    if digits >= 8 {
        current = apply(current, |t| {
            replace_confirmed(t, &PHONE_RE, PHONE, confirm_phone)
        });
    }
    if digits >= 4 {
        current = apply(current, |t| {
            replace_confirmed(t, &POSTCODE_RE, POSTCODE, confirm_postcode)
        });
    }
    current
}

fn apply<'a>(text: Cow<'a, str>, rule: impl FnOnce(&str) -> Option<String>) -> Cow<'a, str> {
    match rule(&text) {
        Some(replaced) => Cow::Owned(replaced),
        None => text,
    }
}

fn changed(result: Cow<'_, str>) -> Option<String> {
    match result {
        Cow::Borrowed(_) => None,
        Cow::Owned(replaced) => Some(replaced),
    }
}

/// Replaces each regex candidate that `confirm` accepts; `confirm` may narrow the candidate
/// (an IBAN's end) but never widen it. A rejected candidate is retried one character later,
/// because a shifted window can still hold a real match.
fn replace_confirmed(
    text: &str,
    candidates: &Regex,
    placeholder: &str,
    confirm: fn(&str, Range<usize>) -> Option<Range<usize>>,
) -> Option<String> {
    let mut replaced: Option<String> = None;
    let mut copied = 0;
    let mut search_from = 0;
    while let Some(found) = candidates.find_at(text, search_from) {
        let retry_from = next_char(text, found.start());
        match confirm(text, found.range()) {
            Some(confirmed) => {
                let out = replaced.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied..confirmed.start]);
                out.push_str(placeholder);
                copied = confirmed.end;
                search_from = confirmed.end.max(retry_from);
            }
            None => search_from = retry_from,
        }
        if search_from >= text.len() {
            break;
        }
    }
    replaced.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    })
}

fn next_char(text: &str, index: usize) -> usize {
    text[index..]
        .chars()
        .next()
        .map_or(text.len(), |c| index + c.len_utf8())
}

/// True unless the match is glued to a letter or digit on either side.
fn is_standalone(text: &str, range: &Range<usize>) -> bool {
    !glued_before(text, range.start) && !glued_after(text, range.end)
}

fn glued_before(text: &str, start: usize) -> bool {
    glued(
        text[..start].chars().next_back(),
        text[start..].chars().next(),
    )
}

fn glued_after(text: &str, end: usize) -> bool {
    glued(text[end..].chars().next(), text[..end].chars().next_back())
}

fn glued(outer: Option<char>, edge: Option<char>) -> bool {
    outer.is_some_and(char::is_alphanumeric) && edge.is_some_and(char::is_alphanumeric)
}

fn confirm_postcode(text: &str, candidate: Range<usize>) -> Option<Range<usize>> {
    let letters = text.get(candidate.end.saturating_sub(2)..candidate.end)?;
    let unissued = ["SA", "SD", "SS"]
        .iter()
        .any(|pair| letters.eq_ignore_ascii_case(pair));
    (!unissued && is_standalone(text, &candidate)).then_some(candidate)
}

fn confirm_bsn(text: &str, candidate: Range<usize>) -> Option<Range<usize>> {
    let inside = &text[candidate.clone()];
    let grouped = inside.len() > 9;
    if digit_run_continues(text[..candidate.start].chars().rev(), grouped)
        || digit_run_continues(text[candidate.end..].chars(), grouped)
    {
        return None;
    }
    let mut digits = [0u8; 9];
    let mut count = 0;
    for byte in inside.bytes().filter(u8::is_ascii_digit) {
        *digits.get_mut(count)? = byte - b'0';
        count += 1;
    }
    (count == 9 && passes_elfproef(&digits)).then_some(candidate)
}

fn digit_run_continues(mut neighbours: impl Iterator<Item = char>, grouped: bool) -> bool {
    match neighbours.next() {
        Some(c) if c.is_ascii_digit() => true,
        // "1.111.222.333" is a number with thousands separators, not a BSN.
        Some('.' | ' ') if grouped => neighbours.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

fn passes_elfproef(digits: &[u8; 9]) -> bool {
    let weighted: i32 = digits
        .iter()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(digit, weight)| i32::from(*digit) * weight)
        .sum();
    weighted % 11 == 0 && digits.iter().any(|digit| *digit != 0)
}

fn confirm_phone(text: &str, candidate: Range<usize>) -> Option<Range<usize>> {
    if !is_standalone(text, &candidate) {
        return None;
    }
    let inside = &text[candidate.clone()];
    let bytes = inside.as_bytes();
    // "+31 (0)6" writes the trunk zero that an international number does not dial.
    let trunk_zero = usize::from(inside.contains("(0)"));
    let digits = bytes
        .iter()
        .filter(|b| b.is_ascii_digit())
        .count()
        .saturating_sub(trunk_zero);
    let plausible = match bytes {
        [b'+', ..] => (8..=15).contains(&digits),
        [b'0', b'0', ..] => digits == 13,
        _ => digits == 10 && !starts_like_a_date(bytes),
    };
    plausible.then_some(candidate)
}

/// "01-02-2024 12" has ten digits and a leading zero, but it is a date with a time.
fn starts_like_a_date(bytes: &[u8]) -> bool {
    match bytes {
        [d1, d2, b'-', m1, m2, b'-', y1, y2, y3, y4, rest @ ..] => {
            [d1, d2, m1, m2, y1, y2, y3, y4]
                .iter()
                .all(|b| b.is_ascii_digit())
                && rest.first().is_none_or(|b| !b.is_ascii_digit())
        }
        _ => false,
    }
}

/// Walks the groups after the country code and check digits, and returns the longest run of
/// whole groups that passes mod-97: "NL91 ABNA 0417 1643 00 betaald" ends before "betaald".
fn confirm_iban(text: &str, candidate: Range<usize>) -> Option<Range<usize>> {
    if glued_before(text, candidate.start) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut compact = [0u8; IBAN_MAX_LEN];
    let mut length = 0;
    let mut group_ends: Vec<(usize, usize)> = Vec::new();
    let mut group_start = candidate.start;
    loop {
        let rest = bytes.get(group_start..)?;
        let group_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let group_end = group_start + group_len;
        let Some(slot) = compact.get_mut(length..length + group_len) else {
            break;
        };
        slot.copy_from_slice(&rest[..group_len]);
        length += group_len;
        if glued_after(text, group_end) {
            break;
        }
        group_ends.push((group_end, length));
        let next_is_group = bytes.get(group_end) == Some(&b' ')
            && bytes
                .get(group_end + 1)
                .is_some_and(u8::is_ascii_alphanumeric);
        if !next_is_group {
            break;
        }
        group_start = group_end + 1;
    }
    group_ends
        .iter()
        .rev()
        .find(|(_, length)| passes_mod97(&compact[..*length]))
        .map(|(end, _)| candidate.start..*end)
}

fn passes_mod97(iban: &[u8]) -> bool {
    if !(IBAN_MIN_LEN..=IBAN_MAX_LEN).contains(&iban.len()) {
        return false;
    }
    let (country_and_check, account) = iban.split_at(4);
    let mut remainder: u32 = 0;
    for byte in account.iter().chain(country_and_check) {
        remainder = match byte.to_ascii_uppercase() {
            digit @ b'0'..=b'9' => (remainder * 10 + u32::from(digit - b'0')) % 97,
            letter @ b'A'..=b'Z' => (remainder * 100 + u32::from(letter - b'A') + 10) % 97,
            _ => return false,
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let custom = [PiiPattern::new("zaaknummer", r"Z-\d{6}").expect("valid pattern")];
        let scrubbed = scrub(input, &custom);
        assert_eq!(scrubbed, expected, "input: {input:?}");
        let borrowed = matches!(scrubbed, Cow::Borrowed(_));
        assert_eq!(
            borrowed,
            input == expected,
            "borrows only when unchanged: {input:?}"
        );
    }

    fn check_all(cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn text_without_personal_data_is_borrowed_unchanged() {
        check_all(&[
            ("", ""),
            ("/wonen/afval/ophaaldagen", "/wonen/afval/ophaaldagen"),
            ("nieuws 2024", "nieuws 2024"),
            ("@gemeente", "@gemeente"),
            ("straße-é-中文", "straße-é-中文"),
        ]);
    }

    #[test]
    fn email_addresses_are_replaced_wherever_they_are() {
        check_all(&[
            ("jan.jansen@example.nl", "{email}"),
            (
                "mail naar jan+afval@gemeente.example.nl.",
                "mail naar {email}.",
            ),
            ("a@b.nl en c@d.org", "{email} en {email}"),
            ("josé@voorbeeld.nl", "{email}"),
            ("jan@localhost", "jan@localhost"),
        ]);
    }

    #[test]
    fn nine_digits_passing_the_elfproef_are_replaced() {
        check_all(&[
            ("111222333", "{bsn}"),
            ("bsn 123456782 bekend", "bsn {bsn} bekend"),
            ("bsn123456782", "bsn{bsn}"),
            ("012345672", "{bsn}"),
            ("111.222.333", "{bsn}"),
            ("111 222 333", "{bsn}"),
            ("1234.56.782", "{bsn}"),
        ]);
    }

    #[test]
    fn nine_digits_failing_the_elfproef_are_kept() {
        check_all(&[
            ("123456789", "123456789"),
            ("111222334", "111222334"),
            ("000000000", "000000000"),
            ("1111222333", "1111222333"),
            ("1112223330", "1112223330"),
            ("1.111.222.333", "1.111.222.333"),
        ]);
    }

    #[test]
    fn ibans_passing_mod_97_are_replaced() {
        check_all(&[
            ("NL91ABNA0417164300", "{iban}"),
            ("nl91abna0417164300", "{iban}"),
            ("NL91 ABNA 0417 1643 00", "{iban}"),
            ("NL91 ABNA 0417 1643 00 betaald", "{iban} betaald"),
            ("iban:GB82WEST12345698765432.", "iban:{iban}."),
            ("DE89 3704 0044 0532 0130 00", "{iban}"),
        ]);
    }

    #[test]
    fn ibans_with_a_wrong_check_digit_are_kept() {
        check_all(&[
            ("NL92ABNA0417164300", "NL92ABNA0417164300"),
            ("GB83 WEST 1234 5698 7654 32", "GB83 WEST 1234 5698 7654 32"),
            ("XNL91ABNA0417164300", "XNL91ABNA0417164300"),
            ("NL91ABNA0417164300X", "NL91ABNA0417164300X"),
        ]);
    }

    #[test]
    fn standalone_postcodes_are_replaced() {
        check_all(&[
            ("1234AB", "{postcode}"),
            ("1234 ab", "{postcode}"),
            ("adres-2511cv-den-haag", "adres-{postcode}-den-haag"),
            ("postcode_1234AB", "postcode_{postcode}"),
        ]);
    }

    #[test]
    fn postcodes_inside_words_or_unissued_are_kept() {
        check_all(&[
            ("x1234abc", "x1234abc"),
            ("12345AB", "12345AB"),
            ("1234ABC", "1234ABC"),
            ("0123AB", "0123AB"),
            ("1234SS", "1234SS"),
            ("1234 sa", "1234 sa"),
            ("1234SD", "1234SD"),
        ]);
    }

    #[test]
    fn phone_numbers_are_replaced() {
        check_all(&[
            ("06-12345678", "{phone}"),
            ("0612345678", "{phone}"),
            ("020-1234567", "{phone}"),
            ("bel 020 123 4567 nu", "bel {phone} nu"),
            ("(020) 123 4567", "{phone}"),
            ("+31612345678", "{phone}"),
            ("+31 6 1234 5678", "{phone}"),
            ("+31 (0)20 123 4567", "{phone}"),
            ("0031612345678", "{phone}"),
            ("0031 6 12345678", "{phone}"),
            ("+44 20 7946 0958", "{phone}"),
            ("06-12 34 56 78", "{phone}"),
        ]);
    }

    #[test]
    fn years_ids_and_dates_are_not_phone_numbers() {
        check_all(&[
            ("2024", "2024"),
            ("12345", "12345"),
            ("2024-01-15", "2024-01-15"),
            ("15-01-2024", "15-01-2024"),
            ("01-02-2024 12", "01-02-2024 12"),
            ("20240115", "20240115"),
            ("061234567", "061234567"),
            ("06123456789", "06123456789"),
            ("+123", "+123"),
        ]);
    }

    #[test]
    fn configured_patterns_run_after_the_built_in_ones() {
        check_all(&[
            ("zaak Z-123456", "zaak {zaaknummer}"),
            ("Z-123456 van 111222333", "{zaaknummer} van {bsn}"),
            ("Z-12345", "Z-12345"),
            // What a configured pattern leaves behind is checked again:
            // here a valid BSN after the case number (found by fuzzing).
            ("Z-123456417164300", "{zaaknummer}{bsn}"),
        ]);
    }

    #[test]
    fn placeholders_are_never_matched_again() {
        check_all(&[("0612345678 jan@a.nl 1234AB", "{phone} {email} {postcode}")]);
    }

    #[test]
    fn pattern_names_and_expressions_are_validated() {
        assert!(PiiPattern::new("zaak-nr_x", r"\d+").is_ok());
        for bad_name in ["", "Zaak", "zaak nr", "{x}", &"a".repeat(65)] {
            let error = PiiPattern::new(bad_name, r"\d+");
            assert!(
                matches!(error, Err(PiiError::InvalidName { .. })),
                "{bad_name:?}"
            );
        }
        assert!(matches!(
            PiiPattern::new("zaak", r"Z-(\d"),
            Err(PiiError::InvalidPattern { .. })
        ));
        assert!(matches!(
            PiiPattern::new("zaak", r"\d*"),
            Err(PiiError::MatchesEmpty { .. })
        ));
        let matching = [
            ("zaak", "zaak"),
            ("code", r"\{[a-z]+\}"),
            ("mail", "mail"),
            ("nr_2", r"\d+"),
        ];
        for (name, regex) in matching {
            assert!(
                matches!(
                    PiiPattern::new(name, regex),
                    Err(PiiError::MatchesPlaceholder { .. })
                ),
                "{regex:?}"
            );
        }
    }

    #[test]
    fn adversarial_text_never_panics() {
        let long_digits = "1".repeat(10_000);
        let inputs = [
            long_digits.as_str(),
            "NL91 ABNA 0417 1643 00 0000 0000 0000 0000 0000 1",
            "\u{0}\u{1f}1234AB\u{7f}",
            "é0612345678é",
            "+",
            "@@@.@",
            "00 31",
            "NL12",
        ];
        for input in inputs {
            let _ = scrub(input, &[]);
        }
    }

    /// The cut rule (`privacy::cut`) relies on this: a scrubbed text is clean, so cleaning
    /// what a cut left can only find what the cut made.
    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn text() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", " ", ".", "-", "+", "(0)", "@",
                "a", "AB", "NL91", "Z-", "é", "{", "}", "_",
            ]);
            prop::collection::vec(pieces, 0..40).prop_map(|pieces| pieces.concat())
        }

        proptest! {
            #![proptest_config(crate::privacy::cut::property_config(1000))]
            #[test]
            fn a_scrubbed_text_is_clean(text in text()) {
                let custom = [PiiPattern::new("zaaknummer", r"Z-\d{6}").expect("valid pattern")];
                let once = scrub(&text, &custom);
                let twice = scrub(&once, &custom);
                prop_assert!(matches!(twice, Cow::Borrowed(_)), "{text:?} -> {once:?} -> {twice:?}");
            }
        }
    }
}
