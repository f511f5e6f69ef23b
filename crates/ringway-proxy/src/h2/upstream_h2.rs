//! A request that arrived over HTTP/2, forwarded over a multiplexed HTTP/2
//! upstream connection: headers, DATA and trailers pass through with flow
//! control in both directions, and both bodies move at once (bidirectional
//! gRPC streams).
//!
//! Each attempt is one stream ([`H2Attempts`], a transport of the one
//! attempt loop). A stream the upstream refuses before processing it
//! (REFUSED_STREAM, or beyond the last stream id of a GOAWAY), or a
//! connection found going away before the request was sent on it, is
//! replayed on a fresh connection, with the request body bytes kept so far
//! (up to [`REPLAY_LIMIT_BYTES`](crate::limits::REPLAY_LIMIT_BYTES)).

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};

use super::exchange::{Exchanged, Request, Target};
use crate::http2::body::{PumpError, Replay, Waits, poll_unless_done, pump};
use crate::http2::headers::{grpc_trailers, set_service_time};
use crate::http2::timer::HeadTimer;
use crate::request::attempt::http2::{open_failed, stream_failed};
use crate::request::attempt::{self, AttemptEnd, Replayable, Transport, Tried};
use crate::request::{Expiry, LocalReply};
use crate::response_flag::ResponseFlag;
use crate::upstream::h2::{OpenStream, StreamSlot, open_stream};
use crate::upstream::pool::EndpointPool;

/// Forwards `request` to `target.endpoint` over HTTP/2.
pub(crate) async fn exchange(
    target: &Target<'_>,
    request: Request,
    respond: &mut SendResponse<Bytes>,
) -> Exchanged {
    let Request {
        method,
        uri,
        headers,
        body,
    } = request;
    let mut attempts = H2Attempts {
        target,
        method,
        uri,
        headers,
        end_at_headers: body.is_end_stream(),
        body,
        replay: Replay::default(),
        respond,
    };
    attempt::run(&mut attempts, target.retry, &target.cluster.stats).await
}

/// The attempts of one request, each a stream to the endpoint.
struct H2Attempts<'a, 't> {
    target: &'a Target<'t>,
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    /// The request has no body.
    end_at_headers: bool,
    body: RecvStream,
    /// The request body sent so far, kept for a replay.
    replay: Replay,
    respond: &'a mut SendResponse<Bytes>,
}

impl Transport for H2Attempts<'_, '_> {
    type Output = Exchanged;

    /// A body-less request, or one whose whole body was sent and kept.
    fn request_held(&self) -> bool {
        self.end_at_headers || self.replay.holds_whole()
    }

    fn retarget(&mut self) {
        self.target.retarget();
    }

    async fn attempt(&mut self, fresh_connection: bool) -> Tried<Exchanged> {
        let target = self.target;
        let endpoint = target.endpoint();
        let opened = open_stream(
            &endpoint.h2,
            endpoint.address,
            target.cluster.upstream(),
            target.connect_deadline(),
            &mut Some(clone_request(&self.method, &self.uri, &self.headers)),
            self.end_at_headers,
            fresh_connection,
        )
        .await;
        match opened {
            Ok(stream) => self.on_stream(&endpoint, stream).await,
            Err(err) => open_failed(err, &target.cluster.stats).map(Exchanged::Reply),
        }
    }
}

