use redb::StorageBackend;

use super::*;
use crate::store::schema::{Dim, Granularity};

const SITE: &str = "gemeente.example";
/// A small page cache, so the tests also read pages back from the file.
const CACHE: usize = 1 << 20;

fn prefix(filter: (Dim, &str), breakdown: Dim, granularity: Granularity) -> RowPrefix {
    RowPrefix {
        site: SITE.into(),
        filter: (filter.0, filter.1.into()),
        breakdown,
        granularity,
    }
}

fn pages() -> RowPrefix {
    prefix((Dim::None, ""), Dim::Page, Granularity::Day)
}

fn views(pageviews: i64) -> Counts {
    Counts {
        visitors: 1,
        pageviews,
        events: pageviews,
        ..Counts::default()
    }
}

/// `(bucket, value, pageviews)` of each row, in the order `scan` gave them.
fn scanned(store: &Embedded, prefix: &RowPrefix, first: i32, last: i32) -> Vec<(i32, String, i64)> {
    store
        .scan(prefix, first, last)
        .unwrap()
        .into_iter()
        .map(|row| (row.bucket, row.value, row.counts.pageviews))
        .collect()
}

fn row(bucket: i32, value: &str, pageviews: i64) -> (i32, String, i64) {
    (bucket, value.to_owned(), pageviews)
}

#[test]
fn applying_deltas_twice_adds_them_and_negative_deltas_subtract() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let key = pages().row_key(20_415, "/afval");
    let delta = Counts {
        visitors: 1,
        visits: 1,
        pageviews: 2,
        bounces: 1,
        duration: 30,
        events: 3,
    };
    store.apply(&[(key.clone(), delta)]).unwrap();
    store.apply(&[(key.clone(), delta)]).unwrap();
    let rows = store.scan(&pages(), 20_415, 20_415).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].counts,
        Counts {
            visitors: 2,
            visits: 2,
            pageviews: 4,
            bounces: 2,
            duration: 60,
            events: 6,
        }
    );

    let unbounce = Counts {
        bounces: -1,
        duration: 12,
        ..Counts::default()
    };
    store
        .apply(&[(key.clone(), unbounce), (key, unbounce)])
        .unwrap();
    let rows = store.scan(&pages(), 20_415, 20_415).unwrap();
    assert_eq!((rows[0].counts.bounces, rows[0].counts.duration), (0, 84));
    assert_eq!(rows[0].counts.pageviews, 4);
}

#[test]
fn scan_returns_only_its_prefix_and_bucket_range_in_bucket_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let google = prefix((Dim::Source, "Google"), Dim::Page, Granularity::Day);
    // Neighbours that sort right after (or before) `google` in the key space.
    let google_nl = prefix((Dim::Source, "Google NL"), Dim::Page, Granularity::Day);
    let google_entry = prefix((Dim::Source, "Google"), Dim::EntryPage, Granularity::Day);
    let google_hours = prefix((Dim::Source, "Google"), Dim::Page, Granularity::Hour);
    let unfiltered = pages();
    let other_site = RowPrefix {
        site: "gemeente.examplf".into(),
        ..google.clone()
    };
    let mut batch = Vec::new();
    // Written out of order: the scan must sort by bucket.
    for (bucket, value, pageviews) in [
        (12, "/b", 5),
        (-3, "/z", 1),
        (10, "/a", 2),
        (11, "/a", 3),
        (10, "/b", 4),
        (13, "/a", 6),
    ] {
        batch.push((google.row_key(bucket, value), views(pageviews)));
    }
    for neighbour in [
        &google_nl,
        &google_entry,
        &google_hours,
        &unfiltered,
        &other_site,
    ] {
        for bucket in [-3, 10, 11, 12, 13] {
            batch.push((neighbour.row_key(bucket, "/a"), views(100)));
        }
    }
    store.apply(&batch).unwrap();

    assert_eq!(
        scanned(&store, &google, 10, 12),
        vec![
            row(10, "/a", 2),
            row(10, "/b", 4),
            row(11, "/a", 3),
            row(12, "/b", 5)
        ]
    );
    assert_eq!(
        scanned(&store, &google, i32::MIN, i32::MAX),
        vec![
            row(-3, "/z", 1),
            row(10, "/a", 2),
            row(10, "/b", 4),
            row(11, "/a", 3),
            row(12, "/b", 5),
            row(13, "/a", 6),
        ]
    );
    assert_eq!(
        scanned(&store, &google, 13, i32::MAX),
        vec![row(13, "/a", 6)]
    );
    assert_eq!(scanned(&store, &google, 14, 20), vec![]);
    assert_eq!(scanned(&store, &google, 12, 10), vec![]);
    let empty = prefix((Dim::Source, "Bing"), Dim::Page, Granularity::Day);
    assert_eq!(scanned(&store, &empty, i32::MIN, i32::MAX), vec![]);
    assert_eq!(
        scanned(&store, &google_nl, 11, 11),
        vec![row(11, "/a", 100)]
    );
}

