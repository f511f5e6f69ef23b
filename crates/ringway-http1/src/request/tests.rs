#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

type Outcome = Result<Option<RequestHead>, RequestError>;

fn parse_with(raw: &[u8], limits: &HeadLimits) -> (Outcome, Vec<HeaderSpan>) {
    let mut headers = Vec::new();
    let r = parse_request(raw, limits, &mut headers);
    (r, headers)
}

fn parse(raw: &[u8]) -> Outcome {
    parse_with(raw, &HeadLimits::default()).0
}

fn head(raw: &[u8]) -> RequestHead {
    match parse(raw) {
        Ok(Some(h)) => h,
        other => panic!("{:?} => {other:?}", String::from_utf8_lossy(raw)),
    }
}

fn text(raw: &[u8], span: Span) -> &str {
    std::str::from_utf8(span.get(raw)).unwrap()
}

/// Requests that must be refused: (raw, expected error).
#[rustfmt::skip]
const BAD: &[(&str, RequestError)] = {
    use RequestError::*;
    &[
        // Content-Length / Transfer-Encoding smuggling.
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", ContentLengthWithTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", ContentLengthWithTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", ConflictingContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", ConflictingContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5, 7\r\n\r\n", ConflictingContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", InvalidContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", ChunkedNotFinal),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;x=\"a,b\", chunked\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked chunked\r\n\r\n", InvalidTransferEncoding),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", TransferEncodingInHttp10),
        ("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", TransferEncodingInHttp10),
        // Field syntax.
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", WhitespaceBeforeColon),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n", WhitespaceBeforeColon),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", ObsFold),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n", ObsFold),
        ("GET / HTTP/1.1\r\n Host: a\r\n\r\n", ObsFold),
        ("GET / HTTP/1.1\r\nHost: a\r\nBad(Name: x\r\n\r\n", InvalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\r\n: no-name\r\n\r\n", InvalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\r\nNo-Colon\r\n\r\n", InvalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\r\nX\0: v\r\n\r\n", InvalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-\u{e9}: v\r\n\r\n", InvalidHeaderName),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", InvalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", InvalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", InvalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", InvalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n", InvalidHeaderValue),
        // Line terminators.
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", BareLf),
        ("GET / HTTP/1.1\r\nHost: a\n\r\n", BareLf),
        ("GET / HTTP/1.1\r\nHost: a\r\n\n", BareLf),
        ("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", BareLf),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\nX: y\r\n\r\n", BareLf),
        ("GET / HTTP/1.1\rHost: a\r\n\r\n", BareCr),
        ("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", BareCr),
        ("GET / HTTP/1.1\r\nHost: a\r\n\rX", BareCr),
        // Request line.
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / HTTP/1.10\r\nHost: a\r\n\r\n", MalformedRequestLine),
        (" GET / HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET /\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / http/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / HTTP/1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", MalformedRequestLine),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", UnsupportedVersion),
        ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", UnsupportedVersion),
        ("GET / HTTP/0.9\r\nHost: a\r\n\r\n", UnsupportedVersion),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", UnsupportedVersion),
        // Host.
        ("GET / HTTP/1.1\r\n\r\n", MissingHost),
        ("GET / HTTP/1.1\r\nX: y\r\n\r\n", MissingHost),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", MultipleHost),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", MultipleHost),
        ("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", MultipleHost),
        // Connection options naming framing or routing fields.
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: Content-Length\r\n\r\n", InvalidConnectionOption),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, transfer-encoding\r\n\r\n", InvalidConnectionOption),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: host\r\n\r\n", InvalidConnectionOption),
        // Target forms.
        ("GET foo HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("GET http:/a HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT a.example: HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT :443 HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT a.example/x:443 HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
        ("CONNECT http://a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", InvalidTarget),
    ]
};

#[test]
fn refuses_malformed_and_smuggling_requests() {
    for (raw, want) in BAD {
        let got = parse(raw.as_bytes());
        assert_eq!(got, Err(*want), "{raw:?}");
        let status = if *want == RequestError::UnsupportedVersion {
            505
        } else {
            400
        };
        assert_eq!(want.status(), status, "{raw:?}");
    }
}

