//! An HTTP/1.1 request forwarded to an HTTP/2 upstream: the head becomes
//! HEADERS (`Host` → `:authority`, hop-by-hop fields dropped), the body
//! (by length or chunked) becomes DATA and its chunked trailers become
//! HTTP/2 trailers; the response comes back as an HTTP/1.1 head and a
//! body with its length, or chunked with the upstream's trailers as the
//! trailer section (close-delimited for HTTP/1.0 clients).
//!
//! Once the request body has begun to move, a failure before the response
//! is answered locally and the connection closes: the rest of the body
//! cannot be skipped reliably. Attempts go through the one attempt loop
//! ([`ToH2Attempts`]); only a request that never left is sent again.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use http::header::{self, HeaderMap};
use ringway_http1::{BodyFraming, ChunkEvent, ChunkedDecoder, RequestHead};
use ringway_stats::HostStats;

use super::downstream::{Downstream, Scratch, Served};
use super::forward::Forwarded;
use crate::http2::body::{PumpError, Waits, poll_unless_done, send_data, within};
use crate::http2::headers::{self as convert, H1Framing};
use crate::http2::timer::HeadTimer;
use crate::io::{ReadOutcome, ensure_room, read_append, write_range};
use crate::limits::MAX_STREAM_BUFFER_BYTES;
use crate::request::attempt::http2::{open_failed, stream_failed};
use crate::request::attempt::{self, AttemptEnd, Transport, Tried};
use crate::request::decide::pick_endpoint;
use crate::request::next_hop::Hop;
use crate::request::{Expiry, Forward, LocalReply, NextHop, Outcome, RequestContext, StreamClock};
use crate::response_flag::ResponseFlag;
use crate::state::{ClusterState, ListenerState};
use crate::transport::{StreamReader, StreamWriter};
use crate::upstream::h2::{OpenStream, open_stream};
use crate::upstream::pool::EndpointPool;

/// How the exchange ended before a response head went downstream.
enum Early {
    Response(Result<http::Response<RecvStream>, h2::Error>),
    ClientGone,
    TooLarge,
    Malformed,
    /// The route timeout or the stream idle timeout ran out waiting for
    /// the head.
    TimedOut(Expiry),
    /// The request body stopped coming (stream idle or request timeout).
    Stalled(Expiry),
}

/// Forwards to the decided endpoint over HTTP/2.
pub(crate) async fn forward(
    ctx: &RequestContext<'_>,
    forward: &Forward<'_>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Forwarded {
    let Some((request, timeout)) = build_request(ctx, forward, down, scratch, head) else {
        return Forwarded::ReplyAndClose(LocalReply::MalformedRequest);
    };
    let mut attempts = ToH2Attempts {
        timeout,
        ctx,
        forward,
        request: Some(request),
        end_at_headers: matches!(head.framing, BodyFraming::Empty | BodyFraming::Length(0)),
        down,
        scratch,
        head,
        endpoint: forward.endpoint.clone(),
    };
    attempt::run(
        &mut attempts,
        forward.retry.as_ref(),
        &forward.cluster.stats,
    )
    .await
}

/// The attempts of one HTTP/1.1 request, each a stream to the endpoint.
/// The body streams from the client as it goes, so only a request that
/// never left (a connection found going away first) is sent again.
struct ToH2Attempts<'a, 'r> {
    /// The route's, or a honoured `x-envoy-upstream-rq-timeout-ms`.
    timeout: Duration,
    ctx: &'a RequestContext<'r>,
    forward: &'a Forward<'r>,
    /// Taken when sent; still here after a connection was found going
    /// away before it was sent.
    request: Option<http::Request<()>>,
    end_at_headers: bool,
    down: &'a mut Downstream,
    scratch: &'a mut Scratch,
    head: &'a RequestHead,
    /// Where this attempt goes.
    endpoint: Rc<EndpointPool>,
}

impl Transport for ToH2Attempts<'_, '_> {
    type Output = Forwarded;

    /// Only a request not yet sent: its body streams from the client.
    fn request_held(&self) -> bool {
        self.request.is_some()
    }

    fn retarget(&mut self) {
        if let Some(endpoint) = pick_endpoint(&self.forward.cluster) {
            self.endpoint = endpoint;
        }
    }

