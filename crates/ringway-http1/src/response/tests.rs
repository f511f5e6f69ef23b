#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

type Outcome = Result<Option<ResponseHead>, ResponseError>;

fn parse_for(raw: &[u8], method: Method) -> Outcome {
    parse_response(raw, method, 64 * 1024, 100, &mut Vec::new())
}

fn head_for(raw: &[u8], method: Method) -> ResponseHead {
    match parse_for(raw, method) {
        Ok(Some(h)) => h,
        other => panic!("{:?} => {other:?}", String::from_utf8_lossy(raw)),
    }
}

/// (raw, request method, framing, keep_alive, upgrade).
#[rustfmt::skip]
const GOOD: &[(&str, Method, BodyFraming, bool, bool)] = {
    use BodyFraming::*;
    use Method::{Connect, Get, Head, Post};
    &[
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Get, Length(5), true, false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n", Get, Length(5), true, false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Post, Length(0), true, false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", Get, Length(5), false, false),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Get, Chunked, true, false),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", Get, Chunked, true, false),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Get, UntilClose, false, false),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Get, UntilClose, false, false),
        // Content-Length with Transfer-Encoding: TE wins, connection closes.
        ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n", Get, Chunked, false, false),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Get, Chunked, false, false),
        // Close-delimited.
        ("HTTP/1.1 200 OK\r\n\r\n", Get, UntilClose, false, false),
        ("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", Get, UntilClose, false, false),
        ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", Get, Length(2), false, false),
        ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", Get, Length(2), true, false),
        // Responses without a body.
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Head, Empty, true, false),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Head, Empty, true, false),
        ("HTTP/1.1 200 OK\r\n\r\n", Head, Empty, true, false),
        ("HTTP/1.1 204 No Content\r\n\r\n", Get, Empty, true, false),
        ("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", Get, Empty, true, false),
        ("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", Get, Empty, true, false),
        ("HTTP/1.1 100 Continue\r\n\r\n", Post, Empty, true, false),
        ("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", Get, Empty, true, false),
        ("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", Get, Empty, false, true),
        ("HTTP/1.1 200 Connection established\r\n\r\n", Connect, Empty, false, true),
        ("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n", Connect, Length(0), true, false),
        // Cosmetic leniencies.
        ("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
        ("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
        ("HTTP/1.1  200  OK\r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
        ("HTTP/1.1 200 D\u{e9}j\u{e0} vu\r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
        ("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
        ("HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n", Get, Length(0), true, false),
    ]
};

#[test]
fn framing_keep_alive_and_upgrade_per_rfc9112() {
    for (raw, method, framing, keep_alive, upgrade) in GOOD {
        let raw = raw.as_bytes();
        let h = head_for(raw, *method);
        let got = (h.framing, h.keep_alive, h.upgrade);
        assert_eq!(
            got,
            (*framing, *keep_alive, *upgrade),
            "{:?} {method:?}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(h.head_len, raw.len());
        for cut in 0..raw.len() {
            let prefix = raw.get(..cut).unwrap();
            assert_eq!(
                parse_for(prefix, *method),
                Ok(None),
                "prefix {:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}

#[rustfmt::skip]
const BAD: &[(&str, ResponseError)] = {
    use ResponseError::*;
    &[
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", ConflictingContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", ConflictingContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", InvalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", InvalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", InvalidContentLength),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", ChunkedRepeated),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n", InvalidTransferEncoding),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=y\r\n\r\n", InvalidTransferEncoding),
        ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", InvalidHeaderName),
        ("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", InvalidHeaderName),
        ("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", InvalidHeaderValue),
        ("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", InvalidHeaderValue),
        ("HTTP/1.1 200 OK\r\n\rX", BareCr),
        ("HTTP/1.1 200 OK\nContent-Length: 0\n\n", BareLf),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", BareLf),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", BareLf),
        ("\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", BareLf),
        ("HTTP/1.1 200 OK\r\nX: a\r\n\rX", BareCr),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: content-length\r\n\r\n", InvalidConnectionOption),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n", InvalidConnectionOption),
        ("HTTP/1.1 099 Odd\r\n\r\n", InvalidStatus),
        ("HTTP/1.1 600 Odd\r\n\r\n", InvalidStatus),
        ("HTTP/1.1 20 OK\r\n\r\n", MalformedStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", MalformedStatusLine),
        ("HTTP/1.1 200 O\x01K\r\n\r\n", MalformedStatusLine),
        ("HTTP/2.0 200 OK\r\n\r\n", MalformedStatusLine),
        ("HTTP/1.1200 OK\r\n\r\n", MalformedStatusLine),
        ("http/1.1 200 OK\r\n\r\n", MalformedStatusLine),
        ("ICY 200 OK\r\n\r\n", MalformedStatusLine),
    ]
};

#[test]
fn refuses_bad_framing_and_syntax() {
    for (raw, want) in BAD {
        assert_eq!(
            parse_for(raw.as_bytes(), Method::Get),
            Err(*want),
            "{raw:?}"
        );
        assert_eq!(want.status(), 502);
    }
}

#[test]
fn interim_then_final_response() {
    let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let mut headers = Vec::new();
    let first = parse_response(raw, Method::Post, 1024, 10, &mut headers)
        .unwrap()
        .unwrap();
    assert_eq!((first.status, first.framing), (100, BodyFraming::Empty));
    let rest = raw.get(first.head_len..).unwrap();
    let second = parse_response(rest, Method::Post, 1024, 10, &mut headers)
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.status, second.framing),
        (201, BodyFraming::Length(2))
    );
    assert_eq!(rest.get(second.head_len..).unwrap(), b"ok");
    assert_eq!(second.status_line.get(rest), b"HTTP/1.1 201 Created");
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].line.get(rest), b"Content-Length: 2\r\n");
}

#[test]
fn spans_and_leading_empty_lines() {
    let raw = b"\r\nHTTP/1.0 404 Not Found\r\nServer: x\r\nContent-Length: 0\r\n\r\n";
    let mut headers = Vec::new();
    let h = parse_response(raw, Method::Get, 1024, 10, &mut headers)
        .unwrap()
        .unwrap();
    assert_eq!(h.status_line.get(raw), b"HTTP/1.0 404 Not Found");
    assert_eq!((h.status, h.minor_version), (404, 0));
    assert_eq!(headers[0].line.get(raw), b"Server: x\r\n");
    assert_eq!(headers[1].value.get(raw), b"0");
    assert_eq!(raw.get(h.head_len - 2..h.head_len), Some(&b"\r\n"[..]));
}

#[test]
fn response_limits() {
    let raw = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
    let p = |max_bytes, max_headers| {
        parse_response(raw, Method::Get, max_bytes, max_headers, &mut Vec::new())
    };
    assert!(p(raw.len(), 2).unwrap().is_some());
    assert_eq!(p(raw.len(), 1), Err(ResponseError::TooManyHeaders));
    assert_eq!(p(raw.len() - 1, 2), Err(ResponseError::HeadTooLarge));
    assert_eq!(p(0, 2), Err(ResponseError::HeadTooLarge));
    let partial = raw.get(..20).unwrap();
    assert_eq!(
        parse_response(partial, Method::Get, 21, 2, &mut Vec::new()),
        Ok(None)
    );
    assert_eq!(
        parse_response(partial, Method::Get, 20, 2, &mut Vec::new()),
        Err(ResponseError::HeadTooLarge)
    );
}
