//! Following the frames of a client's HTTP/2 byte stream as it is read,
//! to find request trailers.
//!
//! A client opens streams with ascending odd ids (RFC 9113 §5.1.1), so a
//! HEADERS frame on a stream id no higher than the highest seen so far
//! belongs to a stream that is already open: it carries trailers. Its
//! field block (with any CONTINUATION frames) is collected and counted
//! once END_HEADERS arrives. Everything else is skipped by length.

use crate::count::count_fields;

const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// The client connection preface, which comes before the first frame.
const PREFACE_LEN: usize = 24;

/// A trailers block found on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailers {
    pub stream_id: u32,
    /// Field representations in the block; `None` when the block could
    /// not be counted (malformed, or beyond the collection limit).
    pub fields: Option<usize>,
}

/// Follows one connection's client-to-server bytes.
#[derive(Debug)]
pub struct FrameScanner {
    /// Preface bytes still to skip.
    preface_left: usize,
    header: [u8; 9],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: usize,
    /// The current frame's payload is collected (a trailers block).
    collecting: bool,
    /// The trailers block being assembled, with its stream and whether the
    /// HEADERS frame's payload (padding, priority) still needs trimming.
    block: Vec<u8>,
    block_stream: u32,
    /// The block went over `limit` bytes and is no longer kept.
    block_overflowed: bool,
    /// Whether the next frame must be a CONTINUATION of `block_stream`.
    in_block: bool,
    highest_stream: u32,
    limit: usize,
}

impl FrameScanner {
    /// A scanner for a connection whose first bytes are the preface;
    /// trailers blocks longer than `limit` bytes are reported uncounted.
    pub fn new(limit: usize) -> Self {
        Self {
            preface_left: PREFACE_LEN,
            header: [0; 9],
            header_len: 0,
            payload_left: 0,
            collecting: false,
            block: Vec::new(),
            block_stream: 0,
            block_overflowed: false,
            in_block: false,
            highest_stream: 0,
            limit,
        }
    }

    /// Follows `bytes`, the next ones read from the client; calls `found`
    /// for each complete trailers block.
    pub fn feed(&mut self, mut bytes: &[u8], found: &mut impl FnMut(Trailers)) {
        if self.preface_left > 0 {
            let skip = self.preface_left.min(bytes.len());
            self.preface_left -= skip;
            bytes = &bytes[skip..];
        }
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let take = self.payload_left.min(bytes.len());
                if self.collecting {
                    self.keep(&bytes[..take]);
                }
                self.payload_left -= take;
                bytes = &bytes[take..];
                if self.payload_left == 0 {
                    self.frame_done(found);
                }
                continue;
            }
            let take = (9 - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&bytes[..take]);
            self.header_len += take;
            bytes = &bytes[take..];
            if self.header_len == 9 {
                self.header_len = 0;
                self.frame_started();
                if self.payload_left == 0 {
                    self.frame_done(found);
                }
            }
        }
    }

    fn length(&self) -> usize {
        usize::from(self.header[0]) << 16
            | usize::from(self.header[1]) << 8
            | usize::from(self.header[2])
    }

    fn stream_id(&self) -> u32 {
        u32::from_be_bytes([
            self.header[5],
            self.header[6],
            self.header[7],
            self.header[8],
        ]) & 0x7fff_ffff
    }

    /// A frame header is complete: decide whether its payload is kept.
    fn frame_started(&mut self) {
        let (kind, stream) = (self.header[3], self.stream_id());
        self.payload_left = self.length();
        self.collecting = false;
        match kind {
            HEADERS if stream != 0 && stream <= self.highest_stream => {
                self.block.clear();
                self.block_overflowed = false;
                self.block_stream = stream;
                self.collecting = true;
            }
            HEADERS => {
                self.highest_stream = self.highest_stream.max(stream);
                self.in_block = false;
            }
            CONTINUATION if self.in_block && stream == self.block_stream => {
                self.collecting = true;
            }
            _ => {}
        }
    }

    /// A frame's payload is complete.
    fn frame_done(&mut self, found: &mut impl FnMut(Trailers)) {
        let (kind, flags) = (self.header[3], self.header[4]);
        if !self.collecting {
            if kind != HEADERS && kind != CONTINUATION {
                // A frame between a block's frames is a connection error h2
                // raises; the block is abandoned.
                self.in_block = false;
            }
            return;
        }
        self.collecting = false;
        if kind == HEADERS {
            self.trim_headers_payload(flags);
        }
        if flags & END_HEADERS == 0 {
            self.in_block = true;
            return;
        }
        self.in_block = false;
        let fields = if self.block_overflowed {
            None
        } else {
            count_fields(&self.block).ok()
        };
        self.block.clear();
        found(Trailers {
            stream_id: self.block_stream,
            fields,
        });
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.block_overflowed {
            return;
        }
        if self.block.len() + bytes.len() > self.limit {
            self.block_overflowed = true;
            self.block = Vec::new();
            return;
        }
        self.block.extend_from_slice(bytes);
    }

    /// Drops a HEADERS frame's pad length, priority fields and padding,
    /// leaving its field block fragment.
    fn trim_headers_payload(&mut self, flags: u8) {
        if self.block_overflowed {
            return;
        }
        let mut start = 0;
        let mut pad = 0;
        if flags & PADDED != 0 {
            pad = self.block.first().map_or(0, |&p| usize::from(p));
            start += 1;
        }
        if flags & PRIORITY != 0 {
            start += 5;
        }
        match self.block.len().checked_sub(pad) {
            Some(end) if start <= end => {
                self.block.truncate(end);
                self.block.drain(..start);
            }
            // Padding longer than the payload: a protocol error h2 raises.
            _ => self.block_overflowed = true,
        }
    }
}

#[cfg(test)]
mod tests;