impl H2Attempts<'_, '_> {
    /// Runs one opened stream: the request body goes up while the response
    /// head is awaited, then both bodies move until the response ends.
    async fn on_stream(&mut self, endpoint: &EndpointPool, stream: OpenStream) -> Tried<Exchanged> {
        let OpenStream {
            slot,
            response,
            send: mut upstream_send,
        } = stream;
        let target = self.target;
        let stats = &target.cluster.stats;
        let started = Instant::now();
        let end_at_headers = self.end_at_headers;
        let limit = target.limit;
        let (body, replay, respond) = (&mut self.body, &mut self.replay, &mut *self.respond);
        // Phase 1: the request body goes up while we wait for the response head.
        // Boxed so it can be dropped (ending its borrows) before a replay.
        // Whether the whole body went up and is kept, once it has.
        let body_kept = Cell::new(end_at_headers);
        let mut request_pump = Box::pin(async {
            if end_at_headers {
                return Ok(0);
            }
            let audit = Some(target.trailers);
            let waits = Waits::Request(target.clock);
            let pumped = pump(
                body,
                &mut upstream_send,
                Some(&mut *replay),
                audit,
                limit,
                waits,
            )
            .await;
            body_kept.set(pumped.is_ok() && replay.holds_whole());
            pumped
        });
        let mut response = pin!(response);
        let mut timer = HeadTimer::new(target.timeout, target.clock, target.deadline);
        let mut request_done: Option<Result<u64, PumpError>> = None;
        let head = poll_fn(|cx| {
            poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
            match &request_done {
                Some(Err(PumpError::Source(_))) => return Poll::Ready(Head::ClientGone),
                Some(Err(PumpError::Malformed)) => return Poll::Ready(Head::Malformed),
                Some(Err(PumpError::TooLarge)) => return Poll::Ready(Head::TooLarge),
                Some(Err(PumpError::Idle(expiry))) => return Poll::Ready(Head::Stalled(*expiry)),
                _ => {}
            }
            if let Poll::Ready(r) = response.as_mut().poll(cx) {
                return Poll::Ready(Head::Response(r));
            }
            if respond.poll_reset(cx).is_ready() {
                return Poll::Ready(Head::ClientGone);
            }
            if let Poll::Ready(expiry) = timer.poll_head(cx, request_done.is_some()) {
                return Poll::Ready(Head::TimedOut(expiry));
            }
            Poll::Pending
        })
        .await;
        let response = match head {
            Head::Response(Ok(response)) => {
                let held = body_kept.get();
                let status = response.status().as_u16();
                if target.retry_response(status, response.headers(), held) {
                    // Dropped at its head (the stream is reset): the loop
                    // tries again.
                    drop(request_pump);
                    stats.record_upstream_status(status);
                    endpoint.stats.record_status(status);
                    let dropped = Exchanged::Reply(LocalReply::ResetBeforeResponse);
                    return Tried::last(AttemptEnd::Response(status), dropped);
                }
                response
            }
            Head::Response(Err(err)) => {
                drop(request_pump);
                return failed_before_response(target, &slot, &err, replay.is_complete());
            }
            Head::ClientGone => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                return Tried::last(AttemptEnd::Downstream, Exchanged::ClientGone);
            }
            Head::TooLarge => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                return Tried::last(
                    AttemptEnd::Downstream,
                    Exchanged::Reply(LocalReply::BodyTooLarge),
                );
            }
            Head::TimedOut(expiry) => {
                return Tried::last(AttemptEnd::Timeout, target.ran_out(expiry, true));
            }
            Head::Stalled(expiry) => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                return Tried::last(AttemptEnd::Downstream, target.ran_out(expiry, false));
            }
            Head::Malformed => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                let malformed = Exchanged::Reply(LocalReply::MalformedRequest);
                return Tried::last(AttemptEnd::Downstream, malformed);
            }
        };
        let status = response.status().as_u16();
        let exchanged = respond_with(
            Phase2 {
                target,
                endpoint,
                respond,
                started,
                timer,
            },
            response,
            request_pump,
            request_done,
        )
        .await;
        drop(slot);
        Tried::last(AttemptEnd::Response(status), exchanged)
    }
}

/// The stream failed before its response: refused streams can be sent
/// again while the request body is still held (`body_held`).
fn failed_before_response(
    target: &Target<'_>,
    slot: &StreamSlot,
    err: &h2::Error,
    body_held: bool,
) -> Tried<Exchanged> {
    let end = stream_failed(err, &target.cluster.stats);
    if matches!(end, AttemptEnd::Refused | AttemptEnd::GoingAway) {
        slot.retire();
    }
    Tried {
        end,
        replayable: Replayable {
            reused_connection: false,
            request_held: body_held,
        },
        output: Exchanged::Reply(LocalReply::ResetBeforeResponse),
    }
}

/// What the response phase needs.
struct Phase2<'a, 't> {
    target: &'a Target<'t>,
    /// The attempt's endpoint.
    endpoint: &'a EndpointPool,
    respond: &'a mut SendResponse<Bytes>,
    started: Instant,
    timer: HeadTimer<'a>,
}

