//! Streaming a chunked response to an HTTP/1.0 client, which cannot read
//! chunked framing: the payload goes out as is, delimited by closing the
//! connection, and trailers are dropped (HTTP/1.0 has no place for them).

use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRent};
use ringway_http1::{ChunkEvent, ChunkedDecoder};

use super::iovec::{HeadWrite, Piece, push_piece};
use crate::io::{ReadOutcome, ensure_room, read_append};
use crate::response_flag::ResponseFlag;

/// How de-chunking ended: payload bytes sent, and whether the upstream
/// connection ended exactly with the body (so it can be reused).
pub(crate) type Dechunked = Result<(u64, bool), (u64, ResponseFlag)>;

/// Decodes the chunked body starting at `buf[start..]` (more is read from
/// `reader`) and writes only the payload bytes to `down`, as vectored
/// writes of slices of `buf`.
pub(crate) async fn stream<R: AsyncReadRent, W: AsyncWriteRent>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    mut start: usize,
    down: &mut W,
    pieces: &mut Vec<Piece>,
    iovecs: &mut Vec<libc::iovec>,
    timeout: Duration,
) -> Dechunked {
    let mut decoder = ChunkedDecoder::new();
    loop {
        pieces.clear();
        let mut pos = start;
        let mut finished = false;
        while pos < buf.len() {
            let base = pos;
            let (consumed, event) =
                decoder
                    .decode(buf.get(pos..).unwrap_or_default())
                    .map_err(|_| {
                        (
                            decoder.payload_len(),
                            ResponseFlag::UpstreamConnectionTermination,
                        )
                    })?;
            pos += consumed;
            match event {
                ChunkEvent::Data(r) => {
                    push_piece(pieces, Piece::Original(base + r.start, base + r.end))
                }
                ChunkEvent::Trailers(_) => {}
                ChunkEvent::Done => {
                    finished = true;
                    break;
                }
                ChunkEvent::NeedMore => break,
            }
            if consumed == 0 {
                break;
            }
        }
        if !pieces.is_empty() {
            let write = HeadWrite::new(
                std::mem::take(buf),
                Vec::new(),
                pieces,
                std::mem::take(iovecs),
            );
            let (res, write) = write.write_all(down).await;
            let (b, _, v) = write.into_parts();
            *buf = b;
            *iovecs = v;
            if res.is_err() {
                return Err((
                    decoder.payload_len(),
                    ResponseFlag::DownstreamConnectionTermination,
                ));
            }
        }
        if finished {
            return Ok((decoder.payload_len(), pos == buf.len()));
        }
        // Keep what could not be decoded yet (a partial trailer section).
        buf.drain(..pos);
        start = 0;
        ensure_room(buf, 16 * 1024, 64 * 1024);
        match read_append(reader, buf, timeout).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed => {
                return Err((
                    decoder.payload_len(),
                    ResponseFlag::UpstreamConnectionTermination,
                ));
            }
            ReadOutcome::TimedOut => {
                return Err((decoder.payload_len(), ResponseFlag::UpstreamTimeout));
            }
            ReadOutcome::Read(_) => {}
        }
    }
}
