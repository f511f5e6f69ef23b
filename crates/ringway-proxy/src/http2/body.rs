//! Moving HTTP/2 DATA with flow control: a sender waits for window before
//! it sends, and a receiver gives window back only once the bytes have
//! been passed on, so a slow reader slows its writer and each stream holds
//! at most its window in memory.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use h2::{RecvStream, SendStream};

use super::trailers::TrailerAudit;
use crate::limits::REPLAY_LIMIT_BYTES;

/// Why a pump stopped early.
#[derive(Debug)]
pub(crate) enum PumpError {
    /// The side being read from failed (reset, connection lost).
    Source(Option<h2::Error>),
    /// The side being written to failed or reset the stream.
    Sink,
    /// The body exceeded the route's limit.
    TooLarge,
    /// The source sent nothing for the idle timeout.
    Idle,
    /// The request is malformed (a pseudo-header field in its trailers):
    /// it must not be forwarded.
    Malformed,
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
    idle: Option<Duration>,
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
    while let Some(data) = within(idle, next_data(recv, send)).await? {
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
    let trailers = within(idle, async {
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

/// Runs `wait`, failing with [`PumpError::Idle`] if `idle` passes first.
async fn within<T>(
    idle: Option<Duration>,
    wait: impl std::future::Future<Output = Result<T, PumpError>>,
) -> Result<T, PumpError> {
    match idle {
        None => wait.await,
        Some(idle) => monoio::time::timeout(idle, wait)
            .await
            .unwrap_or(Err(PumpError::Idle)),
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
