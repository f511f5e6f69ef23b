//! Rewriting message heads for the next hop as pieces for a vectored write:
//! kept lines are slices of the original buffer, and the few added lines
//! are written into a small reusable buffer.

use std::io::Write as _;
use std::net::IpAddr;

use ringway_config::model::Route;
use ringway_http1::{
    HeaderSpan, RequestHead, ResponseHead, connection_tokens_contain, is_hop_by_hop,
};

use crate::iovec::{Piece, push_piece};

/// The pieces of the request head sent upstream, followed by the
/// `initial_body` bytes that arrived with the head.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_request_head(
    buf: &[u8],
    head: &RequestHead,
    headers: &[HeaderSpan],
    route: &Route,
    peer_ip: IpAddr,
    request_id: Option<&str>,
    rewritten_target: Option<&[u8]>,
    initial_body: usize,
    added: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
) {
    added.clear();
    pieces.clear();
    let line_start = head.method_span.start as usize;
    let line_end = headers
        .first()
        .map_or(head.head_len.saturating_sub(2), |h| h.line.start as usize);

    // An absolute-form target goes to the origin server in origin-form, and
    // its authority replaces Host (RFC 9112 3.2.2, 3.2.1).
    let target = head.target.get(buf);
    let authority = ringway_route::absolute_form_authority(target);
    let (target_start, target_end) = (head.target.start as usize, head.target.end as usize);
    match (rewritten_target, authority) {
        (Some(rewritten), _) => {
            push_piece(pieces, Piece::Original(line_start, target_start));
            added.extend_from_slice(rewritten);
            push_piece(pieces, Piece::Added(0, added.len()));
            push_piece(pieces, Piece::Original(target_end, line_end));
        }
        (None, Some(_)) => {
            push_piece(pieces, Piece::Original(line_start, target_start));
            let origin = ringway_route::origin_form(target);
            let offset = (origin.as_ptr() as usize).wrapping_sub(target.as_ptr() as usize);
            if origin.first() == Some(&b'/') && offset <= target.len() {
                push_piece(pieces, Piece::Original(target_start + offset, target_end));
            } else {
                // No path: `http://h` or `http://h?q` becomes `/` or `/?q`.
                added.push(b'/');
                if origin.first() == Some(&b'?') {
                    added.extend_from_slice(origin);
                }
                push_piece(pieces, Piece::Added(0, added.len()));
            }
            push_piece(pieces, Piece::Original(target_end, line_end));
        }
        (None, None) => push_piece(pieces, Piece::Original(line_start, line_end)),
    }

    let has_connection = headers
        .iter()
        .any(|h| h.name.get(buf).eq_ignore_ascii_case(b"connection"));
    let mut forwarded_for_seen = false;
    let mut forwarded_proto_seen = false;
    let added_start = added.len();
    for h in headers {
        let name = h.name.get(buf);
        let keep = if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // The body is forwarded with its framing intact.
            true
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            head.upgrade
        } else if is_hop_by_hop(name)
            || (has_connection && connection_tokens_contain(buf, headers, name))
            || name.eq_ignore_ascii_case(b"expect")
        {
            false
        } else if name.eq_ignore_ascii_case(b"host") {
            route.host_rewrite.is_none() && authority.is_none()
        } else if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            // Re-sent below as one line with the peer appended.
            if forwarded_for_seen {
                added.extend_from_slice(b", ");
            } else {
                added.extend_from_slice(b"x-forwarded-for: ");
                forwarded_for_seen = true;
            }
            added.extend_from_slice(h.value.get(buf));
            false
        } else {
            if name.eq_ignore_ascii_case(b"x-forwarded-proto") {
                forwarded_proto_seen = true;
            }
            true
        };
        if keep {
            push_piece(
                pieces,
                Piece::Original(h.line.start as usize, h.line.end as usize),
            );
        }
    }

    if forwarded_for_seen {
        added.extend_from_slice(b", ");
    } else {
        added.extend_from_slice(b"x-forwarded-for: ");
    }
    push_ip(added, peer_ip);
    added.extend_from_slice(b"\r\n");
    if !forwarded_proto_seen {
        added.extend_from_slice(b"x-forwarded-proto: http\r\n");
    }
    match (&route.host_rewrite, authority) {
        (Some(host), _) => {
            let _ = write!(added, "host: {host}\r\n");
        }
        (None, Some(authority)) => {
            added.extend_from_slice(b"host: ");
            added.extend_from_slice(authority);
            added.extend_from_slice(b"\r\n");
        }
        (None, None) => {}
    }
    if let Some(id) = request_id {
        added.extend_from_slice(b"x-request-id: ");
        added.extend_from_slice(id.as_bytes());
        added.extend_from_slice(b"\r\n");
    }
    if head.upgrade {
        added.extend_from_slice(b"connection: upgrade\r\n");
    } else if head.minor_version == 0 && head.keep_alive {
        added.extend_from_slice(b"connection: keep-alive\r\n");
    }
    push_piece(pieces, Piece::Added(added_start, added.len()));
    push_piece(
        pieces,
        Piece::Original(head.head_len.saturating_sub(2), head.head_len),
    );
    push_piece(
        pieces,
        Piece::Original(head.head_len, head.head_len + initial_body),
    );
}

/// The pieces of the response head sent downstream, followed by the
/// `initial_body` bytes that arrived with it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_response_head(
    buf: &[u8],
    head: &ResponseHead,
    headers: &[HeaderSpan],
    downstream_keep_alive: bool,
    client_http10: bool,
    dechunk: bool,
    initial_body: usize,
    added: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
) {
    added.clear();
    pieces.clear();
    let line_end = headers
        .first()
        .map_or(head.head_len.saturating_sub(2), |h| h.line.start as usize);
    push_piece(pieces, Piece::Original(0, line_end));
    let has_connection = headers
        .iter()
        .any(|h| h.name.get(buf).eq_ignore_ascii_case(b"connection"));
    // With both, Transfer-Encoding frames the body and Content-Length must
    // not be forwarded (RFC 9112 6.3).
    let has_transfer_encoding = headers
        .iter()
        .any(|h| h.name.get(buf).eq_ignore_ascii_case(b"transfer-encoding"));
    for h in headers {
        let name = h.name.get(buf);
        let keep = if head.upgrade {
            // 101 Switching Protocols: the client needs Connection/Upgrade.
            true
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            !dechunk
        } else if has_transfer_encoding && name.eq_ignore_ascii_case(b"content-length") {
            false
        } else {
            !(is_hop_by_hop(name)
                || (has_connection && connection_tokens_contain(buf, headers, name)))
        };
        if keep {
            push_piece(
                pieces,
                Piece::Original(h.line.start as usize, h.line.end as usize),
            );
        }
    }
    if !head.upgrade {
        if !downstream_keep_alive && !client_http10 {
            added.extend_from_slice(b"connection: close\r\n");
        } else if downstream_keep_alive && client_http10 {
            added.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    push_piece(pieces, Piece::Added(0, added.len()));
    push_piece(
        pieces,
        Piece::Original(head.head_len.saturating_sub(2), head.head_len),
    );
    push_piece(
        pieces,
        Piece::Original(head.head_len, head.head_len + initial_body),
    );
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
