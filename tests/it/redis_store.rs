//! The Redis store and shared visit state through the library, against a
//! real `redis-server`: exactly-once batches, scans, retention, retries.

use kruimel::store::{Counts, Dim, Granularity, KeyParts, RowPrefix};

use crate::redis_server::RedisServer;

fn page_key(bucket: i32, page: &str) -> Vec<u8> {
    KeyParts {
        site: "gemeente.example",
        filter: (Dim::None, ""),
        breakdown: Dim::Page,
        granularity: Granularity::Day,
    }
    .row_key(bucket, page)
}

fn views(pageviews: i64, visitors: i64) -> Counts {
    Counts {
        pageviews,
        visitors,
        events: pageviews,
        ..Counts::default()
    }
}

fn pages() -> RowPrefix {
    RowPrefix {
        site: "gemeente.example".to_owned(),
        filter: (Dim::None, String::new()),
        breakdown: Dim::Page,
        granularity: Granularity::Day,
    }
}

#[test]
fn a_batch_retried_under_its_id_is_added_once() {
    let server = RedisServer::start();
    let store = server.open_store();
    let batch = vec![
        (page_key(20_000, "/afval"), views(3, 2)),
        (page_key(20_000, "/wonen"), views(1, 1)),
        (page_key(20_001, "/afval"), views(5, -1)),
    ];
    store.apply(7, &batch).unwrap();
    store.apply(7, &batch).unwrap();
    store.apply(8, &batch[..1]).unwrap();

    let rows = store.scan(&pages(), 20_000, 20_001).unwrap();
    let found: Vec<(i32, &str, Counts)> = rows
        .iter()
        .map(|row| (row.bucket, row.value.as_str(), row.counts))
        .collect();
    assert_eq!(
        found,
        vec![
            (20_000, "/afval", views(6, 4)),
            (20_000, "/wonen", views(1, 1)),
            (20_001, "/afval", views(5, -1)),
        ]
    );
    assert!(store.scan(&pages(), 19_990, 19_999).unwrap().is_empty());
}

/// A row that gained only pageviews moves one counter field: its
/// pageviews stand for its events too. A hash holding the first format's
/// fields (`2` pageviews, `5` all events) as well adds up exactly.
#[test]
fn a_pageview_moves_one_field_and_first_format_fields_still_add_up() {
    let server = RedisServer::start();
    let store = server.open_store();
    let goal = Counts {
        events: 2,
        ..Counts::default()
    };
    store
        .apply(1, &[(page_key(20_000, "/afval"), views(3, 0))])
        .unwrap();
    let mut redis = server.connection();
    // Keys end in the bucket's bytes, not text.
    let hashes: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*n:*").query(&mut redis).unwrap();
    assert_eq!(hashes.len(), 1, "one hash for one row: {hashes:?}");
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(&hashes[0])
        .query(&mut redis)
        .unwrap();
    assert_eq!(fields, vec!["7/afval"]);

    // What the first format wrote for 4 pageviews and 2 custom events.
    redis::cmd("HSET")
        .arg(&hashes[0])
        .arg("2/afval")
        .arg(4)
        .arg("5/afval")
        .arg(6)
        .query::<()>(&mut redis)
        .unwrap();
    let mut delta = views(1, 1);
    delta += goal;
    store
        .apply(2, &[(page_key(20_000, "/afval"), delta)])
        .unwrap();
    let rows = store.scan(&pages(), 20_000, 20_000).unwrap();
    assert_eq!(rows.len(), 1);
    let mut expected = views(3 + 4 + 1, 1);
    expected.events += 2 + 2;
    assert_eq!(rows[0].counts, expected);

    redis::cmd("HSET")
        .arg(&hashes[0])
        .arg("9/afval")
        .arg(1)
        .query::<()>(&mut redis)
        .unwrap();
    assert!(
        store.scan(&pages(), 20_000, 20_000).is_err(),
        "a field no format writes is an error, not a silent count"
    );
}

