//! Which address is the client's.
//!
//! The socket peer, unless the peer is a configured trusted proxy: then the
//! right-most address in `X-Forwarded-For` (or `Forwarded: for=`) that is
//! not itself a trusted proxy. With no trusted proxies configured, those
//! headers are ignored, so a client cannot choose its own address.
//! The result is a `ClientIp`, handed straight to the privacy stage.

use std::net::IpAddr;

use hyper::HeaderMap;
use ipnet::IpNet;

use crate::privacy::ip::ClientIp;

pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// Whether the request reached the proxy over TLS: `X-Forwarded-Proto:
    /// https` (or `Forwarded: proto=https`) from a trusted proxy.
    pub fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        if !self.trusts(peer) {
            return false;
        }
        let says_https = |value: &str| value.trim().eq_ignore_ascii_case("https");
        headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.split(',').next().is_some_and(says_https))
            || headers
                .get("forwarded")
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| {
                    value.split([';', ',']).any(|pair| {
                        pair.trim()
                            .strip_prefix("proto=")
                            .is_some_and(|proto| says_https(proto.trim_matches('"')))
                    })
                })
    }

    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> ClientIp {
        if !self.trusts(peer) {
            return ClientIp::new(canonical(peer));
        }
        let mut forwarded = forwarded_for(headers).peekable();
        let mut forwarded_x = x_forwarded_for(headers);
        let hops: &mut dyn Iterator<Item = &str> = if forwarded.peek().is_some() {
            &mut forwarded
        } else {
            &mut forwarded_x
        };
        // The nearest hop first; the first untrusted one is the client. An
        // unparsable hop ends the walk: what lies beyond it cannot be trusted.
        for hop in hops {
            match parse_address(hop) {
                Some(address) if !self.trusts(address) => return ClientIp::new(canonical(address)),
                Some(_trusted) => {}
                None => break,
            }
        }
        ClientIp::new(canonical(peer))
    }
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The `for=` values of `Forwarded`, nearest hop first. When there are
/// any, they are the chain, and `X-Forwarded-For` is not read.
fn forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("forwarded")
        .iter()
        .rev()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.rsplit(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then_some(value)
            })
        })
}

/// The elements of `X-Forwarded-For`, nearest hop first.
fn x_forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.rsplit(','))
}

/// Parses `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:80`, `"[2001:db8::1]"`,
/// `2001:db8::1` and zone ids like `fe80::1%eth0` (the zone is dropped).
pub fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        let inner = &rest[..rest.find(']')?];
        return parse_bare(inner);
    }
    if let Ok(address) = parse_bare(text).ok_or(()) {
        return Some(address);
    }
    // IPv4 with a port.
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn parse_bare(text: &str) -> Option<IpAddr> {
    let without_zone = text.split_once('%').map_or(text, |(address, _)| address);
    without_zone.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(trusted: &[&str], peer: &str, headers: &[(&str, &str)]) -> String {
        let proxies = TrustedProxies::new(trusted.iter().map(|n| n.parse().unwrap()).collect());
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let client = proxies.client_ip(peer.parse().unwrap(), &map);
        // The only way to look inside is to truncate: use the widest prefix.
        let truncation = crate::privacy::ip::Truncation::new(24, 48).unwrap();
        truncation.apply(client).network().to_string()
    }

    #[test]
    fn without_trusted_proxies_forwarding_headers_are_ignored() {
        assert_eq!(
            resolve(&[], "203.0.113.9", &[("x-forwarded-for", "81.204.23.1")]),
            "203.0.113.0"
        );
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trusted = ["10.0.0.0/8", "127.0.0.1/32"];
        assert_eq!(
            resolve(
                &trusted,
                "127.0.0.1",
                &[("x-forwarded-for", "6.6.6.6, 81.204.23.1, 10.1.1.1")]
            ),
            "81.204.23.0",
            "a client-supplied left-most entry is not believed"
        );
        assert_eq!(
            resolve(
                &trusted,
                "127.0.0.1",
                &[("forwarded", "for=81.204.23.1;proto=https, for=10.0.0.2")]
            ),
            "81.204.23.0"
        );
        assert_eq!(
            resolve(
                &trusted,
                "127.0.0.1",
                &[("forwarded", "for=\"[2001:db8:cafe::17]:4711\"")]
            ),
            "2001:db8:cafe::"
        );
    }

    #[test]
    fn the_chain_runs_across_header_lines_and_forwarded_comes_first() {
        let trusted = ["10.0.0.0/8", "127.0.0.1/32"];
        let lines = [
            ("x-forwarded-for", "6.6.6.6, 81.204.23.1"),
            ("x-forwarded-for", "10.1.1.1"),
        ];
        assert_eq!(
            resolve(&trusted, "127.0.0.1", &lines),
            "81.204.23.0",
            "a later line holds the nearer hops"
        );
        let both = [
            ("x-forwarded-for", "81.204.23.1"),
            ("forwarded", "proto=https"),
            ("forwarded", "for=145.97.1.2, for=10.0.0.2"),
        ];
        assert_eq!(resolve(&trusted, "127.0.0.1", &both), "145.97.1.0");
        assert_eq!(
            resolve(&trusted, "127.0.0.1", &[("x-forwarded-for", "10.0.0.3")]),
            "127.0.0.0",
            "when every hop is trusted, the peer is the client"
        );
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(resolve(&["127.0.0.1/32"], "127.0.0.1", &[]), "127.0.0.0");
    }

    #[test]
    fn garbage_in_the_chain_stops_the_walk() {
        assert_eq!(
            resolve(
                &["127.0.0.1/32"],
                "127.0.0.1",
                &[("x-forwarded-for", "81.204.23.1, <script>")]
            ),
            "127.0.0.0"
        );
    }

    #[test]
    fn addresses_parse_in_every_form_proxies_write() {
        for (text, expected) in [
            ("81.204.23.1", "81.204.23.1"),
            ("81.204.23.1:443", "81.204.23.1"),
            ("[2001:db8::1]:80", "2001:db8::1"),
            ("\"[2001:db8::1]\"", "2001:db8::1"),
            ("fe80::1%eth0", "fe80::1"),
            ("[fe80::1%25eth0]:8080", "fe80::1"),
            ("::ffff:81.204.23.1", "::ffff:81.204.23.1"),
        ] {
            assert_eq!(
                parse_address(text).map(|a| a.to_string()).as_deref(),
                Some(expected),
                "{text}"
            );
        }
        for bad in ["", "unknown", "_hidden", "999.1.1.1", "1.2.3.4:99999"] {
            assert_eq!(parse_address(bad), None, "{bad}");
        }
    }

    #[test]
    fn mapped_peers_are_matched_as_ipv4() {
        assert_eq!(
            resolve(
                &["127.0.0.1/32"],
                "::ffff:127.0.0.1",
                &[("x-forwarded-for", "81.204.23.1")]
            ),
            "81.204.23.0"
        );
    }
}