/// Requests that parse: (raw, framing, keep_alive).
#[rustfmt::skip]
const GOOD: &[(&str, BodyFraming, bool)] = {
    use BodyFraming::*;
    &[
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", Empty, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n", Empty, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", Empty, true),
        ("GET / HTTP/1.0\r\n\r\n", Empty, false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Empty, true),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", Empty, true),
        ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", Empty, false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", Empty, false),
        ("GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n", Empty, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, X-Custom\r\nTE: trailers\r\n\r\n", Empty, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", Length(5), true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", Length(0), true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", Length(5), true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", Length(5), true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", Length(7), true),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n", Length(u64::MAX), true),
        ("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n", Length(3), false),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", Chunked, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", Chunked, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:   chunked  \r\n\r\n", Chunked, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Chunked, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;level=9 , chunked\r\n\r\n", Chunked, true),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", Chunked, true),
        ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", Empty, true),
        ("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", Empty, true),
        ("GET http://b.example/x?y HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("GET https://b.example HTTP/1.0\r\n\r\n", Empty, false),
        ("PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("GET /caf\u{e9}?q=\u{2713} HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("GET / HTTP/1.1\r\nHost:\r\n\r\n", Empty, true),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n", Empty, true),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\u{e9}\tx\r\n\r\n", Empty, true),
        ("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
        ("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Empty, true),
    ]
};

#[test]
fn parses_valid_requests_and_every_prefix_is_incomplete() {
    for (raw, framing, keep_alive) in GOOD {
        let raw = raw.as_bytes();
        let h = head(raw);
        assert_eq!(h.framing, *framing, "{raw:?}");
        assert_eq!(h.keep_alive, *keep_alive, "{raw:?}");
        assert_eq!(h.head_len, raw.len(), "{raw:?}");
        for cut in 0..raw.len() {
            let prefix = raw.get(..cut).unwrap();
            assert_eq!(
                parse(prefix),
                Ok(None),
                "prefix {:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}

#[test]
fn reports_spans_and_header_lines() {
    let raw =
        b"\r\nPOST /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Request-Id:  abc-1 \r\n\
        X-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nx-request-id: second\r\n\
        Content-Length: 3\r\n\r\nabc";
    let (r, headers) = parse_with(raw, &HeadLimits::default());
    let h = r.unwrap().unwrap();
    assert_eq!(h.method, Method::Post);
    assert_eq!(h.method_span.start, 2);
    assert_eq!(text(raw, h.method_span), "POST");
    assert_eq!(text(raw, h.target), "/p?q=1");
    assert_eq!(h.minor_version, 1);
    assert_eq!(text(raw, h.host.unwrap()), "example.com");
    assert_eq!(text(raw, h.request_id.unwrap()), "abc-1");
    assert_eq!(text(raw, h.forwarded_for.unwrap()), "10.0.0.1");
    assert_eq!(h.framing, BodyFraming::Length(3));
    assert_eq!(raw.get(h.head_len..).unwrap(), b"abc");
    let names: Vec<&str> = headers.iter().map(|x| text(raw, x.name)).collect();
    assert_eq!(
        names,
        [
            "Host",
            "X-Empty",
            "X-Request-Id",
            "X-Forwarded-For",
            "x-forwarded-for",
            "x-request-id",
            "Content-Length"
        ]
    );
    assert_eq!(text(raw, headers[1].value), "");
    assert_eq!(text(raw, headers[1].line), "X-Empty:\r\n");
    assert_eq!(text(raw, headers[2].line), "X-Request-Id:  abc-1 \r\n");
    // The lines tile the header section exactly.
    let mut expected_start = headers[0].line.start;
    for x in &headers {
        assert_eq!(x.line.start, expected_start);
        assert!(x.line.get(raw).ends_with(b"\r\n"));
        assert_eq!(x.name.start, x.line.start);
        expected_start = x.line.end;
    }
    assert_eq!(expected_start as usize + 2, h.head_len);
}

#[test]
fn expect_continue_and_upgrade() {
    #[rustfmt::skip]
    let cases: &[(&str, bool, bool)] = &[
        ("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", true, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n", true, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", false, false),
        ("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false, true),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, upgrade\r\nUpgrade: h2c\r\n\r\n", false, true),
        ("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false, false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", false, false),
    ];
    for (raw, expect, upgrade) in cases {
        let h = head(raw.as_bytes());
        assert_eq!(
            (h.expect_continue, h.upgrade),
            (*expect, *upgrade),
            "{raw:?}"
        );
    }
}

#[test]
fn pipelined_requests_parse_from_head_len() {
    let raw = b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET /b HTTP/1.1\r\nHost: b\r\n\r\n\
        GET /c HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n";
    let mut headers = Vec::new();
    let limits = HeadLimits::default();
    let first = parse_request(raw, &limits, &mut headers).unwrap().unwrap();
    assert_eq!(first.framing, BodyFraming::Length(4));
    let rest = raw.get(first.head_len + 4..).unwrap();
    let second = parse_request(rest, &limits, &mut headers).unwrap().unwrap();
    assert_eq!(text(rest, second.target), "/b");
    assert_eq!(headers.len(), 1);
    let rest = rest.get(second.head_len..).unwrap();
    let third = parse_request(rest, &limits, &mut headers).unwrap().unwrap();
    assert_eq!(text(rest, third.target), "/c");
    assert!(!third.keep_alive);
    assert_eq!(third.head_len, rest.len());
}

#[test]
fn header_vec_is_reused_without_reallocating() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    let mut headers = Vec::with_capacity(8);
    let ptr = headers.as_ptr();
    for _ in 0..3 {
        parse_request(raw, &HeadLimits::default(), &mut headers)
            .unwrap()
            .unwrap();
        assert_eq!(headers.len(), 3);
    }
    assert_eq!(headers.as_ptr(), ptr);
    let _ = parse_request(b"GET / HTTP/1.1\r\n", &HeadLimits::default(), &mut headers);
    assert!(headers.is_empty(), "cleared even when incomplete");
}

#[test]
fn size_limits() {
    let limits = HeadLimits {
        max_head_bytes: 64,
        max_headers: 3,
        max_uri_bytes: 16,
    };
    let p = |raw: &[u8]| parse_with(raw, &limits).0;
    let ok = b"GET /0123456789abcde HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n";
    assert!(ok.len() <= 64);
    assert!(
        p(ok).unwrap().is_some(),
        "exactly at the URI and header limits"
    );

    #[rustfmt::skip]
    let cases: &[(&[u8], RequestError)] = &[
        (b"GET /0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n", RequestError::UriTooLong),
        (b"GET /0123456789abcdef", RequestError::UriTooLong),
        (b"GET /0123456789abcdef HTTP/1.", RequestError::UriTooLong),
        (b"GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n", RequestError::TooManyHeaders),
        (b"GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n", RequestError::TooManyHeaders),
        (&[b'x'; 65], RequestError::HeadTooLarge),
        (b"GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 0123456789012345678901234567890123", RequestError::HeadTooLarge),
        (b"GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 0123456789012345678901234567890\r\n\r\n", RequestError::HeadTooLarge),
    ];
    for (raw, want) in cases {
        assert_eq!(p(raw), Err(*want), "{:?}", String::from_utf8_lossy(raw));
    }
    assert_eq!(RequestError::UriTooLong.status(), 414);
    assert_eq!(RequestError::TooManyHeaders.status(), 431);
    assert_eq!(RequestError::HeadTooLarge.status(), 431);
    // Just below the head limit an incomplete head is still incomplete.
    assert_eq!(p(b"GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
    // max_headers above the cap behaves as the cap.
    let big = HeadLimits {
        max_headers: usize::MAX,
        ..HeadLimits::default()
    };
    assert!(
        parse_with(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &big)
            .0
            .unwrap()
            .is_some()
    );
    let zero = HeadLimits {
        max_head_bytes: 0,
        ..HeadLimits::default()
    };
    assert_eq!(parse_with(b"", &zero).0, Err(RequestError::HeadTooLarge));
}

#[test]
fn method_classification() {
    assert_eq!(Method::from_bytes(b"GET"), Method::Get);
    assert_eq!(Method::from_bytes(b"get"), Method::Other);
    assert_eq!(Method::from_bytes(b"PATCH"), Method::Patch);
    assert!(Method::Put.is_idempotent());
    assert!(!Method::Post.is_idempotent());
    assert!(!Method::Patch.is_idempotent());
    assert!(!Method::Other.is_idempotent());
    assert_eq!(Method::Connect.as_str(), Some("CONNECT"));
    assert_eq!(Method::Other.as_str(), None);
}
