//! `GET /api/v1/stats/export`: a zip of every panel for a period (and
//! filter), each a CSV file written from the same answers as the API's,
//! in the dashboard's form when it asks (`lang=`), with the consent
//! choices for the site's own readers; and the names of downloaded files.
//! A file is named after site, panel (`name=`, or the endpoint) and
//! period: `gemeente.example-paginas-2026-11.csv`.

use std::io::Write;

use crate::http::stats::consent;
use crate::http::stats::csv::{CsvForm, Language};
use crate::query::Stats;
use crate::query::fold::Audience;
use crate::query::params::Endpoint;
use crate::query::{Metric, Property, StatsQuery};
use crate::store::{Dim, StoreError};
use Metric::{
    BounceRate, ConversionRate, Events, Pageviews, ScrollDepth, TimeOnPage, ViewsPerVisit,
    VisitDuration, Visitors, Visits,
};

/// The panels of the zip: file name and breakdown property.
const PANELS: [(&str, Panel); 16] = [
    ("pages", Panel::Plain(Dim::Page)),
    ("entry_pages", Panel::Plain(Dim::EntryPage)),
    ("exit_pages", Panel::Plain(Dim::ExitPage)),
    ("sources", Panel::Plain(Dim::Source)),
    ("referrers", Panel::Plain(Dim::Referrer)),
    ("utm_sources", Panel::Plain(Dim::UtmSource)),
    ("utm_mediums", Panel::Plain(Dim::UtmMedium)),
    ("utm_campaigns", Panel::Plain(Dim::UtmCampaign)),
    ("countries", Panel::Plain(Dim::Country)),
    ("browsers", Panel::Plain(Dim::Browser)),
    ("operating_systems", Panel::Plain(Dim::Os)),
    ("devices", Panel::Plain(Dim::Device)),
    ("events", Panel::Plain(Dim::EventName)),
    ("event_properties", Panel::PropertyKeys),
    ("link_targets", Panel::Property("url")),
    ("not_found_paths", Panel::Property("path")),
];

