//! Sign-in sessions on Redis: one string per session,
//! `<prefix>:{@<hash>}:login`, the hash being the hex BLAKE3 hash of the
//! token and the value the encoded `StoredLogin`. Each session is its own
//! hash tag (`@` cannot occur in a site id), so sessions spread over a
//! cluster's slots. The key expires at the end of the session's absolute
//! life, set once when it is made: Redis forgets sessions by itself.

use redis::Commands;

use super::RedisStore;
use crate::store::StoreError;
use crate::store::logins::{LoginKey, StoredLogin, corrupt};

fn login_key(prefix: &str, key: &LoginKey) -> String {
    format!(
        "{prefix}:{{@{}}}:login",
        blake3::Hash::from_bytes(*key).to_hex()
    )
}

impl RedisStore {
    fn login_key(&self, key: &LoginKey) -> String {
        login_key(self.counts.key_prefix(), key)
    }

    /// The expiry is the remaining life (`PX`) rather than a moment
    /// (`PXAT`): it then does not depend on Redis's clock agreeing with
    /// this server's.
    pub(crate) fn put_login(
        &self,
        key: &LoginKey,
        login: &StoredLogin,
        life_seconds: i64,
    ) -> Result<(), StoreError> {
        let name = self.login_key(key);
        let life_ms = life_seconds.max(1).saturating_mul(1_000);
        self.counts.with(|conn| {
            redis::cmd("SET")
                .arg(&name)
                .arg(login.encode())
                .arg("PX")
                .arg(life_ms)
                .query::<()>(conn)
        })
    }

    pub fn login(&self, key: &LoginKey) -> Result<Option<StoredLogin>, StoreError> {
        let name = self.login_key(key);
        let stored: Option<Vec<u8>> = self.counts.with(|conn| conn.get(&name))?;
        stored
            .map(|bytes| StoredLogin::decode(&bytes).ok_or_else(corrupt))
            .transpose()
    }

    /// `XX`: only a session that still exists; `KEEPTTL`: its end stays.
    pub(crate) fn touch_login(
        &self,
        key: &LoginKey,
        login: &StoredLogin,
    ) -> Result<(), StoreError> {
        let name = self.login_key(key);
        self.counts.with(|conn| {
            redis::cmd("SET")
                .arg(&name)
                .arg(login.encode())
                .arg("XX")
                .arg("KEEPTTL")
                .query::<()>(conn)
        })
    }

    pub(crate) fn end_login(&self, key: &LoginKey) -> Result<bool, StoreError> {
        let name = self.login_key(key);
        let removed: u64 = self.counts.with(|conn| conn.del(&name))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_session_key_is_its_own_hash_tag_and_holds_only_the_hash() {
        let key = *blake3::hash(b"the token").as_bytes();
        let name = super::login_key("kr", &key);
        assert_eq!(
            name,
            format!("kr:{{@{}}}:login", blake3::hash(b"the token").to_hex())
        );
        assert!(!name.contains("the token"));
    }
}
