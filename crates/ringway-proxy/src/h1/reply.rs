//! Local replies written as HTTP/1.1: the status line with its reason
//! phrase, a text body, and whether the connection stays open.

use std::fmt::Write as _;

/// The standard reason phrase for `status`, or "Unknown".
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// How a local reply is written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shape<'a> {
    /// The connection stays open after it.
    pub keep_alive: bool,
    /// A reply to HEAD: the head only.
    pub head_only: bool,
    /// A `location` field (redirects).
    pub location: Option<&'a str>,
    /// The body is one line of text: a newline ends it.
    pub line: bool,
}

/// Writes a complete local response into `out` (cleared first). `body` is
/// sent as text/plain unless empty.
pub(crate) fn render(out: &mut Vec<u8>, status: u16, body: &str, shape: Shape<'_>) {
    out.clear();
    let body_len = body.len() + usize::from(shape.line);
    let mut head = String::with_capacity(160);
    let _ = write!(head, "HTTP/1.1 {status} {}\r\n", reason(status));
    if body_len > 0 {
        head.push_str("content-type: text/plain\r\n");
    }
    let _ = write!(head, "content-length: {body_len}\r\n");
    if let Some(location) = shape.location {
        let _ = write!(head, "location: {location}\r\n");
    }
    if !shape.keep_alive {
        head.push_str("connection: close\r\n");
    }
    head.push_str("server: ringway\r\n\r\n");
    out.extend_from_slice(head.as_bytes());
    if !shape.head_only {
        out.extend_from_slice(body.as_bytes());
        if shape.line {
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_close_and_head_only() {
        let mut out = Vec::new();
        let line = Shape {
            line: true,
            ..Shape::default()
        };
        render(&mut out, 404, "no route", line);
        let text = String::from_utf8(out.clone()).unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("content-length: 9\r\n"));
        assert!(text.contains("connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nno route\n"));
        let kept = Shape {
            keep_alive: true,
            head_only: true,
            location: Some("http://a/b"),
            line: false,
        };
        render(&mut out, 200, "hello", kept);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.contains("content-length: 5\r\nlocation: http://a/b\r\n"));
        assert!(!text.contains("connection: close"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
