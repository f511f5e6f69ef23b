//! Field syntax helpers (tokens, lists) and hop-by-hop classification.

use crate::span::HeaderSpan;

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// `field-vchar`, SP or HTAB: what a field value may contain (RFC 9110
/// §5.5), i.e. anything but CTLs other than HTAB, and DEL.
pub(crate) fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// Strips optional whitespace (SP / HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Iterates the comma-separated elements of a list-valued field, each with
/// OWS trimmed. Empty elements are yielded as empty slices so strict callers
/// can reject them and lenient ones skip them.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows)
}

/// Whether any element of a list-valued field equals `token`, ignoring
/// ASCII case.
pub(crate) fn list_contains(value: &[u8], token: &[u8]) -> bool {
    list_elements(value).any(|e| e.eq_ignore_ascii_case(token))
}

/// Whether `name` is a hop-by-hop field that a proxy must not forward:
/// `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`,
/// `Transfer-Encoding` and `Upgrade` (ASCII case ignored).
///
/// `Proxy-Authenticate` / `Proxy-Authorization` are deliberately *not*
/// listed: RFC 9110 treats them as addressed to the next proxy, but in
/// practice they travel end to end through reverse proxies, so the rewriting
/// code keeps them. Fields named by a `Connection` header are hop-by-hop too;
/// test those with [`connection_tokens_contain`].
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    const HOP: [&[u8]; 7] = [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    ];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Whether `name` is listed (ASCII case ignored) in any `Connection` field
/// among `headers`, whose spans point into `buf`.
pub fn connection_tokens_contain(buf: &[u8], headers: &[HeaderSpan], name: &[u8]) -> bool {
    headers
        .iter()
        .filter(|h| h.is(buf, b"connection"))
        .any(|h| list_contains(h.value(buf), name))
}

/// The first header named `name` (ASCII case ignored), if any.
pub fn find_header<'h>(
    buf: &[u8],
    headers: &'h [HeaderSpan],
    name: &[u8],
) -> Option<&'h HeaderSpan> {
    headers.iter().find(|h| h.is(buf, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn header(buf: &[u8], name: &str, value: &str) -> HeaderSpan {
        let find = |needle: &str| {
            let at = buf
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap_or(0);
            Span::new(at, at + needle.len()).unwrap_or_default()
        };
        HeaderSpan {
            name: find(name),
            value: find(value),
            line: Span::default(),
        }
    }

    #[test]
    fn hop_by_hop_fixed_list() {
        for name in [
            "Connection",
            "KEEP-ALIVE",
            "proxy-connection",
            "TE",
            "Trailer",
            "transfer-encoding",
            "Upgrade",
        ] {
            assert!(is_hop_by_hop(name.as_bytes()), "{name}");
        }
        for name in [
            "proxy-authenticate",
            "Proxy-Authorization",
            "content-length",
            "host",
            "trailers",
            "",
        ] {
            assert!(!is_hop_by_hop(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn connection_tokens() {
        let buf = b"Connection: keep-alive , X-Foo\r\nconnection: close\r\nX-Bar: x-baz\r\n";
        let headers = [
            header(buf, "Connection", "keep-alive , X-Foo"),
            header(buf, "connection", "close"),
            header(buf, "X-Bar", "x-baz"),
        ];
        assert!(connection_tokens_contain(buf, &headers, b"x-foo"));
        assert!(connection_tokens_contain(buf, &headers, b"Keep-Alive"));
        assert!(connection_tokens_contain(buf, &headers, b"CLOSE"));
        assert!(!connection_tokens_contain(buf, &headers, b"x-baz"));
        assert!(!connection_tokens_contain(buf, &headers, b"x-fo"));
        assert_eq!(find_header(buf, &headers, b"x-bar"), Some(&headers[2]));
        assert_eq!(find_header(buf, &headers, b"x-missing"), None);
    }

    #[test]
    fn list_and_whitespace_helpers() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"  "), b"");
        let elements: Vec<&[u8]> = list_elements(b"a, ,b ,").collect();
        assert_eq!(elements, [&b"a"[..], b"", b"b", b""]);
        assert!(is_token(b"x-Y_1!") && !is_token(b"") && !is_token(b"a b"));
        assert!(
            is_field_byte(b'\t')
                && is_field_byte(0x80)
                && !is_field_byte(0x7f)
                && !is_field_byte(0)
        );
    }
}
