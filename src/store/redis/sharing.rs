//! Share links on Redis: a hash per site, `<prefix>:{site}:share`, id →
//! the link as JSON.

use redis::Commands;

use super::RedisStore;
use crate::store::StoreError;

impl RedisStore {
    fn share_key(&self, site: &str) -> String {
        format!("{}share", self.counts.site_prefix(site))
    }

    pub fn share_links(&self, site: &str) -> Result<Vec<String>, StoreError> {
        let key = self.share_key(site);
        self.counts.with(|conn| conn.hvals(key.as_str()))
    }

    pub(crate) fn put_share_link(
        &self,
        site: &str,
        id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let key = self.share_key(site);
        self.counts
            .with(|conn| conn.hset::<_, _, _, ()>(key.as_str(), id, json))
    }

    pub(crate) fn delete_share_link(&self, site: &str, id: &str) -> Result<bool, StoreError> {
        let key = self.share_key(site);
        let removed: u64 = self.counts.with(|conn| conn.hdel(key.as_str(), id))?;
        Ok(removed > 0)
    }
}
