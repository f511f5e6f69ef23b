//! Plumbing shared by request and response head parsing: the bounded parse
//! window, span arithmetic on `httparse` output, and a byte-level check of
//! line terminators and control characters that does not depend on
//! `httparse`'s own leniencies.

use std::mem::MaybeUninit;

use crate::MAX_HEADERS_CAP;
use crate::span::{HeaderSpan, Span};

/// Stack storage for `httparse` header slots, left uninitialised.
pub(crate) type Slots<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS_CAP];

/// Fresh header slots.
pub(crate) fn slots<'b>() -> Slots<'b> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS_CAP]
}

/// The first `max_headers` slots (capped at [`MAX_HEADERS_CAP`]).
pub(crate) fn limit_slots<'s, 'b>(
    slots: &'s mut Slots<'b>,
    max_headers: usize,
) -> &'s mut [MaybeUninit<httparse::Header<'b>>] {
    slots
        .get_mut(..max_headers.min(MAX_HEADERS_CAP))
        .unwrap_or_default()
}

/// The prefix of `buf` a head may occupy: at most `max_head_bytes`, and
/// never more than `u32` offsets can describe.
pub(crate) fn window(buf: &[u8], max_head_bytes: usize) -> &[u8] {
    let cap = max_head_bytes.min(u32::MAX as usize);
    buf.get(..cap).unwrap_or(buf)
}

/// Offset of `sub` within `buf`, if `sub` lies inside it.
pub(crate) fn offset(buf: &[u8], sub: &[u8]) -> Option<usize> {
    let off = sub.as_ptr().addr().checked_sub(buf.as_ptr().addr())?;
    (off.checked_add(sub.len())? <= buf.len()).then_some(off)
}

/// The span `sub` occupies within `buf`.
pub(crate) fn span_of(buf: &[u8], sub: &[u8]) -> Option<Span> {
    let start = offset(buf, sub)?;
    Span::new(start, start.checked_add(sub.len())?)
}

/// Converts `httparse`'s headers into spans (appended to `out`). `head` is
/// the complete head; each line span runs through its terminating CRLF.
pub(crate) fn collect_headers(
    head: &[u8],
    parsed: &[httparse::Header<'_>],
    out: &mut Vec<HeaderSpan>,
) -> Option<()> {
    out.reserve(parsed.len());
    for h in parsed {
        let name = span_of(head, h.name.as_bytes())?;
        let value = span_of(head, h.value)?;
        let rest = head.get(value.range().end..)?;
        let lf = rest.iter().position(|&b| b == b'\n')?;
        let end = value.range().end.checked_add(lf)?.checked_add(1)?;
        let line = Span::new(name.range().start, end)?;
        out.push(HeaderSpan { name, value, line });
    }
    Some(())
}

/// A byte that must not appear where it does in a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteError {
    /// LF not preceded by CR.
    BareLf,
    /// CR not followed by LF.
    BareCr,
    /// NUL, another control character (HTAB aside) or DEL.
    Control,
}

/// Checks a complete head: every CR is followed by LF, every LF is preceded
/// by CR, and no other control byte but HTAB nor DEL appears. `httparse`
/// refuses most of these but accepts bare LF; this pass makes the guarantee
/// independent of it, so every line of an accepted head ends in CRLF.
pub(crate) fn check_bytes(head: &[u8]) -> Result<(), ByteError> {
    let mut prev = 0u8;
    for &b in head {
        if prev == b'\r' && b != b'\n' {
            return Err(ByteError::BareCr);
        }
        match b {
            b'\n' if prev != b'\r' => return Err(ByteError::BareLf),
            b'\n' | b'\r' | b'\t' => {}
            0..=0x1f | 0x7f => return Err(ByteError::Control),
            _ => {}
        }
        prev = b;
    }
    if prev == b'\r' {
        return Err(ByteError::BareCr);
    }
    Ok(())
}
