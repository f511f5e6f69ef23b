//! Request heads: parsing, the smuggling checks, and what the proxy needs
//! to know to forward them.

use crate::BodyFraming;
use crate::fields::{self, FieldError, FieldInfo};
use crate::head::{self, ByteError};
use crate::headers::is_tchar;
use crate::method::Method;
use crate::span::{HeaderSpan, Span};

#[cfg(test)]
mod tests;

/// Bounds on a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Bytes of request line, header lines and final CRLF (leading empty
    /// lines included). Larger heads fail with 431.
    pub max_head_bytes: usize,
    /// Header field lines; more fail with 431. Values above
    /// [`crate::MAX_HEADERS_CAP`] act as that cap.
    pub max_headers: usize,
    /// Bytes of the request-target; longer ones fail with 414.
    pub max_uri_bytes: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
        }
    }
}

/// A parsed request head. Spans point into the buffer given to
/// [`parse_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of leading empty lines, request line, header lines and the
    /// final CRLF (always `head_len - 2..head_len`): the body (or the next
    /// request) starts here.
    pub head_len: usize,
    /// The method.
    pub method: Method,
    /// The method token; it starts after any leading empty lines, which
    /// must not be forwarded.
    pub method_span: Span,
    /// The request-target exactly as sent. An absolute-form target whose
    /// authority differs from `Host` is accepted and reported as is (RFC 9112
    /// §3.2.2: the target's authority wins); the router decides.
    pub target: Span,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// `Empty`, `Length` (also `Length(0)`) or `Chunked`; never `UntilClose`.
    pub framing: BodyFraming,
    /// Whether the client allows the connection to persist: false for
    /// `Connection: close`, and for HTTP/1.0 without `Connection: keep-alive`.
    pub keep_alive: bool,
    /// `Expect: 100-continue` (case-insensitive) in an HTTP/1.1 request;
    /// ignored in HTTP/1.0 as RFC 9110 §10.1.1 requires.
    pub expect_continue: bool,
    /// `Connection` lists `upgrade` and an `Upgrade` field is present.
    pub upgrade: bool,
    /// Value of the `Host` field (there is at most one).
    pub host: Option<Span>,
    /// Value of the first `X-Request-Id` field.
    pub request_id: Option<Span>,
    /// Value of the first `X-Forwarded-For` field.
    pub forwarded_for: Option<Span>,
}

