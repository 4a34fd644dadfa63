//! Sealed days answer exactly as the open rows they replaced: every test
//! runs the same writes against a store that seals and one that never does.

use proptest::prelude::*;

use crate::store::embedded::Embedded;
use crate::store::schema::{Counts, Dim, Granularity, RowPrefix};

const SITE: &str = "gemeente.example";
const CACHE: usize = 1 << 20;
/// 2026-01-01 as a day number; January has 31 days.
const JAN_1: i32 = 20_454;

fn prefix(filter: (Dim, &str), breakdown: Dim, granularity: Granularity) -> RowPrefix {
    RowPrefix {
        site: SITE.into(),
        filter: (filter.0, filter.1.into()),
        breakdown,
        granularity,
    }
}

fn counts(visitors: i64, bounces: i64) -> Counts {
    Counts {
        visitors,
        visits: visitors,
        pageviews: 3 * visitors,
        bounces,
        duration: 40 * visitors,
        events: 4 * visitors,
    }
}

/// Every row a scan gives, with all six counters.
fn scanned(
    store: &Embedded,
    prefix: &RowPrefix,
    first: i32,
    last: i32,
) -> Vec<(i32, String, Counts)> {
    store
        .scan(prefix, first, last)
        .unwrap()
        .into_iter()
        .map(|row| (row.bucket, row.value, row.counts))
        .collect()
}

const FILTERS: [(Dim, &str); 4] = [
    (Dim::None, ""),
    (Dim::Page, "/afval"),
    (Dim::Page, "/afval/"),
    (Dim::Source, "Google"),
];
const BREAKDOWNS: [Dim; 3] = [Dim::None, Dim::Page, Dim::Country];
const VALUES: [&str; 5] = ["", "/afval", "/wonen/ä", "NL", "Zoeken"];

/// The prefixes the tests write and read.
fn prefixes() -> Vec<RowPrefix> {
    let mut all = Vec::new();
    for filter in FILTERS {
        for breakdown in BREAKDOWNS {
            for granularity in [Granularity::Hour, Granularity::Day, Granularity::Month] {
                all.push(prefix(filter, breakdown, granularity));
            }
        }
    }
    all
}

/// Two stores: one seals, the other keeps open rows only.
struct Pair {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    sealing: Embedded,
    open: Embedded,
}

impl Pair {
    fn new() -> Pair {
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sealing = Embedded::open(dirs.0.path(), CACHE).unwrap();
        let open = Embedded::open(dirs.1.path(), CACHE).unwrap();
        Pair {
            _dirs: dirs,
            sealing,
            open,
        }
    }

    fn apply(&self, batch: &[(Vec<u8>, Counts)]) {
        self.sealing.apply(batch).unwrap();
        self.open.apply(batch).unwrap();
    }

    fn assert_same(&self, first: i32, last: i32) {
        for prefix in prefixes() {
            let (first, last) = match prefix.granularity {
                Granularity::Hour => (first * 24, last * 24 + 23),
                _ => (first, last),
            };
            assert_eq!(
                scanned(&self.sealing, &prefix, first, last),
                scanned(&self.open, &prefix, first, last),
                "{prefix:?} in {first}..={last}"
            );
        }
    }
}

fn daily(prefix_at: usize, day: i32, value: usize, visitors: i64) -> (Vec<u8>, Counts) {
    let prefixes = prefixes();
    let prefix = &prefixes[prefix_at % prefixes.len()];
    let bucket = match prefix.granularity {
        Granularity::Hour => day * 24 + (value as i32 * 5) % 24,
        Granularity::Day => day,
        Granularity::Month => crate::calendar::Day::new(day).first_of_month().number(),
    };
    (
        prefix.row_key(bucket, VALUES[value % VALUES.len()]),
        counts(visitors, if visitors % 3 == 0 { -1 } else { 1 }),
    )
}

#[test]
fn a_sealed_day_answers_every_scan_as_its_open_rows_did() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .flat_map(|at| {
            (0..4).map(move |day| daily(at, JAN_1 + day, at + day as usize, 2 + day as i64))
        })
        .collect();
    pair.apply(&batch);
    let moved = pair.sealing.seal(SITE, JAN_1 + 3).unwrap();
    assert!(moved > 0, "rows of three days were moved");
    pair.assert_same(JAN_1 - 1, JAN_1 + 5);
    pair.assert_same(JAN_1 + 1, JAN_1 + 1);
    assert_eq!(
        pair.sealing.seal(SITE, JAN_1 + 3).unwrap(),
        0,
        "nothing left to seal"
    );
}

