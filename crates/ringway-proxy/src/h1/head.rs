//! Rewriting message heads for the next hop as pieces for a vectored write:
//! kept lines are slices of the original buffer, and the few added lines
//! are written into a small reusable buffer.

use std::borrow::Cow;
use std::io::Write as _;
use std::time::Duration;

use ringway_http1::{
    HeaderSpan, RequestHead, ResponseHead, connection_tokens_contain, is_hop_by_hop,
};

use ringway_route::HeaderLookup;

use super::iovec::{Piece, push_piece};
use crate::request::envoy_headers::{self, FieldAction};
use crate::request::next_hop::{self, NextHop};

/// A parsed request head and the buffer it points into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParsedHead<'a> {
    pub buf: &'a [u8],
    pub head: &'a RequestHead,
    pub headers: &'a [HeaderSpan],
}

impl<'a> ParsedHead<'a> {
    /// The request's authority: an absolute-form target's, else `Host`.
    pub(crate) fn authority(&self) -> &'a [u8] {
        ringway_route::absolute_form_authority(self.head.target.get(self.buf))
            .or_else(|| self.head.host.map(|h| h.get(self.buf)))
            .unwrap_or_default()
    }
}

impl<'a> ParsedHead<'a> {
    /// The `x-forwarded-for` values, joined by `,` when there are several.
    pub(crate) fn forwarded_for(&self) -> Option<Cow<'a, [u8]>> {
        let mut values = self
            .headers
            .iter()
            .filter(|h| {
                h.name
                    .get(self.buf)
                    .eq_ignore_ascii_case(b"x-forwarded-for")
            })
            .map(|h| h.value.get(self.buf));
        let first = values.next()?;
        let Some(second) = values.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut joined = [first, second].join(&b","[..]);
        for value in values {
            joined.push(b',');
            joined.extend_from_slice(value);
        }
        Some(Cow::Owned(joined))
    }
}

impl HeaderLookup for ParsedHead<'_> {
    fn find(&self, lower_case_name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| {
                h.name
                    .get(self.buf)
                    .eq_ignore_ascii_case(lower_case_name.as_bytes())
            })
            .map(|h| h.value.get(self.buf))
    }
}

/// Where the rewritten head's pieces go: added lines, and the list of
/// pieces (slices of the original buffer or of `added`).
#[derive(Debug)]
pub(crate) struct HeadOut<'a> {
    pub added: &'a mut Vec<u8>,
    pub pieces: &'a mut Vec<Piece>,
}

/// The pieces of the request head sent upstream, with `next_hop`'s edits
/// and `rewritten_target` as its target, followed by the `initial_body`
/// bytes that arrived with the head. Returns the request's timeout (the
/// route's, or a honoured `x-envoy-upstream-rq-timeout-ms`).
pub(crate) fn build_request_head(
    parsed: ParsedHead<'_>,
    next_hop: &NextHop<'_>,
    rewritten_target: Option<&[u8]>,
    initial_body: usize,
    out: HeadOut<'_>,
) -> Duration {
    let ParsedHead { buf, head, headers } = parsed;
    let HeadOut { added, pieces } = out;
    added.clear();
    pieces.clear();
    let authority = push_request_line(parsed, rewritten_target, &mut *added, &mut *pieces);

    let has_connection = headers
        .iter()
        .any(|h| h.name.get(buf).eq_ignore_ascii_case(b"connection"));
    let append_forwarded_for = next_hop.forwarded_for.is_some();
    let mut forwarded_for_seen = false;
    let mut forwarded_proto_seen = false;
    let mut timeout_header = None;
    let added_start = added.len();
    for h in headers {
        let name = h.name.get(buf);
        let keep = if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // The body is forwarded with its framing intact.
            true
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            head.upgrade
        } else if next_hop::is_dropped_request_field(name)
            || (has_connection && connection_tokens_contain(buf, headers, name))
        {
            false
        } else if name.eq_ignore_ascii_case(b"host") {
            next_hop.host_rewrite.is_none() && authority.is_none()
        } else if append_forwarded_for && name.eq_ignore_ascii_case(b"x-forwarded-for") {
            // Re-sent below as one line with the peer appended.
            if forwarded_for_seen {
                added.extend_from_slice(b", ");
            } else {
                added.extend_from_slice(b"x-forwarded-for: ");
                forwarded_for_seen = true;
            }
            added.extend_from_slice(h.value.get(buf));
            false
        } else if name.eq_ignore_ascii_case(b"x-forwarded-proto") {
            forwarded_proto_seen = true;
            !next_hop.overwrite_forwarded_proto
        } else if let Some(field) = envoy_headers::envoy_field(name) {
            match next_hop.envoy.action(field) {
                FieldAction::Keep => true,
                FieldAction::Drop => false,
                FieldAction::Timeout => {
                    timeout_header = Some(h.value.get(buf));
                    false
                }
            }
        } else {
            true
        };
        if keep {
            push_piece(
                pieces,
                Piece::Original(h.line.start as usize, h.line.end as usize),
            );
        }
    }

    if let Some(peer) = &next_hop.forwarded_for {
        if forwarded_for_seen {
            added.extend_from_slice(b", ");
        } else {
            added.extend_from_slice(b"x-forwarded-for: ");
        }
        added.extend_from_slice(peer.as_bytes());
        added.extend_from_slice(b"\r\n");
    }
    if next_hop.overwrite_forwarded_proto || !forwarded_proto_seen {
        added.extend_from_slice(b"x-forwarded-proto: ");
        added.extend_from_slice(next_hop::FORWARDED_PROTO.as_bytes());
        added.extend_from_slice(b"\r\n");
    }
    match (next_hop.host_rewrite, authority) {
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
    if let Some(id) = next_hop.request_id() {
        added.extend_from_slice(b"x-request-id: ");
        added.extend_from_slice(id.as_bytes());
        added.extend_from_slice(b"\r\n");
    }
    let timeout = next_hop.timeout(timeout_header);
    let original = ringway_route::origin_form(head.target.get(buf));
    push_envoy_lines(next_hop, timeout, original, added);
    if head.upgrade {
        added.extend_from_slice(b"connection: upgrade\r\n");
    } else if head.minor_version == 0 && head.keep_alive {
        added.extend_from_slice(b"connection: keep-alive\r\n");
    }
    push_piece(pieces, Piece::Added(added_start, added.len()));
    push_head_end(pieces, head.head_len, initial_body);
    timeout
}