    async fn attempt(&mut self, fresh_connection: bool) -> Tried<Forwarded> {
        let (cluster, endpoint) = (&self.forward.cluster, &self.endpoint.clone());
        let timeout = self.timeout;
        let opened = open_stream(
            &endpoint.h2,
            endpoint.address,
            cluster.upstream(),
            Instant::now() + timeout,
            &mut self.request,
            self.end_at_headers,
            fresh_connection,
        )
        .await;
        let OpenStream {
            slot,
            response,
            send: mut upstream_send,
        } = match opened {
            Ok(stream) => stream,
            Err(err) => {
                return open_failed(err, &cluster.stats).map(|reply| match reply {
                    // The body may be unread after a timeout: answer, then close.
                    LocalReply::Timeout => Forwarded::ReplyAndClose(reply),
                    reply => Forwarded::Reply(reply),
                });
            }
        };
        let pumping = Pumping {
            started: Instant::now(),
            end_at_headers: self.end_at_headers,
            limit: self.forward.body_limit,
            timeout,
        };
        let exchange = Exchange {
            ctx: self.ctx,
            cluster,
            host: &endpoint.stats,
            down: &mut *self.down,
            scratch: &mut *self.scratch,
            head: self.head,
            clock: &self.forward.clock,
        };
        let served = exchange.run(response, &mut upstream_send, pumping).await;
        drop(slot);
        match served {
            Ok(mut served) => {
                served.outcome.upstream = Some(endpoint.address);
                let status = served.outcome.status.unwrap_or(0);
                Tried::last(AttemptEnd::Response(status), Forwarded::Served(served))
            }
            Err(tried) => tried,
        }
    }
}

/// One stream's exchange: what it reads and writes.
struct Exchange<'a, 'r> {
    ctx: &'a RequestContext<'r>,
    cluster: &'a ClusterState,
    /// The endpoint's stats.
    host: &'a HostStats,
    down: &'a mut Downstream,
    scratch: &'a mut Scratch,
    head: &'a RequestHead,
    clock: &'a StreamClock,
}

