//! The visitor hash (promise 3).
//!
//! `visitor = BLAKE3-keyed(daily salt; site, truncated IP, user agent)`,
//! each field prefixed with its length so that no two different inputs
//! concatenate to the same bytes. The 256-bit output is cut to 64 bits:
//! at a million visitors a day the chance of any collision is about 3e-8.

use crate::privacy::ip::TruncatedIp;
use crate::privacy::salt::SaltKey;
use crate::sites::SiteId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitorId(u64);

impl VisitorId {
    /// Rebuilds an id from its value (tests and stored hot state).
    pub const fn from_value(value: u64) -> VisitorId {
        VisitorId(value)
    }

    pub fn value(self) -> u64 {
        self.0
    }
}

pub fn visitor_id(salt: &SaltKey, site: &SiteId, ip: TruncatedIp, user_agent: &str) -> VisitorId {
    let mut hasher = blake3::Hasher::new_keyed(salt.bytes());
    for field in [
        site.as_str().as_bytes(),
        &ip.octets(),
        user_agent.as_bytes(),
    ] {
        hasher.update(&(field.len() as u64).to_le_bytes());
        hasher.update(field);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    VisitorId(u64::from_le_bytes(first))
}