/// The `x-envoy-*` lines ringway adds: `internal`, `external-address`,
/// `expected-rq-timeout-ms` and `original-path` (`original` is the target
/// before any rewrite).
fn push_envoy_lines(next_hop: &NextHop<'_>, timeout: Duration, original: &[u8], out: &mut Vec<u8>) {
    let envoy = &next_hop.envoy;
    if envoy.trust.internal {
        out.extend_from_slice(b"x-envoy-internal: true\r\n");
    }
    if let Some(ip) = next_hop.external_address() {
        out.extend_from_slice(b"x-envoy-external-address: ");
        out.extend_from_slice(ip.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(ms) = envoy.expected_timeout_ms(timeout) {
        out.extend_from_slice(b"x-envoy-expected-rq-timeout-ms: ");
        envoy_headers::push_decimal(out, ms);
        out.extend_from_slice(b"\r\n");
    }
    if envoy.original_path {
        out.extend_from_slice(b"x-envoy-original-path: ");
        out.extend_from_slice(if original.first() == Some(&b'/') {
            original
        } else {
            b"/"
        });
        out.extend_from_slice(b"\r\n");
    }
}

/// The request line's pieces: the target in origin-form, or rewritten.
/// Returns an absolute-form target's authority, which replaces `Host`.
fn push_request_line<'a>(
    parsed: ParsedHead<'a>,
    rewritten_target: Option<&[u8]>,
    added: &mut Vec<u8>,
    pieces: &mut Vec<Piece>,
) -> Option<&'a [u8]> {
    let ParsedHead { buf, head, headers } = parsed;
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
    authority
}

/// The head's closing blank line and the `initial_body` bytes that came
/// after it in the same buffer.
#[inline]
fn push_head_end(pieces: &mut Vec<Piece>, head_len: usize, initial_body: usize) {
    push_piece(
        pieces,
        Piece::Original(head_len.saturating_sub(2), head_len),
    );
    push_piece(pieces, Piece::Original(head_len, head_len + initial_body));
}

/// Envoy's response header: milliseconds from the request going upstream
/// to the response head arriving.
const SERVICE_TIME: &[u8] = b"x-envoy-upstream-service-time";

/// How the response goes to the client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseShape {
    /// The client connection stays open after this response.
    pub downstream_keep_alive: bool,
    pub client_http10: bool,
    /// A chunked body goes out de-chunked (HTTP/1.0 clients).
    pub dechunk: bool,
    /// Sent as `x-envoy-upstream-service-time` (replacing the upstream's);
    /// `None` under `suppress_envoy_headers`.
    pub service_time: Option<Duration>,
}

/// The pieces of the response head sent downstream, followed by the
/// `initial_body` bytes that arrived with it.
pub(crate) fn build_response_head(
    buf: &[u8],
    head: &ResponseHead,
    headers: &[HeaderSpan],
    shape: ResponseShape,
    initial_body: usize,
    out: HeadOut<'_>,
) {
    let ResponseShape {
        downstream_keep_alive,
        client_http10,
        dechunk,
        service_time,
    } = shape;
    let HeadOut { added, pieces } = out;
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
        } else if (has_transfer_encoding && name.eq_ignore_ascii_case(b"content-length"))
            || (service_time.is_some() && name.eq_ignore_ascii_case(SERVICE_TIME))
        {
            // Content-Length beside Transfer-Encoding; the upstream's own
            // service time, replaced below.
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
    if let Some(elapsed) = service_time {
        added.extend_from_slice(SERVICE_TIME);
        added.extend_from_slice(b": ");
        envoy_headers::push_decimal(added, elapsed.as_millis() as u64);
        added.extend_from_slice(b"\r\n");
    }
    if !head.upgrade {
        if !downstream_keep_alive && !client_http10 {
            added.extend_from_slice(b"connection: close\r\n");
        } else if downstream_keep_alive && client_http10 {
            added.extend_from_slice(b"connection: keep-alive\r\n");
        }
    }
    push_piece(pieces, Piece::Added(0, added.len()));
    push_head_end(pieces, head.head_len, initial_body);
}

#[cfg(test)]
mod tests;
