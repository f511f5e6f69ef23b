//! Which peer addresses a listener trusts as internal (Envoy's
//! `HttpConnectionManager.InternalAddressConfig`).

use std::net::IpAddr;

use serde::Serialize;

/// The addresses whose requests count as internal. Without this block
/// no address is internal (Envoy since 1.33).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InternalAddressConfig {
    /// Empty: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), `127.0.0.1`,
    /// `fd00::/8` (RFC 4193) and `::1`, Envoy's classic set.
    pub cidr_ranges: Vec<CidrRange>,
}

/// An address range like `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CidrRange {
    pub address_prefix: IpAddr,
    /// At most 32 for IPv4, 128 for IPv6.
    pub prefix_len: u8,
}

// === impl InternalAddressConfig ===

impl InternalAddressConfig {
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        if self.cidr_ranges.is_empty() {
            return classic_internal(ip);
        }
        self.cidr_ranges.iter().any(|r| r.contains(ip))
    }
}

/// Envoy's default idea of an internal address.
fn classic_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            a == 10
                || (a == 172 && (16..=31).contains(&b))
                || (a == 192 && b == 168)
                || v4.octets() == [127, 0, 0, 1]
        }
        IpAddr::V6(v6) => v6.octets()[0] == 0xfd || v6.is_loopback(),
    }
}

// === impl CidrRange ===

impl CidrRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let len = u32::from(self.prefix_len);
        match (self.address_prefix, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - len.min(32)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - len.min(128)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn classic_set() {
        let classic = InternalAddressConfig {
            cidr_ranges: vec![],
        };
        for yes in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "fd00::1",
            "::1",
        ] {
            assert!(classic.is_internal(ip(yes)), "{yes}");
        }
        for no in [
            "11.0.0.1",
            "172.32.0.1",
            "127.0.0.2",
            "8.8.8.8",
            "fe80::1",
            "2001:db8::1",
        ] {
            assert!(!classic.is_internal(ip(no)), "{no}");
        }
    }

    #[test]
    fn ranges() {
        let config = InternalAddressConfig {
            cidr_ranges: vec![
                CidrRange {
                    address_prefix: ip("127.0.0.0"),
                    prefix_len: 8,
                },
                CidrRange {
                    address_prefix: ip("2001:db8::"),
                    prefix_len: 32,
                },
                CidrRange {
                    address_prefix: ip("9.9.9.9"),
                    prefix_len: 32,
                },
            ],
        };
        for yes in ["127.0.0.2", "2001:db8::5", "9.9.9.9"] {
            assert!(config.is_internal(ip(yes)), "{yes}");
        }
        for no in ["10.0.0.1", "9.9.9.8", "2001:db9::1"] {
            assert!(!config.is_internal(ip(no)), "{no}");
        }
        let all = CidrRange {
            address_prefix: ip("0.0.0.0"),
            prefix_len: 0,
        };
        assert!(all.contains(ip("1.2.3.4")) && !all.contains(ip("::1")));
    }
}
