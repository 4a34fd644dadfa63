//! Country of a visitor, looked up in a MaxMind-format database (`.mmdb`).
//!
//! Owns opening the database, reading a country code out of its records and turning
//! that into a [`Country`]. Two record layouts are understood: MaxMind's GeoLite2/GeoIP2
//! (`country.iso_code`, falling back to `registered_country.iso_code`) and the flat
//! layout of the `@ip-location-db` databases on npm (`country_code` at the top level).
//!
//! Deliberately does not: truncate addresses (the `privacy` stage hands over the
//! truncated prefix, and a /24 or /48 prefix resolves like any address in it), reload
//! or swap the database at run time (the owner of the shared state does that with a
//! fresh [`CountryDb`]), or know anything finer than a country.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

/// An ISO 3166-1 alpha-2 country code in upper case, or [`Country::UNKNOWN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// No country: the address is private, reserved, absent from the database, or its
    /// record has no usable code. `ZZ` is the code ISO 3166 leaves for user assignment
    /// and that country databases conventionally use for "unknown", so a database that
    /// answers `ZZ` also lands here.
    pub const UNKNOWN: Country = Country(*b"ZZ");

    /// Parses a two-letter code in either case; anything else is `None`.
    pub(crate) fn from_iso_code(code: &str) -> Option<Country> {
        match code.as_bytes() {
            [first, second] if first.is_ascii_alphabetic() && second.is_ascii_alphabetic() => {
                Some(Country([
                    first.to_ascii_uppercase(),
                    second.to_ascii_uppercase(),
                ]))
            }
            _ => None,
        }
    }

    /// The upper-case code, or `"unknown"` for [`Country::UNKNOWN`].
    pub fn as_str(&self) -> &str {
        if *self == Country::UNKNOWN {
            return "unknown";
        }
        // Every constructor admits only ASCII letters, so this cannot fail; the
        // fallback keeps a panic off the request path all the same.
        std::str::from_utf8(&self.0).unwrap_or("unknown")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CountryError {
    /// The file could not be read at all (missing, unreadable, a directory).
    #[error("cannot read country database {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The file was read but is not a MaxMind DB (wrong file, truncated download).
    #[error("cannot open country database {path}: {source}")]
    Open {
        path: String,
        source: maxminddb::MaxMindDbError,
    },
}

/// An opened country database. Read-only and `Send + Sync`: share it behind an `Arc`.
pub struct CountryDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl CountryDb {
    /// Reads the whole file into memory (a country database is a few megabytes), so a
    /// later change to the file on disk cannot affect lookups in progress.
    pub fn open(path: &Path) -> Result<Self, CountryError> {
        let bytes = std::fs::read(path).map_err(|source| CountryError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let reader =
            maxminddb::Reader::from_source(bytes).map_err(|source| CountryError::Open {
                path: path.display().to_string(),
                source,
            })?;
        Ok(CountryDb { reader })
    }

    /// The country of `ip`, normally a truncated prefix such as `81.204.23.0`.
    ///
    /// Never fails: an address the database does not cover, or a record it cannot
    /// decode, is [`Country::UNKNOWN`], because a beacon is still worth counting
    /// without its country.
    pub fn lookup(&self, ip: IpAddr) -> Country {
        // A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`; not every
        // database maps that range onto its IPv4 tree, so look up the IPv4 form.
        let ip = ip.to_canonical();
        if is_special_purpose(ip) {
            return Country::UNKNOWN;
        }
        match self.reader.lookup::<CountryRecord<'_>>(ip) {
            Ok(Some(record)) => record.country(),
            Ok(None) | Err(_) => Country::UNKNOWN,
        }
    }

    /// When the database was built, in seconds since the Unix epoch: for metrics and
    /// for warning about stale data.
    pub fn build_epoch(&self) -> u64 {
        self.reader.metadata.build_epoch
    }

    /// The database's own name for its kind, such as `GeoLite2-Country`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata.database_type
    }
}

/// IPv4 blocks that belong to no country: private, shared (carrier-grade NAT),
/// loopback, link-local, documentation, benchmarking, multicast and reserved space
/// (IANA's special-purpose registry). Checked before the database because not every
/// database leaves them out: the `@ip-location-db` data answers "AU" for 192.168.0.0/16.
const SPECIAL_PURPOSE_V4: [(u32, u32); 14] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link-local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC000_0000, 24), // 192.0.0.0/24 protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24 documentation
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xC612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24 documentation
    (0xCB00_7100, 24), // 203.0.113.0/24 documentation
    (0xE000_0000, 4),  // 224.0.0.0/4 multicast
    (0xF000_0000, 4),  // 240.0.0.0/4 reserved, including broadcast
];

