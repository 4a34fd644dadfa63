//! IP truncation (promise 1).
//!
//! `ClientIp` is the only type in the crate that holds a full address. The
//! edge builds it from the socket or a trusted proxy header and hands it to
//! `Truncation::apply`, which consumes it. It has no `Display`, its `Debug`
//! prints `***`, and nothing downstream has a field that could hold one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A full client address, alive only inside the request handler.
pub struct ClientIp(IpAddr);

impl ClientIp {
    pub fn new(address: IpAddr) -> ClientIp {
        ClientIp(address)
    }
}

impl std::fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIp(***)")
    }
}

/// The network prefix left after truncation, as its network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TruncatedIp(IpAddr);

impl TruncatedIp {
    pub fn network(self) -> IpAddr {
        self.0
    }

    /// Calls `use_bytes` with the canonical bytes: 4 for IPv4, 16 for IPv6
    /// (on the stack: this runs for every beacon).
    pub(crate) fn with_octets<R>(self, use_bytes: impl FnOnce(&[u8]) -> R) -> R {
        match self.0 {
            IpAddr::V4(v4) => use_bytes(&v4.octets()),
            IpAddr::V6(v6) => use_bytes(&v6.octets()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Truncation {
    v4_prefix: u8,
    v6_prefix: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum TruncationError {
    #[error("privacy.ipv4_prefix must be 16 or 24, not {0}")]
    V4(u8),
    #[error("privacy.ipv6_prefix must be between 24 and 48, not {0}")]
    V6(u8),
}

impl Truncation {
    pub fn new(v4_prefix: u8, v6_prefix: u8) -> Result<Truncation, TruncationError> {
        if !matches!(v4_prefix, 16 | 24) {
            return Err(TruncationError::V4(v4_prefix));
        }
        if !(24..=48).contains(&v6_prefix) {
            return Err(TruncationError::V6(v6_prefix));
        }
        Ok(Truncation {
            v4_prefix,
            v6_prefix,
        })
    }

    /// Consumes the full address: after this call it exists nowhere.
    pub fn apply(&self, client: ClientIp) -> TruncatedIp {
        match client.0 {
            IpAddr::V4(v4) => TruncatedIp(IpAddr::V4(self.truncate_v4(v4))),
            // An IPv4-mapped address is an IPv4 client and gets the IPv4 rule.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => TruncatedIp(IpAddr::V4(self.truncate_v4(v4))),
                None => TruncatedIp(IpAddr::V6(self.truncate_v6(v6))),
            },
        }
    }

    fn truncate_v4(&self, address: Ipv4Addr) -> Ipv4Addr {
        let mask = u32::MAX << (32 - u32::from(self.v4_prefix));
        Ipv4Addr::from(u32::from(address) & mask)
    }

    fn truncate_v6(&self, address: Ipv6Addr) -> Ipv6Addr {
        let mask = u128::MAX << (128 - u32::from(self.v6_prefix));
        Ipv6Addr::from(u128::from(address) & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(truncation: Truncation, input: &str, expected: &str) {
        let client = ClientIp::new(input.parse().unwrap());
        assert_eq!(
            truncation.apply(client).network().to_string(),
            expected,
            "{input}"
        );
    }

    #[test]
    fn addresses_are_cut_to_their_prefix() {
        let default = Truncation::new(24, 48).unwrap();
        check(default, "81.204.23.197", "81.204.23.0");
        check(default, "10.0.0.255", "10.0.0.0");
        check(default, "2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::");
        check(default, "2001:db8:abcd:ffff::1", "2001:db8:abcd::");
        check(default, "::1", "::");
        let wide = Truncation::new(16, 32).unwrap();
        check(wide, "81.204.23.197", "81.204.0.0");
        check(wide, "2001:db8:abcd:12::1", "2001:db8::");
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_treated_as_ipv4() {
        check(
            Truncation::new(24, 48).unwrap(),
            "::ffff:81.204.23.197",
            "81.204.23.0",
        );
        check(
            Truncation::new(16, 48).unwrap(),
            "::ffff:81.204.23.197",
            "81.204.0.0",
        );
    }

    #[test]
    fn only_privacy_preserving_prefixes_are_accepted() {
        assert!(Truncation::new(32, 48).is_err());
        assert!(Truncation::new(8, 48).is_err());
        assert!(Truncation::new(24, 64).is_err());
        assert!(Truncation::new(24, 128).is_err());
    }

    #[test]
    fn a_full_address_never_prints() {
        let client = ClientIp::new("81.204.23.197".parse().unwrap());
        assert_eq!(format!("{client:?}"), "ClientIp(***)");
    }
}
