//! The HTTP/1.1 request head sent upstream, with Envoy's header rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use super::*;
use crate::request::envoy_headers::{EnvoyEdits, Trust};
use crate::request::next_hop::IpText;

fn next_hop(internal: bool, suppress: bool) -> NextHop<'static> {
    let peer = "127.0.0.1".parse().unwrap();
    NextHop {
        forwarded_for: Some(IpText::new(peer)),
        overwrite_forwarded_proto: true,
        request_id: None,
        host_rewrite: None,
        envoy: EnvoyEdits {
            trust: Trust {
                internal,
                edge: !internal,
                external_address: (!internal).then_some(peer),
                external_is_peer: true,
            },
            suppress,
            original_path: !suppress,
        },
        route_timeout: Duration::from_secs(15),
    }
}

/// The head as sent, and the timeout.
fn build(raw: &[u8], hop: &NextHop<'_>, rewritten: Option<&[u8]>) -> (String, Duration) {
    let mut spans = Vec::new();
    let head = ringway_http1::parse_request(raw, &Default::default(), &mut spans)
        .unwrap()
        .unwrap();
    let parsed = ParsedHead {
        buf: raw,
        head: &head,
        headers: &spans,
    };
    let (mut added, mut pieces) = (Vec::new(), Vec::new());
    let out = HeadOut {
        added: &mut added,
        pieces: &mut pieces,
    };
    let timeout = build_request_head(parsed, hop, rewritten, 0, out);
    let mut text = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Original(a, b) => text.extend_from_slice(&raw[a..b]),
            Piece::Added(a, b) => text.extend_from_slice(&added[a..b]),
        }
    }
    (String::from_utf8(text).unwrap(), timeout)
}

const RAW: &[u8] = b"GET /old?q=1 HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 10.0.0.1\r\n\
    X-Forwarded-Proto: https\r\nX-Envoy-Retry-On: 5xx\r\nx-envoy-upstream-rq-timeout-ms: 250\r\n\
    x-envoy-internal: true\r\nx-envoy-other: kept\r\n\r\n";

#[test]
fn external_request() {
    let (head, timeout) = build(RAW, &next_hop(false, false), Some(b"/new?q=1"));
    assert_eq!(timeout, Duration::from_secs(15));
    assert!(head.starts_with("GET /new?q=1 HTTP/1.1\r\n"), "{head}");
    for line in [
        "Host: a.example\r\n",
        "x-envoy-other: kept\r\n",
        "x-forwarded-for: 10.0.0.1, 127.0.0.1\r\n",
        "x-forwarded-proto: http\r\n",
        "x-envoy-external-address: 127.0.0.1\r\n",
        "x-envoy-expected-rq-timeout-ms: 15000\r\n",
        "x-envoy-original-path: /old?q=1\r\n",
    ] {
        assert!(head.contains(line), "{line:?} missing from\n{head}");
    }
    for gone in [
        "https",
        "Retry-On",
        "rq-timeout-ms: 250",
        "x-envoy-internal",
    ] {
        assert!(!head.contains(gone), "{gone:?} still in\n{head}");
    }
    assert!(head.ends_with("\r\n\r\n"));
}

#[test]
fn internal_request_honours_the_timeout_header() {
    let (head, timeout) = build(RAW, &next_hop(true, false), None);
    assert_eq!(timeout, Duration::from_millis(250));
    assert!(head.starts_with("GET /old?q=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("X-Envoy-Retry-On: 5xx\r\n"), "{head}");
    assert!(head.contains("x-envoy-internal: true\r\n"), "{head}");
    assert!(
        head.contains("x-envoy-expected-rq-timeout-ms: 250\r\n"),
        "{head}"
    );
    assert_eq!(head.matches("x-envoy-internal").count(), 1, "{head}");
    assert!(!head.contains("x-envoy-external-address"), "{head}");
    assert!(!head.contains("x-envoy-upstream-rq-timeout-ms"), "{head}");
}

#[test]
fn suppressed_and_not_appending() {
    let mut hop = next_hop(false, true);
    hop.forwarded_for = None;
    hop.overwrite_forwarded_proto = false;
    let (head, _) = build(RAW, &hop, None);
    assert!(head.contains("X-Forwarded-For: 10.0.0.1\r\n"), "{head}");
    assert!(head.contains("X-Forwarded-Proto: https\r\n"), "{head}");
    assert!(!head.contains("x-forwarded-proto: http\r\n"), "{head}");
    assert!(!head.contains("expected-rq-timeout"), "{head}");
    assert!(!head.contains("original-path"), "{head}");
}
