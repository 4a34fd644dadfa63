//! A stats answer as CSV (`format=csv` on aggregate, timeseries and
//! breakdown, and every panel of the export's zip), written from the same
//! `Answer` as the JSON, so a CSV folds small counts exactly as the API
//! does for the same reader.
//!
//! Paths, referrers and property values come from the internet, and a
//! spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return as a formula. The file is read with `,` between cells,
//! but Dutch Excel splits it on `;`, and there a cell can start in the
//! middle of one of ours: a `"` that is not at the start of a cell does
//! not quote, so `/afval,"/x;=1+1"` is the cells `/afval,"/x` and `=1+1"`.
//! So a text is defused wherever a cell could start in either reading:
//! at its start, and after every `,`, `;`, tab and line break in it, a
//! formula character (or a `"`, which would open a quoted `=…`) gets a `'`
//! before it. A text holding either delimiter, a tab, a line break or a
//! `"` is quoted. Numbers the server computes are written plain, so a
//! change of −25 stays a number.
//!
//! Two forms. The API's (plain `format=csv`) is RFC 4180: `,` between
//! cells, decimal points, the answer's field names, the metrics in the
//! order of their names. With `lang=nl` or `lang=en` (the dashboard's
//! links) the headers are the dashboard's words and the columns its order
//! (the dimension, then the metrics as asked); in Dutch the file is also
//! what Dutch Excel opens by a double click: `;` between cells, decimal
//! commas, a UTF-8 byte order mark and CRLF line ends.

use std::collections::HashMap;

use crate::query::answer::{Answer, Figure, Results};
use crate::query::comparison::Change;
use crate::query::{Filter, Metric};
use crate::store::Dim;

/// What makes a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Where a spreadsheet may start a new cell inside a text: the delimiter
/// of either locale, a tab, a line break.
const CELL_BREAKS: [char; 5] = [',', ';', '\t', '\n', '\r'];

/// A text as one field: defused and, where needed, quoted.
fn text_cell(text: &str) -> String {
    quoted(&defused(text))
}

/// `text` with a `'` wherever a cell could start on a formula character
/// (or on a `"` that would quote one), in the reading on `,` or on `;`.
fn defused(text: &str) -> String {
    let opens_a_formula = |char: &char| FORMULA_STARTS.contains(char) || *char == '"';
    let mut out = String::with_capacity(text.len() + 2);
    if text.chars().next().as_ref().is_some_and(opens_a_formula) {
        out.push('\'');
    }
    let mut chars = text.chars().peekable();
    while let Some(char) = chars.next() {
        out.push(char);
        if CELL_BREAKS.contains(&char) && chars.peek().is_some_and(opens_a_formula) {
            out.push('\'');
        }
    }
    out
}

/// A field in double quotes when it holds a delimiter of either locale,
/// a tab, a line break or a quote; quotes inside are doubled.
fn quoted(text: &str) -> String {
    if !text.contains(|char| CELL_BREAKS.contains(&char) || char == '"') {
        return text.to_owned();
    }
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A number as the JSON answer spells it (a decimal keeps its `.0`);
/// nothing for a withheld figure.
fn number(figure: Figure) -> String {
    match figure {
        Figure::Withheld => String::new(),
        Figure::Whole(value) => value.to_string(),
        Figure::Decimal(value) => serde_json::Number::from_f64(value)
            .map(|number| number.to_string())
            .unwrap_or_default(),
    }
}

/// The language of a dashboard's CSV (`lang=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::http) enum Language {
    Dutch,
    English,
}

impl Language {
    /// The language `lang=` asks for; none for the API's form.
    pub(in crate::http) fn asked(params: &HashMap<String, String>) -> Option<Language> {
        match params.get("lang").map(String::as_str) {
            Some("nl") => Some(Language::Dutch),
            Some("en") => Some(Language::English),
            _ => None,
        }
    }
}

/// How a CSV is written: the API's form, or a dashboard's (see the top).
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::http) struct CsvForm {
    language: Option<Language>,
    /// Under a page filter, visits are those that entered on the page,
    /// and the dashboard's headers say so.
    on_page: bool,
}

impl CsvForm {
    /// The form of `language` (none: the API's) for answers under `filter`.
    pub(in crate::http) fn new(language: Option<Language>, filter: Option<&Filter>) -> CsvForm {
        CsvForm {
            language,
            on_page: filter.is_some_and(|filter| filter.dim == Dim::Page),
        }
    }

    fn dutch_excel(&self) -> bool {
        self.language == Some(Language::Dutch)
    }

    fn delimiter(&self) -> char {
        if self.dutch_excel() { ';' } else { ',' }
    }

