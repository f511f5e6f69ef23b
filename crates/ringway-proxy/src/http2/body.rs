//! Moving HTTP/2 DATA with flow control: a sender waits for window before
//! it sends, and a receiver gives window back only once the bytes have
//! been passed on, so a slow reader slows its writer and each stream holds
//! at most its window in memory.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use monoio::time::Sleep;

use super::trailers::TrailerAudit;
use crate::limits::REPLAY_LIMIT_BYTES;
use crate::request::stream_clock::Bound;
use crate::request::{Expiry, StreamClock};

/// Why a pump stopped early.
#[derive(Debug)]
pub(crate) enum PumpError {
    /// The side being read from failed (reset, connection lost).
    Source(Option<h2::Error>),
    /// The side being written to failed or reset the stream.
    Sink,
    /// The body exceeded the route's limit.
    TooLarge,
    /// The source sent nothing in time: the stream idle timeout (nothing
    /// moved either way), the request timeout, or the route timeout.
    Idle(Expiry),
    /// The request is malformed (a pseudo-header field in its trailers):
    /// it must not be forwarded.
    Malformed,
}

/// What bounds a pump's waits for its source.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Waits<'a> {
    /// A request body: the stream idle and request timeouts.
    Request(&'a StreamClock),
    /// A response body: the route timeout for each wait, or the stream
    /// idle timeout when shorter.
    Response(&'a StreamClock, Duration),
}

/// What was sent of a request body, kept so the request can be replayed.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    chunks: Vec<Bytes>,
    bytes: usize,
    overflowed: bool,
    /// The source's end (and trailers) was reached and sent.
    finished: Option<Option<http::HeaderMap>>,
}

impl Replay {
    /// Whether everything sent so far is kept.
    pub(crate) fn is_complete(&self) -> bool {
        !self.overflowed
    }

    /// Whether the whole body, to its end, was sent and kept.
    pub(crate) fn holds_whole(&self) -> bool {
        !self.overflowed && self.finished.is_some()
    }

    fn keep(&mut self, data: &Bytes) {
        if self.overflowed {
            return;
        }
        if self.bytes + data.len() > REPLAY_LIMIT_BYTES {
            self.overflowed = true;
            self.chunks = Vec::new();
            return;
        }
        self.bytes += data.len();
        self.chunks.push(data.clone());
    }
}

/// Polls `pump` unless it has finished already, keeping its result: a
/// request body keeps moving while the exchange waits on other things.
pub(crate) fn poll_unless_done<F: Future>(
    pump: Pin<&mut F>,
    done: &mut Option<F::Output>,
    cx: &mut Context<'_>,
) {
    if done.is_none()
        && let Poll::Ready(result) = pump.poll(cx)
    {
        *done = Some(result);
    }
}

/// Sends all of `data`, waiting for send window as needed.
pub(crate) async fn send_data(
    send: &mut SendStream<Bytes>,
    mut data: Bytes,
) -> Result<(), PumpError> {
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let granted = match poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            Some(Err(_)) => return Err(PumpError::Sink),
            None => return Err(PumpError::Sink),
        };
        if granted == 0 {
            continue;
        }
        let chunk = data.split_to(granted.min(data.len()));
        send.send_data(chunk, false).map_err(|_| PumpError::Sink)?;
    }
    Ok(())
}

/// The next DATA payload from `recv`, or `None` at its end. Returns
/// `Sink` if `watch` (the other direction's stream) is reset meanwhile.
pub(crate) async fn next_data(
    recv: &mut RecvStream,
    watch: &mut SendStream<Bytes>,
) -> Result<Option<Bytes>, PumpError> {
    let data = poll_fn(|cx| {
        if watch.poll_reset(cx).is_ready() {
            return Poll::Ready(Err(PumpError::Sink));
        }
        recv.poll_data(cx).map(Ok)
    })
    .await?;
    match data {
        None => Ok(None),
        Some(Ok(bytes)) => Ok(Some(bytes)),
        Some(Err(e)) => Err(PumpError::Source(Some(e))),
    }
}