impl Exchange<'_, '_> {
    /// Runs the exchange on an opened stream; before a response head went
    /// downstream, an error says how the attempt ended and what to answer.
    async fn run(
        self,
        response: h2::client::ResponseFuture,
        upstream_send: &mut SendStream<Bytes>,
        pumping: Pumping,
    ) -> Result<Served, Tried<Forwarded>> {
        // Kept whole (over 100 lines): the request-body pump is one future
        // that borrows the downstream buffer and the upstream stream for the
        // whole exchange and is polled in both phases; split apart, every piece
        // would take those borrows and the pump as parameters.
        let Exchange {
            ctx,
            cluster,
            host,
            down,
            scratch,
            head,
            clock,
        } = self;
        let listener = ctx.listener;
        let stats = &cluster.stats;
        let Downstream {
            reader,
            writer,
            buf,
            ..
        } = down;
        let waits = Waits::Request(clock);
        let body_start = head.head_len;
        if head.expect_continue && !pumping.end_at_headers && buf.len() <= body_start {
            let (res, _) =
                write_range(writer, b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(), 0, 25).await;
            if res.is_err() {
                return Err(Tried::last(AttemptEnd::Downstream, client_gone()));
            }
        }
        let mut request_pump = Box::pin(async {
            if pumping.end_at_headers {
                // No body: the next request starts right after the head.
                buf.drain(..body_start.min(buf.len()));
                return Ok((0, 0));
            }
            pump_request_body(
                reader,
                buf,
                body_start,
                head.framing,
                upstream_send,
                pumping.limit,
                waits,
            )
            .await
        });
        let mut request_done: Option<Result<(u64, usize), PumpError>> = None;
        let mut timer = HeadTimer::new(pumping.timeout, clock, None);
        let early = {
            let mut response = pin!(response);
            poll_fn(|cx| {
                poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
                match &request_done {
                    Some(Err(PumpError::Source(None))) => return Poll::Ready(Early::ClientGone),
                    Some(Err(PumpError::Source(Some(_)))) => return Poll::Ready(Early::Malformed),
                    Some(Err(PumpError::TooLarge)) => return Poll::Ready(Early::TooLarge),
                    Some(Err(PumpError::Idle(expiry))) => {
                        return Poll::Ready(Early::Stalled(*expiry));
                    }
                    _ => {}
                }
                if let Poll::Ready(r) = response.as_mut().poll(cx) {
                    return Poll::Ready(Early::Response(r));
                }
                if let Poll::Ready(expiry) = timer.poll_head(cx, request_done.is_some()) {
                    return Poll::Ready(Early::TimedOut(expiry));
                }
                Poll::Pending
            })
            .await
        };
        let response = early_end(early, listener, cluster)?;

        let (mut parts, mut body) = response.into_parts();
        let status = parts.status.as_u16();
        stats.record_upstream_status(status);
        host.record_status(status);
        let elapsed = pumping.started.elapsed();
        let upstream_time = Some(elapsed);
        if !listener.config.suppress_envoy_headers {
            convert::set_service_time(&mut parts.headers, elapsed);
        }
        if let Some(log) = &listener.access_log
            && !log.needs.response.is_empty()
        {
            (scratch.log.captured)
                .response(&log.needs, |n| parts.headers.get(n).map(|v| v.as_bytes()));
        }
        let head_only = head.method == ringway_http1::Method::Head;
        let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
        let framing = if no_body {
            H1Framing::None
        } else if parts.headers.contains_key(header::CONTENT_LENGTH) {
            H1Framing::Length
        } else if head.minor_version == 0 {
            H1Framing::UntilClose
        } else {
            H1Framing::Chunked
        };
        let keep_alive = head.keep_alive && framing != H1Framing::UntilClose && !ctx.closing();
        let mut out = std::mem::take(&mut scratch.reply);
        convert::write_response_head(&mut out, parts.status, &parts.headers, framing, keep_alive);
        let mut bytes_sent = 0u64;
        let mut flag = None;
        let finished = {
            let mut response_pump = pin!(write_response_body(
                writer,
                &mut out,
                &mut body,
                framing,
                no_body,
                Waits::Response(clock, pumping.timeout),
            ));
            poll_fn(|cx| {
                poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
                if let Some(Err(PumpError::Source(_))) = &request_done {
                    return Poll::Ready(Err(true));
                }
                if let Poll::Ready(r) = response_pump.as_mut().poll(cx) {
                    return Poll::Ready(Ok(r));
                }
                Poll::Pending
            })
            .await
        };
        let mut complete = false;
        match finished {
            Ok(Ok(n)) => {
                bytes_sent = n;
                complete = true;
            }
            Ok(Err(PumpError::Source(_))) => {
                stats.upstream_rq_rx_reset.inc();
                stats.http2_rx_reset.inc();
                flag = Some(ResponseFlag::UpstreamRemoteReset);
            }
            Ok(Err(PumpError::Sink | PumpError::TooLarge | PumpError::Malformed)) | Err(_) => {
                flag = Some(ResponseFlag::DownstreamConnectionTermination);
            }
            Ok(Err(PumpError::Idle(Expiry::StreamIdle | Expiry::Request))) => {
                Expiry::StreamIdle.count(&listener.stats);
                flag = Some(ResponseFlag::StreamIdleTimeout);
            }
            Ok(Err(PumpError::Idle(Expiry::Route))) => {
                stats.upstream_rq_timeout.inc();
                host.rq_timeout.inc();
                flag = Some(ResponseFlag::UpstreamTimeout);
            }
        }
        drop(request_pump);
        scratch.reply = out;
        let (bytes_received, consumed, request_complete) = match request_done {
            Some(Ok((n, next))) => (n, next, true),
            _ => (0, buf.len(), false),
        };
        if !complete || !request_complete {
            stats.upstream_rq_tx_reset.inc();
        }
        Ok(Served {
            outcome: Outcome {
                status: Some(status),
                flag,
                bytes_received,
                bytes_sent,
                upstream: None,
                upstream_time,
            },
            keep_alive: keep_alive && complete && request_complete,
            consumed,
        })
    }
}

