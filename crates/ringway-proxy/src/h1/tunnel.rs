//! Byte tunnels after `101 Switching Protocols` (WebSocket and friends).

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::downstream::Downstream;
use crate::io::{ReadOutcome, read_append, write_range};
use crate::limits::READ_STALL;
use crate::upstream::pool::UpstreamConn;

/// Relays bytes both ways until both sides have finished. Bytes the client
/// sent after its request head (from `pending_from` in its buffer) go first.
/// Returns (bytes to downstream, bytes from downstream).
pub(crate) async fn run(
    down: &mut Downstream,
    up: &mut UpstreamConn,
    pending_from: usize,
) -> (u64, u64) {
    let pending = down.buf.len().saturating_sub(pending_from);
    if pending > 0 {
        let buf = std::mem::take(&mut down.buf);
        let len = buf.len();
        let (res, buf) = write_range(&mut up.writer, buf, pending_from, len).await;
        down.buf = buf;
        if res.is_err() {
            return (0, 0);
        }
    }
    down.buf.clear();
    up.buf.clear();
    let upward = copy(&mut down.reader, &mut down.buf, &mut up.writer);
    let downward = copy(&mut up.reader, &mut up.buf, &mut down.writer);
    let (received, sent) = monoio::join!(upward, downward);
    (sent, received + pending as u64)
}

/// Copies until end of stream (then half-closes the writer) or error.
async fn copy<R: AsyncReadRent, W: AsyncWriteRent>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    writer: &mut W,
) -> u64 {
    let mut total = 0u64;
    if buf.capacity() < 16 * 1024 {
        buf.reserve_exact(16 * 1024);
    }
    loop {
        buf.clear();
        match read_append(reader, buf, READ_STALL).await {
            ReadOutcome::Read(0) => {
                let _ = writer.shutdown().await;
                return total;
            }
            ReadOutcome::Read(n) => {
                let (res, back) = write_range(writer, std::mem::take(buf), 0, n).await;
                *buf = back;
                if res.is_err() {
                    return total;
                }
                total += n as u64;
            }
            ReadOutcome::TimedOut | ReadOutcome::Failed => {
                let _ = writer.shutdown().await;
                return total;
            }
        }
    }
}
