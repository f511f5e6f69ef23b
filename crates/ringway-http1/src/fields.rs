//! One pass over a head's header fields, collecting what framing,
//! connection management and the proxy need to know.

use crate::headers::{is_token, list_contains, list_elements, trim_ows};
use crate::span::{HeaderSpan, Span};

/// What the header fields of one head say.
#[derive(Debug, Default)]
pub(crate) struct FieldInfo {
    /// The (consistent) `Content-Length`, if any.
    pub content_length: Option<u64>,
    /// Whether any `Transfer-Encoding` field was present.
    pub te_present: bool,
    /// Whether the final transfer coding is `chunked`.
    pub te_final_chunked: bool,
    /// How many times `chunked` appears among the transfer codings.
    pub te_chunked_count: u32,
    /// `Connection: close`.
    pub close: bool,
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// `Connection: upgrade`.
    pub conn_upgrade: bool,
    /// `Connection` lists `Content-Length` or `Transfer-Encoding`.
    pub conn_names_framing: bool,
    /// `Connection` lists `Host`.
    pub conn_names_host: bool,
    /// An `Upgrade` field is present.
    pub upgrade_header: bool,
    /// Value of the first `Host` field.
    pub host: Option<Span>,
    /// Number of `Host` fields.
    pub host_count: u32,
    /// `Expect` lists `100-continue`.
    pub expect_continue: bool,
    /// Value of the first `X-Request-Id` field.
    pub request_id: Option<Span>,
    /// Value of the first `X-Forwarded-For` field.
    pub forwarded_for: Option<Span>,
}

/// A header field whose value makes the framing ambiguous or invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// A `Content-Length` value that is not a list of 1+ digit numbers
    /// fitting in u64.
    InvalidContentLength,
    /// `Content-Length` values that disagree.
    ConflictingContentLength,
    /// A `Transfer-Encoding` value that is empty, has empty elements, or is
    /// not a list of tokens with `token=token` parameters.
    InvalidTransferEncoding,
}

/// Scans `headers` (spans into `buf`).
pub(crate) fn scan(buf: &[u8], headers: &[HeaderSpan]) -> Result<FieldInfo, FieldError> {
    let mut info = FieldInfo::default();
    for h in headers {
        let name = h.name(buf);
        let value = h.value(buf);
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        match name.len() {
            4 if is(b"host") => {
                info.host_count = info.host_count.saturating_add(1);
                info.host.get_or_insert(h.value);
            }
            6 if is(b"expect") => {
                info.expect_continue |= list_contains(value, b"100-continue");
            }
            7 if is(b"upgrade") => info.upgrade_header = true,
            10 if is(b"connection") => {
                for token in list_elements(value) {
                    let is_token = |t: &[u8]| token.eq_ignore_ascii_case(t);
                    info.close |= is_token(b"close");
                    info.keep_alive |= is_token(b"keep-alive");
                    info.conn_upgrade |= is_token(b"upgrade");
                    info.conn_names_framing |=
                        is_token(b"content-length") || is_token(b"transfer-encoding");
                    info.conn_names_host |= is_token(b"host");
                }
            }
            12 if is(b"x-request-id") => {
                info.request_id.get_or_insert(h.value);
            }
            14 if is(b"content-length") => {
                add_content_length(&mut info.content_length, value)?;
            }
            15 if is(b"x-forwarded-for") => {
                info.forwarded_for.get_or_insert(h.value);
            }
            17 if is(b"transfer-encoding") => add_transfer_encoding(&mut info, value)?,
            _ => {}
        }
    }
    Ok(info)
}

/// Folds one `Content-Length` field (possibly a list such as `5, 5`) into
/// `current`; every value must be identical.
fn add_content_length(current: &mut Option<u64>, value: &[u8]) -> Result<(), FieldError> {
    for element in list_elements(value) {
        let n = parse_decimal(element).ok_or(FieldError::InvalidContentLength)?;
        match *current {
            Some(prev) if prev != n => return Err(FieldError::ConflictingContentLength),
            _ => *current = Some(n),
        }
    }
    Ok(())
}

/// `1*DIGIT` as u64; `None` when empty, non-digit or overflowing.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Folds one `Transfer-Encoding` field into `info` (fields combine in order).
fn add_transfer_encoding(info: &mut FieldInfo, value: &[u8]) -> Result<(), FieldError> {
    info.te_present = true;
    if value.is_empty() {
        return Err(FieldError::InvalidTransferEncoding);
    }
    for element in list_elements(value) {
        let mut parts = element.split(|&b| b == b';');
        let coding = trim_ows(parts.next().unwrap_or_default());
        if !is_token(coding) || !parts.all(is_parameter) {
            return Err(FieldError::InvalidTransferEncoding);
        }
        // `chunked` takes no parameters; with any it is not the coding we
        // know how to frame, so it must be refused rather than guessed at.
        let chunked = coding.eq_ignore_ascii_case(b"chunked");
        if chunked && element.len() != coding.len() {
            return Err(FieldError::InvalidTransferEncoding);
        }
        if chunked {
            info.te_chunked_count = info.te_chunked_count.saturating_add(1);
        }
        info.te_final_chunked = chunked;
    }
    Ok(())
}

/// `OWS token BWS "=" BWS token OWS` (quoted-string values are refused so
/// that a comma or `chunked` can never hide inside quotes).
fn is_parameter(part: &[u8]) -> bool {
    let mut kv = part.splitn(2, |&b| b == b'=');
    let key = trim_ows(kv.next().unwrap_or_default());
    let val = trim_ows(kv.next().unwrap_or_default());
    is_token(key) && is_token(val)
}
