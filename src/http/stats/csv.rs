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
mod tests {
    use super::*;
    use crate::query::Property;
    use crate::query::answer::{Aggregate, Row, Total};

    fn breakdown(property: Property, metrics: &[Metric], rows: &[(&str, &[Figure])]) -> Answer {
        Answer {
            metrics: metrics.to_vec(),
            results: Results::Breakdown {
                property,
                rows: rows
                    .iter()
                    .map(|(value, figures)| Row {
                        value: (*value).to_owned(),
                        figures: figures.to_vec(),
                    })
                    .collect(),
            },
        }
    }

    fn aggregate(totals: &[(Metric, Figure, Option<Change>)]) -> Answer {
        Answer {
            metrics: totals.iter().map(|(metric, _, _)| *metric).collect(),
            results: Results::Aggregate(Aggregate {
                totals: totals
                    .iter()
                    .map(|(metric, value, change)| Total {
                        metric: *metric,
                        value: *value,
                        change: *change,
                    })
                    .collect(),
                compared: None,
            }),
        }
    }

    fn text(form: CsvForm, answer: &Answer) -> String {
        String::from_utf8(form.write(answer)).unwrap()
    }

    const PAGE: Property = Property::Plain(Dim::Page);

    #[test]
    fn breakdowns_become_csv_with_the_dimension_first_and_formulas_defused() {
        let answer = breakdown(
            PAGE,
            &[Metric::Visitors],
            &[
                ("/afval", &[Figure::Whole(3)]),
                ("=HYPERLINK(\"http://evil\")", &[Figure::Whole(2)]),
                ("/a,b", &[Figure::Whole(1)]),
            ],
        );
        assert_eq!(
            text(CsvForm::default(), &answer),
            "page,visitors\n/afval,3\n\"'=HYPERLINK(\"\"http://evil\"\")\",2\n\"/a,b\",1\n"
        );
    }

    #[test]
    fn a_text_is_defused_wherever_either_locale_could_start_a_cell() {
        for (text, expected) in [
            ("/x;=1+1;", "/x;'=1+1;"),
            ("/a,@SUM(1)", "/a,'@SUM(1)"),
            ("/-2+3", "/-2+3"),
            ("-2+3", "'-2+3"),
            ("a\n=1", "a\n'=1"),
            ("a;\"=1", "a;'\"=1"),
            ("a;\t=1", "a;'\t'=1"),
            ("\"=1", "'\"=1"),
            ("/afval", "/afval"),
        ] {
            assert_eq!(defused(text), expected, "{text:?}");
        }
        assert_eq!(text_cell("/x;=1+1;"), "\"/x;'=1+1;\"");
        let form = CsvForm::default();
        assert_eq!(
            form.figure(Figure::Whole(-50)),
            "-50",
            "numbers stay numbers"
        );
        assert_eq!(form.figure(Figure::Decimal(2.25)), "2.25");
        assert_eq!(form.change(Some(Change::By(-25.0))), "-25.0");
    }

    /// Every cell a spreadsheet could make of `text`, split on `,`, `;` or
    /// a tab: honouring quotes at the start of a cell (as Excel does), and
    /// ignoring them altogether.
    fn cells_in_every_reading(text: &str) -> Vec<String> {
        let mut cells = Vec::new();
        for delimiter in [b',', b';', b'\t'] {
            let mut reader = ::csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            for record in reader.records().flatten() {
                cells.extend(record.iter().map(str::to_owned));
            }
            for line in text.split(['\n', '\r']) {
                let naive = line.split(char::from(delimiter));
                cells.extend(naive.map(|cell| cell.trim_start_matches('"').to_owned()));
            }
        }
        cells
    }

