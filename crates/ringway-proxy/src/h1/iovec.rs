//! Vectored writes of a rewritten message head without re-serializing it.
//!
//! A forwarded head is written as a list of slices: the kept parts of the
//! original head, straight from the connection's read buffer, interleaved
//! with a small buffer of added header lines. The buffers are moved into the
//! write (monoio owns them while the kernel reads them) and handed back.

use std::ops::Range;

use monoio::buf::IoVecBuf;
use monoio::io::AsyncWriteRent;

/// Where a piece of the outgoing head comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// A byte range of the original read buffer.
    Original(usize, usize),
    /// A byte range of the added-lines buffer.
    Added(usize, usize),
}

/// The pieces of one outgoing head plus the two buffers they point into.
#[derive(Debug)]
pub struct HeadWrite {
    original: Vec<u8>,
    added: Vec<u8>,
    iovecs: Vec<libc::iovec>,
    first: usize,
}

// === impl HeadWrite ===

impl HeadWrite {
    /// Takes ownership of both buffers for the duration of the write.
    /// `iovecs` is a reusable vector (cleared here). Ranges out of bounds
    /// are clamped to empty.
    pub fn new(
        original: Vec<u8>,
        added: Vec<u8>,
        pieces: &[Piece],
        mut iovecs: Vec<libc::iovec>,
    ) -> Self {
        iovecs.clear();
        for piece in pieces {
            let (buf, range) = match *piece {
                Piece::Original(a, b) => (&original, clamp(a..b, original.len())),
                Piece::Added(a, b) => (&added, clamp(a..b, added.len())),
            };
            if range.is_empty() {
                continue;
            }
            let slice = &buf[range];
            iovecs.push(libc::iovec {
                iov_base: slice.as_ptr() as *mut libc::c_void,
                iov_len: slice.len(),
            });
        }
        Self {
            original,
            added,
            iovecs,
            first: 0,
        }
    }

    pub fn remaining(&self) -> usize {
        self.iovecs[self.first..].iter().map(|v| v.iov_len).sum()
    }

    /// Marks `n` bytes as written.
    fn advance(&mut self, mut n: usize) {
        while n > 0 && self.first < self.iovecs.len() {
            let iov = &mut self.iovecs[self.first];
            if n >= iov.iov_len {
                n -= iov.iov_len;
                self.first += 1;
            } else {
                iov.iov_base = iov.iov_base.wrapping_add(n);
                iov.iov_len -= n;
                n = 0;
            }
        }
    }

    /// Gives the buffers back: (original, added, iovec storage).
    pub fn into_parts(self) -> (Vec<u8>, Vec<u8>, Vec<libc::iovec>) {
        (self.original, self.added, self.iovecs)
    }

    /// Writes every piece, handling partial writes. The buffers come back
    /// whatever the outcome.
    pub async fn write_all<W: AsyncWriteRent>(
        mut self,
        writer: &mut W,
    ) -> (std::io::Result<()>, Self) {
        while self.remaining() > 0 {
            let (res, back) = writer.writev(self).await;
            self = back;
            match res {
                Ok(0) => return (Err(std::io::ErrorKind::WriteZero.into()), self),
                Ok(n) => self.advance(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return (Err(e), self),
            }
        }
        (Ok(()), self)
    }
}

fn clamp(range: Range<usize>, len: usize) -> Range<usize> {
    let end = range.end.min(len);
    range.start.min(end)..end
}

// SAFETY: every iovec points into the heap storage of `original` or `added`,
// which this value owns and never touches while it is owned by the runtime
// (the write takes `self` by value and returns it when the kernel is done),
// so the pointers stay valid and unchanged. `read_iovec_ptr`/`read_iovec_len`
// describe exactly the initialised iovecs from `first` to the end.
#[allow(unsafe_code)]
unsafe impl IoVecBuf for HeadWrite {
    fn read_iovec_ptr(&self) -> *const libc::iovec {
        self.iovecs[self.first..].as_ptr()
    }

    fn read_iovec_len(&self) -> usize {
        self.iovecs.len() - self.first
    }
}

/// Appends `piece`, merging it with the previous one when they are
/// contiguous parts of the same buffer (fewer iovecs per write).
pub fn push_piece(pieces: &mut Vec<Piece>, piece: Piece) {
    match (pieces.last_mut(), piece) {
        (Some(Piece::Original(_, end)), Piece::Original(a, b)) if *end == a => *end = b,
        (Some(Piece::Added(_, end)), Piece::Added(a, b)) if *end == a => *end = b,
        (_, Piece::Original(a, b) | Piece::Added(a, b)) if a >= b => {}
        _ => pieces.push(piece),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_partial_advance() {
        let original = b"GET /a HTTP/1.1\r\nConnection: close\r\nHost: x\r\n\r\n".to_vec();
        let added = b"x-added: 1\r\n".to_vec();
        let pieces = [
            Piece::Original(0, 17),
            Piece::Original(36, 45),
            Piece::Added(0, 12),
            Piece::Original(45, 47),
            Piece::Original(100, 200),
        ];
        let mut w = HeadWrite::new(original, added, &pieces, Vec::new());
        assert_eq!(w.read_iovec_len(), 4);
        assert_eq!(w.remaining(), 17 + 9 + 12 + 2);
        w.advance(20);
        assert_eq!(w.remaining(), 20);
        assert_eq!(w.read_iovec_len(), 3);
        w.advance(20);
        assert_eq!(w.remaining(), 0);
        assert_eq!(w.read_iovec_len(), 0);
    }
}
