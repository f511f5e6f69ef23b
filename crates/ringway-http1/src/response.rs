//! Response heads: parsing and body framing as seen by the proxy reading
//! from an upstream.

use crate::BodyFraming;
use crate::fields::{self, FieldError, FieldInfo};
use crate::head::{self, ByteError};
use crate::method::Method;
use crate::span::{HeaderSpan, Span};

#[cfg(test)]
mod tests;

/// A parsed response head. Spans point into the buffer given to
/// [`parse_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Bytes of leading empty lines, status line, header lines and the
    /// final CRLF (always `head_len - 2..head_len`): the body (or the next
    /// response) starts here.
    pub head_len: usize,
    /// The status code, 100..=599.
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The status line from `HTTP/` to just before its line terminator.
    pub status_line: Span,
    /// How the body is delimited, per RFC 9112 §6.3 given the request
    /// method: a response to HEAD, a 1xx, 204 or 304, and a 2xx to CONNECT
    /// have no body; otherwise a `Transfer-Encoding` ending in `chunked` means
    /// chunked, any other `Transfer-Encoding` means until close, then
    /// `Content-Length`, and with neither, until close.
    pub framing: BodyFraming,
    /// Whether the upstream connection may carry another exchange: false for
    /// `Connection: close`, HTTP/1.0 without `Connection: keep-alive`,
    /// until-close framing, `Content-Length` together with
    /// `Transfer-Encoding` or `Transfer-Encoding` in HTTP/1.0 (RFC 9112 §6.1,
    /// §6.3: the framing is suspect), and after an upgrade or tunnel.
    pub keep_alive: bool,
    /// The connection stops speaking HTTP/1.1 after this head: 101 Switching
    /// Protocols, or a 2xx answer to CONNECT (a tunnel).
    pub upgrade: bool,
}

/// Why a response head was refused; the proxy answers 502
/// ([`ResponseError::status`]) and drops the upstream connection.
///
/// Framing problems are refused as strictly as in requests. Cosmetic
/// deviations that survive verbatim forwarding are accepted: several spaces
/// around the status code, a missing or non-ASCII reason phrase. Deviations
/// the proxy would have to rewrite are refused: obs-fold and whitespace
/// before a colon (RFC 9112 §5), and bare LF line terminators (RFC 9112 §2.2
/// only *allows* accepting them; head lines are forwarded verbatim, and
/// requiring CRLF keeps every line, and the final `head_len - 2..head_len`,
/// CRLF-terminated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The head is not complete within `max_head_bytes`.
    #[error("response head exceeds the size limit")]
    HeadTooLarge,
    /// More header lines than `max_headers`.
    #[error("too many response header fields")]
    TooManyHeaders,
    /// The status line is not `HTTP/1.x SP 3DIGIT [SP reason] CRLF`.
    #[error("malformed status line")]
    MalformedStatusLine,
    /// A status code outside 100..=599.
    #[error("invalid status code")]
    InvalidStatus,
    /// A field name with a non-token byte, whitespace before the colon, or
    /// obs-fold.
    #[error("invalid header field name")]
    InvalidHeaderName,
    /// A field value with a control character (HTAB aside), DEL or bare CR.
    #[error("invalid header field value")]
    InvalidHeaderValue,
    /// A line ends in LF without CR.
    #[error("bare LF line terminator")]
    BareLf,
    /// A CR not followed by LF.
    #[error("CR not followed by LF")]
    BareCr,
    /// A control character (HTAB aside) or DEL outside a field value.
    #[error("control character in response head")]
    ControlCharacter,
    /// `Content-Length` is empty, not all digits, or overflows u64.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// `Content-Length` fields or list members disagree.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// `Transfer-Encoding` is empty, has empty members or malformed codings.
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// `Connection` lists `Content-Length` or `Transfer-Encoding`: stripping
    /// them as hop-by-hop would change the framing the client sees.
    #[error("Connection header names a framing field")]
    InvalidConnectionOption,
    /// `chunked` applied more than once (RFC 9112 §7).
    #[error("chunked transfer coding applied more than once")]
    ChunkedRepeated,
}

impl ResponseError {
    /// The status the proxy answers the client with: always 502.
    pub fn status(&self) -> u16 {
        502
    }
}