/// A panel's breakdown property, spelt so that it can be a constant.
#[derive(Clone, Copy)]
enum Panel {
    Plain(Dim),
    /// `event:props:KEY`.
    Property(&'static str),
    /// `event:props`.
    PropertyKeys,
}

impl Panel {
    fn property(self) -> Property {
        match self {
            Panel::Plain(dim) => Property::Plain(dim),
            Panel::Property(key) => Property::EventProp(key.to_owned()),
            Panel::PropertyKeys => Property::EventPropKeys,
        }
    }
}

const VISIT_METRICS: [Metric; 6] = [
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
];

/// The same per page and under a page filter, without views per visit.
const PAGE_METRICS: [Metric; 5] = [Visitors, Visits, Pageviews, BounceRate, VisitDuration];

/// What every panel answers under a goal filter.
const GOAL_METRICS: [Metric; 3] = [Visitors, Events, ConversionRate];

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

/// Each file of the zip: its name, endpoint and query, every one made
/// from `scope` (the request's period and filter, `StatsQuery::parse_scope`).
fn panels(scope: &StatsQuery) -> Vec<(&'static str, Endpoint, StatsQuery)> {
    // Under a goal the panels answer its people, events and rate; exit
    // pages, counted when a visit ends, have no goal part.
    let goal = scope.filter.as_ref().is_some_and(|filter| filter.is_goal());
    // Pageviews of a page over the visits that entered on it would mix
    // two groups: no views per visit under a page filter or per page.
    let on_page = scope
        .filter
        .as_ref()
        .is_some_and(|filter| filter.dim == Dim::Page);
    let all_metrics = match (goal, on_page) {
        (true, _) => GOAL_METRICS.to_vec(),
        (false, true) => [PAGE_METRICS.as_slice(), &[Events]].concat(),
        (false, false) => [VISIT_METRICS.as_slice(), &[Events]].concat(),
    };
    let with = |metrics: &[Metric]| StatsQuery {
        metrics: metrics.to_vec(),
        ..scope.clone()
    };
    let mut files = vec![
        ("aggregate", Endpoint::Aggregate, with(&all_metrics)),
        ("timeseries", Endpoint::Timeseries, with(&all_metrics)),
    ];
    // Scroll depth and time on page are answered per page, unfiltered or
    // under a page filter.
    let page_metrics = match scope.filter.is_none() || on_page {
        true => [PAGE_METRICS.as_slice(), &[ScrollDepth, TimeOnPage]].concat(),
        false => PAGE_METRICS.to_vec(),
    };
    for (name, panel) in PANELS {
        let metrics: &[Metric] = match panel {
            Panel::Plain(Dim::ExitPage) if goal => continue,
            Panel::Plain(Dim::ExitPage) => &[Visits],
            Panel::PropertyKeys => &[Events],
            _ if goal => &GOAL_METRICS,
            Panel::Plain(Dim::EntryPage) => &[Visitors, Visits, BounceRate, VisitDuration],
            Panel::Plain(Dim::EventName) | Panel::Property(_) => &[Visitors, Events],
            Panel::Plain(Dim::Page) => &page_metrics,
            _ if on_page => &PAGE_METRICS,
            _ => &VISIT_METRICS,
        };
        let query = StatsQuery {
            property: Some(panel.property()),
            limit: 1000,
            ..with(metrics)
        };
        files.push((name, Endpoint::Breakdown, query));
    }
    for (name, endpoint, query) in &files {
        debug_assert_eq!(query.check(*endpoint), Ok(()), "the {name} panel");
    }
    files
}

/// The zip of every panel for the period and filter of `scope`, in the
/// form of `language` (none: the API's).
pub(in crate::http) fn zip(
    stats: &Stats,
    scope: &StatsQuery,
    language: Option<Language>,
) -> Result<Vec<u8>, StoreError> {
    let form = CsvForm::new(language, scope.filter.as_ref());
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, endpoint, query) in panels(scope) {
        let answer = stats.answer(endpoint, &query)?;
        files.push((format!("{name}.csv"), form.write(&answer)));
    }
    // The site's own readers also get its consent choices.
    if stats.audience == Audience::Owner {
        let range = scope.range;
        let tallies = stats
            .store
            .consent_tallies(stats.site, range.first, range.last)?;
        files.push((
            "consent.csv".to_owned(),
            consent::csv(&consent::rows(&tallies)),
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
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Filter;

    fn scope(filter: Option<&str>) -> StatsQuery {
        let mut params = std::collections::HashMap::from([("period".to_owned(), "7d".to_owned())]);
        if let Some(filter) = filter {
            params.insert("filters".to_owned(), filter.to_owned());
        }
        StatsQuery::parse_scope(&params, 490_000).unwrap()
    }

    #[test]
    fn every_panel_is_a_query_the_api_accepts_under_every_kind_of_filter() {
        for filter in [
            None,
            Some("event:page==/afval"),
            Some("event:goal==Formulier"),
            Some("visit:source==Google"),
            Some("visit:utm_campaign==herfst"),
            Some("visit:country==NL"),
            Some("visit:device==mobile"),
        ] {
            let scope = scope(filter);
            assert_eq!(
                scope.filter,
                filter.map(|text| Filter::parse(text).unwrap())
            );
            for (name, endpoint, query) in panels(&scope) {
                assert_eq!(query.check(endpoint), Ok(()), "{name} under {filter:?}");
                assert_eq!((query.range, &query.filter), (scope.range, &scope.filter));
            }
        }
    }

    #[test]
    fn under_a_goal_there_are_no_exit_pages_and_every_panel_answers_the_goals_figures() {
        let panels = panels(&scope(Some("event:goal==Formulier")));
        assert!(panels.iter().all(|(name, _, _)| *name != "exit_pages"));
        let (_, _, pages) = panels.iter().find(|(name, _, _)| *name == "pages").unwrap();
        assert_eq!(pages.metrics, GOAL_METRICS);
        assert_eq!(panels.len(), 2 + PANELS.len() - 1);
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