    fn line_end(&self) -> &'static str {
        if self.dutch_excel() { "\r\n" } else { "\n" }
    }

    /// A figure as one field; in Dutch a decimal has a comma.
    fn figure(&self, figure: Figure) -> String {
        let text = number(figure);
        match self.dutch_excel() {
            true => text.replace('.', ","),
            false => text,
        }
    }

    /// A change as one field: empty when not known or against nothing.
    fn change(&self, change: Option<Change>) -> String {
        match change {
            Some(Change::By(change)) => self.figure(Figure::Decimal(change)),
            Some(Change::AgainstNothing) | None => String::new(),
        }
    }

    /// A header: the field name, or the dashboard's word for it.
    fn header(&self, name: &str) -> String {
        let word = self
            .language
            .and_then(|language| match (self.on_page, name) {
                (true, "visits") => Some(match language {
                    Language::Dutch => "Bezoeken die hier begonnen",
                    Language::English => "Visits that began here",
                }),
                _ => header_word(language, name),
            });
        text_cell(word.unwrap_or(name))
    }

    /// Appends one line of fields.
    fn push_record(&self, out: &mut String, fields: impl IntoIterator<Item = String>) {
        for (at, field) in fields.into_iter().enumerate() {
            if at > 0 {
                out.push(self.delimiter());
            }
            out.push_str(&field);
        }
        out.push_str(self.line_end());
    }

    /// Where each of `metrics` goes, as positions in it: as asked for a
    /// dashboard, by name for the API.
    fn ordered(&self, metrics: &[Metric]) -> Vec<usize> {
        let mut positions: Vec<usize> = (0..metrics.len()).collect();
        if self.language.is_none() {
            positions.sort_by_key(|at| metrics[*at].name());
        }
        positions
    }

    /// `answer` as CSV in this form.
    pub(in crate::http) fn write(&self, answer: &Answer) -> Vec<u8> {
        let mut out = String::new();
        if self.dutch_excel() {
            out.push('\u{feff}');
        }
        let columns = self.ordered(&answer.metrics);
        let (dimension, lines): (&str, Vec<(&str, &[Figure])>) = match &answer.results {
            Results::Aggregate(aggregate) => {
                let header = ["metric", "value", "change"].map(|name| self.header(name));
                self.push_record(&mut out, header);
                for total in columns.iter().map(|at| &aggregate.totals[*at]) {
                    let fields = [
                        self.header(total.metric.name()),
                        self.figure(total.value),
                        self.change(total.change),
                    ];
                    self.push_record(&mut out, fields);
                }
                return out.into_bytes();
            }
            Results::Timeseries(points) => (
                "date",
                points
                    .iter()
                    .map(|point| (point.date.as_str(), point.figures.as_slice()))
                    .collect(),
            ),
            Results::Breakdown { property, rows } => (
                property.field(),
                rows.iter()
                    .map(|row| (row.value.as_str(), row.figures.as_slice()))
                    .collect(),
            ),
        };
        // The dimension first (date, page, …), then the metrics; no
        // header either without a line.
        let header: Vec<String> = match lines.is_empty() {
            true => Vec::new(),
            false => std::iter::once(self.header(dimension))
                .chain(
                    columns
                        .iter()
                        .map(|at| self.header(answer.metrics[*at].name())),
                )
                .collect(),
        };
        self.push_record(&mut out, header);
        for (value, figures) in lines {
            let fields = std::iter::once(text_cell(value))
                .chain(columns.iter().map(|at| self.figure(figures[*at])));
            self.push_record(&mut out, fields);
        }
        out.into_bytes()
    }
}

/// The dashboard's column words (its panels' headers and its metrics).
fn header_word(language: Language, name: &str) -> Option<&'static str> {
    const WORDS: [(&str, &str, &str); 30] = [
        ("metric", "Maatstaf", "Metric"),
        ("value", "Waarde", "Value"),
        ("change", "Verandering", "Change"),
        ("date", "Tijd", "Time"),
        ("page", "Pagina", "Page"),
        ("entry_page", "Pagina", "Page"),
        ("exit_page", "Pagina", "Page"),
        ("source", "Bron", "Source"),
        ("referrer", "Website", "Website"),
        ("utm_source", "Bron", "Source"),
        ("utm_medium", "Medium", "Medium"),
        ("utm_campaign", "Campagne", "Campaign"),
        ("country", "Land", "Country"),
        ("browser", "Browser", "Browser"),
        ("os", "Systeem", "System"),
        ("device", "Apparaat", "Device"),
        ("name", "Doel", "Goal"),
        ("url", "Adres", "Address"),
        ("path", "Pad", "Path"),
        ("prop_key", "Eigenschap", "Property"),
        ("visitors", "Bezoekers", "Visitors"),
        ("visits", "Bezoeken", "Visits"),
        ("pageviews", "Weergaven", "Views"),
        ("views_per_visit", "Pagina’s per bezoek", "Views per visit"),
        ("bounce_rate", "Bouncepercentage", "Bounce rate"),
        ("visit_duration", "Bezoekduur (s)", "Visit duration (s)"),
        ("events", "Aantal", "Count"),
        ("conversion_rate", "Conversie (%)", "Conversion (%)"),
        ("scroll_depth", "Scrolldiepte (%)", "Scroll depth (%)"),
        ("time_on_page", "Tijd op pagina (s)", "Time on page (s)"),
    ];
    WORDS
        .iter()
        .find(|(field, _, _)| *field == name)
        .map(|(_, dutch, english)| match language {
            Language::Dutch => *dutch,
            Language::English => *english,
        })
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