#[test]
fn a_late_row_for_a_sealed_day_is_added_on_reading_and_merged_by_the_next_seal() {
    let pair = Pair::new();
    let afval = prefix((Dim::None, ""), Dim::Page, Granularity::Day);
    pair.apply(&[
        (afval.row_key(JAN_1, "/afval"), counts(5, 1)),
        (afval.row_key(JAN_1, "/wonen/ä"), counts(2, 0)),
    ]);
    pair.sealing.seal(SITE, JAN_1 + 1).unwrap();
    let late = [
        (afval.row_key(JAN_1, "/afval"), counts(1, -1)),
        (afval.row_key(JAN_1, "/b"), counts(1, 1)),
    ];
    pair.apply(&late);
    pair.assert_same(JAN_1, JAN_1);
    assert_eq!(
        pair.sealing.seal(SITE, JAN_1 + 1).unwrap(),
        2,
        "the late rows"
    );
    pair.assert_same(JAN_1, JAN_1);
    assert_eq!(
        scanned(&pair.sealing, &afval, JAN_1, JAN_1)
            .into_iter()
            .map(|(_, value, counts)| (value, counts.visitors, counts.bounces))
            .collect::<Vec<_>>(),
        [
            ("/afval".to_owned(), 6, 0),
            ("/b".to_owned(), 1, 1),
            ("/wonen/ä".to_owned(), 2, 0)
        ]
    );
}

#[test]
fn sealed_days_take_a_fraction_of_the_bytes_of_open_rows() {
    let pair = Pair::new();
    let pages = prefix((Dim::None, ""), Dim::Page, Granularity::Day);
    let batch: Vec<_> = (0..2_000)
        .map(|page| {
            (
                pages.row_key(JAN_1, &format!("/wonen/straat-{page}")),
                counts(1, 1),
            )
        })
        .collect();
    pair.apply(&batch);
    let before = pair.sealing.site_bytes(SITE).unwrap();
    pair.sealing.seal(SITE, JAN_1 + 1).unwrap();
    let after = pair.sealing.site_bytes(SITE).unwrap();
    assert!(
        after * 5 < before,
        "{after} bytes sealed against {before} open"
    );
    pair.assert_same(JAN_1, JAN_1);
}

/// The tags of a site's sealed blocks (filter dimension, breakdown
/// dimension or `GROUPED`, granularity), in either layout, and whether
/// every unit was written in pieces.
fn block_keys(store: &Embedded) -> (Vec<[u8; 3]>, bool) {
    use redb::ReadableTable;
    let read = store.db().unwrap().begin_read().unwrap();
    let segments = read.open_table(super::SEGMENTS).unwrap();
    let dictionaries = read.open_table(super::DICTIONARIES).unwrap();
    let mut tags = Vec::new();
    let mut in_pieces = true;
    for entry in dictionaries.iter().unwrap() {
        let (key, value) = entry.unwrap();
        if super::pieces::Head::is_head(value.value()) {
            let head = super::pieces::Head::decode(value.value()).unwrap();
            tags.extend(head.blocks(None).map(|(tag, _, _)| tag));
            continue;
        }
        in_pieces = false;
        let start = key.value().to_vec();
        for entry in segments.range(start.as_slice()..).unwrap() {
            let (key, _) = entry.unwrap();
            if !key.value().starts_with(&start) {
                break;
            }
            tags.push(*key.value().last_chunk::<3>().unwrap());
        }
    }
    (tags, in_pieces)
}

