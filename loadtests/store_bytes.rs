//! Where a seeded database's bytes go: each table's rows, stored bytes,
//! redb's own overhead and pages, then the file as it stands on disk.
//!
//!   cargo run --release --example store_bytes -- target/seed/10m
//!
//! The directory is one `loadtests/seed.sh` filled (its `seed.env` gives the
//! pageviews each figure is divided by); the server must not be running.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::Context;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle};

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: store_bytes DATA_DIR")?,
    );
    let file = dir.join("kruimel.redb");
    let pageviews: f64 = std::fs::read_to_string(dir.join("seed.env"))
        .ok()
        .and_then(|env| {
            env.lines()
                .find_map(|line| line.strip_prefix("SEED_PAGEVIEWS="))
                .and_then(|value| value.parse().ok())
        })
        .context("no SEED_PAGEVIEWS in seed.env beside the database")?;
    let on_disk = std::fs::metadata(&file).with_context(|| file.display().to_string())?;
    let db = Database::open(&file).with_context(|| file.display().to_string())?;
    let read = db.begin_read()?;
    println!(
        "| table | rows | stored bytes | redb overhead | redb pages (4 KiB and runs of them) | bytes per pageview |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut total = 0u64;
    for handle in read.list_tables()? {
        let table = read.open_untyped_table(handle.clone())?;
        let stats = table.stats()?;
        let pages = stats.leaf_pages() + stats.branch_pages();
        let bytes = stats.stored_bytes() + stats.metadata_bytes() + stats.fragmented_bytes();
        total += bytes;
        println!(
            "| `{}` | {} | {} | {} | {} | {:.1} |",
            handle.name(),
            table.len()?,
            stats.stored_bytes(),
            stats.metadata_bytes() + stats.fragmented_bytes(),
            pages,
            bytes as f64 / pageviews,
        );
    }
    sealed_by_kind(&read, pageviews)?;
    drop(read);
    let stats = db.begin_write()?.stats()?;
    let allocated = stats.allocated_pages() * stats.page_size() as u64;
    println!();
    println!("pageviews: {pageviews}");
    println!(
        "tables: {total} bytes ({:.1} per pageview)",
        total as f64 / pageviews
    );
    println!(
        "pages in use: {allocated} bytes ({:.1} per pageview)",
        allocated as f64 / pageviews
    );
    println!(
        "file: {} bytes long, {} bytes allocated on disk ({:.1} per pageview)",
        on_disk.len(),
        on_disk.blocks() * 512,
        (on_disk.blocks() * 512) as f64 / pageviews
    );
    Ok(())
}

/// The sealed blocks by unit (day or month) and granularity, with the
/// spread of their sizes. A unit is written as one stream in page-sized
/// pieces, placed by its head in `dictionaries` (`src/store/embedded/sealed/pieces.rs`:
/// a 21-byte header, then a 3-byte tag and a 4-byte length per block); a
/// unit of the earlier layout keeps a block per key in `segments`.
fn sealed_by_kind(read: &redb::ReadTransaction, pageviews: f64) -> anyhow::Result<()> {
    let segments: TableDefinition<&[u8], &[u8]> = TableDefinition::new("segments");
    let dictionaries: TableDefinition<&[u8], &[u8]> = TableDefinition::new("dictionaries");
    let (Ok(segments), Ok(dictionaries)) =
        (read.open_table(segments), read.open_table(dictionaries))
    else {
        return Ok(());
    };
    // (unit kind byte, tag, block length) of every block.
    let mut blocks: Vec<(u8, [u8; 3], u64)> = Vec::new();
    for entry in dictionaries.iter()? {
        let (key, value) = entry?;
        let (key, value) = (key.value(), value.value());
        let site = usize::from(key[0]) + 1;
        let kind = key.get(site).copied().unwrap_or_default();
        if value.first() == Some(&2) && value.len() >= 21 {
            for entry in value[21..].chunks_exact(7) {
                let length = u32::from_le_bytes([entry[3], entry[4], entry[5], entry[6]]);
                blocks.push((kind, [entry[0], entry[1], entry[2]], u64::from(length)));
            }
            continue;
        }
        for entry in segments.range(key..)? {
            let (block_key, block) = entry?;
            let block_key = block_key.value();
            if !block_key.starts_with(key) {
                break;
            }
            let tag = *block_key.last_chunk::<3>().context("segment key")?;
            blocks.push((kind, tag, block.value().len() as u64));
        }
    }
    let mut kinds: std::collections::BTreeMap<(&str, &str), (u64, u64)> = Default::default();
    let mut filters: std::collections::BTreeMap<u8, u64> = Default::default();
    let mut sizes = [0u64; 24];
    for (kind, tag, length) in blocks {
        let unit = match kind {
            2 => "day",
            3 => "month",
            _ => "other",
        };
        let granularity = match tag[2] {
            1 => "hourly",
            2 => "daily",
            3 => "monthly",
            _ => "other",
        };
        *filters.entry(tag[0]).or_default() += length;
        let kind = kinds.entry((unit, granularity)).or_default();
        kind.0 += 1;
        kind.1 += length;
        sizes[(64 - length.leading_zeros() as usize).min(23)] += 1;
    }
    println!();
    println!("| sealed unit | blocks | granularity | bytes | bytes per pageview |");
    println!("| --- | ---: | --- | ---: | ---: |");
    for ((unit, granularity), (count, bytes)) in kinds {
        println!(
            "| {unit} | {count} | {granularity} | {bytes} | {:.1} |",
            bytes as f64 / pageviews
        );
    }
    println!();
    println!(
        "sealed bytes by filter dimension (its number in the row key): {}",
        filters
            .iter()
            .map(|(dimension, bytes)| format!("{dimension}: {bytes}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "sealed blocks by size (up to): {}",
        sizes
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(bits, count)| format!("{} B: {count}", 1u64 << bits))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
