//! Byte ranges into a parsed buffer.

use std::ops::Range;

/// Byte offsets `start..end` into the buffer that was parsed.
///
/// Heads are bounded well below 4 GiB, so `u32` offsets keep
/// [`HeaderSpan`] small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end`; `None` if either does not fit in `u32`
    /// or `start > end`.
    pub fn new(start: usize, end: usize) -> Option<Self> {
        let start = u32::try_from(start).ok()?;
        let end = u32::try_from(end).ok()?;
        (start <= end).then_some(Self { start, end })
    }

    /// The span as a `usize` range.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes (0 for an inverted span).
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of `buf` this span covers, or an empty slice if the span
    /// does not lie within `buf`. Never panics.
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.range()).unwrap_or(&[])
    }
}

/// One header field line as found in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderSpan {
    /// The field name.
    pub name: Span,
    /// The field value without leading or trailing whitespace.
    pub value: Span,
    /// The whole line, from the name's first byte through its CRLF.
    pub line: Span,
}

impl HeaderSpan {
    /// The field name's bytes.
    pub fn name<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        self.name.get(buf)
    }

    /// The field value's bytes.
    pub fn value<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        self.value.get(buf)
    }

    /// Whether this field's name equals `name`, ignoring ASCII case.
    pub fn is(&self, buf: &[u8], name: &[u8]) -> bool {
        self.name(buf).eq_ignore_ascii_case(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_never_panics() {
        let buf = b"hello";
        assert_eq!(Span { start: 1, end: 3 }.get(buf), b"el");
        assert_eq!(Span { start: 3, end: 9 }.get(buf), b"");
        assert_eq!(Span { start: 4, end: 2 }.get(buf), b"");
        assert_eq!(Span { start: 4, end: 2 }.len(), 0);
        assert_eq!(Span::new(2, 1), None);
        assert_eq!(Span::new(0, usize::MAX), None);
        assert_eq!(Span::new(1, 4).map(|s| s.range()), Some(1..4));
    }
}