/// Parses a response head from the start of `buf`, for a request made with
/// `request_method`.
///
/// `headers` is cleared and filled with every header line. `Ok(None)` means
/// incomplete (read more), unless `buf` already holds `max_head_bytes`, which
/// is [`ResponseError::HeadTooLarge`]. A 1xx other than 101 is an interim
/// response: the final one follows at `head_len`.
pub fn parse_response(
    buf: &[u8],
    request_method: Method,
    max_head_bytes: usize,
    max_headers: usize,
    headers: &mut Vec<HeaderSpan>,
) -> Result<Option<ResponseHead>, ResponseError> {
    headers.clear();
    let window = head::window(buf, max_head_bytes);
    let mut slots = head::slots();
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .parse_response_with_uninit_headers(
            &mut resp,
            window,
            head::limit_slots(&mut slots, max_headers),
        );
    let head_len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if window.len() >= max_head_bytes => {
            return Err(ResponseError::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(classify(e)),
    };
    let malformed = ResponseError::MalformedStatusLine;
    let head_bytes = window.get(..head_len).ok_or(malformed)?;
    head::check_bytes(head_bytes).map_err(|e| match e {
        ByteError::BareLf => ResponseError::BareLf,
        ByteError::BareCr => ResponseError::BareCr,
        ByteError::Control => ResponseError::ControlCharacter,
    })?;
    let status = resp.code.ok_or(malformed)?;
    if !(100..=599).contains(&status) {
        return Err(ResponseError::InvalidStatus);
    }
    let minor_version = resp.version.ok_or(malformed)?;
    let status_line = status_line(head_bytes).ok_or(malformed)?;

    head::collect_headers(head_bytes, resp.headers, headers).ok_or(malformed)?;
    let info = fields::scan(window, headers).map_err(|e| match e {
        FieldError::InvalidContentLength => ResponseError::InvalidContentLength,
        FieldError::ConflictingContentLength => ResponseError::ConflictingContentLength,
        FieldError::InvalidTransferEncoding => ResponseError::InvalidTransferEncoding,
    })?;
    if info.te_chunked_count > 1 {
        return Err(ResponseError::ChunkedRepeated);
    }
    if info.conn_names_framing {
        return Err(ResponseError::InvalidConnectionOption);
    }
    let upgrade = status == 101 || (request_method == Method::Connect && is_2xx(status));
    let framing = response_framing(status, request_method, &info);
    let suspect = info.te_present && (info.content_length.is_some() || minor_version == 0);
    let keep_alive = !info.close
        && (minor_version == 1 || info.keep_alive)
        && framing != BodyFraming::UntilClose
        && !suspect
        && !upgrade;

    Ok(Some(ResponseHead {
        head_len,
        status,
        minor_version,
        status_line,
        framing,
        keep_alive,
        upgrade,
    }))
}

fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}

/// RFC 9112 §6.3, items 1 to 7, for a response.
fn response_framing(status: u16, method: Method, info: &FieldInfo) -> BodyFraming {
    let bodiless = method == Method::Head
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (method == Method::Connect && is_2xx(status));
    if bodiless {
        BodyFraming::Empty
    } else if info.te_present {
        if info.te_final_chunked {
            BodyFraming::Chunked
        } else {
            BodyFraming::UntilClose
        }
    } else {
        info.content_length
            .map_or(BodyFraming::UntilClose, BodyFraming::Length)
    }
}

/// The status line: after any leading empty lines, up to its CR or LF.
fn status_line(head: &[u8]) -> Option<Span> {
    let start = head.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let len = head
        .get(start..)?
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')?;
    Span::new(start, start.checked_add(len)?)
}

fn classify(e: httparse::Error) -> ResponseError {
    match e {
        httparse::Error::TooManyHeaders => ResponseError::TooManyHeaders,
        httparse::Error::HeaderName => ResponseError::InvalidHeaderName,
        httparse::Error::HeaderValue => ResponseError::InvalidHeaderValue,
        httparse::Error::NewLine => ResponseError::BareCr,
        httparse::Error::Status | httparse::Error::Token | httparse::Error::Version => {
            ResponseError::MalformedStatusLine
        }
    }
}