#[test]
fn a_day_is_stored_as_totals_and_a_group_per_filter_dimension_and_a_month_per_shape() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .map(|at| daily(at, JAN_1, at, 3))
        .collect();
    pair.apply(&batch);
    pair.sealing.seal(SITE, JAN_1 + 1).unwrap();
    let (keys, in_pieces) = block_keys(&pair.sealing);
    assert!(in_pieces, "the day was written in pieces");
    let days: Vec<_> = keys
        .iter()
        .filter(|key| key[2] != Granularity::Month as u8)
        .collect();
    assert!(!days.is_empty());
    assert!(
        days.iter()
            .all(|key| (key[1] == super::GROUPED) == (key[1] != Dim::None as u8)),
        "a day's totals are alone, its breakdowns in groups: {days:?}"
    );
    // Three filter dimensions (none, page, source), hourly and daily: a
    // block of totals and a group of breakdowns each.
    assert_eq!(days.len(), 12, "{days:?}");
    pair.assert_same(JAN_1, JAN_1);
    pair.sealing.roll_up(SITE, JAN_1, JAN_1 + 30).unwrap();
    assert!(
        block_keys(&pair.sealing)
            .0
            .iter()
            .filter(|key| key[2] == Granularity::Month as u8)
            .all(|key| key[1] != super::GROUPED),
        "a month keeps a block per shape"
    );
}

/// Rewrites sealed days as an earlier build wrote them: a block per shape,
/// the dictionary under the unit's key.
fn write_in_blocks(store: &Embedded, days: &[i32]) {
    let write = store.begin_write().unwrap();
    for &day in days {
        let unit = super::Unit::Day(day);
        let mut rows = super::Rows::new();
        {
            let segments = write.open_table(super::SEGMENTS).unwrap();
            let dictionaries = write.open_table(super::DICTIONARIES).unwrap();
            super::unit_rows(&segments, &dictionaries, SITE, unit, &mut rows).unwrap();
        }
        let encoded = crate::store::unit::encode(&rows).unwrap();
        super::delete_unit(&write, SITE, unit).unwrap();
        let mut segments = write.open_table(super::SEGMENTS).unwrap();
        for (shape, block) in &encoded.tables {
            segments
                .insert(
                    super::segment_key(SITE, unit, *shape, false).as_slice(),
                    block.as_slice(),
                )
                .unwrap();
        }
        write
            .open_table(super::DICTIONARIES)
            .unwrap()
            .insert(
                super::unit_key(SITE, unit).as_slice(),
                encoded.dictionary.as_slice(),
            )
            .unwrap();
    }
    store.commit(write).unwrap();
}

#[test]
fn units_of_the_earlier_layout_are_listed_and_repacked_in_pieces_with_their_rows() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .flat_map(|at| (0..3).map(move |day| daily(at, JAN_1 + day, at + day as usize, 2)))
        .collect();
    pair.apply(&batch);
    pair.sealing.seal(SITE, JAN_1 + 3).unwrap();
    write_in_blocks(&pair.sealing, &[JAN_1, JAN_1 + 2]);
    let listed = super::units_in_blocks(&pair.sealing.db().unwrap()).unwrap();
    assert_eq!(
        listed,
        [
            (SITE.to_owned(), super::Unit::Day(JAN_1)),
            (SITE.to_owned(), super::Unit::Day(JAN_1 + 2))
        ]
    );
    pair.assert_same(JAN_1 - 1, JAN_1 + 3);
    let write = pair.sealing.begin_write().unwrap();
    for (site, unit) in &listed {
        super::repack(&write, site, *unit).unwrap();
    }
    pair.sealing.commit(write).unwrap();
    assert!(
        super::units_in_blocks(&pair.sealing.db().unwrap())
            .unwrap()
            .is_empty()
    );
    let (_, in_pieces) = block_keys(&pair.sealing);
    assert!(in_pieces, "every unit in pieces");
    pair.assert_same(JAN_1 - 1, JAN_1 + 3);
}

#[test]
fn a_day_written_as_a_block_per_shape_reads_and_is_rewritten_in_groups_and_pieces() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .flat_map(|at| (0..2).map(move |day| daily(at, JAN_1 + day, at + day as usize, 2)))
        .collect();
    pair.apply(&batch);
    pair.sealing.seal(SITE, JAN_1 + 2).unwrap();
    write_in_blocks(&pair.sealing, &[JAN_1, JAN_1 + 1]);
    let (keys, in_pieces) = block_keys(&pair.sealing);
    assert!(!in_pieces && keys.iter().all(|key| key[1] != super::GROUPED));
    pair.assert_same(JAN_1 - 1, JAN_1 + 2);
    pair.sealing.roll_up(SITE, JAN_1, JAN_1 + 30).unwrap();
    pair.open.roll_up(SITE, JAN_1, JAN_1 + 30).unwrap();
    pair.assert_same(JAN_1 - 1, JAN_1 + 40);
    // A late row makes the next seal rewrite its day, in the new layout.
    let late = daily(3, JAN_1, 1, 1);
    pair.apply(&[late]);
    pair.sealing.seal(SITE, JAN_1 + 2).unwrap();
    pair.assert_same(JAN_1 - 1, JAN_1 + 2);
    let (keys, _) = block_keys(&pair.sealing);
    assert!(keys.iter().any(|key| key[1] == super::GROUPED));
}

