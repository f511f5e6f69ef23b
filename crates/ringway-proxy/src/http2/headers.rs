//! Header translation between HTTP/1.1 heads (spans into a buffer) and
//! HTTP/2 header maps: connection-specific fields dropped (RFC 9113
//! §8.2.2), `Host` ↔ `:authority`, trailers both ways, and the proxy's own
//! `x-forwarded-*` and `x-request-id` fields.

use std::cell::RefCell;
use std::io::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ringway_http1::{HeaderSpan, connection_tokens_contain, is_hop_by_hop};

use ringway_grpc::Code;
use ringway_route::HeaderLookup;

use crate::request::envoy_headers::{self, FieldAction};
use crate::request::next_hop::{self, NextHop};

/// Field names ringway reads or writes on every request, built once
/// (a `&str` name is parsed again at each map lookup).
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
pub(crate) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
const X_ENVOY_INTERNAL: HeaderName = HeaderName::from_static("x-envoy-internal");
const X_ENVOY_EXTERNAL_ADDRESS: HeaderName = HeaderName::from_static("x-envoy-external-address");
const X_ENVOY_EXPECTED_RQ_TIMEOUT_MS: HeaderName =
    HeaderName::from_static("x-envoy-expected-rq-timeout-ms");
const X_ENVOY_ORIGINAL_PATH: HeaderName = HeaderName::from_static("x-envoy-original-path");
const X_ENVOY_UPSTREAM_SERVICE_TIME: HeaderName =
    HeaderName::from_static("x-envoy-upstream-service-time");

thread_local! {
    /// One-entry caches of values that repeat request after request on a
    /// worker (the route's expected timeout, the client's address): a hit
    /// clones a shared value instead of formatting and allocating one.
    static EXPECTED_TIMEOUT: RefCell<Option<(u64, HeaderValue)>> = const { RefCell::new(None) };
    static EXTERNAL_ADDRESS: RefCell<Option<(IpAddr, HeaderValue)>> = const { RefCell::new(None) };
}

/// Service times under 10 ms (most of them), without allocating.
const SMALL_MS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// How an HTTP/1.1 message body is framed on the wire we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum H1Framing {
    /// No body (and no framing header needed).
    None,
    /// `Content-Length` is among the headers already.
    Length,
    /// `Transfer-Encoding: chunked` is added.
    Chunked,
    /// The body ends when the connection closes (responses to HTTP/1.0).
    UntilClose,
}

/// Readies a request's headers for the next hop: drops `host` (the
/// authority travels separately), applies Envoy's `x-forwarded-*` and
/// `x-envoy-*` rules, and sets `x-request-id` if absent. `original` is
/// the path and query before any rewrite. Returns the request's timeout.
///
/// The map holds no connection-specific field already: `h2` refuses
/// requests that carry one (and `TE` other than `trailers`) as malformed,
/// and [`from_h1`] leaves them out.
pub(crate) fn prepare_request(
    headers: &mut HeaderMap,
    next_hop: &NextHop<'_>,
    original: &[u8],
) -> Duration {
    headers.remove(header::HOST);
    // Room for the fields added below, in one growth at most.
    headers.reserve(6);
    let timeout_header = strip_envoy_fields(headers, next_hop);
    let timeout = next_hop.timeout(timeout_header.as_ref().map(HeaderValue::as_bytes));
    if let Some(peer) = &next_hop.forwarded_for {
        append_forwarded_for(headers, peer.as_bytes());
    }
    if next_hop.overwrite_forwarded_proto || !headers.contains_key(X_FORWARDED_PROTO) {
        headers.insert(
            X_FORWARDED_PROTO,
            HeaderValue::from_static(next_hop::FORWARDED_PROTO),
        );
    }
    if let Some(id) = next_hop
        .request_id()
        .and_then(|id| HeaderValue::from_str(id).ok())
    {
        headers.insert(X_REQUEST_ID, id);
    }
    let envoy = &next_hop.envoy;
    if envoy.trust.internal {
        headers.insert(X_ENVOY_INTERNAL, HeaderValue::from_static("true"));
    }
    if let Some(ip) = envoy.trust.external_address
        && let Some(v) = cached(&EXTERNAL_ADDRESS, ip, || {
            next_hop
                .external_address()
                .and_then(|text| HeaderValue::from_bytes(text.as_bytes()).ok())
        })
    {
        headers.insert(X_ENVOY_EXTERNAL_ADDRESS, v);
    }
    if let Some(ms) = envoy.expected_timeout_ms(timeout)
        && let Some(v) = cached(&EXPECTED_TIMEOUT, ms, || Some(HeaderValue::from(ms)))
    {
        headers.insert(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, v);
    }
    if envoy.original_path {
        let path: &[u8] = if original.first() == Some(&b'/') {
            original
        } else {
            b"/"
        };
        if let Ok(v) = HeaderValue::from_bytes(path) {
            headers.insert(X_ENVOY_ORIGINAL_PATH, v);
        }
    }
    timeout
}

