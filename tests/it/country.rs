//! Country lookups against the real CC0 country database (`.ci/fetch-country-db`).
//!
//! Owns the proof that truncated prefixes, as the `privacy` stage hands them over,
//! still resolve to the right country, and that addresses without a country stay
//! unknown. Deliberately does not test the error paths (unit tests in
//! `src/enrich/country.rs` do) nor use a stand-in database: a fake would not show
//! that the real record layout is read.

use std::net::IpAddr;
use std::path::PathBuf;

use kruimel::enrich::country::{Country, CountryDb};

/// Where `.ci/fetch-country-db` puts the database; other test modules may use it too.
pub fn country_database() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/cache/country.mmdb");
    assert!(
        path.is_file(),
        "the country database {} is missing: run .ci/fetch-country-db first",
        path.display()
    );
    path
}

fn open() -> CountryDb {
    let path = country_database();
    CountryDb::open(&path).unwrap_or_else(|error| panic!("{error}"))
}

fn check(database: &CountryDb, address: &str, expected: &str) {
    let ip: IpAddr = address.parse().expect("test addresses are valid");
    assert_eq!(database.lookup(ip).as_str(), expected, "address {address}");
}

#[test]
fn ipv4_prefixes_truncated_to_24_bits_resolve_to_their_country() {
    let database = open();
    check(&database, "81.204.23.0", "NL"); // KPN
    check(&database, "145.100.0.0", "NL"); // SURF
    check(&database, "194.109.6.0", "NL"); // XS4ALL
    check(&database, "193.190.198.0", "BE"); // Belnet
    check(&database, "8.8.8.0", "US"); // Google Public DNS
}

#[test]
fn ipv6_prefixes_truncated_to_48_bits_resolve_to_their_country() {
    let database = open();
    check(&database, "2001:610::", "NL"); // SURFnet
    check(&database, "2001:610:1::", "NL");
    check(&database, "2001:4860:4860::", "US"); // Google Public DNS
}

#[test]
fn ipv4_mapped_ipv6_addresses_resolve_like_their_ipv4_form() {
    let database = open();
    check(&database, "::ffff:8.8.8.0", "US");
    check(&database, "::ffff:81.204.23.0", "NL");
}

#[test]
fn private_and_documentation_addresses_have_no_country() {
    let database = open();
    // This database wrongly assigns several of these blocks a country, so this also
    // proves that the special-purpose filter runs before the lookup.
    check(&database, "192.168.1.0", "unknown");
    check(&database, "172.16.0.0", "unknown");
    check(&database, "10.1.2.0", "unknown");
    check(&database, "203.0.113.0", "unknown");
    check(&database, "fd12:3456:789a::", "unknown");
    check(&database, "2001:db8::", "unknown");
}

#[test]
fn the_database_describes_itself() {
    let database = open();
    assert!(!database.database_type().is_empty());
    // Built after 2024-01-01: a zero or tiny epoch would mean the metadata was misread.
    assert!(
        database.build_epoch() > 1_704_067_200,
        "{}",
        database.build_epoch()
    );
    assert_eq!(Country::UNKNOWN.as_str(), "unknown");
}