#[test]
fn retention_deletes_sealed_days_hours_and_months_before_its_limits() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .flat_map(|at| (0..40).map(move |day| daily(at, JAN_1 + day, at, 1 + day as i64)))
        .collect();
    pair.apply(&batch);
    pair.sealing.seal(SITE, JAN_1 + 38).unwrap();
    for (before_day, before_hour) in [
        (JAN_1 + 3, (JAN_1 + 3) * 24),
        (JAN_1 + 5, (JAN_1 + 6) * 24 + 7),
    ] {
        let removed = pair.sealing.purge(SITE, before_day, before_hour).unwrap();
        let expected = pair.open.purge(SITE, before_day, before_hour).unwrap();
        assert_eq!(removed, expected, "rows removed before {before_day}");
        pair.assert_same(JAN_1 - 40, JAN_1 + 45);
    }
    let months = pair
        .sealing
        .purge(SITE, JAN_1 + 32, (JAN_1 + 32) * 24)
        .unwrap();
    assert_eq!(
        months,
        pair.open
            .purge(SITE, JAN_1 + 32, (JAN_1 + 32) * 24)
            .unwrap()
    );
    pair.assert_same(JAN_1 - 40, JAN_1 + 45);
}

#[test]
fn a_roll_up_of_sealed_and_open_days_sums_them_all() {
    let pair = Pair::new();
    let batch: Vec<_> = (0..prefixes().len())
        .flat_map(|at| {
            (0..31).map(move |day| daily(at, JAN_1 + day, at + day as usize, 1 + day as i64))
        })
        .collect();
    pair.apply(&batch);
    pair.sealing.seal(SITE, JAN_1 + 20).unwrap();
    let rows = pair.sealing.roll_up(SITE, JAN_1, JAN_1 + 30).unwrap();
    assert_eq!(rows, pair.open.roll_up(SITE, JAN_1, JAN_1 + 30).unwrap());
    assert_eq!(pair.sealing.rolled_months(SITE).unwrap(), [JAN_1]);
    pair.assert_same(JAN_1, JAN_1 + 30);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any interleaving of writes, seals, roll-ups and retention leaves the
    /// sealing store answering as the store that never seals.
    #[test]
    fn sealing_never_changes_an_answer(
        steps in proptest::collection::vec(
            (0u8..10, 0usize..64, 0i32..62, 0usize..8, -2i64..6),
            1..60,
        )
    ) {
        let pair = Pair::new();
        for (kind, at, day, value, visitors) in steps {
            match kind {
                0..=5 => pair.apply(&[daily(at, JAN_1 + day, value, visitors)]),
                6 | 7 => {
                    pair.sealing.seal(SITE, JAN_1 + day).unwrap();
                }
                8 => {
                    let month = if day < 31 { JAN_1 } else { JAN_1 + 31 };
                    let last = crate::calendar::Day::new(month).last_of_month().number();
                    prop_assert_eq!(
                        pair.sealing.roll_up(SITE, month, last).unwrap(),
                        pair.open.roll_up(SITE, month, last).unwrap()
                    );
                }
                _ => {
                    // The rows removed may differ: a late row and the sealed
                    // row it adds to are two rows until the next seal.
                    let (before_day, before_hour) = (JAN_1 + day / 4, (JAN_1 + day / 4) * 24 + day % 3);
                    pair.sealing.purge(SITE, before_day, before_hour).unwrap();
                    pair.open.purge(SITE, before_day, before_hour).unwrap();
                }
            }
        }
        pair.assert_same(JAN_1 - 1, JAN_1 + 62);
        pair.assert_same(JAN_1 + 10, JAN_1 + 40);
    }
}
