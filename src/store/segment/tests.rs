use proptest::prelude::*;

use super::*;

fn counts(visitors: i64, bounces: i64) -> Counts {
    Counts {
        visitors,
        visits: visitors,
        pageviews: 2 * visitors,
        bounces,
        duration: 61,
        events: 2 * visitors,
    }
}

fn row(filter: u32, offset: u32, value: u32, visitors: i64) -> SealedRow {
    SealedRow {
        filter,
        offset,
        value,
        counts: counts(visitors, -1),
    }
}

fn all_rows(block: &[u8]) -> Vec<SealedRow> {
    let mut rows = Vec::new();
    Table::decode(block)
        .unwrap()
        .each_row(|row| rows.push(row))
        .unwrap();
    rows
}

#[test]
fn a_dictionary_round_trips_and_finds_texts_by_their_order() {
    let texts = ["", "/", "/afval", "/wonen/ä", "Google"];
    let dictionary = Dictionary::of_sorted(texts);
    let decoded = Dictionary::decode(&dictionary.encode()).unwrap();
    assert_eq!(decoded, dictionary);
    assert_eq!(decoded.texts().collect::<Vec<_>>(), texts);
    assert_eq!(decoded.id_of("/afval"), Some(2));
    assert_eq!(decoded.id_of(""), Some(0));
    assert_eq!(decoded.id_of("/b"), None);
    assert_eq!(decoded.get(5), None, "past the end");
}

#[test]
fn a_table_reads_back_sorted_by_filter_hour_and_value() {
    let mut rows = vec![
        row(3, 0, 9, 1),
        row(1, 5, 2, 4),
        row(1, 2, 7, 2),
        row(1, 2, 3, 3),
    ];
    let block = encode_table(&mut rows);
    assert_eq!(row_count(&block), Ok(4));
    assert_eq!(
        all_rows(&block),
        vec![
            row(1, 2, 3, 3),
            row(1, 2, 7, 2),
            row(1, 5, 2, 4),
            row(3, 0, 9, 1)
        ]
    );
}

#[test]
fn one_filter_value_is_read_without_the_others() {
    let mut rows = vec![
        row(0, 0, 1, 1),
        row(4, 0, 1, 2),
        row(4, 0, 6, 3),
        row(9, 0, 0, 4),
    ];
    let table = Table::decode(&encode_table(&mut rows)).unwrap();
    let mut found = Vec::new();
    table.rows_of(4, |row| found.push(row)).unwrap();
    assert_eq!(found, vec![row(4, 0, 1, 2), row(4, 0, 6, 3)]);
    found.clear();
    table.rows_of(5, |row| found.push(row)).unwrap();
    assert!(found.is_empty(), "a filter value without rows has none");
}

#[test]
fn small_blocks_stay_raw_and_large_ones_are_compressed() {
    let mut one = vec![row(0, 0, 0, 1)];
    assert_eq!(encode_table(&mut one)[0], RAW);
    let mut many: Vec<SealedRow> = (0..2_000).map(|value| row(0, 0, value, 1)).collect();
    let block = encode_table(&mut many);
    assert_eq!(block[0], ZSTD);
    assert!(
        block.len() < 2_000 * 3,
        "{} bytes for 2,000 similar rows",
        block.len()
    );
    assert_eq!(all_rows(&block).len(), 2_000);
}

#[test]
fn damaged_blocks_are_refused_without_panicking() {
    let mut rows: Vec<SealedRow> = (0..300)
        .map(|value| row(value % 7, value % 24, value, 3))
        .collect();
    let block = encode_table(&mut rows);
    for cut in 0..block.len() {
        let _ = Table::decode(&block[..cut]).and_then(|table| table.each_row(|_| {}));
    }
    let mut raw_rows = vec![row(1, 2, 3, 4)];
    let raw = encode_table(&mut raw_rows);
    for cut in 0..raw.len() {
        let read = Table::decode(&raw[..cut]).and_then(|table| table.each_row(|_| {}));
        assert!(
            read.is_err(),
            "a block cut at {cut} of {} bytes reads",
            raw.len()
        );
    }
    assert_eq!(Table::decode(&[7, 0]).err(), Some("unknown block codec"));
    let dictionary = Dictionary::of_sorted(["a", "b"]).encode();
    assert!(Dictionary::decode(&dictionary[..dictionary.len() - 1]).is_err());
    assert!(
        Dictionary::decode(&[RAW, 0, 1, 1, 0xFF]).is_err(),
        "not UTF-8"
    );
}

proptest! {
    #[test]
    fn any_table_round_trips(
        picked in proptest::collection::btree_map(
            (0u32..40, 0u32..24, 0u32..5_000),
            (0i64..1_000_000, -3i64..3),
            0..400,
        )
    ) {
        let mut rows: Vec<SealedRow> = picked
            .iter()
            .map(|(&(filter, offset, value), &(visitors, bounces))| SealedRow {
                filter,
                offset,
                value,
                counts: counts(visitors, bounces),
            })
            .collect();
        let expected = rows.clone();
        let block = encode_table(&mut rows);
        prop_assert_eq!(row_count(&block).unwrap(), expected.len() as u64);
        prop_assert_eq!(all_rows(&block), expected.clone());
        let table = Table::decode(&block).unwrap();
        for filter in [0, 7, 39] {
            let mut found = Vec::new();
            table.rows_of(filter, |row| found.push(row)).unwrap();
            let wanted: Vec<SealedRow> =
                expected.iter().filter(|row| row.filter == filter).copied().collect();
            prop_assert_eq!(found, wanted);
        }
    }
}

#[test]
fn a_group_keeps_its_tables_apart_and_compresses_them_together() {
    let tables: Vec<(u8, Vec<SealedRow>)> = (0..6u8)
        .map(|tag| {
            // The same irregular rows in every table, as a day's breakdowns
            // repeat its values: little to gain alone, much together.
            let rows = (0..400u32)
                .map(|n| {
                    let value = n * 37 + (n * n * 7919) % 31;
                    row(
                        n % 5,
                        0,
                        value,
                        i64::from(n.wrapping_mul(2_654_435_761) >> 24),
                    )
                })
                .collect();
            (tag, rows)
        })
        .collect();
    let blocks: Vec<(u8, Vec<u8>)> = tables
        .iter()
        .map(|(tag, rows)| (*tag, encode_table(&mut rows.clone())))
        .collect();
    let group = encode_group(blocks.iter().map(|(tag, block)| (*tag, block.as_slice()))).unwrap();
    assert_eq!(row_count(&group), Ok(6 * 400));
    let apart: usize = blocks.iter().map(|(_, block)| block.len()).sum();
    assert!(
        group.len() * 2 < apart,
        "{} bytes together against {apart} apart",
        group.len()
    );
    let decoded = decode_group(&group).unwrap();
    assert_eq!(decoded.len(), 6);
    for ((tag, table), (expected_tag, block)) in decoded.iter().zip(&blocks) {
        assert_eq!(tag, expected_tag);
        let mut rows = Vec::new();
        table.each_row(|row| rows.push(row)).unwrap();
        assert_eq!(rows, all_rows(block), "table {tag}");
    }
    for cut in 0..group.len() {
        let _ = decode_group(&group[..cut]);
    }
    let mut small = vec![row(1, 0, 2, 1)];
    let small = encode_group([(3, encode_table(&mut small).as_slice())]).unwrap();
    for cut in 0..small.len() {
        assert!(decode_group(&small[..cut]).is_err(), "cut at {cut}");
    }
}
