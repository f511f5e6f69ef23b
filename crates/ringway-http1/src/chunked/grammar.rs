//! The byte-level grammar of chunk-size lines, chunk data terminators and
//! the trailer section (RFC 9112 §7.1), as a state machine over single
//! bytes so that input may be split anywhere.

use super::{BodyError, ChunkedDecoder};
use crate::headers::{is_field_byte, is_tchar};

/// Where the decoder is within the chunked framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Start of a chunk-size line.
    Size,
    /// After at least one hex digit.
    SizeDigits,
    /// Whitespace after the size; only `;` may follow.
    SizeBws,
    // Inside a chunk extension `;name[=value]`: before the name, in it,
    // after it, before the value, in a token value, after the value, in a
    // quoted-string, after a backslash in it, after its closing quote.
    ExtPreName,
    ExtName,
    ExtPostName,
    ExtPreValue,
    ExtToken,
    ExtPostValue,
    ExtQuoted,
    ExtQuotedPair,
    ExtPostQuoted,
    /// Got the CR ending the size line.
    SizeLf,
    /// Inside chunk data; `size` bytes remain.
    Data,
    /// After chunk data: expecting CR, then LF.
    DataCr,
    DataLf,
    // The trailer section: at a line start, in a field name, in a value,
    // after a field line's CR, after the final empty line's CR.
    TrailerLineStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    TrailerEndLf,
    /// The body is complete.
    Done,
    /// An error occurred; it is returned again on every call.
    Failed(BodyError),
}

impl State {
    pub(super) fn in_size_line(self) -> bool {
        matches!(
            self,
            Self::Size
                | Self::SizeDigits
                | Self::SizeBws
                | Self::ExtPreName
                | Self::ExtName
                | Self::ExtPostName
                | Self::ExtPreValue
                | Self::ExtToken
                | Self::ExtPostValue
                | Self::ExtQuoted
                | Self::ExtQuotedPair
                | Self::ExtPostQuoted
                | Self::SizeLf
        )
    }

    pub(super) fn in_trailers(self) -> bool {
        matches!(
            self,
            Self::TrailerLineStart
                | Self::TrailerName
                | Self::TrailerValue
                | Self::TrailerLf
                | Self::TrailerEndLf
        )
    }
}

impl ChunkedDecoder {
    /// Advances the framing state machine by one byte.
    pub(super) fn framing_byte(&mut self, b: u8) -> Result<(), BodyError> {
        if self.state.in_size_line() {
            self.line_len = self.line_len.saturating_add(1);
            if self.line_len > self.max_line {
                return Err(BodyError::ChunkLineTooLong);
            }
            if b == b'\n' && self.state != State::SizeLf {
                return Err(BodyError::BareLf);
            }
            return self.size_line_byte(b);
        }
        if self.state.in_trailers() {
            self.trailer_len = self.trailer_len.saturating_add(1);
            if self.trailer_len > self.max_trailer {
                return Err(BodyError::TrailersTooLarge);
            }
            return self.trailer_byte(b);
        }
        self.state = match (self.state, b) {
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                self.line_len = 0;
                State::Size
            }
            (State::DataCr | State::DataLf, _) => return Err(BodyError::MissingChunkDataCrlf),
            (s, _) => s,
        };
        Ok(())
    }

    /// One byte of a chunk-size line: `1*HEXDIG *(BWS ";" BWS name [BWS "="
    /// BWS value]) CRLF` (a stray LF was screened out by the caller).
    fn size_line_byte(&mut self, b: u8) -> Result<(), BodyError> {
        use State::*;
        let ws = b == b' ' || b == b'\t';
        self.state = match (self.state, hex_value(b)) {
            (Size, Some(digit)) => {
                self.size = u64::from(digit);
                self.digits = 1;
                SizeDigits
            }
            (SizeDigits, Some(digit)) => {
                self.digits = self.digits.saturating_add(1);
                if self.digits > 16 {
                    return Err(BodyError::ChunkSizeTooLong);
                }
                self.size = self
                    .size
                    .checked_mul(16)
                    .ok_or(BodyError::ChunkSizeTooLong)?
                    | u64::from(digit);
                SizeDigits
            }
            (Size, None) => return Err(BodyError::InvalidChunkSize),
            (SizeDigits, _) if ws => SizeBws,
            (SizeDigits | ExtName | ExtToken | ExtPostQuoted, _) if b == b'\r' => SizeLf,
            (
                SizeDigits | SizeBws | ExtName | ExtPostName | ExtToken | ExtPostValue
                | ExtPostQuoted,
                _,
            ) if b == b';' => ExtPreName,
            (SizeDigits, _) => return Err(BodyError::InvalidChunkSize),
            (SizeBws | ExtPreName | ExtPostName | ExtPreValue | ExtPostValue, _) if ws => {
                self.state
            }
            (ExtPreName | ExtName, _) if is_tchar(b) => ExtName,
            (ExtName, _) if ws => ExtPostName,
            (ExtName | ExtPostName, _) if b == b'=' => ExtPreValue,
            (ExtPreValue | ExtToken, _) if is_tchar(b) => ExtToken,
            (ExtToken | ExtPostQuoted, _) if ws => ExtPostValue,
            (ExtPreValue, _) if b == b'"' => ExtQuoted,
            (ExtQuoted, _) if b == b'"' => ExtPostQuoted,
            (ExtQuoted, _) if b == b'\\' => ExtQuotedPair,
            (ExtQuoted | ExtQuotedPair, _) if is_field_byte(b) => ExtQuoted,
            (SizeLf, _) if b == b'\n' => {
                self.line_len = 0;
                if self.size == 0 {
                    self.trailer_len = 0;
                    TrailerLineStart
                } else {
                    Data
                }
            }
            (SizeLf, _) => return Err(BodyError::BareCr),
            _ => return Err(BodyError::InvalidChunkExtension),
        };
        Ok(())
    }

    /// One byte of the trailer section: `*( token ":" field-value CRLF ) CRLF`.
    fn trailer_byte(&mut self, b: u8) -> Result<(), BodyError> {
        use State::*;
        self.state = match (self.state, b) {
            (TrailerEndLf, b'\n') => Done,
            (TrailerLf, b'\n') => TrailerLineStart,
            (TrailerLf | TrailerEndLf, _) => return Err(BodyError::BareCr),
            (_, b'\n') => return Err(BodyError::BareLf),
            (TrailerLineStart, b'\r') => TrailerEndLf,
            (TrailerLineStart | TrailerName, _) if is_tchar(b) => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, _) if is_field_byte(b) => TrailerValue,
            _ => return Err(BodyError::InvalidTrailer),
        };
        Ok(())
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
