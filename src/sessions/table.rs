//! The visitors' table: entries side by side in one vector, found through
//! an index of 32-bit slot numbers.
//!
//! A general map keeps each entry's 64-bit hash beside it and a
//! pointer-sized slot in its index: 16 bytes a visitor that a table of
//! a million does not need. Here an entry is its key and its state, and
//! the index holds four bytes a slot (and hashbrown's one control byte).
//! Removing an entry moves the last one into its place, so the entries
//! stay dense and a random slot is a random visitor, which is what the
//! sampled eviction draws.

use std::hash::BuildHasher;

use hashbrown::HashTable;

pub(super) struct Table<V> {
    /// Slot numbers into `entries`, hashed by the entry's key.
    index: HashTable<u32>,
    entries: Vec<(u64, V)>,
    hasher: foldhash::fast::RandomState,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            index: HashTable::new(),
            entries: Vec::new(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<V> Table<V> {
    /// The most entries a table holds: slots are numbered in 32 bits.
    pub(super) const MAX_LEN: usize = u32::MAX as usize;

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Room for `additional` entries more, and no more than that.
    pub(super) fn reserve_exact(&mut self, additional: usize) {
        self.entries.reserve_exact(additional);
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.reserve(additional, |&slot| {
            hasher.hash_one(entries[slot as usize].0)
        });
    }

    fn slot_of(&self, key: u64) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(self.hasher.hash_one(key), |&slot| {
                entries[slot as usize].0 == key
            })
            .map(|&slot| slot as usize)
    }

    pub(super) fn contains_key(&self, key: u64) -> bool {
        self.slot_of(key).is_some()
    }

    pub(super) fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let slot = self.slot_of(key)?;
        Some(&mut self.entries[slot].1)
    }

    /// The entry in `slot` (below `len`).
    pub(super) fn get_index(&self, slot: usize) -> &V {
        &self.entries[slot].1
    }

    /// Adds an entry whose key the table does not hold.
    pub(super) fn insert_new(&mut self, key: u64, value: V) {
        debug_assert!(!self.contains_key(key));
        assert!(self.entries.len() < Self::MAX_LEN, "visitors' table full");
        let slot = self.entries.len() as u32;
        self.entries.push((key, value));
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .insert_unique(hasher.hash_one(key), slot, |&slot| {
                hasher.hash_one(entries[slot as usize].0)
            });
    }

    pub(super) fn swap_remove(&mut self, key: u64) -> Option<V> {
        let slot = self.slot_of(key)?;
        Some(self.swap_remove_index(slot).1)
    }

    /// Removes the entry in `slot` (below `len`); the last entry takes
    /// its place.
    pub(super) fn swap_remove_index(&mut self, slot: usize) -> (u64, V) {
        let last = self.entries.len() - 1;
        let hash = self.hasher.hash_one(self.entries[slot].0);
        self.index
            .find_entry(hash, |&indexed| indexed as usize == slot)
            .expect("every entry is indexed")
            .remove();
        if slot != last {
            let moved = self.hasher.hash_one(self.entries[last].0);
            let index = self
                .index
                .find_mut(moved, |&indexed| indexed as usize == last)
                .expect("every entry is indexed");
            *index = slot as u32;
        }
        self.entries.swap_remove(slot)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    /// Keeps the entries `keep` says yes to (in another order).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&mut V) -> bool) {
        let mut slot = 0;
        while slot < self.entries.len() {
            if keep(&mut self.entries[slot].1) {
                slot += 1;
            } else {
                // The last entry moves here and is asked next.
                self.swap_remove_index(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Random inserts, removals by key and by slot and retains, checked
    /// against a `HashMap` after every step.
    #[test]
    fn holds_what_a_map_holds_through_every_kind_of_removal() {
        let mut table: Table<u32> = Table::default();
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..20_000u32 {
            let key = next() % 3_000;
            match next() % 10 {
                0..=4 if !table.contains_key(key) => {
                    table.reserve_exact(1);
                    table.insert_new(key, step);
                    model.insert(key, step);
                }
                5 | 6 => assert_eq!(table.swap_remove(key), model.remove(&key)),
                7 if !table.is_empty() => {
                    let slot = (next() % table.len() as u64) as usize;
                    let (key, value) = table.swap_remove_index(slot);
                    assert_eq!(model.remove(&key), Some(value));
                }
                8 => {
                    if let Some(value) = table.get_mut(key) {
                        *value += 1;
                        *model.get_mut(&key).unwrap() += 1;
                    }
                }
                _ if step % 100 == 9 => {
                    let cut = next() % 4;
                    table.retain(|value| u64::from(*value) % 4 != cut);
                    model.retain(|_, value| u64::from(*value) % 4 != cut);
                }
                _ => {}
            }
            assert_eq!(table.len(), model.len());
            if step % 500 == 0 {
                for (key, value) in &model {
                    assert_eq!(table.get_mut(*key), Some(&mut value.clone()));
                }
                let mut values: Vec<u32> = table.values().copied().collect();
                let mut expected: Vec<u32> = model.values().copied().collect();
                values.sort_unstable();
                expected.sort_unstable();
                assert_eq!(values, expected);
            }
        }
    }
}
