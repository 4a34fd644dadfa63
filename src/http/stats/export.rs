//! Exports: any stats answer as CSV (`format=csv` on aggregate, timeseries,
//! breakdown and consent), and `GET /api/v1/stats/export`, a zip of every
//! panel for a period (with the consent choices for the site's own
//! readers). Built from the same answers as the JSON, so an export
//! folds small counts exactly as the API does for the same reader.
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
//! cells, decimal points, the answer's field names. With `lang=nl` or
//! `lang=en` (the dashboard's links) the headers are the dashboard's
//! words and the columns its order (the dimension, then the metrics as
//! asked); in Dutch the file is also what Dutch Excel opens by a double
//! click: `;` between cells, decimal commas, a UTF-8 byte order mark and
//! CRLF line ends. A file is named after site, panel (`name=`, or the
//! endpoint) and period: `gemeente.example-paginas-2026-11.csv`.

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value as Json;

use crate::query::compute::Stats;
use crate::query::fold::Audience;
use crate::query::params::Endpoint;
use crate::query::{Filter, QueryError, StatsQuery};
use crate::store::{Dim, StoreError};

/// The panels of the zip: file name and breakdown property.
const PANELS: [(&str, &str); 16] = [
    ("pages", "event:page"),
    ("entry_pages", "visit:entry_page"),
    ("exit_pages", "visit:exit_page"),
    ("sources", "visit:source"),
    ("referrers", "visit:referrer"),
    ("utm_sources", "visit:utm_source"),
    ("utm_mediums", "visit:utm_medium"),
    ("utm_campaigns", "visit:utm_campaign"),
    ("countries", "visit:country"),
    ("browsers", "visit:browser"),
    ("operating_systems", "visit:os"),
    ("devices", "visit:device"),
    ("events", "event:name"),
    ("event_properties", "event:props"),
    ("link_targets", "event:props:url"),
    ("not_found_paths", "event:props:path"),
];

const VISIT_METRICS: &str = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration";

/// The same per page and under a page filter, without views per visit.
const PAGE_METRICS: &str = "visitors,visits,pageviews,bounce_rate,visit_duration";

/// What every panel answers under a goal filter.
const GOAL_METRICS: &str = "visitors,events,conversion_rate";

/// What makes a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Where a spreadsheet may start a new cell inside a text: the delimiter
/// of either locale, a tab, a line break.
const CELL_BREAKS: [char; 5] = [',', ';', '\t', '\n', '\r'];

/// A value as one field: numbers as they are, text defused and quoted.
fn cell(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(text) => quoted(&defused(text)),
        other => other.to_string(),
    }
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

/// The language of a dashboard's CSV (`lang=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::http) enum Language {
    Dutch,
    English,
}

/// How a CSV is written: the API's form, or a dashboard's (see the top).
#[derive(Clone, Debug, Default)]
pub(in crate::http) struct CsvForm {
    language: Option<Language>,
    /// The metrics in the order asked (`metrics=`).
    order: Vec<String>,
    /// Under a page filter, visits are those that entered on the page,
    /// and the dashboard's headers say so.
    on_page: bool,
}

