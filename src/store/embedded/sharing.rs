//! Share links in the embedded database: `site NUL id` → the link as JSON.

use redb::TableDefinition;

use super::{Embedded, operation};
use crate::store::StoreError;

pub(super) const SHARE_LINKS: TableDefinition<&str, &str> = TableDefinition::new("share_links");

impl Embedded {
    pub fn share_links(&self, site: &str) -> Result<Vec<String>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(SHARE_LINKS).map_err(operation)?;
        let (start, end) = (format!("{site}\0"), format!("{site}\u{1}"));
        let mut links = Vec::new();
        for entry in table
            .range(start.as_str()..end.as_str())
            .map_err(operation)?
        {
            let (_, json) = entry.map_err(operation)?;
            links.push(json.value().to_owned());
        }
        Ok(links)
    }

    pub(crate) fn put_share_link(
        &self,
        site: &str,
        id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let write = self.begin_write()?;
        {
            let mut table = write.open_table(SHARE_LINKS).map_err(operation)?;
            table
                .insert(format!("{site}\0{id}").as_str(), json)
                .map_err(operation)?;
        }
        self.commit(write)
    }

    pub(crate) fn delete_share_link(&self, site: &str, id: &str) -> Result<bool, StoreError> {
        let write = self.begin_write()?;
        let removed = {
            let mut table = write.open_table(SHARE_LINKS).map_err(operation)?;
            table
                .remove(format!("{site}\0{id}").as_str())
                .map_err(operation)?
                .is_some()
        };
        self.commit(write)?;
        Ok(removed)
    }
}