#[test]
fn retention_deletes_buckets_before_the_first_kept_day() {
    let server = RedisServer::start();
    let store = server.open_store();
    let hours = KeyParts {
        site: "gemeente.example",
        filter: (Dim::None, ""),
        breakdown: Dim::None,
        granularity: Granularity::Hour,
    };
    let batch = vec![
        (page_key(20_000, "/oud"), views(1, 1)),
        (page_key(20_010, "/nieuw"), views(1, 1)),
        (hours.row_key(20_000 * 24 + 5, ""), views(1, 1)),
        (hours.row_key(20_010 * 24 + 5, ""), views(1, 1)),
    ];
    store.apply(1, &batch).unwrap();
    assert_eq!(store.purge("gemeente.example", 20_010).unwrap(), 2);
    let rows = store.scan(&pages(), 19_000, 21_000).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].value, "/nieuw");
    let hour_prefix = RowPrefix {
        breakdown: Dim::None,
        granularity: Granularity::Hour,
        ..pages()
    };
    let hour_rows = store
        .scan(&hour_prefix, 20_000 * 24, 20_010 * 24 + 23)
        .unwrap();
    assert_eq!(hour_rows.len(), 1);
    assert_eq!(hour_rows[0].bucket, 20_010 * 24 + 5);
    assert_eq!(store.purge("gemeente.example", 20_010).unwrap(), 0);
}

/// October 2024 is days 19,997 to 20,027; November starts at 20,028.
const OCTOBER: (i32, i32) = (19_997, 20_027);

#[test]
fn a_roll_up_sums_a_months_daily_hashes_and_retention_removes_it() {
    let server = RedisServer::start();
    let store = server.open_store();
    let filtered = KeyParts {
        site: "gemeente.example",
        filter: (Dim::Country, "NL"),
        breakdown: Dim::Page,
        granularity: Granularity::Day,
    };
    let mut batch = Vec::new();
    for (bucket, page, pageviews) in [
        (19_996, "/a", 50),
        (19_997, "/a", 1),
        (20_010, "/a", 2),
        (20_027, "/b", 4),
        (20_028, "/b", 60),
    ] {
        batch.push((page_key(bucket, page), views(pageviews, 1)));
        batch.push((filtered.row_key(bucket, page), views(pageviews * 10, 1)));
    }
    store.apply(1, &batch).unwrap();
    let monthly = |prefix: RowPrefix| RowPrefix {
        granularity: Granularity::Month,
        ..prefix
    };
    let found = |prefix: &RowPrefix| -> Vec<(i32, String, i64, i64)> {
        store
            .scan(prefix, 19_000, 21_000)
            .unwrap()
            .into_iter()
            .map(|row| {
                (
                    row.bucket,
                    row.value,
                    row.counts.pageviews,
                    row.counts.visitors,
                )
            })
            .collect()
    };
    let filtered_months = RowPrefix {
        filter: (Dim::Country, "NL".to_owned()),
        ..monthly(pages())
    };
    let expected = vec![
        (OCTOBER.0, "/a".to_owned(), 3, 2),
        (OCTOBER.0, "/b".to_owned(), 4, 1),
    ];

    assert_eq!(
        store.rolled_months("gemeente.example").unwrap(),
        Vec::<i32>::new()
    );
    assert_eq!(
        store
            .roll_up("gemeente.example", OCTOBER.0, OCTOBER.1)
            .unwrap(),
        Some(2)
    );
    assert_eq!(found(&monthly(pages())), expected);
    assert_eq!(
        found(&filtered_months),
        vec![
            (OCTOBER.0, "/a".to_owned(), 30, 2),
            (OCTOBER.0, "/b".to_owned(), 40, 1)
        ]
    );
    assert_eq!(
        store.rolled_months("gemeente.example").unwrap(),
        vec![OCTOBER.0]
    );
    // Again, as after an interruption: replaced, not added to.
    store
        .roll_up("gemeente.example", OCTOBER.0, OCTOBER.1)
        .unwrap();
    assert_eq!(found(&monthly(pages())), expected);
    assert_eq!(found(&pages()).len(), 5, "the daily hashes stay");

    // A flush that writes a day of October takes it off the list.
    store
        .apply(2, &[(page_key(20_020, "/a"), views(1, 1))])
        .unwrap();
    assert_eq!(
        store.rolled_months("gemeente.example").unwrap(),
        Vec::<i32>::new()
    );
    // While another instance holds the site's claim, this one waits, and
    // leaves the claim alone.
    let mut conn = server.connection();
    let claim = "kr:{gemeente.example}:rolling";
    redis::cmd("SET")
        .arg(claim)
        .arg("theirs")
        .query::<()>(&mut conn)
        .unwrap();
    assert_eq!(
        store
            .roll_up("gemeente.example", OCTOBER.0, OCTOBER.1)
            .unwrap(),
        None
    );
    let held: String = redis::cmd("GET").arg(claim).query(&mut conn).unwrap();
    assert_eq!(held, "theirs");
    redis::cmd("DEL").arg(claim).query::<()>(&mut conn).unwrap();
    assert_eq!(
        store
            .roll_up("gemeente.example", OCTOBER.0, OCTOBER.1)
            .unwrap(),
        Some(2)
    );
    let left: Option<String> = redis::cmd("GET").arg(claim).query(&mut conn).unwrap();
    assert_eq!(left, None, "its own claim is released");

    // The horizon inside October takes its monthly hashes and its roll-up.
    store.purge("gemeente.example", OCTOBER.0 + 5).unwrap();
    assert_eq!(found(&monthly(pages())), vec![]);
    assert_eq!(found(&filtered_months), vec![]);
    assert_eq!(
        store.rolled_months("gemeente.example").unwrap(),
        Vec::<i32>::new()
    );
}

