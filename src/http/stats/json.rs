//! A stats answer as the API's JSON, in the shapes of the Plausible Stats
//! API v1: `{"results": …}`, an object per metric for an aggregate (with
//! `comparison` when compared), an object per point or row for a series
//! or a breakdown. A withheld figure, and a change against nothing, is
//! `null`; a change that was not asked for or is not known is left out.

use serde_json::{Map, Value as Json, json};

use crate::calendar::Day;
use crate::query::answer::{Aggregate, Answer, Figure, Results};
use crate::query::comparison::Change;
use crate::query::period::Stretch;

/// `answer` as the API's JSON.
pub(in crate::http) fn of(answer: &Answer) -> Json {
    let results: Json = match &answer.results {
        Results::Aggregate(aggregate) => {
            let totals = totals(aggregate);
            let Some(compared) = aggregate.compared else {
                return json!({ "results": totals });
            };
            return json!({
                "results": totals,
                "comparison": {
                    "current": stretch(compared.current),
                    "previous": stretch(compared.previous),
                },
            });
        }
        Results::Timeseries(points) => points
            .iter()
            .map(|point| {
                let mut fields = metric_fields(answer, &point.figures);
                fields.insert("date".to_owned(), json!(point.date));
                Json::Object(fields)
            })
            .collect(),
        Results::Breakdown { property, rows } => rows
            .iter()
            .map(|row| {
                let mut fields = metric_fields(answer, &row.figures);
                fields.insert(property.field().to_owned(), json!(row.value));
                Json::Object(fields)
            })
            .collect(),
    };
    json!({ "results": results })
}

/// A figure as a JSON number, or `null`.
fn figure(figure: Figure) -> Json {
    match figure {
        Figure::Withheld => Json::Null,
        Figure::Whole(value) => json!(value),
        Figure::Decimal(value) => json!(value),
    }
}

fn totals(aggregate: &Aggregate) -> Map<String, Json> {
    aggregate
        .totals
        .iter()
        .map(|total| {
            let mut entry = Map::new();
            entry.insert("value".to_owned(), figure(total.value));
            match total.change {
                Some(Change::By(change)) => entry.insert("change".to_owned(), json!(change)),
                Some(Change::AgainstNothing) => entry.insert("change".to_owned(), Json::Null),
                None => None,
            };
            (total.metric.name().to_owned(), Json::Object(entry))
        })
        .collect()
}

/// A row's or point's metrics by name.
fn metric_fields(answer: &Answer, figures: &[Figure]) -> Map<String, Json> {
    answer
        .named(figures)
        .map(|(metric, shown)| (metric.name().to_owned(), figure(shown)))
        .collect()
}

/// A compared stretch as local times: from, and until (not included).
fn stretch(stretch: Stretch) -> Json {
    let at = |hour: i32| {
        format!(
            "{}T{:02}:00:00",
            Day::new(hour.div_euclid(24)),
            hour.rem_euclid(24)
        )
    };
    json!({ "from": at(stretch.from), "until": at(stretch.until) })
}
