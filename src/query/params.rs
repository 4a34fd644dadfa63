//! Parsing stats parameters into a query.
//!
//! Vocabulary follows the Plausible Stats API v1 where the meaning is the
//! same. Every refusal has a stable code the edge sends to the client.

use std::collections::HashMap;

use jiff::civil::Date;

use super::period::DateRange;
use crate::calendar::Day;
use crate::store::Dim;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    #[error("invalid period {0:?}: use day, 7d, 30d, month, 6mo, 12mo or custom")]
    Period(String),
    #[error("invalid date {0:?}: use YYYY-MM-DD, or YYYY-MM-DD,YYYY-MM-DD for a custom period")]
    Date(String),
    #[error("invalid metric {0:?}")]
    Metric(String),
    #[error("metric {metric} is not available for property {property}")]
    MetricForProperty {
        metric: &'static str,
        property: String,
    },
    #[error("invalid property {0:?}")]
    Property(String),
    #[error("metric {0} needs a goal: filters=event:goal==NAME, or property=event:name")]
    MetricNeedsGoal(&'static str),
    #[error(
        "metric {0} is not available under a goal filter: use visitors, events or conversion_rate"
    )]
    MetricForGoal(&'static str),
    #[error(
        "metric {0} is not available under a page filter: the page's pageviews and the visits that entered on it are different groups"
    )]
    MetricForPage(&'static str),
    #[error(
        "property {0} is not available under a goal filter: a goal is counted when it is sent, and a visit's exit page only when the visit ends"
    )]
    PropertyForGoal(String),
    #[error(
        "invalid filter {0:?}: use PROPERTY==VALUE with one of event:page, event:goal, visit:source, visit:utm_campaign, visit:country, visit:device"
    )]
    Filter(String),
    #[error("invalid interval {0:?}: use hour (periods up to 31 days), day or month")]
    Interval(String),
    #[error("invalid {0}: use a whole number between 1 and {1}")]
    Number(&'static str, usize),
    #[error("invalid compare {0:?}: only previous_period is supported")]
    Compare(String),
    #[error(
        "metric {0} is a page's figure: use it with property=event:page, or in an aggregate under filters=event:page==PATH"
    )]
    MetricForPages(&'static str),
}

impl QueryError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::Missing(_) => "missing_parameter",
            QueryError::Period(_) => "invalid_period",
            QueryError::Date(_) => "invalid_date",
            QueryError::Metric(_)
            | QueryError::MetricForProperty { .. }
            | QueryError::MetricNeedsGoal(_)
            | QueryError::MetricForGoal(_)
            | QueryError::MetricForPage(_)
            | QueryError::MetricForPages(_) => "invalid_metric",
            QueryError::Property(_) | QueryError::PropertyForGoal(_) => "invalid_property",
            QueryError::Filter(_) => "invalid_filter",
            QueryError::Interval(_) => "invalid_interval",
            QueryError::Number(..) => "invalid_pagination",
            QueryError::Compare(_) => "invalid_compare",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
    Events,
    /// Visitors who sent the goal, in percent of the visitors of the same
    /// row, bucket or period without the goal filter.
    ConversionRate,
    /// A page's average deepest scroll point per pageview with a reported
    /// depth, in percent (from engagement reports).
    ScrollDepth,
    /// A page's average engaged time per pageview with an engagement
    /// report, in seconds.
    TimeOnPage,
}

