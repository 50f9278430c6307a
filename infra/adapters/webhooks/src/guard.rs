//! The SSRF guard: webhook URLs must not reach into our own network.
//!
//! An endpoint's host is resolved, and addresses of these classes are refused unless the endpoint
//! says `allow_private`: unspecified, "this network", loopback, private (RFC 1918), carrier-grade NAT
//! (100.64/10), link-local (169.254/16 — the instance metadata service — and fe80::/10), unique-local
//! (fc00::/7), site-local (fec0::/10), multicast, broadcast and reserved ranges, IETF protocol and
//! benchmarking ranges, documentation ranges, and IPv6 forms that embed such an IPv4 address
//! (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
//!
//! The check is enforced where connections are made: the HTTP client resolves names through
//! [`GuardedResolver`], which hands the connector only addresses that passed, so a name that
//! resolves to a public address when checked and to a private one when connecting (DNS rebinding)
//! cannot slip through. Literal IP hosts never reach a resolver, so [`check_host`] checks them (and
//! gives a typed error for names) before each request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an address is refused, or `None` when it is a public unicast address.
pub fn forbidden_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        (0, _, _) => "this network (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) => "private (10.0.0.0/8)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast (240.0.0.0/4)",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4).map(|_| "IPv4-mapped address of a forbidden IPv4 address");
    }
    // ::a.b.c.d (deprecated IPv4-compatible) and NAT64 64:ff9b::/96 carry an IPv4 address in the low bits.
    let low_v4 =
        Ipv4Addr::new((segments[6] >> 8) as u8, segments[6] as u8, (segments[7] >> 8) as u8, segments[7] as u8);
    if segments[..6] == [0; 6] {
        return Some("IPv4-compatible address");
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && forbidden_v4(low_v4).is_some() {
        return Some("NAT64 address of a forbidden IPv4 address");
    }
    if segments[0] == 0x2002 {
        let embedded =
            Ipv4Addr::new((segments[1] >> 8) as u8, segments[1] as u8, (segments[2] >> 8) as u8, segments[2] as u8);
        if forbidden_v4(embedded).is_some() {
            return Some("6to4 address of a forbidden IPv4 address");
        }
    }
    Some(match segments[0] {
        s if s & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        s if s & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        s if s & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        s if s & 0xff00 == 0xff00 => "multicast",
        0x2001 if segments[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x0100 if segments[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        _ => return None,
    })
}

/// A refused or unresolvable endpoint host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("{host} resolves to {addr}, a {class} address: refused (set allow_private on the endpoint to allow it)")]
    Refused { host: String, addr: IpAddr, class: &'static str },
    #[error("cannot resolve {host}: {message}")]
    Lookup { host: String, message: String },
}

impl GuardError {
    /// A lookup may work later; a refusal will not.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Lookup { .. })
    }
}

/// Filters resolved addresses: all of them when private ones are allowed, else the allowed ones, or
/// the refusal of the first when none is allowed.
pub fn allowed(host: &str, addrs: Vec<SocketAddr>, allow_private: bool) -> Result<Vec<SocketAddr>, GuardError> {
    if addrs.is_empty() {
        return Err(GuardError::Lookup { host: host.to_owned(), message: "no addresses".into() });
    }
    if allow_private {
        return Ok(addrs);
    }
    let mut refused = None;
    let mut ok = Vec::new();
    for addr in addrs {
        match forbidden_class(addr.ip()) {
            None => ok.push(addr),
            Some(class) => {
                refused.get_or_insert(GuardError::Refused { host: host.to_owned(), addr: addr.ip(), class });
            }
        }
    }
    match (ok.is_empty(), refused) {
        (true, Some(refusal)) => Err(refusal),
        _ => Ok(ok),
    }
}

/// Resolves `host` and applies the guard. IP literals (also `[v6]`) are checked without a lookup.
pub async fn resolve_checked(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, GuardError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return allowed(host, vec![SocketAddr::new(ip, port)], allow_private);
    }
    let addrs = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| GuardError::Lookup { host: host.to_owned(), message: e.to_string() })?;
    allowed(host, addrs.collect(), allow_private)
}

/// Checks a URL's host before a request (see the module docs for why both this and the resolver).
pub async fn check_host(url: &reqwest::Url, allow_private: bool) -> Result<(), GuardError> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    resolve_checked(host, port, allow_private).await.map(drop)
}

/// A DNS resolver for reqwest that only ever returns addresses the guard allows.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&host, 0, allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<&'static str> {
        forbidden_class(text.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ];
        for addr in refused {
            assert!(class(addr).is_some(), "{addr} must be refused");
        }
    }

    #[test]
    fn public_unicast_addresses_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert_eq!(class(addr), None, "{addr} is public");
        }
    }

    #[test]
    fn the_filter_keeps_allowed_addresses_and_reports_a_refusal_when_none_is_left() {
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.5:443".parse().unwrap();
        assert_eq!(allowed("h", vec![private, public], false).unwrap(), vec![public]);
        let err = allowed("h", vec![private], false).unwrap_err();
        assert!(matches!(err, GuardError::Refused { class: "private (10.0.0.0/8)", .. }), "{err}");
        assert!(!err.is_retryable());
        assert_eq!(allowed("h", vec![private], true).unwrap(), vec![private]);
    }

    #[tokio::test]
    async fn literal_and_named_loopback_hosts_are_refused_unless_allowed() {
        for url in ["http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x", "http://[::ffff:7f00:1]/"] {
            let url = reqwest::Url::parse(url).unwrap();
            let err = check_host(&url, false).await.unwrap_err();
            assert!(matches!(err, GuardError::Refused { .. }), "{url}: {err}");
            check_host(&url, true).await.unwrap();
        }
    }
}