/// The response head, or how the attempt ended before one came.
fn early_end(
    early: Early,
    listener: &ListenerState,
    cluster: &ClusterState,
) -> Result<http::Response<RecvStream>, Tried<Forwarded>> {
    match early {
        Early::Response(Ok(response)) => Ok(response),
        Early::Response(Err(err)) => {
            // Not replayed: the body streamed from the client as it went.
            let end = stream_failed(&err, &cluster.stats);
            let reply = Forwarded::ReplyAndClose(LocalReply::ResetBeforeResponse);
            Err(Tried::last(end, reply))
        }
        Early::ClientGone => Err(Tried::last(AttemptEnd::Downstream, client_gone())),
        Early::TooLarge => {
            listener.stats.downstream_rq_too_large.inc();
            let reply = Forwarded::ReplyAndClose(LocalReply::BodyTooLarge);
            Err(Tried::last(AttemptEnd::Downstream, reply))
        }
        Early::Malformed => {
            let reply = Forwarded::ReplyAndClose(LocalReply::MalformedBody);
            Err(Tried::last(AttemptEnd::Downstream, reply))
        }
        Early::TimedOut(Expiry::Route) => Err(Tried::last(AttemptEnd::Timeout, timed_out(cluster))),
        Early::TimedOut(expiry) => {
            expiry.count(&listener.stats);
            let reply = Forwarded::ReplyAndClose(expiry.reply(true));
            Err(Tried::last(AttemptEnd::Timeout, reply))
        }
        Early::Stalled(expiry) => {
            expiry.count(&listener.stats);
            let reply = Forwarded::ReplyAndClose(expiry.reply(false));
            Err(Tried::last(AttemptEnd::Downstream, reply))
        }
    }
}

/// The client left before the response began.
fn client_gone() -> Forwarded {
    Forwarded::Served(Served {
        outcome: Outcome::no_response(ResponseFlag::DownstreamConnectionTermination),
        keep_alive: false,
        consumed: 0,
    })
}

/// 504 before any response, closing (the body may be unread).
fn timed_out(cluster: &ClusterState) -> Forwarded {
    cluster.stats.upstream_rq_timeout.inc();
    Forwarded::ReplyAndClose(LocalReply::Timeout)
}

struct Pumping {
    started: Instant,
    end_at_headers: bool,
    limit: Option<u64>,
    /// The route timeout: for the response head once the request body is
    /// complete, then for each wait for more response bytes.
    timeout: Duration,
}

/// The HTTP/2 request for an HTTP/1.1 head, and its timeout.
fn build_request(
    ctx: &RequestContext<'_>,
    forward: &Forward<'_>,
    down: &Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Option<(http::Request<()>, Duration)> {
    let route = forward.route;
    let buf = &down.buf;
    let parsed = super::head::ParsedHead {
        buf,
        head,
        headers: &scratch.headers,
    };
    let hop = Hop {
        listener: &ctx.listener.config,
        route,
        peer: down.peer.ip(),
        has_request_id: head.request_id.is_some(),
        endpoint_hostname: forward.endpoint.hostname.as_deref(),
    };
    let mut next_hop = NextHop::new(&mut ctx.state.rng.borrow_mut(), hop, || {
        parsed.forwarded_for()
    });
    let target = head.target.get(buf);
    let authority = match next_hop.host_rewrite {
        Some(host) => host.as_bytes(),
        None => ringway_route::absolute_form_authority(target)
            .or_else(|| head.host.map(|h| h.get(buf)))
            .unwrap_or_default(),
    };
    let mut rewritten = std::mem::take(&mut scratch.rewrite);
    let original = ringway_route::origin_form(target);
    let path = if ringway_route::rewrite_path(route, target, &mut rewritten) {
        next_hop.path_rewritten();
        &rewritten[..]
    } else {
        original
    };
    let path: &[u8] = if path.first() == Some(&b'/') {
        path
    } else {
        b"/"
    };
    let uri = http::Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query(path)
        .build()
        .ok();
    scratch.rewrite = rewritten;
    let mut request = http::Request::new(());
    *request.method_mut() = http::Method::from_bytes(head.method_span.get(buf)).ok()?;
    *request.uri_mut() = uri?;
    let headers = request.headers_mut();
    convert::from_h1(buf, &scratch.headers, headers);
    if ctx.listener.access_log.is_some()
        && let Some(id) = next_hop.request_id()
    {
        scratch.log.set_request_id(id);
    }
    let timeout = convert::prepare_request(headers, &next_hop, original);
    Some((request, timeout))
}

/// Sends the HTTP/1.1 request body (from `buf[start..]` on, reading more
/// from `reader`) as DATA frames, then any chunked trailers. Returns the
/// payload bytes and where the next request starts in `buf`.
async fn pump_request_body(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    start: usize,
    framing: BodyFraming,
    send: &mut SendStream<Bytes>,
    limit: Option<u64>,
    waits: Waits<'_>,
) -> Result<(u64, usize), PumpError> {
    buf.drain(..start.min(buf.len()));
    let mut moved = 0u64;
    let mut trailers: Option<HeaderMap> = None;
    let mut next = 0;
    match framing {
        BodyFraming::Empty | BodyFraming::UntilClose => {}
        BodyFraming::Length(mut remaining) => {
            while remaining > 0 {
                if buf.is_empty() {
                    read_body(reader, buf, waits).await?;
                }
                let n = (buf.len() as u64).min(remaining) as usize;
                moved += n as u64;
                if limit.is_some_and(|l| moved > l) {
                    return Err(PumpError::TooLarge);
                }
                send_data(send, Bytes::copy_from_slice(&buf[..n])).await?;
                buf.drain(..n);
                remaining -= n as u64;
            }
        }
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            let mut pos = 0;
            loop {
                let input = buf.get(pos..).unwrap_or_default();
                let (consumed, event) = decoder.decode(input).map_err(|_| {
                    PumpError::Source(Some(h2::Error::from(h2::Reason::PROTOCOL_ERROR)))
                })?;
                match event {
                    ChunkEvent::Data(range) => {
                        let data = Bytes::copy_from_slice(&input[range]);
                        pos += consumed;
                        moved += data.len() as u64;
                        if limit.is_some_and(|l| moved > l) {
                            return Err(PumpError::TooLarge);
                        }
                        send_data(send, data).await?;
                    }
                    ChunkEvent::Trailers(range) => {
                        let map = convert::parse_trailers(&input[range]);
                        trailers = (!map.is_empty()).then_some(map);
                        next = pos + consumed;
                        break;
                    }
                    ChunkEvent::Done => {
                        next = pos + consumed;
                        break;
                    }
                    ChunkEvent::NeedMore => {
                        buf.drain(..pos + consumed);
                        pos = 0;
                        read_body(reader, buf, waits).await?;
                    }
                }
            }
        }
    }
    match trailers {
        Some(t) => send.send_trailers(t),
        None => send.send_data(Bytes::new(), true),
    }
    .map_err(|_| PumpError::Sink)?;
    Ok((moved, next))
}

