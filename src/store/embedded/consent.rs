//! Consent in the embedded database: receipts, their expiry index,
//! archived notices and daily consent counts, each a table of its own.

use redb::{ReadableTable, TableDefinition};

use super::{Embedded, operation};
use crate::consent::receipt::{MAX_HISTORY, tally_items};
use crate::consent::{Choice, Receipt, ReceiptId};
use crate::store::StoreError;
use crate::store::consent::{Recorded, Tally};

/// Receipt id → the receipt as JSON.
pub(super) const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// Expiry (unix seconds, big-endian) + receipt id → nothing: the
/// retention job's index.
pub(super) const RECEIPT_EXPIRY: TableDefinition<&[u8], ()> =
    TableDefinition::new("receipt_expiry");
/// Site + NUL + banner version → the notice as JSON.
pub(super) const NOTICES: TableDefinition<&str, &str> = TableDefinition::new("notices");
/// Site, day, banner version, item → count; see `tally_key`.
pub(super) const TALLIES: TableDefinition<&[u8], u64> = TableDefinition::new("consent_counts");

fn expiry_key(expires: i64, id: &ReceiptId) -> Vec<u8> {
    let mut key = expires.max(0).to_be_bytes().to_vec();
    key.extend_from_slice(id.bytes());
    key
}

/// `[site len][site][day, sign-flipped, big-endian]`: the prefix of a
/// site's day; `[banner len][banner][item]` follows.
fn day_prefix(site: &str, day: i32) -> Vec<u8> {
    let mut key = vec![site.len() as u8];
    key.extend_from_slice(site.as_bytes());
    key.extend_from_slice(&((day as u32) ^ 0x8000_0000).to_be_bytes());
    key
}

fn tally_key(site: &str, day: i32, banner_version: &str, item: &str) -> Vec<u8> {
    let mut key = day_prefix(site, day);
    key.push(banner_version.len() as u8);
    key.extend_from_slice(banner_version.as_bytes());
    key.extend_from_slice(item.as_bytes());
    key
}

fn decode_tally(site: &str, key: &[u8], count: u64) -> Option<Tally> {
    let rest = key.get(1 + site.len()..)?;
    let day = (u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) ^ 0x8000_0000) as i32;
    let banner_len = usize::from(*rest.get(4)?);
    let banner_version = std::str::from_utf8(rest.get(5..5 + banner_len)?).ok()?;
    let item = std::str::from_utf8(rest.get(5 + banner_len..)?).ok()?;
    Some(Tally {
        day,
        banner_version: banner_version.to_owned(),
        item: item.to_owned(),
        count,
    })
}

fn decode_receipt(bytes: &[u8]) -> Result<Receipt, StoreError> {
    serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt("consent receipt"))
}

fn encode_receipt(receipt: &Receipt) -> Vec<u8> {
    serde_json::to_vec(receipt).expect("a receipt serialises")
}

impl Embedded {
    pub(crate) fn archive_notice(
        &self,
        site: &str,
        banner_version: &str,
        json: &str,
    ) -> Result<bool, StoreError> {
        let key = format!("{site}\0{banner_version}");
        let write = self.begin_write()?;
        let added = {
            let mut table = write.open_table(NOTICES).map_err(operation)?;
            let known = table.get(key.as_str()).map_err(operation)?.is_some();
            if !known {
                table.insert(key.as_str(), json).map_err(operation)?;
            }
            !known
        };
        self.commit(write)?;
        Ok(added)
    }