#[test]
fn an_unreachable_redis_is_an_error_and_a_returning_one_is_used_again() {
    let mut server = RedisServer::start();
    let store = server.open_store();
    store.ping().unwrap();
    server.stop();
    assert!(store.ping().is_err());
    assert!(store.apply(1, &[(page_key(1, "/"), views(1, 1))]).is_err());
    server.start_again();
    store.ping().unwrap();
    store.apply(2, &[(page_key(1, "/"), views(1, 1))]).unwrap();
    assert_eq!(store.scan(&pages(), 1, 1).unwrap()[0].counts, views(1, 1));
}

mod visits {
    use std::sync::Arc;
    use std::time::Duration;

    use kruimel::config::SiteConfig;
    use kruimel::enrich::agent::Device;
    use kruimel::enrich::country::Country;
    use kruimel::ingest::beacon::Interaction;
    use kruimel::ingest::hit::{Hit, HitKind, HitVisitor};
    use kruimel::privacy::url::Campaign;
    use kruimel::privacy::visitor::VisitorId;
    use kruimel::sessions::shared::SharedSessions;
    use kruimel::sites::Sites;
    use kruimel::store::redis::Pool;

    use crate::redis_server::RedisServer;

    fn hit(sites: &Sites, unix: i64, page: &str) -> Hit {
        let site = sites.iter().next().unwrap();
        Hit {
            site: site.idx,
            at: site.moment(jiff::Timestamp::from_second(unix).unwrap()),
            visitor: Some(HitVisitor {
                today: VisitorId::from_value(0xfeed),
                yesterday: None,
            }),
            kind: HitKind::Pageview,
            page_props: Vec::new(),
            interaction: Interaction::Interactive,
            page: kruimel::privacy::url::clean_page_path(page, &[]),
            referrer: None,
            source: "Direct / None".to_owned(),
            campaign: Campaign::default(),
            country: Country::UNKNOWN,
            browser: "Firefox",
            os: "Linux",
            device: Device::Desktop,
        }
    }

    #[test]
    fn a_visits_call_retried_under_its_batch_id_gets_the_same_answer() {
        let server = RedisServer::start();
        let pool = Pool::new(&[server.url()], false, Duration::from_secs(2), "kr").unwrap();
        let shared = SharedSessions::new(Arc::new(pool), 1800);
        let config: SiteConfig = toml::from_str(r#"id = "gemeente.example""#).unwrap();
        let sites = Sites::from_config(&[config]).unwrap();
        let site = sites.iter().next().unwrap();
        let start = 1_795_000_000;
        let hits = [hit(&sites, start, "/a"), hit(&sites, start + 60, "/b")];

        let first = shared.visits(site, 1, &hits, start + 60).unwrap();
        let retried = shared.visits(site, 1, &hits, start + 60).unwrap();
        for answer in [&first, &retried] {
            let changes: Vec<(bool, i64, i64)> = answer
                .changes
                .iter()
                .map(|change| {
                    let change = change.as_ref().unwrap();
                    (change.started, change.bounce_delta, change.duration_delta)
                })
                .collect();
            assert_eq!(changes, [(true, 1, 0), (false, -1, 60)]);
        }

        let later = shared
            .visits(site, 2, &[hit(&sites, start + 90, "/c")], start + 90)
            .unwrap();
        let change = later.changes[0].as_ref().unwrap();
        assert_eq!(
            (change.started, change.bounce_delta, change.duration_delta),
            (false, 0, 30),
            "the visit went on once, not twice"
        );
        assert_eq!(&*change.attrs.entry_page, "/a");

        let ended = shared
            .sweep(
                site,
                3,
                site.moment(jiff::Timestamp::from_second(start + 2_000).unwrap()),
            )
            .unwrap();
        assert_eq!(ended.len(), 1, "the idle visit ends once");
        assert_eq!(&*ended[0].exit_page, "/c");
        let again = shared
            .sweep(
                site,
                4,
                site.moment(jiff::Timestamp::from_second(start + 2_100).unwrap()),
            )
            .unwrap();
        assert!(again.is_empty());
    }
}
