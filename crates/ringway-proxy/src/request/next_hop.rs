//! What changes in a request on its way to the upstream, the same for
//! both codecs: the peer appended to `x-forwarded-for` (with
//! `use_remote_address`), `x-forwarded-proto` set, an `x-request-id`
//! generated when absent, the route's host rewrite (or the endpoint's
//! hostname), Envoy's `x-envoy-*` edits ([`super::envoy_headers`]), the
//! request timeout, and the fields never forwarded (hop-by-hop ones, those
//! `Connection` names, and `expect`: ringway answers `100-continue` itself).
//! The HTTP/1.1 writer (`h1::head`) and the HTTP/2 writer
//! (`http2::headers`) apply these as data.

use std::borrow::Cow;
use std::io::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use ringway_config::model::{Listener, Route};
use ringway_http1::is_hop_by_hop;

use super::envoy_headers::{self, EnvoyEdits};

/// `x-forwarded-proto` when the request has none.
pub(crate) const FORWARDED_PROTO: &str = "http";

/// The edits for one forwarded request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextHop<'a> {
    /// Appended to `x-forwarded-for` (`use_remote_address`).
    pub forwarded_for: Option<IpText>,
    /// `x-forwarded-proto` is replaced, not only set when absent
    /// (`use_remote_address` without trusted hops).
    pub overwrite_forwarded_proto: bool,
    /// Set as `x-request-id`: generated when the request has none.
    pub request_id: Option<RequestId>,
    /// Replaces `Host` / `:authority`.
    pub host_rewrite: Option<&'a str>,
    pub envoy: EnvoyEdits,
    /// The route's timeout, before `x-envoy-upstream-rq-timeout-ms`.
    pub route_timeout: Duration,
}

/// What [`NextHop::new`] needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hop<'a> {
    pub listener: &'a Listener,
    pub route: &'a Route,
    pub peer: IpAddr,
    /// Whether the request carries an `x-request-id` already.
    pub has_request_id: bool,
    /// The chosen endpoint's hostname, if it has one.
    pub endpoint_hostname: Option<&'a str>,
}

impl<'a> NextHop<'a> {
    /// The edits for a request; `forwarded_for` gives its
    /// `x-forwarded-for` values joined by `,` and is called only when the
    /// listener's settings need them.
    pub(crate) fn new<'x>(
        rng: &mut fastrand::Rng,
        hop: Hop<'a>,
        forwarded_for: impl FnOnce() -> Option<Cow<'x, [u8]>>,
    ) -> Self {
        let Hop {
            listener,
            route,
            peer,
            has_request_id,
            endpoint_hostname,
        } = hop;
        let trust = if envoy_headers::needs_forwarded_for(listener) {
            envoy_headers::trust(listener, peer, forwarded_for().as_deref())
        } else {
            envoy_headers::trust(listener, peer, None)
        };
        let host_rewrite = match (&route.host_rewrite, route.auto_host_rewrite) {
            (Some(host), _) => Some(host.as_str()),
            (None, true) => endpoint_hostname,
            (None, false) => None,
        };
        Self {
            forwarded_for: listener.use_remote_address.then(|| IpText::new(peer)),
            overwrite_forwarded_proto: listener.use_remote_address
                && listener.xff_num_trusted_hops == 0,
            request_id: (!has_request_id && listener.generate_request_id)
                .then(|| RequestId::generate(rng)),
            host_rewrite,
            envoy: EnvoyEdits {
                trust,
                suppress: listener.suppress_envoy_headers,
                original_path: false,
            },
            route_timeout: route.timeout,
        }
    }

    /// The text of `x-envoy-external-address`, if the request gets one.
    pub(crate) fn external_address(&self) -> Option<IpText> {
        let ip = self.envoy.trust.external_address?;
        match self.forwarded_for {
            Some(text) if self.envoy.trust.external_is_peer => Some(text),
            _ => Some(IpText::new(ip)),
        }
    }

    /// Records that the path was rewritten: the original goes up as
    /// `x-envoy-original-path` unless Envoy's headers are suppressed.
    pub(crate) fn path_rewritten(&mut self) {
        self.envoy.original_path = !self.envoy.suppress;
    }

    /// The request's timeout, given the `x-envoy-upstream-rq-timeout-ms`
    /// value honoured (if any).
    pub(crate) fn timeout(&self, header: Option<&[u8]>) -> Duration {
        envoy_headers::upstream_timeout(self.route_timeout, header)
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

/// The text of an IP address, on the stack: formatted once per request
/// for both `x-forwarded-for` and `x-envoy-external-address`.
#[derive(Clone, Copy)]
pub(crate) struct IpText {
    buf: [u8; 46],
    len: u8,
}

impl IpText {
    /// IPv4 without going through `fmt`.
    pub(crate) fn new(ip: IpAddr) -> Self {
        let mut text = Self {
            buf: [0; 46],
            len: 0,
        };
        match ip {
            IpAddr::V4(v4) => {
                let mut at = 0;
                for (i, &o) in v4.octets().iter().enumerate() {
                    if i > 0 {
                        text.buf[at] = b'.';
                        at += 1;
                    }
                    if o >= 100 {
                        text.buf[at] = b'0' + o / 100;
                        at += 1;
                    }
                    if o >= 10 {
                        text.buf[at] = b'0' + (o / 10) % 10;
                        at += 1;
                    }
                    text.buf[at] = b'0' + o % 10;
                    at += 1;
                }
                text.len = at as u8;
            }
            IpAddr::V6(v6) => {
                let mut cursor = std::io::Cursor::new(&mut text.buf[..]);
                let _ = write!(cursor, "{v6}");
                text.len = cursor.position() as u8;
            }
        }
        text
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for IpText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
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
        let longest = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.255.9",
            "::1",
            "fe80::1",
            longest,
            "::ffff:1.2.3.4",
        ] {
            let text = IpText::new(ip.parse().unwrap_or_else(|_| unreachable!()));
            assert_eq!(text.as_bytes(), ip.as_bytes());
        }
    }
}