    pub(crate) fn archived_notice(
        &self,
        site: &str,
        banner_version: &str,
    ) -> Result<Option<String>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(NOTICES).map_err(operation)?;
        let key = format!("{site}\0{banner_version}");
        Ok(table
            .get(key.as_str())
            .map_err(operation)?
            .map(|json| json.value().to_owned()))
    }

    pub(crate) fn record_choice(
        &self,
        site: &str,
        continues: Option<ReceiptId>,
        choice: Choice,
        day: i32,
        expires: i64,
    ) -> Result<Recorded, StoreError> {
        let write = self.begin_write()?;
        let recorded = {
            let mut receipts = write.open_table(RECEIPTS).map_err(operation)?;
            let mut expiry = write.open_table(RECEIPT_EXPIRY).map_err(operation)?;
            let mut tallies = write.open_table(TALLIES).map_err(operation)?;
            for item in tally_items(&choice) {
                let key = tally_key(site, day, &choice.banner_version, &item);
                let count = tallies
                    .get(key.as_slice())
                    .map_err(operation)?
                    .map_or(0, |v| v.value());
                tallies
                    .insert(key.as_slice(), count + 1)
                    .map_err(operation)?;
            }
            let earlier = match continues {
                Some(id) => receipts
                    .get(id.bytes().as_slice())
                    .map_err(operation)?
                    .map(|stored| decode_receipt(stored.value()))
                    .transpose()?
                    .filter(|receipt| receipt.site == site && receipt.history.len() < MAX_HISTORY),
                None => None,
            };
            let recorded = match earlier {
                Some(mut receipt) => {
                    expiry
                        .remove(expiry_key(receipt.expires, &receipt.receipt).as_slice())
                        .map_err(operation)?;
                    receipt.updated = choice.at;
                    receipt.expires = expires;
                    receipt.history.push(choice);
                    Recorded {
                        receipt,
                        created: false,
                    }
                }
                None => Recorded {
                    receipt: Receipt {
                        receipt: ReceiptId::random(),
                        site: site.to_owned(),
                        created: choice.at,
                        updated: choice.at,
                        expires,
                        history: vec![choice],
                    },
                    created: true,
                },
            };
            let receipt = &recorded.receipt;
            receipts
                .insert(
                    receipt.receipt.bytes().as_slice(),
                    encode_receipt(receipt).as_slice(),
                )
                .map_err(operation)?;
            expiry
                .insert(expiry_key(receipt.expires, &receipt.receipt).as_slice(), ())
                .map_err(operation)?;
            recorded
        };
        self.commit(write)?;
        Ok(recorded)
    }

    pub fn receipt(&self, id: ReceiptId) -> Result<Option<Receipt>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(RECEIPTS).map_err(operation)?;
        let stored = table.get(id.bytes().as_slice()).map_err(operation)?;
        stored
            .map(|stored| decode_receipt(stored.value()))
            .transpose()
    }

    pub(crate) fn erase_receipt(&self, id: ReceiptId) -> Result<bool, StoreError> {
        let write = self.begin_write()?;
        let erased = {
            let mut receipts = write.open_table(RECEIPTS).map_err(operation)?;
            let removed = receipts.remove(id.bytes().as_slice()).map_err(operation)?;
            match removed {
                Some(stored) => {
                    let receipt = decode_receipt(stored.value())?;
                    drop(stored);
                    let mut expiry = write.open_table(RECEIPT_EXPIRY).map_err(operation)?;
                    expiry
                        .remove(expiry_key(receipt.expires, &id).as_slice())
                        .map_err(operation)?;
                    true
                }
                None => false,
            }
        };
        self.commit(write)?;
        Ok(erased)
    }

    pub(crate) fn purge_receipts(&self, now: i64) -> Result<u64, StoreError> {
        let write = self.begin_write()?;
        let mut removed = 0;
        {
            let mut receipts = write.open_table(RECEIPTS).map_err(operation)?;
            let mut expiry = write.open_table(RECEIPT_EXPIRY).map_err(operation)?;
            let end = expiry_key(now.saturating_add(1), &ReceiptId::from_bytes([0; 16]));
            let due = expiry
                .extract_from_if(..end.as_slice(), |_, _| true)
                .map_err(operation)?;
            for entry in due {
                let (key, _) = entry.map_err(operation)?;
                if let Some(id) = key.value().get(8..24) {
                    receipts.remove(id).map_err(operation)?;
                    removed += 1;
                }
            }
        }
        self.commit(write)?;
        Ok(removed)
    }

    pub(crate) fn consent_tallies(
        &self,
        site: &str,
        first_day: i32,
        last_day: i32,
    ) -> Result<Vec<Tally>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(TALLIES).map_err(operation)?;
        let start = day_prefix(site, first_day);
        let end = day_prefix(site, last_day.saturating_add(1));
        let mut tallies = Vec::new();
        for entry in table
            .range(start.as_slice()..end.as_slice())
            .map_err(operation)?
        {
            let (key, count) = entry.map_err(operation)?;
            let tally = decode_tally(site, key.value(), count.value())
                .ok_or(StoreError::Corrupt("consent count key"))?;
            tallies.push(tally);
        }
        Ok(tallies)
    }

    pub(crate) fn purge_tallies(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        let start = day_prefix(site, i32::MIN);
        let end = day_prefix(site, before_day);
        let write = self.begin_write()?;
        let mut removed = 0;
        {
            let mut table = write.open_table(TALLIES).map_err(operation)?;
            table
                .retain_in(start.as_slice()..end.as_slice(), |_, _| {
                    removed += 1;
                    false
                })
                .map_err(operation)?;
        }
        self.commit(write)?;
        Ok(removed)
    }
}
