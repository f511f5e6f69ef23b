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

/// How the client's first frame after the preface begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstFrame {
    /// A SETTINGS frame, as §3.4 requires.
    Settings,
    /// Any other frame, or bytes that are not the preface: a connection
    /// error of type PROTOCOL_ERROR.
    Other,
    /// Too few bytes to tell.
    NeedMore,
}

/// The bytes that must have arrived to tell the first frame's type: the
/// preface and a frame header.
pub(crate) const FIRST_FRAME_HEADER_END: usize = PREFACE.len() + 9;

/// Checks that `first` (what the client sent first) is the preface
/// followed by a SETTINGS frame.
pub(crate) fn first_frame(first: &[u8]) -> FirstFrame {
    const SETTINGS: u8 = 0x4;
    match (sniff(first), first.get(PREFACE.len() + 3)) {
        (Sniffed::Http1, _) => FirstFrame::Other,
        (_, None) => FirstFrame::NeedMore,
        (_, Some(&SETTINGS)) => FirstFrame::Settings,
        (_, Some(_)) => FirstFrame::Other,
    }
}

/// What a server sends to refuse a connection whose first frame is wrong:
/// its own (empty) SETTINGS, then GOAWAY with last stream 0 and
/// PROTOCOL_ERROR.
pub(crate) const REFUSAL: &[u8] = &[
    0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, empty
    0, 0, 8, 0x7, 0, 0, 0, 0, 0, // GOAWAY, 8 bytes of payload
    0, 0, 0, 0, // last stream id 0
    0, 0, 0, 0x1, // PROTOCOL_ERROR
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_must_be_settings() {
        let settings = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x06\x04\0\0\0\0\0";
        let ping = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x08\x06\0\0\0\0\0";
        assert_eq!(first_frame(settings), FirstFrame::Settings);
        assert_eq!(first_frame(ping), FirstFrame::Other);
        assert_eq!(first_frame(&settings[..27]), FirstFrame::NeedMore);
        assert_eq!(first_frame(PREFACE), FirstFrame::NeedMore);
        assert_eq!(first_frame(b"GET / HTTP/1.1\r\n"), FirstFrame::Other);
        assert_eq!(REFUSAL.len(), 9 + 9 + 8);
    }

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