    #[test]
    fn no_short_text_makes_a_formula_in_any_reading() {
        const ALPHABET: [char; 13] = [
            ',', ';', '\t', '\n', '\r', '"', '=', '-', '+', '@', '\'', ' ', 'a',
        ];
        // Every text of up to three characters, alone and after a letter.
        let mut texts = vec![String::new()];
        let mut last = texts.clone();
        for _ in 0..3 {
            last = last
                .iter()
                .flat_map(|text| ALPHABET.map(|char| format!("{text}{char}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        texts.extend(texts.clone().iter().map(|text| format!("a{text}")));
        let form = CsvForm::default();
        for text in &texts {
            let mut lines = String::new();
            form.push_record(&mut lines, [text_cell(text), "-1".to_owned()]);
            form.push_record(
                &mut lines,
                ["x".to_owned(), text_cell(text), "-1".to_owned()],
            );
            for found in cells_in_every_reading(&lines) {
                assert!(
                    !found.starts_with(FORMULA_STARTS) || found.parse::<f64>().is_ok(),
                    "{text:?} gave the cell {found:?} in {lines:?}"
                );
            }
            let mut reader = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(lines.as_bytes());
            let first = reader.records().next().unwrap().unwrap();
            assert_eq!(&first[0], defused(text), "the reading on `,` is exact");
            assert_eq!(&first[1], "-1");
        }
    }

    #[test]
    fn an_aggregate_is_one_row_per_metric_and_withheld_values_are_empty() {
        let answer = aggregate(&[
            (Metric::Visitors, Figure::Whole(12), Some(Change::By(50.0))),
            (Metric::Pageviews, Figure::Withheld, None),
        ]);
        assert_eq!(
            text(CsvForm::default(), &answer),
            "metric,value,change\npageviews,,\nvisitors,12,50.0\n"
        );
    }

    #[test]
    fn the_dutch_form_opens_in_dutch_excel_with_the_panels_words_and_order() {
        let answer = breakdown(
            PAGE,
            &[Metric::Visitors, Metric::ViewsPerVisit, Metric::Pageviews],
            &[(
                "/afval;=1",
                &[Figure::Whole(3), Figure::Decimal(2.25), Figure::Whole(7)],
            )],
        );
        assert_eq!(
            text(CsvForm::new(Some(Language::Dutch), None), &answer),
            "\u{feff}Pagina;Bezoekers;Pagina’s per bezoek;Weergaven\r\n\"/afval;'=1\";3;2,25;7\r\n"
        );
        let answer = aggregate(&[
            (
                Metric::Visitors,
                Figure::Whole(12),
                Some(Change::AgainstNothing),
            ),
            (Metric::Pageviews, Figure::Whole(30), Some(Change::By(1.5))),
        ]);
        assert_eq!(
            text(CsvForm::new(Some(Language::English), None), &answer),
            "Metric,Value,Change\nVisitors,12,\nViews,30,1.5\n"
        );
    }

    #[test]
    fn under_a_page_filter_the_dashboards_visits_say_they_began_there() {
        let answer = breakdown(
            Property::Plain(Dim::Source),
            &[Metric::Visitors, Metric::Visits],
            &[("Google", &[Figure::Whole(3), Figure::Whole(0)])],
        );
        let read = |filter: &str| {
            let filter = Filter::parse(filter).unwrap();
            text(CsvForm::new(Some(Language::Dutch), Some(&filter)), &answer)
        };
        assert_eq!(
            read("event:page==/afspraak-maken"),
            "\u{feff}Bron;Bezoekers;Bezoeken die hier begonnen\r\nGoogle;3;0\r\n"
        );
        assert_eq!(
            read("visit:device==mobile"),
            "\u{feff}Bron;Bezoekers;Bezoeken\r\nGoogle;3;0\r\n"
        );
    }

    #[test]
    fn a_breakdown_without_rows_is_one_empty_line() {
        let answer = breakdown(PAGE, &[Metric::Visitors], &[]);
        assert_eq!(text(CsvForm::default(), &answer), "\n");
        assert_eq!(
            text(CsvForm::new(Some(Language::Dutch), None), &answer),
            "\u{feff}\r\n"
        );
    }
}