#[test]
fn purge_removes_one_sites_rows_before_the_day_and_hour() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let days = pages();
    let hours = prefix((Dim::None, ""), Dim::None, Granularity::Hour);
    let filtered_days = prefix((Dim::Country, "NL"), Dim::Browser, Granularity::Day);
    let other = |prefix: &RowPrefix| RowPrefix {
        site: "other.example".into(),
        ..prefix.clone()
    };
    let (before_day, before_hour) = (100, 100 * 24);
    let mut batch = Vec::new();
    for prefix in [&days, &filtered_days, &other(&days)] {
        for bucket in [-1, 98, 99, 100, 101] {
            batch.push((prefix.row_key(bucket, "/a"), views(1)));
        }
    }
    for prefix in [&hours, &other(&hours)] {
        for bucket in [98 * 24, before_hour - 1, before_hour, before_hour + 30] {
            batch.push((prefix.row_key(bucket, ""), views(1)));
        }
    }
    store.apply(&batch).unwrap();

    let removed = store.purge(SITE, before_day, before_hour).unwrap();

    assert_eq!(removed, 3 + 3 + 2);
    let buckets = |prefix: &RowPrefix| -> Vec<i32> {
        store
            .scan(prefix, i32::MIN, i32::MAX)
            .unwrap()
            .iter()
            .map(|row| row.bucket)
            .collect()
    };
    assert_eq!(buckets(&days), vec![100, 101]);
    assert_eq!(buckets(&filtered_days), vec![100, 101]);
    assert_eq!(buckets(&hours), vec![before_hour, before_hour + 30]);
    assert_eq!(buckets(&other(&days)), vec![-1, 98, 99, 100, 101]);
    assert_eq!(
        buckets(&other(&hours)),
        vec![98 * 24, before_hour - 1, before_hour, before_hour + 30]
    );
    assert_eq!(store.purge(SITE, before_day, before_hour).unwrap(), 0);
}

#[test]
fn a_file_that_is_not_a_redb_database_is_refused_and_left_unchanged() {
    let pattern: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for junk in [pattern, b"kruimel".to_vec(), Vec::new()] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, &junk).unwrap();

        let error = Embedded::open(dir.path(), CACHE)
            .err()
            .expect("junk is refused");

        assert!(matches!(error, StoreError::Foreign { .. }), "{error:?}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), junk);
    }
}

#[test]
fn a_redb_database_without_kruimels_marker_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    {
        let db = Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let table: TableDefinition<&str, u64> = TableDefinition::new("orders");
            let mut orders = write.open_table(table).unwrap();
            orders.insert("fiets", 2).unwrap();
        }
        write.commit().unwrap();
    }
    let before = std::fs::read(&path).unwrap();

    let error = Embedded::open(dir.path(), CACHE)
        .err()
        .expect("foreign database is refused");

    assert!(matches!(error, StoreError::Foreign { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the foreign database's bytes changed"
    );
}

#[test]
fn a_redb_database_left_needing_repair_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = dir.path().join("crashed.redb");
    let db = Database::create(&crashed).unwrap();
    let write = db.begin_write().unwrap();
    {
        let table: TableDefinition<&str, u64> = TableDefinition::new("orders");
        write.open_table(table).unwrap().insert("fiets", 2).unwrap();
    }
    write.commit().unwrap();
    // Never closed: the header still says a repair is needed. The
    // forgotten handle keeps its lock, so the test opens a copy.
    std::mem::forget(db);
    let path = dir.path().join(FILE_NAME);
    std::fs::copy(&crashed, &path).unwrap();
    let before = std::fs::read(&path).unwrap();

    let error = Embedded::open(dir.path(), CACHE)
        .err()
        .expect("foreign database is refused");

    assert!(matches!(error, StoreError::Foreign { .. }), "{error:?}");
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the foreign database's bytes changed"
    );
}

