//! Finished months are summed into monthly rows, and every breakdown,
//! total and monthly series over them answers exactly as it did from the
//! daily rows.

use serde_json::Value;

use crate::backends::{Backend, on_every_backend};
use crate::helpers::{FIREFOX, TestApp};

const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
/// September and October whole, and part of November.
const RANGE: &str = "period=custom&date=2026-09-01,2026-11-20";

/// The breakdowns a dashboard shows, with and without a filter.
const QUERIES: [&str; 9] = [
    "property=event:page&metrics=visitors,visits,pageviews,bounce_rate,visit_duration",
    "property=event:page&metrics=pageviews,scroll_depth,time_on_page",
    "property=visit:entry_page&metrics=visitors,visits,bounce_rate",
    "property=visit:exit_page&metrics=visits",
    "property=visit:source&metrics=visitors,pageviews",
    "property=visit:browser&metrics=visitors&filters=event:page%3D%3D/afval",
    "property=event:page&metrics=pageviews&filters=visit:source%3D%3DGoogle",
    "property=event:props&metrics=events",
    "property=event:props:formulier&metrics=visitors,events",
];

/// Hourly series of days that are sealed by the time the roll-up runs.
const SERIES: [&str; 2] = [
    "period=day&date=2026-10-01&interval=hour&metrics=visitors,pageviews,bounce_rate",
    "period=day&date=2026-09-30&interval=hour&metrics=visitors,visits&filters=event:page%3D%3D/afval",
];

/// Totals and monthly series over the whole months, read from the
/// months' totals once they are rolled up.
const TOTALS: [(&str, &str); 5] = [
    (
        "aggregate",
        "metrics=pageviews,scroll_depth,time_on_page&filters=event:page%3D%3D/afval",
    ),
    (
        "aggregate",
        "metrics=visitors,visits,pageviews,events,bounce_rate,visit_duration,views_per_visit",
    ),
    (
        "aggregate",
        "metrics=visitors,visits,pageviews&filters=event:page%3D%3D/afval",
    ),
    (
        "timeseries",
        "interval=month&metrics=visitors,visits,pageviews,bounce_rate",
    ),
    (
        "timeseries",
        "interval=month&metrics=visitors,pageviews&filters=visit:source%3D%3DGoogle",
    ),
];

async fn breakdowns(app: &TestApp) -> Vec<Value> {
    let mut answers = Vec::new();
    for query in SERIES {
        answers.push(app.stats("timeseries", query).await["results"].clone());
    }
    for (endpoint, query) in TOTALS {
        let body = app.stats(endpoint, &format!("{RANGE}&{query}")).await;
        answers.push(body["results"].clone());
    }
    for query in QUERIES {
        let body = app.stats("breakdown", &format!("{RANGE}&{query}")).await;
        answers.push(body["results"].clone());
    }
    answers
}

/// The visits of a breakdown's rows together.
fn visits_in(rows: &Value) -> i64 {
    rows.as_array().map_or(0, |rows| {
        rows.iter().filter_map(|row| row["visits"].as_i64()).sum()
    })
}

