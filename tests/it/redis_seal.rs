//! Sealed days on Redis, through the library against a real `redis-server`:
//! every answer is the same before and after sealing, with late rows and a
//! roll-up, and retention leaves no text of a deleted day behind.

use kruimel::config::RedisConfig;
use kruimel::store::{Counts, Dim, Granularity, KeyParts, RedisStore, RowPrefix};

use crate::redis_server::RedisServer;

const SITE: &str = "gemeente.example";
/// October 2024 (days since 1970): its first and last day, then November's first.
const OCTOBER: (i32, i32) = (19_997, 20_027);

fn store_under(server: &RedisServer, key_prefix: &str) -> RedisStore {
    RedisStore::open(&RedisConfig {
        urls: vec![server.url()],
        key_prefix: key_prefix.to_owned(),
        ..RedisConfig::default()
    })
    .unwrap()
}

fn counts(pageviews: i64, bounces: i64) -> Counts {
    Counts {
        visitors: pageviews.min(3),
        visits: 1,
        pageviews,
        bounces,
        duration: 7 * pageviews,
        events: pageviews + 1,
    }
}

/// The shapes the batches write and the reads compare: (filter, breakdown, granularity).
const SHAPES: [(Dim, &str, Dim, Granularity); 4] = [
    (Dim::None, "", Dim::Page, Granularity::Day),
    (Dim::Country, "NL", Dim::Page, Granularity::Day),
    (Dim::None, "", Dim::None, Granularity::Hour),
    (Dim::Page, "/afval", Dim::Source, Granularity::Hour),
];