/// Removes the `x-envoy-*` fields Envoy's rules drop; returns a honoured
/// `x-envoy-upstream-rq-timeout-ms`. Maps without such fields (nearly
/// all) are only scanned.
fn strip_envoy_fields(headers: &mut HeaderMap, next_hop: &NextHop<'_>) -> Option<HeaderValue> {
    let any = headers
        .keys()
        .any(|name| name.as_str().starts_with("x-envoy-"));
    if !any {
        return None;
    }
    let mut dropped = Vec::new();
    let mut timeout = None;
    for name in headers.keys() {
        let Some(field) = envoy_headers::envoy_field(name.as_str().as_bytes()) else {
            continue;
        };
        match next_hop.envoy.action(field) {
            FieldAction::Keep => {}
            FieldAction::Drop => dropped.push(name.clone()),
            FieldAction::Timeout => {
                timeout = headers.get(name).cloned();
                dropped.push(name.clone());
            }
        }
    }
    for name in dropped {
        headers.remove(name);
    }
    timeout
}

/// Sets `x-envoy-upstream-service-time` on a response going downstream.
pub(crate) fn set_service_time(headers: &mut HeaderMap, elapsed: Duration) {
    let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let value = match SMALL_MS.get(ms as usize) {
        Some(text) => HeaderValue::from_static(text),
        None => HeaderValue::from(ms),
    };
    headers.insert(X_ENVOY_UPSTREAM_SERVICE_TIME, value);
}

/// The value for `key` from a one-entry `cache`, made by `make` on a miss.
fn cached<K: Copy + PartialEq + 'static>(
    cache: &'static std::thread::LocalKey<RefCell<Option<(K, HeaderValue)>>>,
    key: K,
    make: impl FnOnce() -> Option<HeaderValue>,
) -> Option<HeaderValue> {
    cache.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some((k, v)) = slot.as_ref()
            && *k == key
        {
            return Some(v.clone());
        }
        let value = make()?;
        *slot = Some((key, value.clone()));
        Some(value)
    })
}

fn append_forwarded_for(headers: &mut HeaderMap, peer: &[u8]) {
    let mut value = Vec::with_capacity(64);
    for existing in headers.get_all(X_FORWARDED_FOR) {
        value.extend_from_slice(existing.as_bytes());
        value.extend_from_slice(b", ");
    }
    value.extend_from_slice(peer);
    if let Ok(v) = HeaderValue::from_bytes(&value) {
        headers.insert(X_FORWARDED_FOR, v);
    }
}

/// Copies the end-to-end fields of an HTTP/1.1 head into `out`, dropping
/// hop-by-hop ones, fields its `Connection` names, `host` and `expect`
/// (ringway answers `100-continue` itself). `TE: trailers` is kept.
pub(crate) fn from_h1(buf: &[u8], spans: &[HeaderSpan], out: &mut HeaderMap) {
    let has_connection = spans
        .iter()
        .any(|h| h.name.get(buf).eq_ignore_ascii_case(b"connection"));
    for h in spans {
        let name = h.name.get(buf);
        let value = h.value.get(buf);
        if name.eq_ignore_ascii_case(b"te") {
            if value.eq_ignore_ascii_case(b"trailers") {
                out.append(header::TE, HeaderValue::from_static("trailers"));
            }
            continue;
        }
        if next_hop::is_dropped_request_field(name)
            || name.eq_ignore_ascii_case(b"host")
            || (has_connection && connection_tokens_contain(buf, spans, name))
        {
            continue;
        }
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            out.append(name, value);
        }
    }
}

/// `grpc-status` and `grpc-message` for a status ringway produces.
pub(crate) fn grpc_trailers(code: Code, message: &str) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(2);
    map.insert(GRPC_STATUS, HeaderValue::from_static(code.as_str()));
    let mut encoded = String::with_capacity(message.len());
    ringway_grpc::encode_message(message, &mut encoded);
    if let Ok(v) = HeaderValue::from_str(&encoded) {
        map.insert(GRPC_MESSAGE, v);
    }
    map
}

/// Header lookup over an `http::HeaderMap` (names are lower case there).
pub(crate) struct MapLookup<'a>(pub(crate) &'a HeaderMap);

impl HeaderLookup for MapLookup<'_> {
    fn find(&self, lower_case_name: &str) -> Option<&[u8]> {
        self.0.get(lower_case_name).map(HeaderValue::as_bytes)
    }
}

