//! Consent storage, on either backend: receipts, archived notices and the
//! daily consent counts (choices per method and per category, per banner
//! version). Receipts are the one thing stored per visitor choice; they
//! hold no personal data (promise 9) and are deleted at their expiry.

use super::{Store, StoreError};
use crate::consent::{Choice, Notice, Receipt, ReceiptId};

/// The receipt a choice went into, and whether the choice started it.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub receipt: Receipt,
    pub created: bool,
}

/// One count of a site's day: `item` is `m:<method>`, `g:<category>`
/// (granted) or `d:<category>` (denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    pub day: i32,
    pub banner_version: String,
    pub item: String,
    pub count: u64,
}

impl Store {
    /// Keeps the notice under its banner version; true when it is new.
    pub(crate) fn archive_notice(&self, notice: &Notice) -> Result<bool, StoreError> {
        let json = notice.to_json();
        match self {
            Store::Embedded(store) => {
                store.archive_notice(&notice.site, &notice.banner_version, &json)
            }
            Store::Redis(store) => {
                store.archive_notice(&notice.site, &notice.banner_version, &json)
            }
        }
    }

    /// The archived notice (as JSON) of a site's banner version.
    pub(crate) fn archived_notice(
        &self,
        site: &str,
        banner_version: &str,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Store::Embedded(store) => store.archived_notice(site, banner_version),
            Store::Redis(store) => store.archived_notice(site, banner_version),
        }
    }

    /// Appends the choice to the receipt `continues` names when it exists,
    /// belongs to the site and has room; otherwise starts a new receipt
    /// with a fresh id. Counts the choice in the site's local `day`.
    pub(crate) fn record_choice(
        &self,
        site: &str,
        continues: Option<ReceiptId>,
        choice: Choice,
        day: i32,
        expires: i64,
    ) -> Result<Recorded, StoreError> {
        match self {
            Store::Embedded(store) => store.record_choice(site, continues, choice, day, expires),
            Store::Redis(store) => store.record_choice(site, continues, choice, day, expires),
        }
    }

    pub fn receipt(&self, id: ReceiptId) -> Result<Option<Receipt>, StoreError> {
        match self {
            Store::Embedded(store) => store.receipt(id),
            Store::Redis(store) => store.receipt(id),
        }
    }

    /// Deletes a receipt; true when there was one.
    pub(crate) fn erase_receipt(&self, id: ReceiptId) -> Result<bool, StoreError> {
        match self {
            Store::Embedded(store) => store.erase_receipt(id),
            Store::Redis(store) => store.erase_receipt(id),
        }
    }

    /// Deletes every receipt whose expiry is at or before `now`.
    pub(crate) fn purge_receipts(&self, now: i64) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.purge_receipts(now),
            Store::Redis(store) => store.purge_receipts(now),
        }
    }

    pub(crate) fn consent_tallies(
        &self,
        site: &str,
        first_day: i32,
        last_day: i32,
    ) -> Result<Vec<Tally>, StoreError> {
        match self {
            Store::Embedded(store) => store.consent_tallies(site, first_day, last_day),
            Store::Redis(store) => store.consent_tallies(site, first_day, last_day),
        }
    }

    /// Deletes a site's consent counts of days before `before_day`.
    pub(crate) fn purge_tallies(&self, site: &str, before_day: i32) -> Result<u64, StoreError> {
        match self {
            Store::Embedded(store) => store.purge_tallies(site, before_day),
            Store::Redis(store) => store.purge_tallies(site, before_day),
        }
    }
}
