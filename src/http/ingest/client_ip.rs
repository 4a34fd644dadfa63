//! Which address is the client's.
//!
//! The socket peer, unless the peer is a configured trusted proxy: then the
//! right-most address in `X-Forwarded-For` (or `Forwarded: for=`) that is
//! not itself a trusted proxy. With no trusted proxies configured, those
//! headers are ignored, so a client cannot choose its own address.
//! The result is a `ClientIp`, handed straight to the privacy stage.
//!
//! A chain from a trusted proxy with a hop that is not an address (a proxy
//! misconfigured, or a header mangled on the way) falls back to the proxy's
//! own address, so every visitor behind it would count as one: that is
//! counted in `kruimel_forwarded_for_malformed_total` by header and logged at
//! most once a minute (`malformed_log`), never with the header or an address.

use std::net::IpAddr;
use std::time::Instant;

use hyper::HeaderMap;
use ipnet::IpNet;
use prometheus::IntCounterVec;

use crate::privacy::ip::ClientIp;
use malformed_log::RateLimitedLog;

mod malformed_log;

pub(crate) struct TrustedProxies {
    networks: Vec<IpNet>,
    /// The one header the proxies write (`server.client_ip_header`); the
    /// other kind is the client's and never read.
    header: ForwardingHeader,
    /// `kruimel_forwarded_for_malformed_total`, by [`ForwardingHeader`].
    malformed: IntCounterVec,
    malformed_log: RateLimitedLog,
}

pub(crate) use crate::config::ForwardingHeader;

impl TrustedProxies {
    /// `malformed` is the counter of chains that were not addresses, labelled by `header`.
    pub(crate) fn new(
        networks: Vec<IpNet>,
        header: ForwardingHeader,
        malformed: IntCounterVec,
    ) -> TrustedProxies {
        TrustedProxies {
            networks,
            header,
            malformed,
            malformed_log: RateLimitedLog::default(),
        }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// Whether the request reached the proxy over TLS, as the nearest
    /// trusted proxy says in the configured kind of header: the last
    /// `X-Forwarded-Proto` value (a proxy that appends puts its own last; a
    /// client's comes first), or `proto=` of the last `Forwarded` element.
    pub(crate) fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        if !self.trusts(peer) {
            return false;
        }
        let says_https = |value: &str| value.trim().trim_matches('"').eq_ignore_ascii_case("https");
        let last_line = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|value| value.to_str().ok())
        };
        match self.header {
            ForwardingHeader::XForwardedFor => last_line("x-forwarded-proto")
                .and_then(|value| value.rsplit(',').next())
                .is_some_and(says_https),
            ForwardingHeader::Forwarded => last_line("forwarded")
                .and_then(|value| value.rsplit(',').next())
                .is_some_and(|element| {
                    element.split(';').any(|pair| {
                        pair.trim().split_once('=').is_some_and(|(key, value)| {
                            key.eq_ignore_ascii_case("proto") && says_https(value)
                        })
                    })
                }),
        }
    }

    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> ClientIp {
        if !self.trusts(peer) {
            return ClientIp::new(canonical(peer));
        }
        match self.header {
            ForwardingHeader::Forwarded => self.walk(peer, forwarded_for(headers)),
            ForwardingHeader::XForwardedFor => self.walk(peer, x_forwarded_for(headers)),
        }
    }

    /// The nearest hop first; the first untrusted one is the client. An
    /// unparsable hop ends the walk: what lies beyond it cannot be trusted.
    fn walk<'h>(&self, peer: IpAddr, hops: impl Iterator<Item = &'h str>) -> ClientIp {
        for hop in hops {
            match parse_address(hop) {
                Some(address) if !self.trusts(address) => return ClientIp::new(canonical(address)),
                Some(_trusted) => {}
                None => {
                    if !is_deliberately_hidden(hop) {
                        self.count_malformed(self.header, Instant::now());
                    }
                    break;
                }
            }
        }
        ClientIp::new(canonical(peer))
    }

    fn count_malformed(&self, header: ForwardingHeader, now: Instant) {
        self.malformed.with_label_values(&[header.as_str()]).inc();
        if let Some(suppressed) = self.malformed_log.admit(now) {
            tracing::warn!(
                header = header.as_str(),
                suppressed,
                "a trusted proxy sent a forwarding header that is not a chain of addresses; \
                 its own address was used"
            );
        }
    }
}

/// RFC 7239 lets a proxy write `for=unknown` or an obfuscated `for=_name`: a
/// choice, not a fault, so it ends the walk without being counted.
fn is_deliberately_hidden(hop: &str) -> bool {
    let hop = hop.trim().trim_matches('"');
    hop.eq_ignore_ascii_case("unknown") || hop.starts_with('_')
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The `for=` values of `Forwarded`, nearest hop first.
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

/// The elements of `X-Forwarded-For`, nearest hop first. A line that is not
/// visible ASCII reads as one empty element, which ends the walk there.
fn x_forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .map(|value| value.to_str().unwrap_or(""))
        .flat_map(|value| value.rsplit(','))
}