/// A batch over `days`, each value of each shape counted differently.
fn batch(days: std::ops::Range<i32>, extra: i64) -> Vec<(Vec<u8>, Counts)> {
    let mut rows = Vec::new();
    for day in days {
        for (number, (filter, filter_value, breakdown, granularity)) in SHAPES.iter().enumerate() {
            let parts = KeyParts {
                site: SITE,
                filter: (*filter, filter_value),
                breakdown: *breakdown,
                granularity: *granularity,
            };
            for (offset, value) in ["/afval", "/wonen", "/paspoort", ""].iter().enumerate() {
                let bucket = match granularity {
                    Granularity::Hour => day * 24 + 3 * offset as i32,
                    _ => day,
                };
                let value = match breakdown {
                    Dim::None => "",
                    Dim::Source => ["Google", "Direct", "Bing", ""][offset],
                    _ => value,
                };
                let pageviews = (day % 7) as i64 + number as i64 + offset as i64 + extra + 1;
                rows.push((
                    parts.row_key(bucket, value),
                    counts(pageviews, -(offset as i64)),
                ));
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn prefix(shape: usize, granularity: Granularity) -> RowPrefix {
    let (filter, value, breakdown, _) = SHAPES[shape];
    RowPrefix {
        site: SITE.to_owned(),
        filter: (filter, value.to_owned()),
        breakdown,
        granularity,
    }
}

type Answer = Vec<(i32, String, Counts)>;

/// Every shape over several ranges, whole days and cut ones.
fn answers(store: &RedisStore) -> Vec<Answer> {
    let mut found = Vec::new();
    for (shape, (_, _, _, granularity)) in SHAPES.iter().enumerate() {
        let scale = if *granularity == Granularity::Hour {
            24
        } else {
            1
        };
        for (first, last) in [
            (20_020, 20_035),
            (20_024, 20_024),
            (20_025, 20_026),
            (20_026, 20_031),
        ] {
            let (first, last) = (first * scale + 2 * (scale / 24), last * scale + scale - 1);
            let rows = store
                .scan(&prefix(shape, *granularity), first, last)
                .unwrap();
            found.push(
                rows.into_iter()
                    .map(|row| (row.bucket, row.value, row.counts))
                    .collect(),
            );
        }
    }
    found
}

fn open_hashes_before(server: &RedisServer, key_prefix: &str, day: i32) -> usize {
    let index = format!("{key_prefix}:{{{SITE}}}:idx");
    let keys: Vec<Vec<u8>> = redis::cmd("ZRANGEBYSCORE")
        .arg(index)
        .arg("-inf")
        .arg(format!("({day}"))
        .query(&mut server.connection())
        .unwrap();
    keys.len()
}

#[test]
fn sealing_changes_no_answer_and_late_rows_join_their_sealed_day() {
    let server = RedisServer::start();
    let sealed = store_under(&server, "kr");
    let reference = store_under(&server, "ref");
    let both = |id: u64, rows: &[(Vec<u8>, Counts)]| {
        sealed.apply(id, rows).unwrap();
        reference.apply(id, rows).unwrap();
    };
    both(1, &batch(20_024..20_031, 0));
    both(2, &batch(20_025..20_027, 10));
    let before = answers(&reference);
    assert_eq!(answers(&sealed), before);

    let moved = sealed.seal(SITE, 20_029).unwrap();
    assert!(moved > 0, "rows of five days were sealed");
    assert_eq!(open_hashes_before(&server, "kr", 20_029), 0);
    assert!(
        open_hashes_before(&server, "kr", 20_031) > 0,
        "later days stay open"
    );
    assert_eq!(
        answers(&sealed),
        before,
        "the same answers from sealed days"
    );
    assert_eq!(
        sealed.seal(SITE, 20_029).unwrap(),
        0,
        "nothing left to seal"
    );

    // Late rows for sealed days: the same hashes this store indexed a
    // moment ago (the seal took their index entries), and new values.
    both(3, &batch(20_025..20_027, 100));
    both(4, &batch(20_026..20_027, 1_000));
    assert_eq!(answers(&sealed), answers(&reference), "added on reading");
    assert!(
        open_hashes_before(&server, "kr", 20_029) > 0,
        "indexed again"
    );
    assert!(sealed.seal(SITE, 20_029).unwrap() > 0);
    assert_eq!(open_hashes_before(&server, "kr", 20_029), 0, "merged in");
    assert_eq!(
        answers(&sealed),
        answers(&reference),
        "the same once merged"
    );

    // A roll-up of October sums its sealed days and an open late one.
    both(5, &batch(20_027..20_028, 7));
    let october = sealed
        .roll_up(SITE, OCTOBER.0, OCTOBER.1)
        .unwrap()
        .expect("no other instance holds the claim");
    assert_eq!(october, 2, "two monthly prefixes: the daily shapes");
    for shape in 0..2 {
        let days = reference
            .scan(&prefix(shape, Granularity::Day), OCTOBER.0, OCTOBER.1)
            .unwrap();
        let mut summed: std::collections::BTreeMap<String, Counts> = Default::default();
        for row in days {
            *summed.entry(row.value).or_default() += row.counts;
        }
        let expected: Answer = summed
            .into_iter()
            .map(|(value, counts)| (OCTOBER.0, value, counts))
            .collect();
        let month: Answer = sealed
            .scan(&prefix(shape, Granularity::Month), OCTOBER.0, OCTOBER.1)
            .unwrap()
            .into_iter()
            .map(|row| (row.bucket, row.value, row.counts))
            .collect();
        assert_eq!(month, expected);
    }
    assert_eq!(sealed.rolled_months(SITE).unwrap(), vec![OCTOBER.0]);
    assert_eq!(answers(&sealed), answers(&reference));
}

#[test]
fn a_flush_to_the_day_being_sealed_takes_the_sealers_mark_away() {
    let server = RedisServer::start();
    let store = server.open_store();
    let mut redis = server.connection();
    let mark = format!("kr:{{{SITE}}}:sealing");
    let set_mark = |redis: &mut redis::Connection| {
        redis::cmd("SET")
            .arg(&mark)
            .arg("20025:feedface")
            .query::<()>(redis)
            .unwrap();
    };
    let marked = |redis: &mut redis::Connection| -> Option<String> {
        redis::cmd("GET").arg(&mark).query(redis).unwrap()
    };
    set_mark(&mut redis);
    store.apply(1, &batch(20_026..20_027, 0)).unwrap();
    assert_eq!(marked(&mut redis).as_deref(), Some("20025:feedface"));
    store.apply(2, &batch(20_025..20_026, 0)).unwrap();
    assert_eq!(marked(&mut redis), None, "the seal must read the day again");

    set_mark(&mut redis);
    store.purge(SITE, 20_000).unwrap();
    assert_eq!(
        marked(&mut redis),
        None,
        "retention also voids a seal under way"
    );
}

fn holds(keys: &[(String, Vec<Vec<u8>>)], text: &[u8]) -> bool {
    keys.iter().any(|(key, values)| {
        key.as_bytes().windows(text.len()).any(|part| part == text)
            || values
                .iter()
                .any(|value| value.windows(text.len()).any(|part| part == text))
    })
}

#[test]
fn retention_leaves_no_text_of_a_deleted_day_in_redis() {
    let server = RedisServer::start();
    let store = server.open_store();
    let pages = KeyParts {
        site: SITE,
        filter: (Dim::None, ""),
        breakdown: Dim::Page,
        granularity: Granularity::Day,
    };
    let old = b"/geheim-oud";
    store
        .apply(
            1,
            &[
                (pages.row_key(20_000, "/geheim-oud"), counts(2, 0)),
                (pages.row_key(20_010, "/nieuw"), counts(3, 0)),
            ],
        )
        .unwrap();
    store.seal(SITE, 20_020).unwrap();
    store.roll_up(SITE, OCTOBER.0, OCTOBER.1).unwrap();
    // A late row for the sealed day, still open when retention runs.
    store
        .apply(2, &[(pages.row_key(20_000, "/geheim-oud"), counts(1, 0))])
        .unwrap();
    let dumped = server.dump();
    assert!(
        holds(&dumped, old),
        "the check sees the text while it is kept"
    );
    assert!(dumped.iter().any(|(key, _)| key.contains(":u:d20000")));

    store.purge(SITE, 20_005).unwrap();

    let dumped = server.dump();
    assert!(!holds(&dumped, old), "left behind: {dumped:?}");
    assert!(
        !dumped.iter().any(|(key, _)| key.contains(":u:m19997")),
        "the month starting before the horizon goes with its days"
    );
    assert!(holds(&dumped, b"/nieuw"), "the kept day's text stays");
    let kept = store
        .scan(
            &RowPrefix {
                site: SITE.to_owned(),
                filter: (Dim::None, String::new()),
                breakdown: Dim::Page,
                granularity: Granularity::Day,
            },
            19_990,
            20_030,
        )
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].bucket, kept[0].counts), (20_010, counts(3, 0)));
}

/// A seal moves rows from open hashes into a unit while readers read
/// both, one after the other: no read may meet a row twice, nor miss one.
#[test]
fn a_read_during_a_seal_meets_every_row_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

    let server = RedisServer::start();
    let writer = store_under(&server, "kr");
    let reader = store_under(&server, "kr");
    let day = OCTOBER.0;
    let parts = KeyParts {
        site: SITE,
        filter: (Dim::None, ""),
        breakdown: Dim::Page,
        granularity: Granularity::Day,
    };
    let one = Counts {
        pageviews: 1,
        events: 1,
        ..Counts::default()
    };
    // Pageviews whose write has begun, and those whose write has ended: a
    // read sees at least the second and at most the first. A seal runs
    // between writes, when the two are equal.
    let (begun, ended) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicI64::new(0)));
    let done = Arc::new(AtomicBool::new(false));
    let reads = std::thread::spawn({
        let (begun, ended, done) = (begun.clone(), ended.clone(), done.clone());
        move || {
            let mut reads = 0;
            while !done.load(Ordering::Acquire) {
                let at_least = ended.load(Ordering::Acquire);
                let rows = reader.scan(&prefix(0, Granularity::Day), day, day).unwrap();
                let at_most = begun.load(Ordering::Acquire);
                let seen: i64 = rows.iter().map(|row| row.counts.pageviews).sum();
                assert!(
                    (at_least..=at_most).contains(&seen),
                    "read {seen} pageviews while {at_least}..={at_most} were written"
                );
                reads += 1;
            }
            reads
        }
    });
    // Each round: one more pageview for the sealed day, then a seal that
    // merges it into the day's unit.
    for round in 1..=300_u64 {
        begun.fetch_add(1, Ordering::Release);
        writer
            .apply(round, &[(parts.row_key(day, "/afval"), one)])
            .unwrap();
        ended.fetch_add(1, Ordering::Release);
        writer.seal(SITE, day + 1).unwrap();
    }
    done.store(true, Ordering::Release);
    let reads = reads.join().expect("no read met a row twice or missed one");
    assert!(reads > 100, "the reader read throughout: {reads} reads");
}