/// Why a request head was refused. [`RequestError::status`] gives the
/// response status to send before closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The head is not complete within `max_head_bytes` (431).
    #[error("request head exceeds the size limit")]
    HeadTooLarge,
    /// More header lines than `max_headers` (431).
    #[error("too many request header fields")]
    TooManyHeaders,
    /// The request-target is longer than `max_uri_bytes` (414).
    #[error("request-target too long")]
    UriTooLong,
    /// A well-formed `HTTP/d.d` version other than 1.0 and 1.1, e.g.
    /// `HTTP/2.0` or `HTTP/1.2` (505). Anything else in the version's place
    /// is [`RequestError::MalformedRequestLine`].
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// The request line is not `method SP target SP HTTP-version CRLF` with
    /// single spaces, a token method, a visible-character target and no
    /// trailing bytes.
    #[error("malformed request line")]
    MalformedRequestLine,
    /// The target's form does not suit the method: origin-form (`/...`),
    /// absolute-form (`scheme://...`), authority-form (`host:port`, CONNECT
    /// only) or asterisk-form (`*`, OPTIONS only).
    #[error("invalid request-target form")]
    InvalidTarget,
    /// A field name is empty or has a non-token byte.
    #[error("invalid header field name")]
    InvalidHeaderName,
    /// Whitespace between a field name and its colon (RFC 9112 §5.1).
    #[error("whitespace between header field name and colon")]
    WhitespaceBeforeColon,
    /// A line starting with SP or HTAB: obsolete line folding, or
    /// whitespace before the first field (RFC 9112 §5.2, §2.2).
    #[error("obsolete line folding in request header")]
    ObsFold,
    /// A field value contains a control character (HTAB aside), DEL or a
    /// bare CR.
    #[error("invalid header field value")]
    InvalidHeaderValue,
    /// A line ends in LF without CR.
    #[error("bare LF line terminator")]
    BareLf,
    /// A CR not followed by LF.
    #[error("CR not followed by LF")]
    BareCr,
    /// A control character (HTAB aside) or DEL outside a field value.
    #[error("control character in request head")]
    ControlCharacter,
    /// `Content-Length` is empty, not all digits, or overflows u64.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// `Content-Length` fields or list members disagree.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.3).
    #[error("both Content-Length and Transfer-Encoding")]
    ContentLengthWithTransferEncoding,
    /// `Transfer-Encoding` is empty, has empty list members or malformed
    /// codings, or `chunked` carries parameters.
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// The final transfer coding is not `chunked`, or `chunked` appears more
    /// than once (RFC 9112 §6.3, §7).
    #[error("chunked is not the final transfer coding, exactly once")]
    ChunkedNotFinal,
    /// `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1).
    #[error("Transfer-Encoding in an HTTP/1.0 request")]
    TransferEncodingInHttp10,
    /// `Connection` lists `Content-Length`, `Transfer-Encoding` or `Host`.
    /// Fields named there are hop-by-hop and get stripped when forwarding,
    /// while the proxy itself still frames or routes the message by them:
    /// the next hop would see a different message (RFC 9110 §7.6.1 forbids
    /// such options anyway).
    #[error("Connection header names a framing or routing field")]
    InvalidConnectionOption,
    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2).
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` field.
    #[error("multiple Host headers")]
    MultipleHost,
}

impl RequestError {
    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge | Self::TooManyHeaders => 431,
            Self::UriTooLong => 414,
            Self::UnsupportedVersion => 505,
            _ => 400,
        }
    }
}

/// Parses a request head from the start of `buf`.
///
/// `headers` is cleared and filled with every header line (a reusable
/// `Vec` owned by the connection). `Ok(None)` means the head is incomplete:
/// read more and call again with the grown buffer, unless `buf` already
/// holds `max_head_bytes`, in which case the result is
/// [`RequestError::HeadTooLarge`]. Pipelined bytes after the head are left
/// alone; the next message starts at `head_len`.
pub fn parse_request(
    buf: &[u8],
    limits: &HeadLimits,
    headers: &mut Vec<HeaderSpan>,
) -> Result<Option<RequestHead>, RequestError> {
    headers.clear();
    let window = head::window(buf, limits.max_head_bytes);
    let mut slots = head::slots();
    let mut req = httparse::Request::new(&mut []);
    let parsed =
        req.parse_with_uninit_headers(window, head::limit_slots(&mut slots, limits.max_headers));
    let head_len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            check_partial_uri(window, &req, limits)?;
            return if window.len() >= limits.max_head_bytes {
                Err(RequestError::HeadTooLarge)
            } else {
                Ok(None)
            };
        }
        Err(e) => return Err(classify(e, window, &req)),
    };
    let malformed = RequestError::MalformedRequestLine;
    let head_bytes = window.get(..head_len).ok_or(malformed)?;
    head::check_bytes(head_bytes).map_err(|e| match e {
        ByteError::BareLf => RequestError::BareLf,
        ByteError::BareCr => RequestError::BareCr,
        ByteError::Control => RequestError::ControlCharacter,
    })?;

    let method_bytes = req.method.unwrap_or_default().as_bytes();
    let method_span = head::span_of(window, method_bytes).ok_or(malformed)?;
    let method = Method::from_bytes(method_bytes);
    let target_bytes = req.path.unwrap_or_default().as_bytes();
    if target_bytes.len() > limits.max_uri_bytes {
        return Err(RequestError::UriTooLong);
    }
    let target = head::span_of(window, target_bytes).ok_or(malformed)?;
    if !valid_target_form(method, target_bytes) {
        return Err(RequestError::InvalidTarget);
    }
    let minor_version = req.version.ok_or(malformed)?;

    head::collect_headers(head_bytes, req.headers, headers).ok_or(malformed)?;
    let info = fields::scan(window, headers).map_err(|e| match e {
        FieldError::InvalidContentLength => RequestError::InvalidContentLength,
        FieldError::ConflictingContentLength => RequestError::ConflictingContentLength,
        FieldError::InvalidTransferEncoding => RequestError::InvalidTransferEncoding,
    })?;
    let framing = request_framing(&info, minor_version)?;
    if info.conn_names_framing || info.conn_names_host {
        return Err(RequestError::InvalidConnectionOption);
    }
    if info.host_count > 1 {
        return Err(RequestError::MultipleHost);
    }
    if info.host_count == 0 && minor_version == 1 {
        return Err(RequestError::MissingHost);
    }

    Ok(Some(RequestHead {
        head_len,
        method,
        method_span,
        target,
        minor_version,
        framing,
        keep_alive: !info.close && (minor_version == 1 || info.keep_alive),
        expect_continue: info.expect_continue && minor_version == 1,
        upgrade: info.conn_upgrade && info.upgrade_header,
        host: info.host,
        request_id: info.request_id,
        forwarded_for: info.forwarded_for,
    }))
}

/// RFC 9112 §6.3 for requests, refusing every ambiguous combination.
fn request_framing(info: &FieldInfo, minor_version: u8) -> Result<BodyFraming, RequestError> {
    if info.te_present {
        if minor_version == 0 {
            return Err(RequestError::TransferEncodingInHttp10);
        }
        if info.content_length.is_some() {
            return Err(RequestError::ContentLengthWithTransferEncoding);
        }
        if !info.te_final_chunked || info.te_chunked_count != 1 {
            return Err(RequestError::ChunkedNotFinal);
        }
        return Ok(BodyFraming::Chunked);
    }
    Ok(info
        .content_length
        .map_or(BodyFraming::Empty, BodyFraming::Length))
}

/// Whether the target's form fits the method (RFC 9112 §3.2).
fn valid_target_form(method: Method, target: &[u8]) -> bool {
    match (method, target) {
        (Method::Connect, _) => is_authority_form(target),
        (_, [b'/', ..]) => true,
        (Method::Options, b"*") => true,
        _ => is_absolute_form(target),
    }
}

/// `host:port` with a non-empty host free of `/?#@` and a decimal port.
fn is_authority_form(target: &[u8]) -> bool {
    let Some(colon) = target.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = target.split_at(colon);
    let port = port.get(1..).unwrap_or_default();
    !host.is_empty()
        && !host.iter().any(|b| b"/?#@".contains(b))
        && !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
}