#[test]
fn a_kruimel_database_left_needing_repair_opens_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = dir.path().join("crashed");
    let store = Embedded::open(&crashed, CACHE).unwrap();
    let key = pages().row_key(20_415, "/afval");
    store.apply(&[(key, views(7))]).unwrap();
    std::mem::forget(store);
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(crashed.join(FILE_NAME), copy.join(FILE_NAME)).unwrap();

    let store = Embedded::open(&copy, CACHE).unwrap();

    assert_eq!(
        scanned(&store, &pages(), 20_415, 20_415),
        vec![row(20_415, "/afval", 7)]
    );
}

#[test]
fn the_overlay_reads_the_file_and_keeps_writes_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    let original: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &original).unwrap();
    let overlay = Overlay::new(std::fs::File::open(&path).unwrap()).unwrap();

    assert_eq!(overlay.len().unwrap(), 10_000);
    assert_eq!(overlay.read(4000, 200).unwrap(), original[4000..4200]);
    assert!(overlay.read(9_990, 11).is_err(), "reads past the end fail");
    // A write across a block boundary, and one past the end.
    overlay.write(4090, &[1; 10]).unwrap();
    overlay.write(12_000, &[2; 4]).unwrap();
    let mut expected = original.clone();
    expected[4090..4100].fill(1);
    expected.resize(12_000, 0);
    expected.extend_from_slice(&[2; 4]);
    assert_eq!(overlay.len().unwrap(), 12_004);
    assert_eq!(overlay.read(0, 12_004).unwrap(), expected);
    // Shrinking cuts file bytes and written bytes; growing brings zeros.
    overlay.set_len(4095).unwrap();
    overlay.set_len(9000).unwrap();
    expected.truncate(4095);
    expected.resize(9000, 0);
    assert_eq!(overlay.read(0, 9000).unwrap(), expected);
    overlay.sync_data(false).unwrap();

    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn reopening_a_kruimel_database_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let key = pages().row_key(20_415, "/afval");
    {
        let store = Embedded::open(dir.path(), CACHE).unwrap();
        store.apply(&[(key.clone(), views(7))]).unwrap();
    }
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    assert!(dir.path().join(FILE_NAME).is_file());
    assert_eq!(
        scanned(&store, &pages(), 20_415, 20_415),
        vec![row(20_415, "/afval", 7)]
    );
    store.apply(&[(key, views(1))]).unwrap();
    assert_eq!(
        scanned(&store, &pages(), 20_415, 20_415),
        vec![row(20_415, "/afval", 8)]
    );
}

#[test]
fn a_roll_up_sums_a_months_daily_rows_per_prefix_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let months = |first: &RowPrefix| RowPrefix {
        granularity: Granularity::Month,
        ..first.clone()
    };
    let filtered = prefix((Dim::Country, "NL"), Dim::Page, Granularity::Day);
    let hours = prefix((Dim::None, ""), Dim::None, Granularity::Hour);
    let other_site = RowPrefix {
        site: "other.example".into(),
        ..pages()
    };
    // The month is days 100..=129; 99 and 130 lie outside it.
    let mut batch = Vec::new();
    for (bucket, page, pageviews) in [
        (99, "/a", 50),
        (100, "/a", 1),
        (115, "/a", 2),
        (129, "/b", 4),
        (130, "/b", 60),
    ] {
        batch.push((pages().row_key(bucket, page), views(pageviews)));
        batch.push((filtered.row_key(bucket, page), views(pageviews * 10)));
        batch.push((other_site.row_key(bucket, page), views(pageviews)));
    }
    batch.push((hours.row_key(110 * 24, ""), views(7)));
    store.apply(&batch).unwrap();
    assert_eq!(store.rolled_months(SITE).unwrap(), Vec::<i32>::new());

    assert_eq!(store.roll_up(SITE, 100, 129).unwrap(), 4);

    assert_eq!(
        scanned(&store, &months(&pages()), i32::MIN, i32::MAX),
        vec![row(100, "/a", 3), row(100, "/b", 4)]
    );
    assert_eq!(
        scanned(&store, &months(&filtered), i32::MIN, i32::MAX),
        vec![row(100, "/a", 30), row(100, "/b", 40)]
    );
    let visitors: Vec<i64> = store
        .scan(&months(&pages()), 100, 100)
        .unwrap()
        .iter()
        .map(|row| row.counts.visitors)
        .collect();
    assert_eq!(visitors, vec![2, 1], "every counter is summed");
    assert_eq!(
        scanned(&store, &months(&other_site), i32::MIN, i32::MAX),
        vec![],
        "another site's rows stay daily"
    );
    assert_eq!(
        scanned(&store, &months(&hours), i32::MIN, i32::MAX),
        vec![],
        "hours are not rolled up"
    );
    assert_eq!(
        scanned(&store, &pages(), 99, 130).len(),
        5,
        "daily rows stay"
    );
    assert_eq!(store.rolled_months(SITE).unwrap(), vec![100]);
    assert_eq!(
        store.rolled_months("other.example").unwrap(),
        Vec::<i32>::new()
    );

    // Run again (as after an interruption): the same sums, not doubled.
    store.roll_up(SITE, 100, 129).unwrap();
    assert_eq!(
        scanned(&store, &months(&pages()), i32::MIN, i32::MAX),
        vec![row(100, "/a", 3), row(100, "/b", 4)]
    );
}