/// The IPv6 counterpart of [`SPECIAL_PURPOSE_V4`]; IPv4-mapped addresses never get
/// here because [`CountryDb::lookup`] canonicalises them first.
const SPECIAL_PURPOSE_V6: [(u128, u32); 7] = [
    (0, 127),                          // ::/127: unspecified :: and loopback ::1
    (0x0100_0000_0000_0000 << 64, 64), // 100::/64 discard
    (0x2001_0000_0000_0000 << 64, 23), // 2001::/23 protocol assignments
    (0x2001_0DB8_0000_0000 << 64, 32), // 2001:db8::/32 documentation
    (0xFC00_0000_0000_0000 << 64, 7),  // fc00::/7 unique local
    (0xFE80_0000_0000_0000 << 64, 10), // fe80::/10 link-local
    (0xFF00_0000_0000_0000 << 64, 8),  // ff00::/8 multicast
];

fn is_special_purpose(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            SPECIAL_PURPOSE_V4
                .iter()
                .any(|&(network, length)| bits >> (32 - length) == network >> (32 - length))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            SPECIAL_PURPOSE_V6
                .iter()
                .any(|&(network, length)| bits >> (128 - length) == network >> (128 - length))
        }
    }
}

/// The fields of either record layout that can name a country; every other field in
/// the record is skipped by the decoder without being read.
#[derive(Deserialize)]
struct CountryRecord<'a> {
    /// The flat layout of the `@ip-location-db` databases.
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    /// MaxMind's layout: where the network is used.
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    /// MaxMind's layout: where the network is registered. Networks without a fixed
    /// place of use (anycast, satellite) can have only this one.
    #[serde(borrow, default)]
    registered_country: Option<IsoCode<'a>>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

impl<'a> CountryRecord<'a> {
    fn country(&self) -> Country {
        let nested = |field: &Option<IsoCode<'a>>| field.as_ref().and_then(|inner| inner.iso_code);
        self.country_code
            .or_else(|| nested(&self.country))
            .or_else(|| nested(&self.registered_country))
            .and_then(Country::from_iso_code)
            .unwrap_or(Country::UNKNOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod iso_codes {
        use super::*;

        fn check(code: &str, expected: Option<&str>) {
            let parsed = Country::from_iso_code(code).map(|country| country.as_str().to_owned());
            assert_eq!(parsed.as_deref(), expected, "code {code:?}");
        }

        #[test]
        fn two_letter_codes_are_accepted_in_either_case_and_stored_upper_case() {
            check("NL", Some("NL"));
            check("nl", Some("NL"));
            check("Be", Some("BE"));
        }

        #[test]
        fn anything_but_two_ascii_letters_is_not_a_country() {
            check("", None);
            check("N", None);
            check("NLD", None);
            check("N1", None);
            check("--", None);
            check("ÑL", None);
        }

        #[test]
        fn zz_and_the_unknown_sentinel_both_read_as_unknown() {
            check("ZZ", Some("unknown"));
            assert_eq!(Country::UNKNOWN.as_str(), "unknown");
            assert_eq!(Country::UNKNOWN.to_string(), "unknown");
        }
    }

    mod special_purpose {
        use super::*;

        fn check(address: &str, expected: bool) {
            let ip: IpAddr = address.parse().expect("test addresses are valid");
            assert_eq!(is_special_purpose(ip), expected, "address {address}");
        }

        #[test]
        fn private_loopback_link_local_and_documentation_blocks_are_special() {
            for address in [
                "0.0.0.0",
                "10.255.0.0",
                "100.64.0.0",
                "127.0.0.0",
                "169.254.1.0",
                "172.16.0.0",
                "172.31.255.0",
                "192.0.2.0",
                "192.168.0.0",
                "198.19.0.0",
                "198.51.100.0",
                "203.0.113.0",
                "224.0.0.0",
                "255.255.255.255",
                "::",
                "::1",
                "2001:db8:1::",
                "fd00::",
                "fe80::",
                "ff02::",
            ] {
                check(address, true);
            }
        }

        #[test]
        fn public_addresses_next_to_special_blocks_are_not_special() {
            for address in [
                "1.0.0.0",
                "11.0.0.0",
                "100.128.0.0",
                "172.15.255.0",
                "172.32.0.0",
                "192.167.255.0",
                "192.169.0.0",
                "198.20.0.0",
                "223.255.255.0",
                "2001:610::",
                "2001:db9::",
                "2a02:a440::",
            ] {
                check(address, false);
            }
        }
    }

    mod opening {
        use super::*;

        #[test]
        fn a_missing_database_is_an_error_naming_the_file() {
            let directory = tempfile::tempdir().expect("temporary directory");
            let path = directory.path().join("absent.mmdb");

            let error = CountryDb::open(&path).err().expect("opening must fail");

            assert!(matches!(error, CountryError::Read { .. }), "{error:?}");
            assert!(error.to_string().contains("absent.mmdb"), "{error}");
        }

        #[test]
        fn a_file_that_is_not_a_maxmind_database_is_an_error_naming_the_file() {
            let directory = tempfile::tempdir().expect("temporary directory");
            let path = directory.path().join("junk.mmdb");
            std::fs::write(&path, b"this is not a MaxMind database\n").expect("write junk");

            let error = CountryDb::open(&path).err().expect("opening must fail");

            assert!(matches!(error, CountryError::Open { .. }), "{error:?}");
            assert!(error.to_string().contains("junk.mmdb"), "{error}");
        }
    }
}
