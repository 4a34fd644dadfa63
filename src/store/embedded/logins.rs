//! Sign-in sessions in the embedded database: the BLAKE3 hash of the
//! token (32 bytes) → the encoded `StoredLogin`.
//!
//! The sweep reads the whole table, which stays small (it is capped by
//! `keep`), and writes only when it has something to remove.

use redb::{ReadableTable, TableDefinition};

use super::{Embedded, operation};
use crate::store::StoreError;
use crate::store::logins::{LoginKey, StoredLogin, corrupt};

pub(super) const LOGINS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("logins");

impl Embedded {
    pub(crate) fn put_login(&self, key: &LoginKey, login: &StoredLogin) -> Result<(), StoreError> {
        let write = self.begin_write()?;
        {
            let mut table = write.open_table(LOGINS).map_err(operation)?;
            table
                .insert(key.as_slice(), login.encode().as_slice())
                .map_err(operation)?;
        }
        self.commit(write)
    }

    pub fn login(&self, key: &LoginKey) -> Result<Option<StoredLogin>, StoreError> {
        let read = self.db()?.begin_read().map_err(operation)?;
        let table = read.open_table(LOGINS).map_err(operation)?;
        let stored = table.get(key.as_slice()).map_err(operation)?;
        stored
            .map(|bytes| StoredLogin::decode(bytes.value()).ok_or_else(corrupt))
            .transpose()
    }

    pub(crate) fn touch_login(
        &self,
        key: &LoginKey,
        login: &StoredLogin,
    ) -> Result<(), StoreError> {
        let write = self.begin_write()?;
        {
            let mut table = write.open_table(LOGINS).map_err(operation)?;
            let exists = table.get(key.as_slice()).map_err(operation)?.is_some();
            if exists {
                table
                    .insert(key.as_slice(), login.encode().as_slice())
                    .map_err(operation)?;
            }
        }
        self.commit(write)
    }

    pub(crate) fn end_login(&self, key: &LoginKey) -> Result<bool, StoreError> {
        let write = self.begin_write()?;
        let removed = {
            let mut table = write.open_table(LOGINS).map_err(operation)?;
            table.remove(key.as_slice()).map_err(operation)?.is_some()
        };
        self.commit(write)?;
        Ok(removed)
    }

    pub(crate) fn sweep_logins(
        &self,
        over: impl Fn(&StoredLogin) -> bool,
        keep: usize,
    ) -> Result<u64, StoreError> {
        let (mut doomed, mut alive) = (Vec::new(), Vec::new());
        {
            let read = self.db()?.begin_read().map_err(operation)?;
            let table = read.open_table(LOGINS).map_err(operation)?;
            for entry in table.iter().map_err(operation)? {
                let (key, value) = entry.map_err(operation)?;
                let key = key.value().to_vec();
                match StoredLogin::decode(value.value()) {
                    Some(login) if !over(&login) => alive.push((login.last_used, key)),
                    _ => doomed.push(key),
                }
            }
        }
        if alive.len() >= keep {
            alive.sort_unstable();
            let excess = alive.len() + 1 - keep.max(1);
            doomed.extend(alive.drain(..excess).map(|(_, key)| key));
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        let write = self.begin_write()?;
        {
            let mut table = write.open_table(LOGINS).map_err(operation)?;
            for key in &doomed {
                table.remove(key.as_slice()).map_err(operation)?;
            }
        }
        self.commit(write)?;
        Ok(doomed.len() as u64)
    }
}
