//! Rewriting message heads for the next hop as pieces for a vectored write:
//! kept lines are slices of the original buffer, and the few added lines
//! are written into a small reusable buffer.

use std::fmt::Write as _;
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
    let _ = write!(added, "{peer_ip}\r\n");
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
        let _ = write!(added, "x-request-id: {id}\r\n");
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

/// A random (version 4) UUID, as Envoy generates for `x-request-id`.
pub(crate) fn generate_request_id(rng: &mut fastrand::Rng) -> String {
    let mut bytes = rng.u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}