impl Metric {
    pub fn parse(text: &str) -> Result<Metric, QueryError> {
        Ok(match text {
            "visitors" => Metric::Visitors,
            "visits" => Metric::Visits,
            "pageviews" => Metric::Pageviews,
            "views_per_visit" => Metric::ViewsPerVisit,
            "bounce_rate" => Metric::BounceRate,
            "visit_duration" => Metric::VisitDuration,
            "events" => Metric::Events,
            "conversion_rate" => Metric::ConversionRate,
            "scroll_depth" => Metric::ScrollDepth,
            "time_on_page" => Metric::TimeOnPage,
            _ => return Err(QueryError::Metric(text.to_owned())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::ConversionRate => "conversion_rate",
            Metric::ScrollDepth => "scroll_depth",
            Metric::TimeOnPage => "time_on_page",
        }
    }

    /// Figures from a page's engagement reports, stored apart from its
    /// other counts (`store::Dim::Engagement`).
    pub fn is_engagement_metric(self) -> bool {
        matches!(self, Metric::ScrollDepth | Metric::TimeOnPage)
    }

    /// Figures per visit, which need k visits of their own in public.
    pub(crate) fn is_visit_metric(self) -> bool {
        matches!(
            self,
            Metric::Visits | Metric::ViewsPerVisit | Metric::BounceRate | Metric::VisitDuration
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    Plain(Dim),
    /// `event:props:KEY`.
    EventProp(String),
    /// `event:props`: the keys the period's events carry, each with the
    /// events that carried it (rows of `Dim::EventProp` summed per key).
    EventPropKeys,
}

impl Property {
    pub fn parse(text: &str) -> Result<Property, QueryError> {
        if text == "event:props" {
            return Ok(Property::EventPropKeys);
        }
        if let Some(key) = text.strip_prefix("event:props:") {
            if key.is_empty() || key.len() > 300 {
                return Err(QueryError::Property(text.to_owned()));
            }
            return Ok(Property::EventProp(key.to_owned()));
        }
        let dim = match text {
            "event:page" => Dim::Page,
            "visit:entry_page" => Dim::EntryPage,
            "visit:exit_page" => Dim::ExitPage,
            "visit:source" => Dim::Source,
            "visit:referrer" => Dim::Referrer,
            "visit:utm_source" => Dim::UtmSource,
            "visit:utm_medium" => Dim::UtmMedium,
            "visit:utm_campaign" => Dim::UtmCampaign,
            "visit:country" => Dim::Country,
            "visit:browser" => Dim::Browser,
            "visit:os" => Dim::Os,
            "visit:device" => Dim::Device,
            "event:name" => Dim::EventName,
            _ => return Err(QueryError::Property(text.to_owned())),
        };
        Ok(Property::Plain(dim))
    }

    pub fn dim(&self) -> Dim {
        match self {
            Property::Plain(dim) => *dim,
            Property::EventProp(_) | Property::EventPropKeys => Dim::EventProp,
        }
    }

    /// The property as clients spell it (`visit:exit_page`).
    pub fn name(&self) -> String {
        match self {
            Property::EventProp(key) => format!("event:props:{key}"),
            Property::EventPropKeys => "event:props".to_owned(),
            Property::Plain(Dim::Page | Dim::EventName) => format!("event:{}", self.field()),
            Property::Plain(_) => format!("visit:{}", self.field()),
        }
    }

    /// The field name of the property's value in a breakdown row.
    pub fn field(&self) -> &str {
        match self {
            Property::EventProp(key) => key,
            Property::EventPropKeys => "prop_key",
            Property::Plain(dim) => match dim {
                Dim::Page => "page",
                Dim::EntryPage => "entry_page",
                Dim::ExitPage => "exit_page",
                Dim::Source => "source",
                Dim::Referrer => "referrer",
                Dim::UtmSource => "utm_source",
                Dim::UtmMedium => "utm_medium",
                Dim::UtmCampaign => "utm_campaign",
                Dim::Country => "country",
                Dim::Browser => "browser",
                Dim::Os => "os",
                Dim::Device => "device",
                Dim::EventName => "name",
                Dim::EventProp | Dim::Engagement | Dim::None => "value",
            },
        }
    }

    /// Which metrics a breakdown by this property can answer.
    fn allows(&self, metric: Metric) -> bool {
        // A visitor is counted once per value, not per key: summed over a
        // key's values, visitors would count one person once per value.
        if *self == Property::EventPropKeys {
            return metric == Metric::Events;
        }
        match self.dim() {
            Dim::EventName => !metric.is_visit_metric() && metric != Metric::Pageviews,
            // Pageviews carry properties too (Plausible's `pageview` with
            // `props`): a value's pageviews are those that carried it.
            Dim::EventProp => !metric.is_visit_metric(),
            Dim::ExitPage => metric == Metric::Visits,
            // A page's row holds its pageviews and the visits that entered
            // on it: views per visit would divide one group by another.
            // An entry page's row holds its visits only.
            Dim::Page => metric != Metric::ViewsPerVisit,
            Dim::EntryPage => !matches!(
                metric,
                Metric::Pageviews | Metric::Events | Metric::ViewsPerVisit
            ),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dim: Dim,
    pub value: String,
}

impl Filter {
    /// `event:goal==NAME`: the people who sent the custom event NAME.
    pub(crate) fn is_goal(&self) -> bool {
        self.dim == Dim::EventName
    }

    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let refuse = || QueryError::Filter(text.to_owned());
        let (property, value) = text.split_once("==").ok_or_else(refuse)?;
        if value.is_empty() || value.contains(';') || value.contains('|') || value.len() > 1024 {
            return Err(refuse());
        }
        let (dim, value) = match property.trim() {
            "event:page" => (Dim::Page, value.to_owned()),
            "event:goal" => (Dim::EventName, value.to_owned()),
            "visit:source" => (Dim::Source, value.to_owned()),
            "visit:utm_campaign" => (Dim::UtmCampaign, value.to_owned()),
            "visit:country" => (Dim::Country, value.to_ascii_uppercase()),
            "visit:device" => (Dim::Device, value.to_ascii_lowercase()),
            _ => return Err(refuse()),
        };
        Ok(Filter { dim, value })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Aggregate,
    Timeseries,
    Breakdown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    pub range: DateRange,
    pub compare: bool,
    /// The site's local hour now (hours since 1970-01-01T00 local): where
    /// a running period ends, for its series and its comparison.
    pub(crate) now_hour: i32,
    pub metrics: Vec<Metric>,
    pub property: Option<Property>,
    pub filter: Option<Filter>,
    pub interval: Interval,
    pub limit: usize,
    pub page: usize,
}

pub const MAX_LIMIT: usize = 1_000;

impl StatsQuery {
    /// `now_hour` is the site's current local hour (`sites::Moment::hour`).
    pub fn parse(
        endpoint: Endpoint,
        params: &HashMap<String, String>,
        now_hour: i32,
    ) -> Result<StatsQuery, QueryError> {
        let today = now_hour.div_euclid(24);
        let get = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let range = parse_range(get("period").unwrap_or("30d"), get("date"), today)?;
        let property = match endpoint {
            Endpoint::Breakdown => Some(Property::parse(
                get("property").ok_or(QueryError::Missing("property"))?,
            )?),
            _ => None,
        };
        // Exit pages answer visits only, and property keys events only,
        // so that is their default.
        let default_metric = match &property {
            Some(Property::Plain(Dim::ExitPage)) => "visits",
            Some(Property::EventPropKeys) => "events",
            _ => "visitors",
        };
        let metrics = get("metrics")
            .unwrap_or(default_metric)
            .split(',')
            .map(|name| Metric::parse(name.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let filter = get("filters").map(Filter::parse).transpose()?;
        check_all(endpoint, filter.as_ref(), property.as_ref(), &metrics)?;
        let compare = match get("compare") {
            None => false,
            Some("previous_period") => true,
            Some(other) => return Err(QueryError::Compare(other.to_owned())),
        };
        Ok(StatsQuery {
            range,
            compare,
            now_hour,
            metrics,
            property,
            filter,
            interval: parse_interval(get("interval"), get("period").unwrap_or("30d"), range)?,
            limit: parse_number(get("limit"), "limit", 100, MAX_LIMIT)?,
            page: parse_number(get("page"), "page", 1, 100_000)?,
        })
    }

    /// The period and filter of a request (`period`, `date`, `filters`),
    /// read as `parse` reads them, with every other choice at its default:
    /// where an export of every panel starts from.
    pub fn parse_scope(
        params: &HashMap<String, String>,
        now_hour: i32,
    ) -> Result<StatsQuery, QueryError> {
        let get = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let period = get("period").unwrap_or("30d");
        let range = parse_range(period, get("date"), now_hour.div_euclid(24))?;
        let filter = get("filters").map(Filter::parse).transpose()?;
        Ok(StatsQuery {
            range,
            compare: false,
            now_hour,
            metrics: vec![Metric::Visitors],
            property: None,
            filter,
            interval: parse_interval(None, period, range)?,
            limit: 100,
            page: 1,
        })
    }

    /// Whether `endpoint` can answer this query's metrics under its filter
    /// and property (as `parse` checks them).
    pub(crate) fn check(&self, endpoint: Endpoint) -> Result<(), QueryError> {
        check_all(
            endpoint,
            self.filter.as_ref(),
            self.property.as_ref(),
            &self.metrics,
        )
    }
}

/// Refuses metrics the endpoint cannot answer under this filter and
/// property.
fn check_all(
    endpoint: Endpoint,
    filter: Option<&Filter>,
    property: Option<&Property>,
    metrics: &[Metric],
) -> Result<(), QueryError> {
    check_metrics(filter, property, metrics)?;
    check_engagement(endpoint, filter, property, metrics)?;
    // A row holds the property's value under its field name beside the
    // metrics, so a property key may not be a requested metric's name.
    if let Some(Property::EventProp(key)) = property
        && metrics.iter().any(|metric| metric.name() == key)
    {
        return Err(QueryError::Property(format!("event:props:{key}")));
    }
    Ok(())
}

/// Refuses a metric the rows under this filter and property cannot
/// answer. A goal's rows hold the people who sent it and its events,
/// counted when it was sent: no visits, no pageviews, no exit pages. A
/// conversion rate needs a goal: the filter's, or each row's under
/// `event:name`.
fn check_metrics(
    filter: Option<&Filter>,
    property: Option<&Property>,
    metrics: &[Metric],
) -> Result<(), QueryError> {
    let goal = filter.is_some_and(Filter::is_goal);
    if goal && property == Some(&Property::Plain(Dim::ExitPage)) {
        return Err(QueryError::PropertyForGoal("visit:exit_page".to_owned()));
    }
    let page = filter.is_some_and(|filter| filter.dim == Dim::Page);
    for metric in metrics.iter().copied() {
        if goal && (metric.is_visit_metric() || metric == Metric::Pageviews) {
            return Err(QueryError::MetricForGoal(metric.name()));
        }
        if page && metric == Metric::ViewsPerVisit {
            return Err(QueryError::MetricForPage(metric.name()));
        }
        let goal_per_row = property == Some(&Property::Plain(Dim::EventName));
        if metric == Metric::ConversionRate && !goal && !goal_per_row {
            return Err(QueryError::MetricNeedsGoal(metric.name()));
        }
        // Under a goal every row counts the goal's events, entry pages too.
        let allowed = match property {
            None => true,
            Some(Property::Plain(Dim::EntryPage)) if goal => true,
            Some(property) => property.allows(metric),
        };
        if let (false, Some(property)) = (allowed, property) {
            return Err(QueryError::MetricForProperty {
                metric: metric.name(),
                property: property.name(),
            });
        }
    }
    Ok(())
}

/// Scroll depth and time on page are stored per page and day, unfiltered:
/// they answer a breakdown by page (unfiltered, or under a page filter)
/// and a page's aggregate, nothing else.
fn check_engagement(
    endpoint: Endpoint,
    filter: Option<&Filter>,
    property: Option<&Property>,
    metrics: &[Metric],
) -> Result<(), QueryError> {
    let Some(metric) = metrics.iter().find(|metric| metric.is_engagement_metric()) else {
        return Ok(());
    };
    let page_filter = filter.is_some_and(|filter| filter.dim == Dim::Page);
    let answerable = match endpoint {
        Endpoint::Breakdown => {
            property == Some(&Property::Plain(Dim::Page)) && (filter.is_none() || page_filter)
        }
        Endpoint::Aggregate => page_filter,
        Endpoint::Timeseries => false,
    };
    match answerable {
        true => Ok(()),
        false => Err(QueryError::MetricForPages(metric.name())),
    }
}

/// Years before 1 are refused: the calendar ends at -9999, so a period reaching back from
/// there would count days that have no date (and answers show dates as `YYYY-MM-DD`).
fn parse_date(text: &str) -> Result<Date, QueryError> {
    text.trim()
        .parse::<Date>()
        .ok()
        .filter(|date| date.year() >= 1)
        .ok_or_else(|| QueryError::Date(text.to_owned()))
}

pub(crate) fn parse_range(
    period: &str,
    date: Option<&str>,
    today: i32,
) -> Result<DateRange, QueryError> {
    if period == "custom" {
        let text = date.ok_or(QueryError::Missing("date"))?;
        let (first, last) = text
            .split_once(',')
            .ok_or_else(|| QueryError::Date(text.to_owned()))?;
        let range = DateRange {
            first: Day::of(parse_date(first)?).number(),
            last: Day::of(parse_date(last)?).number(),
        };
        if range.first > range.last || range.days() > 3_700 {
            return Err(QueryError::Date(text.to_owned()));
        }
        return Ok(range);
    }
    let anchor = match date {
        Some(text) => Day::of(parse_date(text)?).number(),
        None => today,
    };
    let anchor_day = Day::new(anchor);
    let months_back = |months: i32| DateRange {
        first: anchor_day.first_of_month_back(months - 1).number(),
        last: anchor,
    };
    Ok(match period {
        "day" => DateRange {
            first: anchor,
            last: anchor,
        },
        "7d" => DateRange {
            first: anchor - 6,
            last: anchor,
        },
        "30d" => DateRange {
            first: anchor - 29,
            last: anchor,
        },
        "month" => DateRange {
            first: anchor_day.first_of_month().number(),
            last: anchor_day.last_of_month().number(),
        },
        "6mo" => months_back(6),
        "12mo" => months_back(12),
        other => return Err(QueryError::Period(other.to_owned())),
    })
}

fn parse_interval(
    text: Option<&str>,
    period: &str,
    range: DateRange,
) -> Result<Interval, QueryError> {
    let interval = match text {
        None if period == "day" => Interval::Hour,
        None if period == "12mo" || period == "6mo" => Interval::Month,
        None | Some("day") | Some("date") => Interval::Day,
        Some("hour") => Interval::Hour,
        Some("month") => Interval::Month,
        Some(other) => return Err(QueryError::Interval(other.to_owned())),
    };
    if interval == Interval::Hour && range.days() > 31 {
        return Err(QueryError::Interval("hour".to_owned()));
    }
    Ok(interval)
}

fn parse_number(
    text: Option<&str>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, QueryError> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or(QueryError::Number(name, max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// 10:00 on 2026-11-23, as a local hour.
    fn now() -> i32 {
        Day::of("2026-11-23".parse().unwrap()).number() * 24 + 10
    }

    fn range(pairs: &[(&str, &str)]) -> Result<(String, String), QueryError> {
        let query = StatsQuery::parse(Endpoint::Aggregate, &params(pairs), now())?;
        Ok((
            Day::new(query.range.first).to_string(),
            Day::new(query.range.last).to_string(),
        ))
    }

    fn check(pairs: &[(&str, &str)], expected: (&str, &str)) {
        assert_eq!(
            range(pairs).unwrap(),
            (expected.0.to_owned(), expected.1.to_owned()),
            "{pairs:?}"
        );
    }

    #[test]
    fn periods_resolve_to_local_day_ranges() {
        check(&[("period", "day")], ("2026-11-23", "2026-11-23"));
        check(
            &[("period", "day"), ("date", "2026-01-05")],
            ("2026-01-05", "2026-01-05"),
        );
        check(&[("period", "7d")], ("2026-11-17", "2026-11-23"));
        check(&[("period", "30d")], ("2026-10-25", "2026-11-23"));
        check(&[("period", "month")], ("2026-11-01", "2026-11-30"));
        check(&[("period", "6mo")], ("2026-06-01", "2026-11-23"));
        check(&[("period", "12mo")], ("2025-12-01", "2026-11-23"));
        check(
            &[("period", "custom"), ("date", "2026-01-01,2026-01-31")],
            ("2026-01-01", "2026-01-31"),
        );
    }

    #[test]
    fn bad_parameters_get_stable_codes() {
        let code = |pairs: &[(&str, &str)]| {
            StatsQuery::parse(Endpoint::Breakdown, &params(pairs), now())
                .err()
                .map_or("ok", |error| error.code())
        };
        assert_eq!(
            code(&[("property", "event:page"), ("period", "week")]),
            "invalid_period"
        );
        assert_eq!(
            code(&[
                ("property", "event:page"),
                ("period", "custom"),
                ("date", "2026-13-01,2026-01-02")
            ]),
            "invalid_date"
        );
        assert_eq!(
            code(&[("property", "event:page"), ("metrics", "visitors,clicks")]),
            "invalid_metric"
        );
        assert_eq!(code(&[("property", "visit:shoe_size")]), "invalid_property");
        assert_eq!(code(&[]), "missing_parameter");
        assert_eq!(
            code(&[("property", "event:page"), ("filters", "visit:os==Linux")]),
            "invalid_filter"
        );
        assert_eq!(
            code(&[("property", "event:page"), ("limit", "0")]),
            "invalid_pagination"
        );
        assert_eq!(
            code(&[("property", "event:name"), ("metrics", "bounce_rate")]),
            "invalid_metric"
        );
        assert_eq!(
            code(&[("property", "event:props"), ("metrics", "visitors")]),
            "invalid_metric"
        );
        assert_eq!(code(&[("property", "event:props:")]), "invalid_property");
    }

    #[test]
    fn property_keys_answer_events_by_default_under_the_field_prop_key() {
        let query = StatsQuery::parse(
            Endpoint::Breakdown,
            &params(&[("property", "event:props")]),
            now(),
        )
        .unwrap();
        assert_eq!(query.property, Some(Property::EventPropKeys));
        assert_eq!(query.metrics, [Metric::Events]);
        assert_eq!(Property::EventPropKeys.field(), "prop_key");
        assert_eq!(Property::EventPropKeys.dim(), Dim::EventProp);
    }

    #[test]
    fn dates_before_year_one_are_refused() {
        for (period, date) in [
            ("30d", "-009999-01-01"),
            ("12mo", "-000001-06-01"),
            ("custom", "-009999-01-01,2026-01-01"),
        ] {
            assert_eq!(
                range(&[("period", period), ("date", date)]),
                Err(QueryError::Date(date.split(',').next().unwrap().to_owned())),
                "{date}"
            );
        }
        check(
            &[("period", "12mo"), ("date", "0001-01-15")],
            ("0000-02-01", "0001-01-15"),
        );
    }

    #[test]
    fn a_goal_filter_answers_people_events_and_conversion_rate_only() {
        let code = |endpoint: Endpoint, pairs: &[(&str, &str)]| {
            StatsQuery::parse(endpoint, &params(pairs), now())
                .err()
                .map_or("ok", |error| error.code())
        };
        let goal = ("filters", "event:goal==Formulier verzonden");
        let rate = ("metrics", "visitors,events,conversion_rate");
        assert_eq!(code(Endpoint::Aggregate, &[goal, rate]), "ok");
        assert_eq!(code(Endpoint::Timeseries, &[goal, rate]), "ok");
        for property in [
            "event:page",
            "visit:entry_page",
            "visit:source",
            "event:name",
        ] {
            let pairs = [goal, rate, ("property", property)];
            assert_eq!(code(Endpoint::Breakdown, &pairs), "ok", "{property}");
        }
        for metric in ["visits", "pageviews", "bounce_rate", "views_per_visit"] {
            let pairs = [goal, ("metrics", metric)];
            assert_eq!(
                code(Endpoint::Aggregate, &pairs),
                "invalid_metric",
                "{metric}"
            );
        }
        let exits = [goal, ("property", "visit:exit_page")];
        assert_eq!(code(Endpoint::Breakdown, &exits), "invalid_property");
        let keys = [goal, rate, ("property", "event:props")];
        assert_eq!(code(Endpoint::Breakdown, &keys), "invalid_metric");
        // A rate needs a goal: the filter's, or each row's by name.
        let no_goal = [("metrics", "conversion_rate")];
        assert_eq!(code(Endpoint::Aggregate, &no_goal), "invalid_metric");
        let by_page = [no_goal[0], ("property", "event:page")];
        assert_eq!(code(Endpoint::Breakdown, &by_page), "invalid_metric");
        let by_name = [no_goal[0], ("property", "event:name")];
        assert_eq!(code(Endpoint::Breakdown, &by_name), "ok");
        let filter = Filter::parse("event:goal==Formulier verzonden").unwrap();
        assert!(filter.is_goal());
        assert_eq!(
            (filter.dim, filter.value.as_str()),
            (Dim::EventName, "Formulier verzonden")
        );
    }

    #[test]
    fn no_views_per_visit_where_pageviews_and_visits_are_different_groups() {
        let code = |endpoint: Endpoint, pairs: &[(&str, &str)]| {
            StatsQuery::parse(endpoint, &params(pairs), now())
                .err()
                .map_or("ok", |error| error.code())
        };
        let per_visit = ("metrics", "visitors,views_per_visit");
        let page = ("filters", "event:page==/afspraak-maken");
        assert_eq!(
            code(Endpoint::Aggregate, &[per_visit, page]),
            "invalid_metric"
        );
        let by_source = [per_visit, page, ("property", "visit:source")];
        assert_eq!(code(Endpoint::Breakdown, &by_source), "invalid_metric");
        for property in ["event:page", "visit:entry_page"] {
            let pairs = [per_visit, ("property", property)];
            assert_eq!(
                code(Endpoint::Breakdown, &pairs),
                "invalid_metric",
                "{property}"
            );
        }
        // The visits that entered on the page answer for themselves.
        let entered = (
            "metrics",
            "visitors,visits,pageviews,bounce_rate,visit_duration",
        );
        assert_eq!(code(Endpoint::Aggregate, &[entered, page]), "ok");
        assert_eq!(
            code(Endpoint::Breakdown, &[entered, ("property", "event:page")]),
            "ok"
        );
        // Other filters keep one group: the visits and their pageviews.
        let source = ("filters", "visit:source==Google");
        assert_eq!(code(Endpoint::Aggregate, &[per_visit, source]), "ok");
    }

    #[test]
    fn filters_normalise_case_where_the_stored_form_is_fixed() {
        assert_eq!(Filter::parse("visit:country==nl").unwrap().value, "NL");
        assert_eq!(
            Filter::parse("visit:device==Mobile").unwrap().value,
            "mobile"
        );
        assert_eq!(Filter::parse("event:page==/Wonen").unwrap().value, "/Wonen");
    }
}
