//! Streaming body delimitation for verbatim forwarding.

use crate::chunked::{BodyError, ChunkedDecoder};
use crate::{BodyFraming, DEFAULT_MAX_CHUNK_LINE, DEFAULT_MAX_TRAILER_BYTES};

#[cfg(test)]
mod tests;

/// Outcome of one [`BodyDecoder::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes at the start of the input that belong to the body (chunk
    /// framing and trailers included). Unless `done`, this is all of it.
    pub consumed: usize,
    /// The body ended within those bytes; whatever follows is the next
    /// message.
    pub done: bool,
}

#[derive(Debug, Clone)]
enum Inner {
    Empty,
    Length { total: u64, remaining: u64 },
    Chunked(ChunkedDecoder),
    UntilClose { seen: u64 },
}

/// Tells which raw bytes of a connection's stream belong to the current
/// message body, validating chunked framing on the way. The proxy forwards
/// exactly those bytes verbatim.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    inner: Inner,
}

impl BodyDecoder {
    /// A decoder for `framing` with the default chunked limits.
    pub fn new(framing: BodyFraming) -> Self {
        Self::with_limits(framing, DEFAULT_MAX_CHUNK_LINE, DEFAULT_MAX_TRAILER_BYTES)
    }

    /// A decoder for `framing`; for chunked bodies each chunk-size line is
    /// bounded by `max_chunk_line` bytes and the trailer section by
    /// `max_trailer_bytes`.
    pub fn with_limits(
        framing: BodyFraming,
        max_chunk_line: usize,
        max_trailer_bytes: usize,
    ) -> Self {
        let inner = match framing {
            BodyFraming::Empty => Inner::Empty,
            BodyFraming::Length(n) => Inner::Length {
                total: n,
                remaining: n,
            },
            BodyFraming::Chunked => Inner::Chunked(ChunkedDecoder::with_limits(
                max_chunk_line,
                max_trailer_bytes,
            )),
            BodyFraming::UntilClose => Inner::UntilClose { seen: 0 },
        };
        Self { inner }
    }

    /// Consumes the prefix of `input` that belongs to the body. Call it with
    /// whatever has arrived; state carries over, so chunk-size lines and
    /// trailers may be split at any byte. `Empty` is done at once, `Length`
    /// takes up to what remains, and `UntilClose` takes everything and is
    /// never done (the body ends at EOF). After an error every call fails the
    /// same way.
    pub fn advance(&mut self, input: &[u8]) -> Result<Progress, BodyError> {
        let (consumed, done) = match &mut self.inner {
            Inner::Empty => (0, true),
            Inner::Length { remaining, .. } => {
                let n = usize::try_from(*remaining).map_or(input.len(), |r| r.min(input.len()));
                *remaining = remaining.saturating_sub(n as u64);
                (n, *remaining == 0)
            }
            Inner::Chunked(decoder) => decoder.skim(input)?,
            Inner::UntilClose { seen } => {
                *seen = seen.saturating_add(input.len() as u64);
                (input.len(), false)
            }
        };
        Ok(Progress { consumed, done })
    }

    /// Payload bytes seen so far, chunk framing excluded (for body size
    /// limits).
    pub fn payload_len(&self) -> u64 {
        match &self.inner {
            Inner::Empty => 0,
            Inner::Length { total, remaining } => total.saturating_sub(*remaining),
            Inner::Chunked(decoder) => decoder.payload_len(),
            Inner::UntilClose { seen } => *seen,
        }
    }

    /// Whether the body is complete (never, for `UntilClose`).
    pub fn is_done(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Length { remaining, .. } => *remaining == 0,
            Inner::Chunked(decoder) => decoder.is_done(),
            Inner::UntilClose { .. } => false,
        }
    }
}
