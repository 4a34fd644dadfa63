//! Share links created in the dashboard, on either backend: per site, an
//! id, a name, who made it and when, and the BLAKE3 hash of its secret
//! (the secret itself is shown once, when the link is made, and never
//! stored). Revoking deletes the record.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// 16 hex digits.
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created: i64,
    pub(crate) created_by: String,
    /// BLAKE3 of the secret, hex.
    pub(crate) secret_hash: String,
}

impl ShareLink {
    pub(crate) fn accepts(&self, presented: &str) -> bool {
        blake3::Hash::from_hex(&self.secret_hash)
            .is_ok_and(|stored| stored == blake3::hash(presented.as_bytes()))
    }
}

impl Store {
    pub fn share_links(&self, site: &str) -> Result<Vec<ShareLink>, StoreError> {
        let raw = match self {
            Store::Embedded(store) => store.share_links(site)?,
            Store::Redis(store) => store.share_links(site)?,
        };
        let mut links: Vec<ShareLink> = raw
            .iter()
            .map(|json| serde_json::from_str(json).map_err(|_| StoreError::Corrupt("share link")))
            .collect::<Result<_, _>>()?;
        links.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(links)
    }

    pub(crate) fn add_share_link(&self, site: &str, link: &ShareLink) -> Result<(), StoreError> {
        let json = serde_json::to_string(link).expect("a share link serialises");
        match self {
            Store::Embedded(store) => store.put_share_link(site, &link.id, &json),
            Store::Redis(store) => store.put_share_link(site, &link.id, &json),
        }
    }

    /// Deletes a link; true when there was one.
    pub(crate) fn revoke_share_link(&self, site: &str, id: &str) -> Result<bool, StoreError> {
        match self {
            Store::Embedded(store) => store.delete_share_link(site, id),
            Store::Redis(store) => store.delete_share_link(site, id),
        }
    }
}