/// `scheme "://" ...` with `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_absolute_form(target: &[u8]) -> bool {
    let Some(colon) = target.iter().position(|&b| b == b':') else {
        return false;
    };
    let (scheme, rest) = target.split_at(colon);
    matches!(scheme.first(), Some(b) if b.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && rest.starts_with(b"://")
}

/// Offset just past the method's SP, if the method has been parsed.
fn target_start(window: &[u8], req: &httparse::Request<'_, '_>) -> Option<usize> {
    let method = head::span_of(window, req.method?.as_bytes())?;
    method.range().end.checked_add(1)
}

/// 414 as soon as the target is known to be too long, even before the
/// head is complete (otherwise a giant target would be reported as 431).
fn check_partial_uri(
    window: &[u8],
    req: &httparse::Request<'_, '_>,
    limits: &HeadLimits,
) -> Result<(), RequestError> {
    let target_len = match req.path {
        Some(path) => path.len(),
        None => target_start(window, req).map_or(0, |s| window.len().saturating_sub(s)),
    };
    if target_len > limits.max_uri_bytes {
        return Err(RequestError::UriTooLong);
    }
    Ok(())
}

/// Maps an `httparse` error to the most specific [`RequestError`].
fn classify(e: httparse::Error, window: &[u8], req: &httparse::Request<'_, '_>) -> RequestError {
    match e {
        httparse::Error::TooManyHeaders => RequestError::TooManyHeaders,
        httparse::Error::HeaderValue => RequestError::InvalidHeaderValue,
        httparse::Error::HeaderName => diagnose_header_name(window),
        httparse::Error::Version => match after_target(window, req) {
            Some(v) if is_other_version(v) => RequestError::UnsupportedVersion,
            _ => RequestError::MalformedRequestLine,
        },
        httparse::Error::NewLine => match after_target(window, req) {
            // `HTTP/1.x` parsed but followed by something other than CRLF.
            Some([_, _, _, _, _, _, _, _, b, ..]) if !matches!(b, b'\r' | b'\n') => {
                RequestError::MalformedRequestLine
            }
            _ => RequestError::BareCr,
        },
        httparse::Error::Token | httparse::Error::Status => RequestError::MalformedRequestLine,
    }
}

/// The bytes after the target's SP, if the target has been parsed.
fn after_target<'a>(window: &'a [u8], req: &httparse::Request<'_, '_>) -> Option<&'a [u8]> {
    let path = head::span_of(window, req.path?.as_bytes())?;
    window.get(path.range().end.checked_add(1)?..)
}

/// `HTTP/` DIGIT `.` DIGIT, then the end of the line (or of the data).
fn is_other_version(v: &[u8]) -> bool {
    matches!(
        v,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, rest @ ..]
            if major.is_ascii_digit()
                && minor.is_ascii_digit()
                && matches!(rest.first(), None | Some(b'\r' | b'\n'))
    )
}

/// Finds which header-name rule the first bad line breaks (error path only).
fn diagnose_header_name(window: &[u8]) -> RequestError {
    let mut lines = window
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    // Skip leading empty lines and the request line.
    if lines.by_ref().find(|l| !l.is_empty()).is_none() {
        return RequestError::InvalidHeaderName;
    }
    for line in lines {
        let name_len = line.iter().take_while(|&&b| is_tchar(b)).count();
        match (line.first(), line.get(name_len)) {
            (None, _) => break,
            (Some(b' ' | b'\t'), _) => return RequestError::ObsFold,
            (_, Some(b':')) if name_len > 0 => {}
            (_, Some(b' ' | b'\t')) if name_len > 0 => return RequestError::WhitespaceBeforeColon,
            _ => return RequestError::InvalidHeaderName,
        }
    }
    RequestError::InvalidHeaderName
}
