//! What changes in a request on its way to the upstream, the same for
//! both codecs: the peer appended to `x-forwarded-for`, `x-forwarded-proto`
//! set when absent, an `x-request-id` generated when absent, the route's
//! host rewrite, and the fields never forwarded (hop-by-hop ones, those
//! `Connection` names, and `expect`: ringway answers `100-continue` itself).
//! The HTTP/1.1 writer (`h1::head`) and the HTTP/2 writer
//! (`http2::headers`) apply these as data.

use std::io::Write as _;
use std::net::IpAddr;

use ringway_config::model::Route;
use ringway_http1::is_hop_by_hop;

/// `x-forwarded-proto` when the request has none.
pub(crate) const FORWARDED_PROTO: &str = "http";

/// The edits for one forwarded request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextHop<'a> {
    /// Appended to `x-forwarded-for`.
    pub peer: IpAddr,
    /// Set as `x-request-id`: generated when the request has none.
    pub request_id: Option<RequestId>,
    /// Replaces `Host` / `:authority`.
    pub host_rewrite: Option<&'a str>,
}

impl<'a> NextHop<'a> {
    /// The edits for a request from `peer` on `route`; `has_request_id`
    /// says whether it carries an `x-request-id` already.
    pub(crate) fn new(
        rng: &mut fastrand::Rng,
        peer: IpAddr,
        has_request_id: bool,
        route: &'a Route,
    ) -> Self {
        Self {
            peer,
            request_id: (!has_request_id).then(|| RequestId::generate(rng)),
            host_rewrite: route.host_rewrite.as_deref(),
        }
    }

    /// The generated request id, if any.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().map(RequestId::as_str)
    }
}

/// Whether a request field is never forwarded whatever `Connection` says:
/// hop-by-hop fields and `expect`.
pub(crate) fn is_dropped_request_field(name: &[u8]) -> bool {
    is_hop_by_hop(name) || name.eq_ignore_ascii_case(b"expect")
}

/// A random (version 4) UUID in its 36-character text form, as Envoy
/// generates for `x-request-id`; kept on the stack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestId([u8; 36]);

impl RequestId {
    pub(crate) fn generate(rng: &mut fastrand::Rng) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = rng.u128(..).to_be_bytes();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut text = [b'-'; 36];
        let mut at = 0;
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                at += 1;
            }
            text[at] = HEX[usize::from(b >> 4)];
            text[at + 1] = HEX[usize::from(b & 0x0f)];
            at += 2;
        }
        Self(text)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Appends the textual form of `ip` (IPv4 without going through `fmt`).
pub(crate) fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                let o = *octet;
                if o >= 100 {
                    out.push(b'0' + o / 100);
                }
                if o >= 10 {
                    out.push(b'0' + (o / 10) % 10);
                }
                out.push(b'0' + o % 10);
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_is_a_v4_uuid() {
        let mut rng = fastrand::Rng::with_seed(7);
        let a = RequestId::generate(&mut rng);
        let b = RequestId::generate(&mut rng);
        let id = a.as_str();
        assert_eq!(id.len(), 36);
        assert_ne!(id, b.as_str());
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(id.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn ip_text() {
        for ip in ["0.0.0.0", "127.0.0.1", "10.20.255.9", "::1", "fe80::1"] {
            let mut out = Vec::new();
            push_ip(&mut out, ip.parse().unwrap_or_else(|_| unreachable!()));
            assert_eq!(out, ip.as_bytes());
        }
    }
}