/// Phase 2: the response goes down while the request may still go up.
async fn respond_with<P: Future<Output = Result<u64, PumpError>>>(
    phase: Phase2<'_, '_>,
    response: http::Response<RecvStream>,
    mut request_pump: std::pin::Pin<Box<P>>,
    mut request_done: Option<Result<u64, PumpError>>,
) -> Exchanged {
    // Kept whole (just over 100 lines): one response phase whose pumps
    // borrow the downstream stream and the request pump until it ends.
    let Phase2 {
        target,
        endpoint,
        respond,
        started,
        mut timer,
    } = phase;
    let stats = &target.cluster.stats;
    let (mut parts, mut upstream_body) = response.into_parts();
    let status = parts.status.as_u16();
    let head_after = started.elapsed();
    if !target.listener.config.suppress_envoy_headers {
        set_service_time(&mut parts.headers, head_after);
    }
    stats.record_upstream_status(status);
    endpoint.stats.record_status(status);
    if let Some(log) = target.log {
        log.response(&parts.headers);
    }
    let end = upstream_body.is_end_stream();
    let mut down = match respond.send_response(http::Response::from_parts(parts, ()), end) {
        Ok(down) => down,
        Err(_) => return Exchanged::ClientGone,
    };
    target.clock.responding();
    let mut responded = Exchanged::Responded {
        status,
        flag: None,
        bytes_received: 0,
        bytes_sent: 0,
        upstream_time: Some(head_after),
    };
    if end {
        return responded;
    }
    let finished = {
        let waits = Waits::Response(target.clock, target.timeout);
        let mut response_pump = pin!(pump(&mut upstream_body, &mut down, None, None, None, waits));
        poll_fn(|cx| {
            poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
            match &request_done {
                Some(Err(PumpError::Source(_))) => return Poll::Ready(Body::ClientGone),
                Some(Err(PumpError::Malformed)) => return Poll::Ready(Body::Malformed),
                _ => {}
            }
            if let Poll::Ready(r) = response_pump.as_mut().poll(cx) {
                return Poll::Ready(Body::Done(r));
            }
            if timer.poll_deadline(cx).is_ready() {
                return Poll::Ready(Body::TimedOut);
            }
            Poll::Pending
        })
        .await
    };
    drop(request_pump);
    let Exchanged::Responded {
        flag,
        bytes_received,
        bytes_sent,
        ..
    } = &mut responded
    else {
        return responded;
    };
    if let Some(Ok(n)) = request_done {
        *bytes_received = n;
    }
    match finished {
        Body::Done(Ok(n)) => *bytes_sent = n,
        Body::Done(Err(PumpError::Source(err))) => {
            // The upstream reset or broke mid-response: pass it on.
            let reason = err
                .as_ref()
                .and_then(h2::Error::reason)
                .unwrap_or(Reason::INTERNAL_ERROR);
            stats.upstream_rq_rx_reset.inc();
            stats.http2_rx_reset.inc();
            target.listener_reset(&mut down, reason);
            *flag = Some(ResponseFlag::UpstreamRemoteReset);
        }
        Body::Done(Err(err @ (PumpError::Sink | PumpError::TooLarge))) => {
            tracing::debug!(?err, "client went away mid-response");
            stats.upstream_rq_tx_reset.inc();
            stats.http2_tx_reset.inc();
            *flag = Some(ResponseFlag::DownstreamRemoteReset);
        }
        Body::ClientGone => {
            stats.upstream_rq_tx_reset.inc();
            stats.http2_tx_reset.inc();
            *flag = Some(ResponseFlag::DownstreamRemoteReset);
        }
        Body::Malformed | Body::Done(Err(PumpError::Malformed)) => {
            stats.upstream_rq_tx_reset.inc();
            stats.http2_tx_reset.inc();
            target.listener_reset(&mut down, Reason::PROTOCOL_ERROR);
            *flag = Some(ResponseFlag::LocalReset);
        }
        Body::Done(Err(PumpError::Idle(Expiry::StreamIdle | Expiry::Request))) => {
            // Nothing moved either way: cut, as Envoy does.
            Expiry::StreamIdle.count(&target.listener.stats);
            stats.upstream_rq_tx_reset.inc();
            stats.http2_tx_reset.inc();
            target.listener_reset(&mut down, Reason::CANCEL);
            *flag = Some(ResponseFlag::StreamIdleTimeout);
        }
        Body::TimedOut | Body::Done(Err(PumpError::Idle(Expiry::Route))) => {
            stats.upstream_rq_timeout.inc();
            endpoint.stats.rq_timeout.inc();
            stats.upstream_rq_tx_reset.inc();
            stats.http2_tx_reset.inc();
            if target.grpc {
                let _ = down.send_trailers(grpc_trailers(
                    LocalReply::Timeout.grpc_code(),
                    LocalReply::Timeout.message(),
                ));
            } else {
                target.listener_reset(&mut down, Reason::CANCEL);
            }
            *flag = Some(ResponseFlag::UpstreamTimeout);
        }
    }
    responded
}

/// The request again, for one more attempt (a replay needs its own copy:
/// `h2` takes the request it sends).
fn clone_request(
    method: &http::Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> http::Request<()> {
    let mut request = http::Request::new(());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    request
}

enum Head {
    /// The request's trailers are malformed.
    Malformed,
    Response(Result<http::Response<RecvStream>, h2::Error>),
    ClientGone,
    TooLarge,
    /// The route timeout, gRPC deadline or stream idle timeout ran out
    /// waiting for the head.
    TimedOut(Expiry),
    /// The request body stopped coming (stream idle or request timeout).
    Stalled(Expiry),
}

enum Body {
    /// The request's trailers are malformed.
    Malformed,
    Done(Result<u64, PumpError>),
    ClientGone,
    TimedOut,
}
