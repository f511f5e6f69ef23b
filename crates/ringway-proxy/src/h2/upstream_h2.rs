//! A request that arrived over HTTP/2, forwarded over a multiplexed HTTP/2
//! upstream connection: headers, DATA and trailers pass through with flow
//! control in both directions, and both bodies move at once (bidirectional
//! gRPC streams).
//!
//! A stream the upstream refuses before processing it (REFUSED_STREAM, or
//! beyond the last stream id of a GOAWAY) is replayed once on a fresh
//! connection, with the request body bytes kept so far (up to
//! [`REPLAY_LIMIT_BYTES`](super::body::REPLAY_LIMIT_BYTES)).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use ringway_grpc::Code;

use super::body::{PumpError, Replay, poll_unless_done, pump};
use super::client::{OpenError, OpenStream, open_stream};
use super::stream::{Exchanged, HeadTimer, Request, Target, grpc_trailers};
use crate::local_reply::ResponseFlag;

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
        mut body,
    } = request;
    let cluster = target.cluster;
    let stats = &cluster.stats;
    let end_at_headers = body.is_end_stream();
    let mut replay = Replay::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let opened = open_stream(
            target.endpoint,
            cluster,
            target.connect_deadline(),
            clone_request(&method, &uri, &headers),
            end_at_headers,
            attempt > 1,
        )
        .await;
        let OpenStream {
            slot,
            response,
            send: mut upstream_send,
        } = match opened {
            Ok(opened) => opened,
            Err(OpenError::TimedOut) => return target.timed_out(),
            Err(OpenError::Connect) => {
                return Exchanged::local(
                    503,
                    ResponseFlag::UpstreamConnectFailure,
                    "upstream connect failure",
                );
            }
            Err(OpenError::Closed) => {
                return Exchanged::local(
                    503,
                    ResponseFlag::UpstreamConnectionTermination,
                    "upstream connection closed",
                );
            }
        };
        let started = Instant::now();

        // Phase 1: the request body goes up while we wait for the response head.
        let limit = target.limit;
        // Boxed so it can be dropped (ending its borrows) before a replay.
        let mut request_pump = Box::pin(async {
            if end_at_headers {
                return Ok(0);
            }
            pump(
                &mut body,
                &mut upstream_send,
                Some(&mut replay),
                limit,
                None,
            )
            .await
        });
        let mut response = pin!(response);
        let mut timer = HeadTimer::new(target.timeout, target.deadline);
        let mut request_done: Option<Result<u64, PumpError>> = None;
        let head = poll_fn(|cx| {
            poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
            match &request_done {
                Some(Err(PumpError::Source(_))) => return Poll::Ready(Head::ClientGone),
                Some(Err(PumpError::TooLarge)) => return Poll::Ready(Head::TooLarge),
                _ => {}
            }
            if let Poll::Ready(r) = response.as_mut().poll(cx) {
                return Poll::Ready(Head::Response(r));
            }
            if respond.poll_reset(cx).is_ready() {
                return Poll::Ready(Head::ClientGone);
            }
            if timer.poll_head(cx, request_done.is_some()).is_ready() {
                return Poll::Ready(Head::TimedOut);
            }
            Poll::Pending
        })
        .await;
        let response = match head {
            Head::Response(Ok(response)) => response,
            Head::Response(Err(err)) => {
                drop(request_pump);
                let refused = err.is_remote()
                    && (err.is_go_away() || err.reason() == Some(Reason::REFUSED_STREAM));
                if err.is_go_away() {
                    stats.http2_goaway_received.inc();
                } else if err.is_reset() && err.is_remote() {
                    stats.http2_rx_reset.inc();
                    stats.upstream_rq_rx_reset.inc();
                }
                if refused {
                    slot.retire();
                }
                if refused && attempt == 1 && replay.is_complete() {
                    stats.upstream_rq_retry.inc();
                    continue;
                }
                return Exchanged::local(
                    503,
                    ResponseFlag::UpstreamRemoteReset,
                    "upstream reset the stream before responding",
                );
            }
            Head::ClientGone => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                return Exchanged::ClientGone;
            }
            Head::TooLarge => {
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                return Exchanged::TooLarge;
            }
            Head::TimedOut => return target.timed_out(),
        };

        // Phase 2: the response goes down while the request may still go up.
        let (parts, mut upstream_body) = response.into_parts();
        let status = parts.status.as_u16();
        let head_after = started.elapsed();
        stats.record_upstream_status(status);
        let end = upstream_body.is_end_stream();
        let mut down = match respond.send_response(http::Response::from_parts(parts, ()), end) {
            Ok(down) => down,
            Err(_) => return Exchanged::ClientGone,
        };
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
            let idle = Some(target.timeout);
            let mut response_pump = pin!(pump(&mut upstream_body, &mut down, None, None, idle));
            poll_fn(|cx| {
                poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
                if let Some(Err(PumpError::Source(_))) = &request_done {
                    return Poll::Ready(Body::ClientGone);
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
            Body::TimedOut | Body::Done(Err(PumpError::Idle)) => {
                stats.upstream_rq_timeout.inc();
                stats.upstream_rq_tx_reset.inc();
                stats.http2_tx_reset.inc();
                if target.grpc {
                    let _ = down.send_trailers(grpc_trailers(
                        Code::DeadlineExceeded,
                        "upstream request timeout",
                    ));
                } else {
                    target.listener_reset(&mut down, Reason::CANCEL);
                }
                *flag = Some(ResponseFlag::UpstreamTimeout);
            }
        }
        return responded;
    }
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
    Response(Result<http::Response<RecvStream>, h2::Error>),
    ClientGone,
    TooLarge,
    TimedOut,
}

enum Body {
    Done(Result<u64, PumpError>),
    ClientGone,
    TimedOut,
}