/// Copies a whole body, then its trailers (or end of stream), from `recv`
/// to `send`; returns the payload bytes moved. With `replay`, what is sent
/// is also kept for a replay; a replay first re-sends what it kept. With
/// `audit` (a request from a client), trailers are checked first.
pub(crate) async fn pump(
    recv: &mut RecvStream,
    send: &mut SendStream<Bytes>,
    mut replay: Option<&mut Replay>,
    audit: Option<&TrailerAudit>,
    limit: Option<u64>,
    waits: Waits<'_>,
) -> Result<u64, PumpError> {
    let mut moved = 0u64;
    if let Some(r) = replay.as_deref_mut() {
        for chunk in r.chunks.clone() {
            moved += chunk.len() as u64;
            send_data(send, chunk).await?;
        }
        if let Some(trailers) = r.finished.clone() {
            return finish(send, trailers).map(|()| moved);
        }
    }
    while let Some(data) = within(waits, next_data(recv, send)).await? {
        let n = data.len();
        if limit.is_some_and(|l| moved + n as u64 > l) {
            return Err(PumpError::TooLarge);
        }
        if let Some(r) = replay.as_deref_mut() {
            r.keep(&data);
        }
        send_data(send, data).await?;
        let _ = recv.flow_control().release_capacity(n);
        moved += n as u64;
    }
    let trailers = within(waits, async {
        poll_fn(|cx| recv.poll_trailers(cx))
            .await
            .map_err(|e| PumpError::Source(Some(e)))
    })
    .await?;
    if let (Some(audit), Some(trailers)) = (audit, &trailers)
        && !audit.well_formed(recv.stream_id().as_u32(), trailers)
    {
        return Err(PumpError::Malformed);
    }
    if let Some(r) = replay {
        r.finished = Some(trailers.clone());
    }
    finish(send, trailers).map(|()| moved)
}

/// Runs `wait` within the bound `waits` gives, counting its end as a move
/// of the stream. A wait that is ready at once takes no timer; one that
/// runs out while the other direction moved waits again (the stream is
/// not idle).
pub(crate) async fn within<T>(
    waits: Waits<'_>,
    wait: impl Future<Output = Result<T, PumpError>>,
) -> Result<T, PumpError> {
    let clock = waits.clock();
    let mut wait = pin!(wait);
    loop {
        let bound = waits.bound();
        let mut sleep = pin!(None::<Sleep>);
        let ended = poll_fn(|cx| {
            if let Poll::Ready(r) = wait.as_mut().poll(cx) {
                return Poll::Ready(Some(r));
            }
            if sleep.is_none() {
                sleep.set(Some(monoio::time::sleep(bound.wait)));
            }
            match sleep.as_mut().as_pin_mut() {
                Some(timer) => timer.poll(cx).map(|()| None),
                None => Poll::Pending,
            }
        })
        .await;
        match ended {
            Some(r) => {
                clock.moved();
                return r;
            }
            None => {
                if let Some(expiry) = clock.ran_out(&bound) {
                    return Err(PumpError::Idle(expiry));
                }
            }
        }
    }
}

impl Waits<'_> {
    pub(crate) fn clock(&self) -> &StreamClock {
        match self {
            Self::Request(clock) | Self::Response(clock, _) => clock,
        }
    }

    pub(crate) fn bound(&self) -> Bound {
        match self {
            Self::Request(clock) => clock.request_wait(Instant::now),
            Self::Response(clock, route) => clock.response_wait(*route),
        }
    }
}

fn finish(
    send: &mut SendStream<Bytes>,
    trailers: Option<http::HeaderMap>,
) -> Result<(), PumpError> {
    match trailers {
        Some(t) => send.send_trailers(t),
        None => send.send_data(Bytes::new(), true),
    }
    .map_err(|_| PumpError::Sink)
}