#[test]
fn retention_removes_a_months_rows_and_its_roll_up_with_the_days_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let monthly = RowPrefix {
        granularity: Granularity::Month,
        ..pages()
    };
    let batch: Vec<_> = [100, 110, 130, 140]
        .iter()
        .map(|day| (pages().row_key(*day, "/a"), views(1)))
        .collect();
    store.apply(&batch).unwrap();
    store.roll_up(SITE, 100, 129).unwrap();
    store.roll_up(SITE, 130, 160).unwrap();

    // The horizon falls inside the first month: its monthly row goes, so
    // a range over it is read from the days that are left.
    let removed = store.purge(SITE, 105, 105 * 24).unwrap();

    assert_eq!(removed, 1 + 1, "the day 100 row and the month-100 row");
    assert_eq!(
        scanned(&store, &monthly, i32::MIN, i32::MAX),
        vec![row(130, "/a", 2)]
    );
    assert_eq!(store.rolled_months(SITE).unwrap(), vec![130]);
    assert_eq!(scanned(&store, &pages(), i32::MIN, i32::MAX).len(), 3);
}

#[test]
fn retention_forgets_months_an_interrupted_roll_up_left_pending() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    // What a roll-up stopped between marking and listing leaves behind.
    let write = store.begin_write().unwrap();
    for month in [100, 130] {
        let key = by_prefix::rollup_key(SITE, month);
        store
            .list(&write, by_prefix::ROLLUPS_PENDING, &key)
            .unwrap();
    }
    store.commit(write).unwrap();
    let pending = || store.months_in(by_prefix::ROLLUPS_PENDING, SITE).unwrap();
    assert_eq!(pending(), vec![100, 130]);

    store.purge(SITE, 105, 105 * 24).unwrap();

    assert_eq!(pending(), vec![130], "the month whose first day is gone");
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_database_file_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    drop(Embedded::open(dir.path(), CACHE).unwrap());
    assert_eq!(mode(&path), 0o600, "created owner-only");

    // A file made with a wider mode (by an older version, or copied in) is narrowed on open.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    assert_eq!(mode(&path), 0o600, "narrowed on open");
    assert!(store.ping().is_ok());
}

#[test]
fn a_flush_between_summing_and_writing_a_month_keeps_it_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let (first, last) = (20_697, 20_726);
    let monthly = prefix((Dim::None, ""), Dim::Page, Granularity::Month);
    store
        .apply(&[(pages().row_key(first + 1, "/afval"), views(1))])
        .unwrap();
    store.seal(SITE, last).unwrap();

    let late = (pages().row_key(first + 2, "/afval"), views(1));
    store
        .roll_up_with(SITE, (first, last), || store.apply(&[late]).unwrap())
        .unwrap();
    assert_eq!(store.rolled_months(SITE).unwrap(), Vec::<i32>::new());
    assert_eq!(
        scanned(&store, &monthly, first, first),
        [row(first, "/afval", 1)]
    );
    assert_eq!(
        scanned(&store, &pages(), first, last).len(),
        2,
        "its days are read"
    );

    store.roll_up(SITE, first, last).unwrap();
    assert_eq!(store.rolled_months(SITE).unwrap(), [first]);
    assert_eq!(
        scanned(&store, &monthly, first, first),
        [row(first, "/afval", 2)]
    );
}