/// Parses `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:80`, `"[2001:db8::1]"`,
/// `2001:db8::1` and zone ids like `fe80::1%eth0` (the zone is dropped).
pub(crate) fn parse_address(text: &str) -> Option<IpAddr> {
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

    fn malformed_counter() -> IntCounterVec {
        crate::metrics::Metrics::new().forwarded_malformed
    }

    fn proxies(trusted: &[&str]) -> TrustedProxies {
        proxies_writing(ForwardingHeader::XForwardedFor, trusted)
    }

    fn proxies_writing(header: ForwardingHeader, trusted: &[&str]) -> TrustedProxies {
        let networks = trusted.iter().map(|n| n.parse().unwrap()).collect();
        TrustedProxies::new(networks, header, malformed_counter())
    }

    fn resolve(trusted: &[&str], peer: &str, headers: &[(&str, &str)]) -> String {
        resolve_with(&proxies(trusted), peer, headers)
    }

    fn resolve_with(proxies: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> String {
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
        let rfc7239 = proxies_writing(ForwardingHeader::Forwarded, &trusted);
        assert_eq!(
            resolve_with(
                &rfc7239,
                "127.0.0.1",
                &[("forwarded", "for=81.204.23.1;proto=https, for=10.0.0.2")]
            ),
            "81.204.23.0"
        );
        assert_eq!(
            resolve_with(
                &rfc7239,
                "127.0.0.1",
                &[("forwarded", "for=\"[2001:db8:cafe::17]:4711\"")]
            ),
            "2001:db8:cafe::"
        );
    }

    #[test]
    fn the_chain_runs_across_header_lines() {
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
        assert_eq!(
            resolve(&trusted, "127.0.0.1", &[("x-forwarded-for", "10.0.0.3")]),
            "127.0.0.0",
            "when every hop is trusted, the peer is the client"
        );
    }

    #[test]
    fn only_the_configured_header_is_read_so_a_client_cannot_forge_the_other() {
        let trusted = ["127.0.0.1/32"];
        // nginx and HAProxy pass a client's `Forwarded` through and append
        // the real address to `X-Forwarded-For`.
        let forged_forwarded = [
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "81.204.23.1"),
        ];
        assert_eq!(
            resolve(&trusted, "127.0.0.1", &forged_forwarded),
            "81.204.23.0"
        );
        let rfc7239 = proxies_writing(ForwardingHeader::Forwarded, &trusted);
        let forged_x = [
            ("x-forwarded-for", "6.6.6.6"),
            ("forwarded", "for=81.204.23.1"),
        ];
        assert_eq!(
            resolve_with(&rfc7239, "127.0.0.1", &forged_x),
            "81.204.23.0"
        );
        assert_eq!(
            resolve_with(&rfc7239, "127.0.0.1", &[("x-forwarded-for", "6.6.6.6")]),
            "127.0.0.0",
            "without its own header, the proxy is the client"
        );
    }

    #[test]
    fn tls_is_what_the_nearest_proxy_says_in_the_configured_header() {
        let check = |proxies: &TrustedProxies, headers: &[(&str, &str)], expected: bool| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.append(
                    hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            let peer = "127.0.0.1".parse().unwrap();
            assert_eq!(proxies.forwarded_https(peer, &map), expected, "{headers:?}");
        };
        let x = proxies(&["127.0.0.1/32"]);
        check(&x, &[("x-forwarded-proto", "https")], true);
        check(&x, &[("x-forwarded-proto", "https, http")], false);
        check(
            &x,
            &[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-proto", "http"),
            ],
            false,
        );
        check(&x, &[("forwarded", "proto=https")], false);
        let rfc7239 = proxies_writing(ForwardingHeader::Forwarded, &["127.0.0.1/32"]);
        check(&rfc7239, &[("forwarded", "for=1.2.3.4;proto=https")], true);
        check(
            &rfc7239,
            &[("forwarded", "proto=https, for=10.0.0.1;proto=http")],
            false,
        );
        check(&rfc7239, &[("x-forwarded-proto", "https")], false);
        let untrusted = proxies(&[]);
        check(&untrusted, &[("x-forwarded-proto", "https")], false);
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(resolve(&["127.0.0.1/32"], "127.0.0.1", &[]), "127.0.0.0");
    }

    #[test]
    fn garbage_in_the_chain_stops_the_walk_and_is_counted() {
        let x = proxies(&["127.0.0.1/32"]);
        let rfc7239 = proxies_writing(ForwardingHeader::Forwarded, &["127.0.0.1/32"]);
        let count = |proxies: &TrustedProxies| {
            proxies
                .malformed
                .with_label_values(&[proxies.header.as_str()])
                .get()
        };
        let cases = [
            (&x, "x-forwarded-for", "81.204.23.1, <script>"),
            (&x, "x-forwarded-for", ""),
            (&x, "x-forwarded-for", "81.204.23.1,"),
            (&rfc7239, "forwarded", "for=81.204.23.1, for=nonsense"),
        ];
        for (proxies, header, value) in cases {
            assert_eq!(
                resolve_with(proxies, "127.0.0.1", &[(header, value)]),
                "127.0.0.0",
                "the proxy's own address: {header}: {value}"
            );
        }
        assert_eq!(count(&x), 3);
        assert_eq!(count(&rfc7239), 1);
        // Hidden on purpose (RFC 7239), or a good chain: not counted.
        for value in ["for=unknown", "for=\"_proxy1\"", "for=81.204.23.1"] {
            resolve_with(&rfc7239, "127.0.0.1", &[("forwarded", value)]);
        }
        assert_eq!(count(&rfc7239), 1);
        // From a peer that is not trusted the header is not read at all.
        resolve_with(&x, "203.0.113.9", &[("x-forwarded-for", "<script>")]);
        assert_eq!(count(&x), 3);
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
