//! Telling an HTTP/2 prior-knowledge connection from HTTP/1.x by its first
//! bytes (RFC 9113 §3.4).

/// The client connection preface (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes of a connection say about its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Http2,
    Http1,
    /// Too few bytes to tell.
    NeedMore,
}

/// Tells an HTTP/2 prior-knowledge connection from HTTP/1.x.
pub(crate) fn sniff(first: &[u8]) -> Sniffed {
    let n = first.len().min(PREFACE.len());
    if first[..n] != PREFACE[..n] {
        Sniffed::Http1
    } else if n == PREFACE.len() {
        Sniffed::Http2
    } else {
        Sniffed::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(PREFACE), Sniffed::Http2);
        assert_eq!(
            sniff(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04"),
            Sniffed::Http2
        );
        assert_eq!(sniff(b"PRI * HT"), Sniffed::NeedMore);
        assert_eq!(sniff(b""), Sniffed::NeedMore);
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniffed::Http1);
        assert_eq!(sniff(b"PRI * HTTP/1.1\r\n"), Sniffed::Http1);
        assert_eq!(sniff(b"P"), Sniffed::NeedMore);
        assert_eq!(sniff(b"POST / HTTP/1.1"), Sniffed::Http1);
    }
}
