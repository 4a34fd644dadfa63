//! Count deltas waiting for the next flush.
//!
//! A counter update must be cheap: it happens 50–100 times per hit. Each
//! dimension value is interned once per flush window to a small dense id,
//! and a counter's key (site, granularity, bucket, filter, breakdown) is
//! packed into one `u128`, so an update is one hash of one integer. The
//! id → text table lives only until the flush turns ids back into keys.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::sites::SiteIdx;
use crate::store::{Counts, Dim, Granularity, KeyParts};

/// A dimension value as the aggregator handles it.
#[derive(Debug, Clone, Copy)]
pub struct Value {
    pub dim: Dim,
    /// Dense id within the current flush window; 0 is "no value".
    id: u32,
    /// Stable hash of (dimension, text): the same across flush windows.
    pub hash: u64,
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        (self.dim, self.id) == (other.dim, other.id)
    }
}

impl Eq for Value {}

impl Value {
    pub(crate) const NONE: Value = Value {
        dim: Dim::None,
        id: 0,
        hash: 0,
    };
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

#[derive(Default)]
pub struct Deltas {
    counts: FastMap<u128, Counts>,
    /// Text hash → dense id.
    ids: FastMap<u64, u32>,
    /// Dense id − 1 → text.
    texts: Vec<Arc<str>>,
}

/// The packed key: site 16 bits | granularity 8 | bucket 32 | filter dim 4 |
/// filter id 32 | breakdown dim 4 | breakdown id 32.
fn pack(
    site: SiteIdx,
    granularity: Granularity,
    bucket: i32,
    filter: Value,
    breakdown: Value,
) -> u128 {
    (site.index() as u128) << 112
        | (granularity as u8 as u128) << 104
        | (bucket as u32 as u128) << 72
        | (filter.dim as u8 as u128) << 68
        | (filter.id as u128) << 36
        | (breakdown.dim as u8 as u128) << 32
        | breakdown.id as u128
}

struct Unpacked {
    site: usize,
    granularity: Granularity,
    bucket: i32,
    filter: (Dim, u32),
    breakdown: (Dim, u32),
}

fn unpack(key: u128) -> Unpacked {
    let dim = |bits: u128| Dim::from_byte((bits & 0xF) as u8).unwrap_or(Dim::None);
    Unpacked {
        site: (key >> 112) as usize,
        granularity: if (key >> 104) as u8 == Granularity::Hour as u8 {
            Granularity::Hour
        } else {
            Granularity::Day
        },
        bucket: (key >> 72) as u32 as i32,
        filter: (dim(key >> 68), (key >> 36) as u32),
        breakdown: (dim(key >> 32), key as u32),
    }
}

impl Deltas {
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The value of `text` in `dim`, interned until the flush.
    pub fn value(&mut self, dim: Dim, text: &str) -> Value {
        let hash =
            foldhash::fast::FixedState::with_seed(0x6b72_7569_6d65_6c00).hash_one((dim, text));
        let texts = &mut self.texts;
        let id = *self.ids.entry(hash).or_insert_with(|| {
            texts.push(Arc::from(text));
            texts.len() as u32
        });
        Value { dim, id, hash }
    }

    pub fn add(
        &mut self,
        site: SiteIdx,
        granularity: Granularity,
        bucket: i32,
        filter: Value,
        breakdown: Value,
        delta: Counts,
    ) {
        *self
            .counts
            .entry(pack(site, granularity, bucket, filter, breakdown))
            .or_default() += delta;
    }

    fn text(&self, id: u32) -> &str {
        match id {
            0 => "",
            id => self.texts.get(id as usize - 1).map_or("", |text| text),
        }
    }

    /// Turns the pending deltas into stored keys, leaving this empty.
    pub fn drain_to_batch(&mut self, site_ids: &[&str]) -> Vec<(Vec<u8>, Counts)> {
        let mut batch: Vec<(Vec<u8>, Counts)> = self
            .counts
            .iter()
            .filter(|(_, counts)| !counts.is_zero())
            .map(|(key, counts)| {
                let key = unpack(*key);
                let parts = KeyParts {
                    site: site_ids[key.site],
                    filter: (key.filter.0, self.text(key.filter.1)),
                    breakdown: key.breakdown.0,
                    granularity: key.granularity,
                };
                (
                    parts.row_key(key.bucket, self.text(key.breakdown.1)),
                    *counts,
                )
            })
            .collect();
        // Sorted keys make the B-tree writes sequential.
        batch.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.counts.clear();
        self.ids.clear();
        self.texts.clear();
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::decode_key;

    #[test]
    fn packed_keys_come_back_as_the_stored_key_they_stand_for() {
        let mut deltas = Deltas::default();
        let site = crate::sites::Sites::default_idx();
        let filter = deltas.value(Dim::Source, "Google");
        let page = deltas.value(Dim::Page, "/wonen");
        let counts = Counts {
            pageviews: 2,
            ..Counts::default()
        };
        deltas.add(site, Granularity::Hour, -3, filter, page, counts);
        deltas.add(site, Granularity::Day, 20_415, Value::NONE, page, counts);
        deltas.add(site, Granularity::Day, 20_415, Value::NONE, page, counts);
        let batch = deltas.drain_to_batch(&["a.example"]);
        let decoded: Vec<_> = batch
            .iter()
            .map(|(key, counts)| {
                let (prefix, row) = decode_key(key).unwrap();
                (
                    prefix.filter,
                    prefix.breakdown,
                    prefix.granularity,
                    row.bucket,
                    row.value,
                    counts.pageviews,
                )
            })
            .collect();
        assert!(decoded.contains(&(
            (Dim::Source, "Google".into()),
            Dim::Page,
            Granularity::Hour,
            -3,
            "/wonen".into(),
            2
        )));
        assert!(decoded.contains(&(
            (Dim::None, String::new()),
            Dim::Page,
            Granularity::Day,
            20_415,
            "/wonen".into(),
            4
        )));
        assert_eq!(decoded.len(), 2);
        assert!(deltas.is_empty());
    }

    #[test]
    fn values_keep_their_hash_across_flush_windows() {
        let mut deltas = Deltas::default();
        let before = deltas.value(Dim::Page, "/a");
        deltas.drain_to_batch(&[]);
        deltas.value(Dim::Page, "/b");
        let after = deltas.value(Dim::Page, "/a");
        assert_eq!(before.hash, after.hash);
        assert_ne!(
            deltas.value(Dim::Source, "/a").hash,
            after.hash,
            "the dimension is part of the hash"
        );
    }
}
