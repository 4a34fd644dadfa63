//! The CSV writer's tests: formulas defused in every reading, and each
//! form's delimiters, words and order.

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
