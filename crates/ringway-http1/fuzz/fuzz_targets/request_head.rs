//! Request (and response) head parsing on arbitrary bytes with small
//! limits: never panics, and whatever parses lies within the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringway_http1::{
    BodyFraming, HeadLimits, HeaderSpan, Method, Span, parse_request, parse_response,
};

const LIMITS: HeadLimits = HeadLimits {
    max_head_bytes: 512,
    max_headers: 8,
    max_uri_bytes: 64,
};

/// Every span lies within the head, and every line span ends in CRLF.
fn check(data: &[u8], head_len: usize, spans: &[Span], headers: &[HeaderSpan]) {
    assert!(head_len <= data.len() && head_len <= LIMITS.max_head_bytes);
    assert!(data[..head_len].ends_with(b"\r\n\r\n"));
    let all = headers.iter().flat_map(|h| [h.name, h.value, h.line]);
    for s in spans.iter().copied().chain(all) {
        assert!(
            s.start <= s.end && s.end as usize <= head_len,
            "{s:?} beyond {head_len}"
        );
    }
    for h in headers {
        assert!(h.line.get(data).ends_with(b"\r\n"));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut headers = Vec::new();
    if let Ok(Some(req)) = parse_request(data, &LIMITS, &mut headers) {
        let optional = [req.host, req.request_id, req.forwarded_for];
        let spans: Vec<Span> = [req.method_span, req.target]
            .into_iter()
            .chain(optional.into_iter().flatten())
            .collect();
        check(data, req.head_len, &spans, &headers);
        assert!(req.target.len() <= LIMITS.max_uri_bytes);
        assert!(req.framing != BodyFraming::UntilClose);
        // The head alone parses to the same result.
        let again = parse_request(&data[..req.head_len], &LIMITS, &mut headers);
        assert_eq!(again, Ok(Some(req)));
    }
    if let Ok(Some(resp)) = parse_response(
        data,
        Method::Get,
        LIMITS.max_head_bytes,
        LIMITS.max_headers,
        &mut headers,
    ) {
        check(data, resp.head_len, &[resp.status_line], &headers);
        assert!((100..=599).contains(&resp.status));
    }
});
