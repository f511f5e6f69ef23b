//! One request/response exchange on an upstream connection whose request
//! head has been written: the rest of the request body goes up while the
//! response comes down, at the same time (a server may answer before it has
//! read the whole body, or stream its answer while it reads).

use std::cell::Cell;
use std::time::Instant;

use monoio::io::{AsyncWriteRent, AsyncWriteRentExt};
use ringway_http1::{BodyDecoder, RequestHead};

use super::downstream::{Downstream, Scratch};
use super::response::{HeadScratch, ResponseEnd, ResponseError, ResponseJob, pump_response};
use crate::io::{ReadOutcome, grow_if_filled, read_append, write_range};
use crate::limits::BODY_BUFFER_BYTES;
use crate::request::{Expiry, StreamClock};
use crate::transport::StreamReader;
use crate::upstream::pool::UpstreamConn;

/// Why the request body pump stopped early.
#[derive(Debug)]
pub(crate) enum BodyError {
    DownstreamClosed,
    /// The stream idle or request timeout ran out while waiting for body.
    DownstreamTimeout(Expiry),
    Malformed,
    TooLarge,
    UpstreamWrite,
}

/// How an exchange ended.
#[derive(Debug)]
pub(crate) enum Pumped {
    Done {
        end: ResponseEnd,
        /// Request body bytes forwarded.
        body: u64,
        /// Where the next request starts in the downstream buffer; `None`
        /// when the request body was not read to its end.
        next_start: Option<usize>,
    },
    Upgraded {
        end: ResponseEnd,
    },
    ResponseFailed {
        error: ResponseError,
        body_done: bool,
    },
    BodyFailed(BodyError),
}

/// The request body still to be forwarded, and the limits on it.
#[derive(Debug)]
pub(crate) struct RequestBody<'a> {
    pub decoder: &'a mut BodyDecoder,
    /// Payload limit (413).
    pub limit: Option<u64>,
    /// Bounds each wait for more body bytes from the client.
    pub clock: &'a StreamClock,
    /// Where the next request starts when the body was already complete.
    pub next_request_at: usize,
}

/// What the two pumps tell each other.
#[derive(Debug, Default)]
struct BodyProgress {
    /// When the request body ended; the response timeout counts from here.
    done_at: Cell<Option<Instant>>,
    /// Payload bytes forwarded so far.
    bytes: Cell<u64>,
}

/// Runs the request body pump and the response pump together.
pub(crate) async fn run(
    head: &RequestHead,
    job: ResponseJob<'_>,
    body: RequestBody<'_>,
    down: &mut Downstream,
    up: &mut UpstreamConn,
    scratch: &mut Scratch,
) -> Pumped {
    // Kept whole (just over 100 lines): the two pumps share the connection
    // halves split below, and the select over them is the whole point.
    let RequestBody {
        decoder,
        limit,
        clock,
        next_request_at,
    } = body;
    let progress = BodyProgress::default();
    progress.bytes.set(decoder.payload_len());
    if decoder.is_done() {
        progress.done_at.set(Some(Instant::now()));
    }
    let UpstreamConn {
        reader: up_reader,
        writer: up_writer,
        buf: up_buf,
        ..
    } = up;
    let Downstream {
        reader: down_reader,
        writer: down_writer,
        buf: down_buf,
        ..
    } = down;

    // ringway answers `Expect: 100-continue` itself (Expect is not
    // forwarded) once it is ready for the body.
    if head.expect_continue
        && head.minor_version == 1
        && !decoder.is_done()
        && next_request_at == head.head_len
    {
        let (res, _) = down_writer
            .write_all(&b"HTTP/1.1 100 Continue\r\n\r\n"[..])
            .await;
        if res.is_err() {
            return Pumped::BodyFailed(BodyError::DownstreamClosed);
        }
    }

    let head_scratch = HeadScratch {
        headers: &mut scratch.upstream_headers,
        added: &mut scratch.added,
        pieces: &mut scratch.pieces,
        iovecs: &mut scratch.iovecs,
        captured: &mut scratch.log.captured,
    };
    let response = pump_response(
        job,
        up_reader,
        up_buf,
        down_writer,
        head_scratch,
        &progress.done_at,
    );
    if decoder.is_done() {
        return match response.await {
            Ok(end) if end.upgraded => Pumped::Upgraded { end },
            Ok(end) => Pumped::Done {
                end,
                body: decoder.payload_len(),
                next_start: Some(next_request_at),
            },
            Err(error) => Pumped::ResponseFailed {
                error,
                body_done: true,
            },
        };
    }

    let body = pump_body(
        down_reader,
        down_buf,
        up_writer,
        decoder,
        limit,
        clock,
        &progress,
    );
    let mut body = std::pin::pin!(body);
    let mut response = std::pin::pin!(response);
    let mut body_result: Option<usize> = None;
    let mut body_stalled = false;
    loop {
        monoio::select! {
            r = &mut body, if body_result.is_none() && !body_stalled => match r {
                Ok(next_start) => body_result = Some(next_start),
                // The response has begun: it ends the exchange (cut by the
                // same idle timeout unless it moves), then the connection
                // closes with the body unread.
                Err(BodyError::DownstreamTimeout(_)) if clock.has_responded() => {
                    body_stalled = true;
                }
                Err(err) => return Pumped::BodyFailed(err),
            },
            r = &mut response => {
                return match r {
                    Ok(end) if end.upgraded => Pumped::Upgraded { end },
                    Ok(end) => Pumped::Done {
                        end,
                        body: progress.bytes.get(),
                        next_start: body_result,
                    },
                    Err(error) => Pumped::ResponseFailed { error, body_done: body_result.is_some() },
                };
            }
        }
    }
}

/// Streams the rest of the request body from downstream to upstream.
/// Returns where the next request starts in `buf`.
async fn pump_body<W: AsyncWriteRent>(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    writer: &mut W,
    decoder: &mut BodyDecoder,
    limit: Option<u64>,
    clock: &StreamClock,
    progress: &BodyProgress,
) -> Result<usize, BodyError> {
    if buf.capacity() < BODY_BUFFER_BYTES {
        buf.reserve_exact(BODY_BUFFER_BYTES - buf.len());
    }
    loop {
        // Everything read so far has been forwarded.
        buf.clear();
        let bound = clock.request_wait(Instant::now);
        match read_append(reader, buf, bound.wait).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed => return Err(BodyError::DownstreamClosed),
            ReadOutcome::TimedOut => match clock.ran_out(&bound) {
                // The response moved meanwhile: not idle.
                None => continue,
                Some(expiry) => return Err(BodyError::DownstreamTimeout(expiry)),
            },
            ReadOutcome::Read(_) => clock.moved(),
        }
        let filled = buf.len();
        let step = decoder.advance(buf).map_err(|_| BodyError::Malformed)?;
        progress.bytes.set(decoder.payload_len());
        if limit.is_some_and(|l| decoder.payload_len() > l) {
            return Err(BodyError::TooLarge);
        }
        let (res, back) = write_range(writer, std::mem::take(buf), 0, step.consumed).await;
        *buf = back;
        res.map_err(|_| BodyError::UpstreamWrite)?;
        grow_if_filled(buf, filled);
        if step.done {
            progress.done_at.set(Some(Instant::now()));
            return Ok(step.consumed);
        }
    }
}
