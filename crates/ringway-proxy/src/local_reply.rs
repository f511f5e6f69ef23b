//! Responses ringway produces itself: errors, direct responses, redirects.

use std::fmt::Write as _;

use ringway_config::model::Redirect;

/// Why ringway answered a request itself, or why a forwarded exchange
/// ended badly. Shown in access logs as Envoy's response flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFlag {
    /// No route matched (404).
    NoRoute,
    /// Could not connect to the upstream (503).
    UpstreamConnectFailure,
    /// The cluster has no endpoint (503).
    NoHealthyUpstream,
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream closed or reset the connection (502/503).
    UpstreamConnectionTermination,
    /// The downstream closed the connection mid-request.
    DownstreamConnectionTermination,
    /// The request was refused locally (4xx for bad input or limits).
    LocalReset,
    /// The upstream reset the stream.
    UpstreamRemoteReset,
    /// The client reset the stream before the response ended.
    DownstreamRemoteReset,
    /// The route's cluster is unknown, or on-demand discovery did not
    /// find it in time (503).
    NoClusterFound,
}

impl ResponseFlag {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoRoute => "NR",
            Self::UpstreamConnectFailure => "UF",
            Self::NoHealthyUpstream => "UH",
            Self::UpstreamTimeout => "UT",
            Self::UpstreamConnectionTermination => "UC",
            Self::DownstreamConnectionTermination => "DC",
            Self::LocalReset => "LR",
            Self::UpstreamRemoteReset => "UR",
            Self::DownstreamRemoteReset => "DR",
            Self::NoClusterFound => "NC",
        }
    }
}

/// The standard reason phrase for `status`, or "Unknown".
pub fn reason(status: u16) -> &'static str {
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

/// Writes a complete local response into `out` (cleared first).
/// `body` is sent as text/plain unless empty; HEAD requests get the head only.
pub fn render(
    out: &mut Vec<u8>,
    status: u16,
    body: &str,
    keep_alive: bool,
    head_only: bool,
    extra_headers: &str,
) {
    out.clear();
    let mut head = String::with_capacity(128 + extra_headers.len());
    let _ = write!(head, "HTTP/1.1 {status} {}\r\n", reason(status));
    if !body.is_empty() {
        head.push_str("content-type: text/plain\r\n");
    }
    let _ = write!(head, "content-length: {}\r\n", body.len());
    head.push_str(extra_headers);
    if !keep_alive {
        head.push_str("connection: close\r\n");
    }
    head.push_str("server: ringway\r\n\r\n");
    out.extend_from_slice(head.as_bytes());
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
}

/// The `Location` for a redirect, built from the request's scheme, host and
/// target with the redirect's overrides.
pub fn redirect_location(redirect: &Redirect, request_host: &str, target: &str) -> String {
    let scheme = redirect.scheme.as_deref().unwrap_or("http");
    let host = redirect.host.as_deref().unwrap_or(request_host);
    let path = redirect.path.as_deref().unwrap_or(target);
    let mut location = String::with_capacity(scheme.len() + host.len() + path.len() + 3);
    location.push_str(scheme);
    location.push_str("://");
    location.push_str(host);
    if !path.starts_with('/') {
        location.push('/');
    }
    location.push_str(path);
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_close_and_head_only() {
        let mut out = Vec::new();
        render(&mut out, 404, "no route\n", false, false, "");
        let text = String::from_utf8(out.clone()).unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("content-length: 9\r\n"));
        assert!(text.contains("connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nno route\n"));
        render(&mut out, 200, "hello", true, true, "x-a: b\r\n");
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.contains("content-length: 5\r\nx-a: b\r\n"));
        assert!(!text.contains("connection: close"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn redirect_keeps_what_is_not_overridden() {
        let r = Redirect {
            status: 301,
            scheme: Some("https".into()),
            host: None,
            path: None,
        };
        assert_eq!(
            redirect_location(&r, "a.example", "/x?y=1"),
            "https://a.example/x?y=1"
        );
        let r = Redirect {
            status: 302,
            scheme: None,
            host: Some("b.example".into()),
            path: Some("/new".into()),
        };
        assert_eq!(
            redirect_location(&r, "a.example", "/x"),
            "http://b.example/new"
        );
    }
}