impl CsvForm {
    /// The form that `lang=` and `metrics=` ask for; the API's without `lang`.
    pub(in crate::http) fn from_params(params: &HashMap<String, String>) -> CsvForm {
        let language = match params.get("lang").map(String::as_str) {
            Some("nl") => Some(Language::Dutch),
            Some("en") => Some(Language::English),
            _ => None,
        };
        let order = params
            .get("metrics")
            .map(|text| text.split(',').map(|name| name.trim().to_owned()).collect())
            .unwrap_or_default();
        let on_page = params
            .get("filters")
            .is_some_and(|filter| filter.trim_start().starts_with("event:page=="));
        CsvForm {
            language,
            order,
            on_page,
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

    /// A value as one field; in Dutch a number has a decimal comma.
    fn field(&self, value: &Json) -> String {
        match value {
            Json::Number(number) if self.dutch_excel() => number.to_string().replace('.', ","),
            other => cell(other),
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
        cell(&Json::from(word.unwrap_or(name)))
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

    /// The metrics of a row in this form's order: as asked for a
    /// dashboard, as the answer has them for the API.
    fn ordered(&self, mut metrics: Vec<String>) -> Vec<String> {
        if self.language.is_some() {
            let rank = |name: &String| self.order.iter().position(|asked| asked == name);
            metrics.sort_by_key(|name| rank(name).unwrap_or(usize::MAX));
        }
        metrics
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

/// Appends one line of fields in the API's form.
#[cfg(test)]
fn push_record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    CsvForm::default().push_record(out, fields)
}

/// A stats answer (`{"results": …}`) as CSV in the API's form.
#[cfg(test)]
fn csv(endpoint: Endpoint, answer: &Json) -> Vec<u8> {
    csv_in(&CsvForm::default(), endpoint, answer)
}

/// A stats answer (`{"results": …}`) as CSV in `form`.
pub(in crate::http) fn csv_in(form: &CsvForm, endpoint: Endpoint, answer: &Json) -> Vec<u8> {
    let mut out = String::new();
    if form.dutch_excel() {
        out.push('\u{feff}');
    }
    let results = &answer["results"];
    match endpoint {
        Endpoint::Aggregate => {
            form.push_record(
                &mut out,
                ["metric", "value", "change"].map(|name| form.header(name)),
            );
            let metrics = results
                .as_object()
                .map(|all| all.keys().cloned().collect())
                .unwrap_or_default();
            for metric in form.ordered(metrics) {
                let entry = &results[metric.as_str()];
                form.push_record(
                    &mut out,
                    [
                        form.header(&metric),
                        form.field(&entry["value"]),
                        form.field(&entry["change"]),
                    ],
                );
            }
        }
        Endpoint::Timeseries | Endpoint::Breakdown => {
            let rows = results.as_array().map(Vec::as_slice).unwrap_or(&[]);
            let header: Vec<String> = rows
                .first()
                .and_then(Json::as_object)
                .map(|row| row.keys().cloned().collect())
                .unwrap_or_default();
            // The dimension first (date, page, …), then the metrics.
            let is_metric =
                |key: &String| rows[0][key.as_str()].is_number() || rows[0][key.as_str()].is_null();
            let (metrics, mut ordered): (Vec<String>, Vec<String>) =
                header.into_iter().partition(is_metric);
            ordered.extend(form.ordered(metrics));
            form.push_record(&mut out, ordered.iter().map(|name| form.header(name)));
            for row in rows {
                form.push_record(
                    &mut out,
                    ordered.iter().map(|key| form.field(&row[key.as_str()])),
                );
            }
        }
    }
    out.into_bytes()
}

/// A file's name without `.csv`: site, what (a panel's `name=`, kept to
/// lower-case letters, digits and `-`), and the period — a day, a
/// calendar month, a calendar year, or first and last day.
pub(in crate::http) fn file_name(
    site: &str,
    what: &str,
    first: jiff::civil::Date,
    last: jiff::civil::Date,
) -> String {
    let what: String = what
        .chars()
        .filter_map(|char| match char.to_ascii_lowercase() {
            'a'..='z' | '0'..='9' | '-' => Some(char.to_ascii_lowercase()),
            ' ' | '_' => Some('-'),
            _ => None,
        })
        .take(40)
        .collect();
    let what = if what.is_empty() {
        "export".to_owned()
    } else {
        what
    };
    format!("{site}-{what}-{}", period_name(first, last))
}

/// A period in a file name: a day, a calendar month, a calendar year, or
/// first and last day.
pub(in crate::http) fn period_name(first: jiff::civil::Date, last: jiff::civil::Date) -> String {
    if first == last {
        first.strftime("%Y-%m-%d").to_string()
    } else if first.day() == 1 && last == first.last_of_month() {
        first.strftime("%Y-%m").to_string()
    } else if first.day_of_year() == 1 && last == first.last_of_year() {
        first.strftime("%Y").to_string()
    } else {
        format!(
            "{}_{}",
            first.strftime("%Y-%m-%d"),
            last.strftime("%Y-%m-%d")
        )
    }
}

/// The zip of every panel for the period (and filter) of `params`.
pub(in crate::http) fn zip(
    stats: &Stats,
    params: &HashMap<String, String>,
    now_hour: i32,
    compute: impl Fn(&Stats, Endpoint, &StatsQuery) -> Result<Json, StoreError>,
) -> Result<Result<Vec<u8>, QueryError>, StoreError> {
    let with = |extra: &[(&str, &str)]| {
        let mut all: HashMap<String, String> = params
            .iter()
            .filter(|(key, _)| {
                ["period", "date", "filters", "share", "lang"].contains(&key.as_str())
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        all.extend(
            extra
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string())),
        );
        all
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str,
                   endpoint: Endpoint,
                   extra: &[(&str, &str)]|
     -> Result<Result<(), QueryError>, StoreError> {
        let query = match StatsQuery::parse(endpoint, &with(extra), now_hour) {
            Ok(query) => query,
            Err(error) => return Ok(Err(error)),
        };
        let answer = compute(stats, endpoint, &query)?;
        // In the dashboard's language and form when it asks (`lang=`).
        let form = CsvForm::from_params(&with(extra));
        files.push((format!("{name}.csv"), csv_in(&form, endpoint, &answer)));
        Ok(Ok(()))
    };
    // Under a goal the panels answer its people, events and rate; exit
    // pages, counted when a visit ends, have no goal part.
    let filter = params
        .get("filters")
        .and_then(|text| Filter::parse(text).ok());
    let goal = filter.as_ref().is_some_and(Filter::is_goal);
    // Pageviews of a page over the visits that entered on it would mix
    // two groups: no views per visit under a page filter or per page.
    let on_page = filter
        .as_ref()
        .is_some_and(|filter| filter.dim == Dim::Page);
    let all_metrics = match (goal, on_page) {
        (true, _) => GOAL_METRICS.to_owned(),
        (false, true) => format!("{PAGE_METRICS},events"),
        (false, false) => format!("{VISIT_METRICS},events"),
    };
    if let Err(error) = add(
        "aggregate",
        Endpoint::Aggregate,
        &[("metrics", &all_metrics)],
    )? {
        return Ok(Err(error));
    }
    if let Err(error) = add(
        "timeseries",
        Endpoint::Timeseries,
        &[("metrics", &all_metrics)],
    )? {
        return Ok(Err(error));
    }
    // Scroll depth and time on page are answered per page, unfiltered or
    // under a page filter.
    let page_metrics = match filter.is_none() || on_page {
        true => format!("{PAGE_METRICS},scroll_depth,time_on_page"),
        false => PAGE_METRICS.to_owned(),
    };
    for (name, property) in PANELS {
        let metrics = match property {
            "visit:exit_page" if goal => continue,
            "visit:exit_page" => "visits",
            "event:props" => "events",
            _ if goal => GOAL_METRICS,
            "visit:entry_page" => "visitors,visits,bounce_rate,visit_duration",
            _ if property.starts_with("event:") && property != "event:page" => "visitors,events",
            "event:page" => &page_metrics,
            _ if on_page => PAGE_METRICS,
            _ => VISIT_METRICS,
        };
        let extra = [
            ("property", property),
            ("metrics", metrics),
            ("limit", "1000"),
        ];
        if let Err(error) = add(name, Endpoint::Breakdown, &extra)? {
            return Ok(Err(error));
        }
    }
    // The site's own readers also get its consent choices.
    if stats.audience == Audience::Owner {
        let range = match StatsQuery::parse(Endpoint::Aggregate, &with(&[]), now_hour) {
            Ok(query) => query.range,
            Err(error) => return Ok(Err(error)),
        };
        let tallies = stats
            .store
            .consent_tallies(stats.site, range.first, range.last)?;
        files.push((
            "consent.csv".to_owned(),
            crate::http::stats::consent::csv(&crate::http::stats::consent::rows(&tallies)),
        ));
    }
    let mut archive = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        archive
            .start_file(name, options)
            .and_then(|()| archive.write_all(&bytes).map_err(Into::into))
            .map_err(|error| StoreError::Operation(format!("zip: {error}")))?;
    }
    let cursor = archive
        .finish()
        .map_err(|error| StoreError::Operation(format!("zip: {error}")))?;
    Ok(Ok(cursor.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn breakdowns_become_csv_with_the_dimension_first_and_formulas_defused() {
        let answer = json!({ "results": [
            { "visitors": 3, "page": "/afval" },
            { "visitors": 2, "page": "=HYPERLINK(\"http://evil\")" },
            { "visitors": 1, "page": "/a,b" },
        ]});
        let text = String::from_utf8(csv(Endpoint::Breakdown, &answer)).unwrap();
        assert_eq!(
            text,
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
        assert_eq!(cell(&json!("/x;=1+1;")), "\"/x;'=1+1;\"");
        assert_eq!(cell(&json!(-50)), "-50", "numbers stay numbers");
        assert_eq!(cell(&json!(2.25)), "2.25");
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
        for text in &texts {
            let mut lines = String::new();
            push_record(&mut lines, [cell(&json!(text)), "-1".to_owned()]);
            push_record(
                &mut lines,
                ["x".to_owned(), cell(&json!(text)), "-1".to_owned()],
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
        let answer = json!({ "results": {
            "visitors": { "value": 12, "change": 50 },
            "pageviews": { "value": null },
        }});
        let text = String::from_utf8(csv(Endpoint::Aggregate, &answer)).unwrap();
        assert_eq!(text, "metric,value,change\npageviews,,\nvisitors,12,50\n");
    }

    #[test]
    fn the_dutch_form_opens_in_dutch_excel_with_the_panels_words_and_order() {
        let params: HashMap<String, String> = [
            ("lang", "nl"),
            ("metrics", "visitors,views_per_visit,pageviews"),
        ]
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .into();
        let answer = json!({ "results": [
            { "visitors": 3, "pageviews": 7, "views_per_visit": 2.25, "page": "/afval;=1" },
        ]});
        let text = String::from_utf8(csv_in(
            &CsvForm::from_params(&params),
            Endpoint::Breakdown,
            &answer,
        ))
        .unwrap();
        assert_eq!(
            text,
            "\u{feff}Pagina;Bezoekers;Pagina’s per bezoek;Weergaven\r\n\"/afval;'=1\";3;2,25;7\r\n"
        );
        let english: HashMap<String, String> = [("lang", "en"), ("metrics", "visitors,pageviews")]
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .into();
        let answer = json!({ "results": { "visitors": { "value": 12, "change": null }, "pageviews": { "value": 30, "change": 1.5 } } });
        let text = String::from_utf8(csv_in(
            &CsvForm::from_params(&english),
            Endpoint::Aggregate,
            &answer,
        ))
        .unwrap();
        assert_eq!(text, "Metric,Value,Change\nVisitors,12,\nViews,30,1.5\n");
    }

    #[test]
    fn under_a_page_filter_the_dashboards_visits_say_they_began_there() {
        let params = |filter: &str| -> HashMap<String, String> {
            [
                ("lang", "nl"),
                ("metrics", "visitors,visits"),
                ("filters", filter),
            ]
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .into()
        };
        let answer = json!({ "results": [{ "visitors": 3, "visits": 0, "source": "Google" }] });
        let read = |filter: &str| {
            String::from_utf8(csv_in(
                &CsvForm::from_params(&params(filter)),
                Endpoint::Breakdown,
                &answer,
            ))
            .unwrap()
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
    fn a_file_is_named_after_site_panel_and_period() {
        use jiff::civil::date;
        for (what, first, last, expected) in [
            (
                "paginas",
                date(2026, 11, 1),
                date(2026, 11, 30),
                "gemeente.example-paginas-2026-11",
            ),
            (
                "Bronnen",
                date(2026, 11, 3),
                date(2026, 11, 3),
                "gemeente.example-bronnen-2026-11-03",
            ),
            (
                "doelen",
                date(2025, 1, 1),
                date(2025, 12, 31),
                "gemeente.example-doelen-2025",
            ),
            (
                "../x\"y",
                date(2026, 11, 17),
                date(2026, 11, 23),
                "gemeente.example-xy-2026-11-17_2026-11-23",
            ),
            (
                "",
                date(2026, 11, 1),
                date(2026, 11, 29),
                "gemeente.example-export-2026-11-01_2026-11-29",
            ),
        ] {
            assert_eq!(
                file_name("gemeente.example", what, first, last),
                expected,
                "{what:?}"
            );
        }
    }
}
