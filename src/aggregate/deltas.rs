//! Count deltas waiting for the next flush.
//!
//! Values are hashed to 64-bit ids so that a counter update is one hash-map
//! step on a small fixed-size key; the id → text table lives only until the
//! flush that turns ids back into stored keys.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::sites::SiteIdx;
use crate::store::{Counts, Dim, Granularity, RowPrefix};

/// A dimension value as the aggregator handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value {
    pub dim: Dim,
    pub id: u64,
}

impl Value {
    pub const NONE: Value = Value {
        dim: Dim::None,
        id: 0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DeltaKey {
    site: SiteIdx,
    granularity: Granularity,
    bucket: i32,
    filter: Value,
    breakdown: Value,
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

#[derive(Default)]
pub struct Deltas {
    counts: FastMap<DeltaKey, Counts>,
    texts: FastMap<u64, Arc<str>>,
}

impl Deltas {
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The id of a dimension value, remembering its text until the flush.
    pub fn value(&mut self, dim: Dim, text: &str) -> Value {
        let id = foldhash::fast::FixedState::with_seed(0x6b72_7569_6d65_6c00).hash_one((dim, text));
        self.texts.entry(id).or_insert_with(|| Arc::from(text));
        Value { dim, id }
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
        let key = DeltaKey {
            site,
            granularity,
            bucket,
            filter,
            breakdown,
        };
        *self.counts.entry(key).or_default() += delta;
    }

    fn text(&self, value: Value) -> &str {
        if value.dim == Dim::None {
            return "";
        }
        self.texts.get(&value.id).map_or("", |text| text)
    }

    /// Turns the pending deltas into stored keys, leaving this empty.
    pub fn drain_to_batch(&mut self, site_ids: &[&str]) -> Vec<(Vec<u8>, Counts)> {
        let mut batch: Vec<(Vec<u8>, Counts)> = self
            .counts
            .iter()
            .filter(|(_, counts)| !counts.is_zero())
            .map(|(key, counts)| {
                let prefix = RowPrefix {
                    site: site_ids[key.site.index()].to_owned(),
                    filter: (key.filter.dim, self.text(key.filter).to_owned()),
                    breakdown: key.breakdown.dim,
                    granularity: key.granularity,
                };
                (
                    prefix.row_key(key.bucket, self.text(key.breakdown)),
                    *counts,
                )
            })
            .collect();
        // Sorted keys make the B-tree writes sequential.
        batch.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.counts.clear();
        self.texts.clear();
        batch
    }
}