/// The open rows as the file holds them, without the pending sums.
fn open_rows_in_file(store: &Embedded) -> Vec<(Vec<u8>, Counts)> {
    let read = store.db().unwrap().begin_read().unwrap();
    let table = read.open_table(COUNTS).unwrap();
    table
        .iter()
        .unwrap()
        .map(|entry| {
            let (key, value) = entry.unwrap();
            (key.value().to_vec(), Counts::decode(value.value()).unwrap())
        })
        .collect()
}

fn journal_records(store: &Embedded) -> usize {
    let read = store.db().unwrap().begin_read().unwrap();
    let table = read.open_table(journal::JOURNAL).unwrap();
    table.iter().unwrap().count()
}

#[test]
fn flushes_wait_in_the_journal_are_read_at_once_and_reach_the_rows_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let (afval, wonen) = (
        pages().row_key(20_415, "/afval"),
        pages().row_key(20_415, "/wonen"),
    );
    store.apply(&[(afval.clone(), views(2))]).unwrap();
    store
        .apply(&[(afval.clone(), views(3)), (wonen.clone(), views(1))])
        .unwrap();
    // Written to the journal only, and read with the open rows all the same.
    assert_eq!(journal_records(&store), 2);
    assert!(open_rows_in_file(&store).is_empty());
    let expected = vec![row(20_415, "/afval", 5), row(20_415, "/wonen", 1)];
    assert_eq!(scanned(&store, &pages(), 20_415, 20_415), expected);

    // A process stopping between folds leaves its records; the next one folds them once.
    *store.pending.write().unwrap() = journal::Pending::default();
    store.recover().unwrap();
    assert_eq!(journal_records(&store), 0);
    assert_eq!(
        open_rows_in_file(&store),
        vec![
            (
                afval.clone(),
                Counts {
                    visitors: 2,
                    ..views(5)
                }
            ),
            (wonen, views(1))
        ]
    );
    assert_eq!(scanned(&store, &pages(), 20_415, 20_415), expected);
    store.recover().unwrap();
    assert_eq!(scanned(&store, &pages(), 20_415, 20_415), expected);

    // A later flush adds to a folded row; a clean stop folds it too.
    store.apply(&[(afval, views(1))]).unwrap();
    assert_eq!(
        scanned(&store, &pages(), 20_415, 20_415),
        vec![row(20_415, "/afval", 6), row(20_415, "/wonen", 1)]
    );
    drop(store);
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    assert_eq!(journal_records(&store), 0);
    assert_eq!(
        scanned(&store, &pages(), 20_415, 20_415),
        vec![row(20_415, "/afval", 6), row(20_415, "/wonen", 1)]
    );
}

#[test]
fn a_scan_adds_pending_sums_to_open_and_sealed_rows_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path(), CACHE).unwrap();
    let key = |day: i32, page: &str| pages().row_key(day, page);
    store
        .apply(&[(key(20_000, "/a"), views(1)), (key(20_000, "/c"), views(1))])
        .unwrap();
    store.seal(SITE, 20_001).unwrap();
    store
        .apply(&[(key(20_001, "/b"), views(4)), (key(20_001, "/d"), views(4))])
        .unwrap();
    store.fold().unwrap();
    // Pending: before, between, equal to and after the rows in the file.
    store
        .apply(&[
            (key(20_000, "/0"), views(10)),
            (key(20_000, "/b"), views(10)),
            (key(20_000, "/c"), views(10)),
            (key(20_001, "/b"), views(10)),
            (key(20_001, "/c"), views(10)),
            (key(20_002, "/a"), views(10)),
        ])
        .unwrap();
    assert_eq!(
        scanned(&store, &pages(), 20_000, 20_002),
        vec![
            row(20_000, "/0", 10),
            row(20_000, "/a", 1),
            row(20_000, "/b", 10),
            row(20_000, "/c", 11),
            row(20_001, "/b", 14),
            row(20_001, "/c", 10),
            row(20_001, "/d", 4),
            row(20_002, "/a", 10),
        ]
    );
}