/// Reads more of the request body, each wait bounded by `waits`.
async fn read_body(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    waits: Waits<'_>,
) -> Result<(), PumpError> {
    ensure_room(buf, 16 * 1024, MAX_STREAM_BUFFER_BYTES);
    let clock = waits.clock();
    loop {
        let bound = waits.bound();
        match read_append(reader, buf, bound.wait).await {
            ReadOutcome::Read(n) if n > 0 => {
                clock.moved();
                return Ok(());
            }
            ReadOutcome::TimedOut => {
                // Not idle if the response moved meanwhile: wait again.
                if let Some(expiry) = clock.ran_out(&bound) {
                    return Err(PumpError::Idle(expiry));
                }
            }
            _ => return Err(PumpError::Source(None)),
        }
    }
}

/// Writes the response head in `out`, then the body and trailers.
async fn write_response_body(
    writer: &mut StreamWriter,
    out: &mut Vec<u8>,
    body: &mut RecvStream,
    framing: H1Framing,
    no_body: bool,
    waits: Waits<'_>,
) -> Result<u64, PumpError> {
    let mut sent = 0u64;
    let len = out.len();
    let (res, o) = write_range(writer, std::mem::take(out), 0, len).await;
    *out = o;
    res.map_err(|_| PumpError::Sink)?;
    waits.clock().responding();
    if no_body {
        return Ok(0);
    }
    loop {
        let next = within(waits, async { Ok(poll_fn(|cx| body.poll_data(cx)).await) });
        let data = match next.await? {
            None => break,
            Some(Err(e)) => return Err(PumpError::Source(Some(e))),
            Some(Ok(data)) => data,
        };
        out.clear();
        if framing == H1Framing::Chunked {
            convert::push_chunk(out, &data);
        } else {
            out.extend_from_slice(&data);
        }
        let len = out.len();
        let (res, o) = write_range(writer, std::mem::take(out), 0, len).await;
        *out = o;
        res.map_err(|_| PumpError::Sink)?;
        let _ = body.flow_control().release_capacity(data.len());
        sent += data.len() as u64;
    }
    let trailers = poll_fn(|cx| body.poll_trailers(cx))
        .await
        .map_err(|e| PumpError::Source(Some(e)))?;
    if framing == H1Framing::Chunked {
        out.clear();
        convert::push_last_chunk(out, trailers.as_ref());
        let len = out.len();
        let (res, o) = write_range(writer, std::mem::take(out), 0, len).await;
        *out = o;
        res.map_err(|_| PumpError::Sink)?;
    }
    Ok(sent)
}
