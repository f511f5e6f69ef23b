//! Content negotiation and request bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderValue};
use ringway_eureka::Format;

use super::*;

fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(name.clone(), HeaderValue::from_static(value));
    }
    map
}

#[test]
fn gzip_when_allowed() {
    let table = [
        ("gzip, deflate", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("deflate, gzip;q=0.5", true),
        ("gzip;q=0", false),
        ("gzip; q=0.0, *", false),
        ("*", true),
        ("*;q=0", false),
        ("deflate, br", false),
        ("identity", false),
    ];
    for (value, want) in table {
        assert_eq!(
            accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, value)])),
            want,
            "{value}"
        );
    }
    assert!(!accepts_gzip(&HeaderMap::new()));
}

#[test]
fn formats() {
    let json = headers(&[(header::ACCEPT, "application/json")]);
    assert_eq!(answer_format(&json), Format::Json);
    let both = headers(&[(header::ACCEPT, "application/xml, Application/JSON;q=0.9")]);
    assert_eq!(answer_format(&both), Format::Json);
    assert_eq!(
        answer_format(&headers(&[(header::ACCEPT, "*/*")])),
        Format::Xml
    );
    assert_eq!(answer_format(&HeaderMap::new()), Format::Xml);

    let body = b"<instance/>";
    let typed = headers(&[(header::CONTENT_TYPE, "application/json; charset=utf-8")]);
    assert_eq!(body_format(&typed, body), Format::Json);
    assert_eq!(
        body_format(&headers(&[(header::CONTENT_TYPE, "text/xml")]), b"{}"),
        Format::Xml
    );
    assert_eq!(
        body_format(&HeaderMap::new(), b" {\"instance\":{}}"),
        Format::Json
    );
    assert_eq!(body_format(&HeaderMap::new(), body), Format::Xml);
}

#[test]
fn gunzip_bounds_and_errors() {
    let zipped = gzip(b"{\"instance\":{}}").unwrap();
    assert_eq!(gunzip(&zipped).ok(), Some(b"{\"instance\":{}}".to_vec()));

    let bad = gunzip(b"not gzip").err().map(|e| e.status());
    assert_eq!(bad, Some(StatusCode::BAD_REQUEST));

    // A small body that inflates past the limit.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MAX_BODY + 10];
    assert!(encoder.write_all(&zeros).is_ok());
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 16 * 1024);
    assert_eq!(
        gunzip(&bomb).err().map(|e| e.status()),
        Some(StatusCode::PAYLOAD_TOO_LARGE)
    );
}
