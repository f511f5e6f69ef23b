//! Reading into owned, reused buffers with timeouts.

use std::io;
use std::time::Duration;

use monoio::buf::{IoBuf, IoBufMut};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent, Canceller,
};

use crate::limits::MAX_STREAM_BUFFER_BYTES;

/// How a timed read ended.
#[derive(Debug)]
pub enum ReadOutcome {
    /// `n` bytes were appended to the buffer; 0 means end of stream.
    Read(usize),
    TimedOut,
    /// The read failed (reset, or another error): the stream is unusable.
    Failed,
}

/// Makes sure `buf` has room to read at least `min_free` bytes, growing it
/// by doubling (never beyond `max_capacity` unless it must).
pub fn ensure_room(buf: &mut Vec<u8>, min_free: usize, max_capacity: usize) {
    let free = buf.capacity() - buf.len();
    if free < min_free {
        let want = (buf.capacity() * 2)
            .clamp(buf.len() + min_free, max_capacity.max(buf.len() + min_free));
        buf.reserve_exact(want - buf.len());
    }
}

/// Doubles `buf`'s capacity (up to [`MAX_STREAM_BUFFER_BYTES`]) when the
/// last read of `n` bytes filled it: a large body then moves in fewer,
/// larger reads and writes, while small exchanges keep small buffers.
pub fn grow_if_filled(buf: &mut Vec<u8>, n: usize) {
    let capacity = buf.capacity();
    if n >= capacity && capacity < MAX_STREAM_BUFFER_BYTES {
        let want = (capacity * 2).min(MAX_STREAM_BUFFER_BYTES);
        buf.reserve_exact(want - buf.len());
    }
}

/// Appends what arrives to `buf` (into its spare capacity). The read is
/// abandoned when `timeout` passes: only use this where a timeout ends the
/// connection, because bytes read by an abandoned read can be lost.
pub async fn read_append<R: AsyncReadRent>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> ReadOutcome {
    let owned = std::mem::take(buf);
    let len = owned.len();
    match monoio::time::timeout(timeout, reader.read(owned.slice_mut(len..))).await {
        Err(_) => {
            // The buffer went with the abandoned read; start a fresh one.
            *buf = Vec::with_capacity(len.max(4096));
            ReadOutcome::TimedOut
        }
        Ok((res, slice)) => {
            *buf = slice.into_inner();
            match res {
                Ok(n) => ReadOutcome::Read(n),
                Err(_) => ReadOutcome::Failed,
            }
        }
    }
}

/// Like [`read_append`], but a timeout cancels the read and waits for it to
/// settle, so no byte is lost and the caller may read again.
pub async fn read_append_cancelable<R: CancelableAsyncReadRent>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> ReadOutcome {
    let owned = std::mem::take(buf);
    let len = owned.len();
    let canceller = Canceller::new();
    let read = reader.cancelable_read(owned.slice_mut(len..), canceller.handle());
    let mut read = std::pin::pin!(read);
    let mut timed_out = false;
    let (res, slice) = monoio::select! {
        r = &mut read => r,
        _ = monoio::time::sleep(timeout) => {
            timed_out = true;
            canceller.cancel();
            read.await
        }
    };
    *buf = slice.into_inner();
    match res {
        Ok(n) => ReadOutcome::Read(n),
        Err(_) if timed_out => ReadOutcome::TimedOut,
        Err(_) => ReadOutcome::Failed,
    }
}

/// Writes `buf[range]` fully and gives the buffer back.
pub async fn write_range<W: AsyncWriteRent>(
    writer: &mut W,
    buf: Vec<u8>,
    start: usize,
    end: usize,
) -> (io::Result<()>, Vec<u8>) {
    if start >= end {
        return (Ok(()), buf);
    }
    let (res, slice) = writer.write_all(buf.slice(start..end)).await;
    (res.map(|_| ()), slice.into_inner())
}
