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

    /// 16 hex digits: how the shared hot state names a visitor.
    pub fn to_hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

pub(crate) fn visitor_id(
    salt: &SaltKey,
    site: &SiteId,
    ip: TruncatedIp,
    user_agent: &str,
) -> VisitorId {
    let mut hasher = blake3::Hasher::new_keyed(salt.bytes());
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(site.as_str().as_bytes());
    ip.with_octets(&mut field);
    field(user_agent.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    VisitorId(u64::from_le_bytes(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;
    use crate::privacy::ip::{ClientIp, Truncation};
    use crate::sites::Sites;

    fn sites() -> Sites {
        let configs: Vec<SiteConfig> = ["a.example", "b.example"]
            .iter()
            .map(|id| toml::from_str(&format!("id = \"{id}\"")).unwrap())
            .collect();
        Sites::from_config(&configs).unwrap()
    }

    fn truncated(address: &str) -> TruncatedIp {
        Truncation::new(24, 48)
            .unwrap()
            .apply(ClientIp::new(address.parse().unwrap()))
    }

    fn salt(byte: u8) -> SaltKey {
        SaltKey::from_bytes([byte; 32])
    }

    fn check(a: (u8, &str, &str, &str), b: (u8, &str, &str, &str), same: bool) {
        let sites = sites();
        let id = |(salt_byte, site, ip, agent): (u8, &str, &str, &str)| {
            visitor_id(
                &salt(salt_byte),
                &sites.find(site).unwrap().id,
                truncated(ip),
                agent,
            )
        };
        assert_eq!(id(a) == id(b), same, "{a:?} vs {b:?}");
    }

    #[test]
    fn the_same_person_on_the_same_day_and_site_has_one_id() {
        // Addresses in one /24 are one visitor: only the prefix is hashed.
        check(
            (1, "a.example", "81.204.23.1", "UA"),
            (1, "a.example", "81.204.23.250", "UA"),
            true,
        );
    }

    #[test]
    fn any_differing_input_gives_another_id() {
        let base = (1, "a.example", "81.204.23.1", "UA");
        check(base, (2, "a.example", "81.204.23.1", "UA"), false);
        check(base, (1, "b.example", "81.204.23.1", "UA"), false);
        check(base, (1, "a.example", "81.204.24.1", "UA"), false);
        check(base, (1, "a.example", "81.204.23.1", "UA2"), false);
    }

    #[test]
    fn fields_are_length_prefixed_so_boundaries_cannot_shift() {
        // Without length prefixes, agent "" with a longer site could collide with
        // a shorter site and a longer agent.
        let key = salt(7);
        let ip = truncated("81.204.23.1");
        let mut hasher = blake3::Hasher::new_keyed(key.bytes());
        hasher.update(b"a.example");
        ip.with_octets(|bytes| hasher.update(bytes));
        hasher.update(b"UA");
        let unprefixed = hasher.finalize();
        let prefixed = visitor_id(&key, &sites().find("a.example").unwrap().id, ip, "UA");
        assert_ne!(
            u64::from_le_bytes(unprefixed.as_bytes()[..8].try_into().unwrap()),
            prefixed.value()
        );
    }
}