/// Parses an HTTP/1.1 trailer section (field lines, each with its CRLF)
/// into a map, dropping fields not allowed in trailers.
pub(crate) fn parse_trailers(section: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in section.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if is_hop_by_hop(name) || is_framing_field(name) {
            continue;
        }
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

fn is_framing_field(name: &[u8]) -> bool {
    [&b"content-length"[..], b"host", b"content-type"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
}

/// Appends `map` as HTTP/1.1 field lines.
pub(crate) fn write_fields(out: &mut Vec<u8>, map: &HeaderMap) {
    for (name, value) in map {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Serialises an HTTP/1.1 request head for a request that arrived over
/// HTTP/2.
pub(crate) fn write_request_head(
    out: &mut Vec<u8>,
    method: &http::Method,
    path_and_query: &str,
    authority: &str,
    headers: &HeaderMap,
    framing: H1Framing,
) {
    out.clear();
    let _ = write!(
        out,
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        method, path_and_query, authority
    );
    for (name, value) in headers {
        if name == header::TE {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if framing == H1Framing::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Serialises an HTTP/1.1 response head for a response that arrived over
/// HTTP/2.
pub(crate) fn write_response_head(
    out: &mut Vec<u8>,
    status: http::StatusCode,
    headers: &HeaderMap,
    framing: H1Framing,
    keep_alive: bool,
) {
    out.clear();
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    );
    write_fields(out, headers);
    if framing == H1Framing::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one chunk's framing and payload.
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk and the trailer section.
pub(crate) fn push_last_chunk(out: &mut Vec<u8>, trailers: Option<&HeaderMap>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(t) = trailers {
        write_fields(out, t);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn trailers_round_trip() {
        let map = parse_trailers(b"grpc-status: 0\r\ngrpc-message:  ok \r\nbad line\r\nContent-Length: 5\r\nx-bin-bin: AAEC\r\n");
        assert_eq!(
            map.get("grpc-status").map(|v| v.as_bytes()),
            Some(&b"0"[..])
        );
        assert_eq!(
            map.get("grpc-message").map(|v| v.as_bytes()),
            Some(&b"ok"[..])
        );
        assert!(map.get("content-length").is_none());
        assert_eq!(map.len(), 3);
        let mut out = Vec::new();
        push_last_chunk(&mut out, Some(&map));
        assert!(out.starts_with(b"0\r\n"));
        assert!(out.ends_with(b"\r\n\r\n"));
        assert_eq!(parse_trailers(&out[3..out.len() - 2]), map);
    }

    #[test]
    fn request_headers_for_the_next_hop() {
        let mut map = HeaderMap::new();
        map.insert("te", HeaderValue::from_static("trailers"));
        map.insert("host", HeaderValue::from_static("a"));
        map.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        map.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        map.insert("x-envoy-retry-on", HeaderValue::from_static("5xx"));
        map.insert(
            "x-envoy-upstream-rq-timeout-ms",
            HeaderValue::from_static("5"),
        );
        map.insert("x-envoy-internal", HeaderValue::from_static("true"));
        map.insert("x-envoy-unknown", HeaderValue::from_static("kept"));
        let mut next_hop = NextHop {
            forwarded_for: Some(next_hop::IpText::new("127.0.0.1".parse().expect("ip"))),
            overwrite_forwarded_proto: true,
            request_id: Some(next_hop::RequestId::generate(
                &mut fastrand::Rng::with_seed(1),
            )),
            host_rewrite: None,
            envoy: envoy_headers::EnvoyEdits {
                trust: envoy_headers::Trust {
                    internal: false,
                    edge: true,
                    external_address: Some("127.0.0.1".parse().expect("ip")),
                    external_is_peer: true,
                },
                suppress: false,
                original_path: false,
            },
            route_timeout: Duration::from_secs(15),
        };
        next_hop.path_rewritten();
        let timeout = prepare_request(&mut map, &next_hop, b"/before?q");
        assert_eq!(timeout, Duration::from_secs(15));
        assert!(map.get("host").is_none());
        assert_eq!(map["te"], "trailers");
        assert_eq!(map["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(map["x-forwarded-proto"], "http");
        assert_eq!(map["x-envoy-external-address"], "127.0.0.1");
        assert_eq!(map["x-envoy-expected-rq-timeout-ms"], "15000");
        assert_eq!(map["x-envoy-original-path"], "/before?q");
        assert_eq!(map["x-envoy-unknown"], "kept");
        for gone in [
            "x-envoy-retry-on",
            "x-envoy-upstream-rq-timeout-ms",
            "x-envoy-internal",
        ] {
            assert!(map.get(gone).is_none(), "{gone}");
        }
        assert_eq!(
            Some(map["x-request-id"].as_bytes()),
            next_hop.request_id().map(str::as_bytes)
        );
    }

    #[test]
    fn h1_heads_lose_hop_by_hop_fields() {
        let head = b"POST / HTTP/1.1\r\nconnection: x-drop, keep-alive\r\nkeep-alive: 5\r\n\
            x-drop: 1\r\nte: trailers\r\nhost: a\r\nexpect: 100-continue\r\nx-keep: 2\r\n\
            transfer-encoding: chunked\r\nupgrade: h2c\r\ntrailer: x-t\r\n\r\n";
        let mut spans = Vec::new();
        let parsed =
            ringway_http1::parse_request(head, &ringway_http1::HeadLimits::default(), &mut spans);
        assert!(matches!(parsed, Ok(Some(_))), "{parsed:?}");
        let mut map = HeaderMap::new();
        from_h1(head, &spans, &mut map);
        let mut names: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["te", "x-keep"]);
        assert_eq!(map["te"], "trailers");
    }

    #[test]
    fn chunks() {
        let mut out = Vec::new();
        push_chunk(&mut out, b"hello, world!!!!!");
        push_chunk(&mut out, b"");
        assert_eq!(out, b"11\r\nhello, world!!!!!\r\n");
    }
}
