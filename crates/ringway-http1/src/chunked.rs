//! Incremental decoder for the chunked transfer coding (RFC 9112 §7.1).
//!
//! Framing bytes (chunk-size lines, the CRLF after each chunk's data, the
//! trailer section) are validated one byte at a time against an explicit
//! state machine, so input may be split anywhere; chunk data is passed over
//! in bulk.

use std::ops::Range;

use crate::{DEFAULT_MAX_CHUNK_LINE, DEFAULT_MAX_TRAILER_BYTES};
use grammar::State;

mod grammar;
#[cfg(test)]
mod tests;

/// Why a message body was refused. In a request this is a 400 (the framing
/// can no longer be trusted); in a response, a 502.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A chunk-size that is not 1+ hex digits: empty, signed, `0x`-prefixed,
    /// preceded by whitespace, or followed by junk other than extensions.
    #[error("invalid chunk size")]
    InvalidChunkSize,
    /// A chunk-size of more than 16 hex digits (it could overflow u64).
    #[error("chunk size too long")]
    ChunkSizeTooLong,
    /// A chunk extension that is not `;name[=token|quoted-string]` with
    /// optional whitespace around `;` and `=`.
    #[error("invalid chunk extension")]
    InvalidChunkExtension,
    /// A chunk-size line (extensions and CRLF included) longer than the
    /// limit.
    #[error("chunk size line too long")]
    ChunkLineTooLong,
    /// Chunk data not followed by exactly CRLF.
    #[error("chunk data not followed by CRLF")]
    MissingChunkDataCrlf,
    /// An LF not preceded by CR in chunk framing or trailers.
    #[error("bare LF in chunked framing")]
    BareLf,
    /// A CR not followed by LF in chunk framing or trailers.
    #[error("CR not followed by LF in chunked framing")]
    BareCr,
    /// A trailer line that is not `token ":" field-value`: obs-fold,
    /// whitespace before the colon, a non-token name byte or a control
    /// character in the value.
    #[error("invalid trailer field")]
    InvalidTrailer,
    /// The trailer section (final CRLF included) exceeds the limit.
    #[error("trailer section too large")]
    TrailersTooLarge,
}

/// What [`ChunkedDecoder::decode`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkEvent {
    /// Payload bytes at this range of the input.
    Data(Range<usize>),
    /// The complete trailer section at this range of the input: raw field
    /// lines, each with its CRLF, without the final CRLF; possibly empty.
    /// Emitted once, after the last chunk; the body is then done.
    Trailers(Range<usize>),
    /// The body is complete (returned on every call after `Trailers`).
    Done,
    /// All framing in the input was consumed (except, while the trailer
    /// section is incomplete, its bytes so far): supply more.
    NeedMore,
}

/// Decoder for a chunked body, keeping its state across reads.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Chunk size being parsed, then the data bytes left in the chunk.
    size: u64,
    digits: u8,
    line_len: usize,
    trailer_len: usize,
    /// Trailer bytes already validated but not consumed (`decode` only).
    pending: usize,
    payload: u64,
    max_line: usize,
    max_trailer: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder with [`DEFAULT_MAX_CHUNK_LINE`] and
    /// [`DEFAULT_MAX_TRAILER_BYTES`].
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_CHUNK_LINE, DEFAULT_MAX_TRAILER_BYTES)
    }

    /// A decoder bounding each chunk-size line (CRLF included) to
    /// `max_chunk_line` bytes and the trailer section (final CRLF included)
    /// to `max_trailer_bytes`.
    pub fn with_limits(max_chunk_line: usize, max_trailer_bytes: usize) -> Self {
        Self {
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            trailer_len: 0,
            pending: 0,
            payload: 0,
            max_line: max_chunk_line,
            max_trailer: max_trailer_bytes,
        }
    }

    /// Decodes from the start of `input`, returning how many bytes were
    /// consumed and what was found. Bytes not consumed must be presented
    /// again at the start of the next call (followed by newly read ones);
    /// that only happens for an incomplete trailer section, which is held
    /// back so it can be returned whole as [`ChunkEvent::Trailers`]. After an
    /// error every call returns the same error.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, ChunkEvent), BodyError> {
        self.run(input, true)
    }

    /// Consumes every byte of `input` that belongs to the body, trailers
    /// included; returns the count and whether the body is complete. Unless
    /// complete, all of `input` is consumed.
    pub(crate) fn skim(&mut self, input: &[u8]) -> Result<(usize, bool), BodyError> {
        let mut pos = 0usize;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let (n, event) = self.run(rest, false)?;
            pos = pos.saturating_add(n);
            match event {
                ChunkEvent::Data(_) => {}
                ChunkEvent::Done | ChunkEvent::Trailers(_) => return Ok((pos, true)),
                ChunkEvent::NeedMore => return Ok((pos, false)),
            }
        }
    }

    /// Payload bytes seen so far, chunk framing excluded.
    pub fn payload_len(&self) -> u64 {
        self.payload
    }

    /// Whether the whole body, trailers included, has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn run(&mut self, input: &[u8], hold_trailers: bool) -> Result<(usize, ChunkEvent), BodyError> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        let result = self.run_inner(input, hold_trailers);
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    fn run_inner(&mut self, input: &[u8], hold: bool) -> Result<(usize, ChunkEvent), BodyError> {
        let mut pos = 0usize;
        loop {
            match self.state {
                State::Done => return Ok((pos, ChunkEvent::Done)),
                State::Data => return Ok(self.data(input, pos)),
                s if hold && s.in_trailers() => return self.held_trailers(input, pos),
                _ => {
                    let Some(&b) = input.get(pos) else {
                        return Ok((pos, ChunkEvent::NeedMore));
                    };
                    pos = pos.saturating_add(1);
                    self.framing_byte(b)?;
                }
            }
        }
    }

    /// Passes over chunk data starting at `pos`.
    fn data(&mut self, input: &[u8], pos: usize) -> (usize, ChunkEvent) {
        let avail = input.len().saturating_sub(pos);
        if avail == 0 {
            return (pos, ChunkEvent::NeedMore);
        }
        let n = usize::try_from(self.size).map_or(avail, |left| left.min(avail));
        let end = pos.saturating_add(n);
        let n = n as u64;
        self.size = self.size.saturating_sub(n);
        self.payload = self.payload.saturating_add(n);
        if self.size == 0 {
            self.state = State::DataCr;
        }
        (end, ChunkEvent::Data(pos..end))
    }

    /// Validates the trailer section from `start` without consuming it
    /// until it is complete.
    fn held_trailers(
        &mut self,
        input: &[u8],
        start: usize,
    ) -> Result<(usize, ChunkEvent), BodyError> {
        let resume = start.saturating_add(self.pending);
        let mut i = if start == 0 && resume <= input.len() {
            resume
        } else {
            start
        };
        if i == start && self.pending != 0 {
            // The held bytes were not presented again: validate afresh.
            self.state = State::TrailerLineStart;
            self.trailer_len = 0;
        }
        while let Some(&b) = input.get(i) {
            i = i.saturating_add(1);
            self.framing_byte(b)?;
            if self.state == State::Done {
                self.pending = 0;
                let end = i.saturating_sub(2).max(start);
                return Ok((i, ChunkEvent::Trailers(start..end)));
            }
        }
        self.pending = i.saturating_sub(start);
        Ok((start, ChunkEvent::NeedMore))
    }
}