async fn wait_for_exits(app: &TestApp, visits: i64) {
    let mut seen = 0;
    // Generous: the cluster suite runs many scenarios at once.
    for _ in 0..1_500 {
        let rows = app
            .stats("breakdown", &format!("{RANGE}&{}", QUERIES[3]))
            .await;
        seen = visits_in(&rows["results"]);
        if seen == visits {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{seen} exit pages counted, not {visits}");
}

/// The value of a metric line in the exposition, such as `kruimel_rollup_months_total`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn finished_months_answer_as_their_days_did(backend: Backend) {
    let embedded = matches!(backend, Backend::Embedded);
    let app = TestApp::spawn_on_with(backend, &[], "2026-09-02T08:00:00Z").await;
    let visits = [
        (
            "2026-09-02T08:00:00Z",
            "81.204.1.1",
            FIREFOX,
            Some("https://www.google.com/"),
            &["/", "/afval"][..],
        ),
        (
            "2026-09-30T21:50:00Z",
            "81.204.1.2",
            SAFARI_IPHONE,
            None,
            &["/afval"][..],
        ),
        (
            "2026-10-01T09:00:00Z",
            "81.204.1.1",
            SAFARI_IPHONE,
            Some("https://www.google.com/"),
            &["/wonen", "/afval", "/"][..],
        ),
        (
            "2026-10-31T22:30:00Z",
            "81.204.1.3",
            FIREFOX,
            Some("https://duckduckgo.com/"),
            &["/afval"][..],
        ),
        (
            "2026-11-02T12:00:00Z",
            "81.204.1.4",
            FIREFOX,
            Some("https://www.google.com/"),
            &["/wonen"][..],
        ),
    ];
    let mut sent = 0;
    for (ended, (at, ip, agent, referrer, pages)) in visits.into_iter().enumerate() {
        app.set_time(at);
        let mut from = referrer.map(str::to_owned);
        for page in pages {
            let url = format!("https://gemeente.example{page}");
            let response = app.pageview(ip, agent, &url, from.as_deref()).await;
            assert_eq!(response.status(), 202);
            from = Some(url);
            sent += 1;
        }
        // The last page's engagement report: visit n read it 20 + n seconds,
        // to 50 + 10 n %.
        let last = format!("https://gemeente.example{}", pages[pages.len() - 1]);
        let report = serde_json::json!({
            "n": "engagement", "sd": 50 + 10 * ended, "d": "gemeente.example",
            "u": last, "e": 20_000 + 1_000 * ended, "v": 36,
        });
        assert_eq!(app.send(ip, agent, &report.to_string()).await.status(), 202);
        // The visits of September and the first of October send a form.
        if ended < 3 {
            let value = ["melding", "klacht"][ended % 2];
            let form = serde_json::json!({
                "n": "Formulier verzonden",
                "u": "https://gemeente.example/afval",
                "d": "gemeente.example",
                "p": { "formulier": value, "taal": "nl" },
            });
            let response = app.send(ip, agent, &form.to_string()).await;
            assert_eq!(response.status(), 202);
            sent += 1;
        }
        // Every hit of the visit counted before the clock passes its
        // timeout: a hit still on its way (on a shared backend, still being
        // resolved) would otherwise arrive after the sweep and start a visit
        // of its own, with a second exit page.
        app.wait_for_events(sent, RANGE).await;
        // Past the visit timeout, a sweep ends the visit and counts its exit page.
        let later = at.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_mins(40);
        app.set_time(&later.to_string());
        wait_for_exits(&app, ended as i64 + 1).await;
    }
    app.wait_for_events(sent, RANGE).await;
    let daily = breakdowns(&app).await;
    assert_eq!(
        visits_in(&daily[SERIES.len() + TOTALS.len() + 2]),
        5,
        "entry pages: {daily:?}"
    );
    // /afval ended visits 0, 1 and 3: (50 + 60 + 80) / 3 % and 64 s / 3.
    let afval = &daily[SERIES.len()];
    assert_eq!(
        (
            &afval["scroll_depth"]["value"],
            &afval["time_on_page"]["value"]
        ),
        (&serde_json::json!(63), &serde_json::json!(21)),
        "{daily:?}"
    );
    assert!(daily.iter().all(|answer| match answer {
        Value::Array(rows) => !rows.is_empty(),
        Value::Object(metrics) => metrics.values().any(|m| m["value"].as_f64() > Some(0.0)),
        _ => false,
    }));

    // On 2026-11-20 October is over by more than two days: the roll-up at
    // start sums September and October (and the empty months before them).
    let app = app.restart(&[], "2026-11-20T12:00:00Z").await;
    let mut exposition = String::new();
    for _ in 0..1_200 {
        exposition = app.metrics_text().await;
        let done = metric(&exposition, "kruimel_rollup_months_total").unwrap_or(0.0);
        if done >= 2.0 && metric(&exposition, "kruimel_rollup_pending_months") == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        metric(&exposition, "kruimel_rollup_pending_months"),
        Some(0.0),
        "{exposition}"
    );
    assert_eq!(breakdowns(&app).await, daily);
    if embedded {
        // The days were sealed before the months were summed from them.
        let sealed = metric(&exposition, "kruimel_store_sealed_rows_total").unwrap_or(0.0);
        assert!(sealed > 0.0, "{exposition}");
    }
}

on_every_backend!(finished_months_answer_as_their_days_did);

mod through_the_library {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use kruimel::calendar::Day;
    use kruimel::query::fold::Audience;
    use kruimel::query::params::Endpoint;
    use kruimel::query::{Property, Stats, StatsQuery};
    use kruimel::store::{Counts, Dim, Granularity, KeyParts, RowPrefix, Store};

    use crate::redis_server::RedisServer;

    const SITE: &str = "gemeente.example";

    fn day(text: &str) -> i32 {
        Day::of(text.parse().unwrap()).number()
    }

    fn page_row(granularity: Granularity, bucket: i32, pageviews: i64) -> (Vec<u8>, Counts) {
        let parts = KeyParts {
            site: SITE,
            filter: (Dim::None, ""),
            breakdown: Dim::Page,
            granularity,
        };
        let counts = Counts {
            visitors: 1,
            pageviews,
            events: pageviews,
            ..Counts::default()
        };
        (parts.row_key(bucket, "/afval"), counts)
    }

    /// Pageviews of `/afval` over `first..=last`, through `Stats::breakdown`.
    fn pageviews(store: &Store, first: &str, last: &str) -> i64 {
        let params: HashMap<String, String> = [
            ("period", "custom".to_owned()),
            ("date", format!("{first},{last}")),
            ("property", "event:page".to_owned()),
            ("metrics", "pageviews".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let query = StatsQuery::parse(Endpoint::Breakdown, &params, day("2026-11-20")).unwrap();
        let stats = Stats {
            store,
            site: SITE,
            audience: Audience::Owner,
        };
        let rows = stats
            .breakdown(&query, &Property::Plain(Dim::Page))
            .unwrap();
        rows.iter().map(|row| row.counts.pageviews).sum()
    }

    #[test]
    fn breakdowns_read_rolled_up_months_from_monthly_rows_until_a_flush_changes_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_embedded(dir.path(), 8 << 20).unwrap();
        let september = (day("2026-09-01"), day("2026-09-30"));
        let days = [
            page_row(Granularity::Day, day("2026-09-02"), 3),
            page_row(Granularity::Day, day("2026-09-30"), 4),
            page_row(Granularity::Day, day("2026-10-01"), 5),
        ];
        store.apply(1, &days).unwrap();
        assert_eq!(pageviews(&store, "2026-09-01", "2026-10-03"), 12);
        store.roll_up(SITE, september.0, september.1).unwrap();
        // A monthly row that disagrees with its days (no flush writes one)
        // shows which of the two a query reads.
        store
            .apply(2, &[page_row(Granularity::Month, september.0, 100)])
            .unwrap();

        assert_eq!(
            pageviews(&store, "2026-09-01", "2026-10-03"),
            112,
            "September from its monthly row"
        );
        assert_eq!(
            pageviews(&store, "2026-09-02", "2026-10-03"),
            12,
            "part of September: its days"
        );
        assert_eq!(pageviews(&store, "2026-10-01", "2026-10-03"), 5);

        // A late flush into September takes it off the list: days again.
        store
            .apply(3, &[page_row(Granularity::Day, day("2026-09-10"), 1)])
            .unwrap();
        assert_eq!(store.rolled_months(SITE).unwrap(), Vec::<i32>::new());
        assert_eq!(pageviews(&store, "2026-09-01", "2026-10-03"), 13);
        // Summed again, the monthly row is the days' sum once more.
        store.roll_up(SITE, september.0, september.1).unwrap();
        assert_eq!(store.rolled_months(SITE).unwrap(), vec![september.0]);
        assert_eq!(pageviews(&store, "2026-09-01", "2026-10-03"), 13);
    }

    /// A row of `value` under the page filter `filter`, broken down by page.
    fn filtered_row(filter: &str, bucket: i32, value: &str) -> (Vec<u8>, Counts) {
        let parts = KeyParts {
            site: SITE,
            filter: (Dim::Page, filter),
            breakdown: Dim::Page,
            granularity: Granularity::Day,
        };
        let counts = Counts {
            pageviews: 1,
            events: 1,
            ..Counts::default()
        };
        (parts.row_key(bucket, value), counts)
    }

    /// Pageviews in the monthly rows of the page filter `filter`.
    fn monthly_pageviews(store: &Store, filter: &str, month: i32) -> i64 {
        let prefix = RowPrefix {
            site: SITE.to_owned(),
            filter: (Dim::Page, filter.to_owned()),
            breakdown: Dim::Page,
            granularity: Granularity::Month,
        };
        let rows = store.scan(&prefix, month, month).unwrap();
        rows.iter().map(|row| row.counts.pageviews).sum()
    }

    /// A flush that writes a day of a month while the month is being summed
    /// keeps it off the list: the sum may have missed the flush, so the
    /// month's days are read until it is rolled up again. (The embedded
    /// store writes a month in one transaction after summing it; its test
    /// lands the flush in between, `store::embedded::tests`.)
    fn a_flush_during_a_roll_up_keeps_the_month_unlisted(store: &Store) {
        let september = (day("2026-09-01"), day("2026-09-30"));
        // Enough prefixes and rows that the roll-up writes in several steps,
        // with time to spare after the first.
        let rows: Vec<_> = (0..2_048)
            .flat_map(|filter| {
                (0..40).map(move |page| {
                    filtered_row(
                        &format!("/f{filter:04}"),
                        day("2026-09-02"),
                        &format!("/p{page:02}"),
                    )
                })
            })
            .collect();
        store.apply(1, &rows).unwrap();
        let first = "/f0000";

        std::thread::scope(|scope| {
            let rolling = scope.spawn(|| store.roll_up(SITE, september.0, september.1).unwrap());
            let started = Instant::now();
            // The first prefix is summed and written before the others.
            while monthly_pageviews(store, first, september.0) == 0 {
                assert!(!rolling.is_finished(), "the roll-up wrote nothing");
                assert!(started.elapsed() < Duration::from_secs(30));
            }
            store
                .apply(2, &[filtered_row(first, day("2026-09-03"), "/p00")])
                .unwrap();
            assert!(
                !rolling.is_finished(),
                "the roll-up ended before the flush: raise the number of rows"
            );
            rolling.join().unwrap();
        });

        assert_eq!(store.rolled_months(SITE).unwrap(), Vec::<i32>::new());
        assert_eq!(monthly_pageviews(store, first, september.0), 40);
        store.roll_up(SITE, september.0, september.1).unwrap();
        assert_eq!(store.rolled_months(SITE).unwrap(), vec![september.0]);
        assert_eq!(monthly_pageviews(store, first, september.0), 41);
    }

    #[test]
    fn retention_forgets_months_an_interrupted_roll_up_left_pending_on_redis() {
        let server = RedisServer::start();
        let store = Store::Redis(server.open_store());
        let (september, october) = (day("2026-09-01"), day("2026-10-01"));
        store
            .apply(1, &[page_row(Granularity::Day, day("2026-09-02"), 1)])
            .unwrap();
        store.roll_up(SITE, september, day("2026-09-30")).unwrap();
        assert_eq!(store.rolled_months(SITE).unwrap(), vec![september]);
        // What a roll-up stopped between marking and listing leaves behind.
        let mut redis = server.connection();
        let pending = format!("kr:{{{SITE}}}:rollpending");
        for month in [september, october] {
            redis::cmd("ZADD")
                .arg(&pending)
                .arg(month)
                .arg(month)
                .query::<()>(&mut redis)
                .unwrap();
        }

        store.purge(SITE, day("2026-09-05"), 0).unwrap();

        let left: Vec<i32> = redis::cmd("ZRANGE")
            .arg(&pending)
            .arg(0)
            .arg(-1)
            .query(&mut redis)
            .unwrap();
        assert_eq!(left, vec![october], "the month whose first day is gone");
        assert_eq!(store.rolled_months(SITE).unwrap(), Vec::<i32>::new());
    }

    #[test]
    fn a_flush_during_a_roll_up_keeps_the_month_unlisted_on_redis() {
        let server = RedisServer::start();
        let store = Store::Redis(server.open_store());
        a_flush_during_a_roll_up_keeps_the_month_unlisted(&store);
    }
}
