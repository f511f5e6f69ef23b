//! A request that arrived over HTTP/2, forwarded to an HTTP/1.1 upstream:
//! the head is written as HTTP/1.1 (`:authority` becomes `Host`), DATA
//! frames become the body (chunked unless a length was given, with HTTP/2
//! trailers as the chunked trailer section), and the response comes back
//! as HEADERS, DATA and trailers, each direction with backpressure: the
//! upstream is read only as fast as the client's window allows.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::header::{self, HeaderValue};
use ringway_http1::{
    BodyFraming, ChunkEvent, ChunkedDecoder, HeaderSpan, Method, ResponseHead, parse_response,
};

use super::exchange::{Exchanged, Request, Target};
use crate::http2::body::{PumpError, Waits, poll_unless_done, send_data, within};
use crate::http2::headers::{self as convert, H1Framing};
use crate::http2::timer::HeadTimer;
use crate::http2::trailers::TrailerAudit;
use crate::io::{ReadOutcome, ensure_room, read_append};
use crate::limits::{
    MAX_RESPONSE_HEADERS, MAX_STREAM_BUFFER_BYTES, MIN_RESPONSE_HEAD_BYTES, READ_STALL,
};
use crate::request::attempt::{self, AttemptEnd, Replayable, Transport, Tried};
use crate::request::{Expiry, LocalReply};
use crate::response_flag::ResponseFlag;
use crate::transport::{StreamReader, StreamWriter};
use crate::upstream::pool::{EndpointPool, UpstreamConn};

enum HeadFailure {
    Closed,
    Malformed,
}

/// Forwards `request` to `target.endpoint` over HTTP/1.1.
pub(crate) async fn exchange(
    target: &Target<'_>,
    request: Request,
    respond: &mut SendResponse<Bytes>,
) -> Exchanged {
    let Request {
        method,
        uri,
        mut headers,
        body,
    } = request;
    let end_at_headers = body.is_end_stream();
    let framing = if end_at_headers {
        if !headers.contains_key(header::CONTENT_LENGTH)
            && matches!(
                method,
                http::Method::POST | http::Method::PUT | http::Method::PATCH
            )
        {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        }
        H1Framing::None
    } else if headers.contains_key(header::CONTENT_LENGTH) {
        H1Framing::Length
    } else {
        H1Framing::Chunked
    };
    let mut head = Vec::with_capacity(1024);
    convert::write_request_head(
        &mut head,
        &method,
        uri.path_and_query().map_or("/", |p| p.as_str()),
        uri.authority().map_or("", |a| a.as_str()),
        &headers,
        framing,
    );
    let mut attempts = H1Attempts {
        target,
        head,
        method: Method::from_bytes(method.as_str().as_bytes()),
        framing,
        end_at_headers,
        body,
        respond,
    };
    attempt::run(&mut attempts, target.retry, &target.cluster.stats).await
}

/// The attempts of one request over HTTP/1.1 connections.
struct H1Attempts<'a, 't> {
    target: &'a Target<'t>,
    /// The serialised request head.
    head: Vec<u8>,
    method: Method,
    framing: H1Framing,
    /// The request has no body: it can be sent again whole.
    end_at_headers: bool,
    body: RecvStream,
    respond: &'a mut SendResponse<Bytes>,
}

impl Transport for H1Attempts<'_, '_> {
    type Output = Exchanged;

    /// Only a body-less request: the body is not kept once sent.
    fn request_held(&self) -> bool {
        self.end_at_headers
    }

    fn retarget(&mut self) {
        self.target.retarget();
    }

    async fn attempt(&mut self, fresh_connection: bool) -> Tried<Exchanged> {
        let target = self.target;
        let cluster = target.cluster;
        let stats = &cluster.stats;
        let endpoint = target.endpoint();
        let checkout = endpoint.checkout(stats, cluster.config.connect_timeout, fresh_connection);
        let mut up =
            match monoio::time::timeout_at(target.connect_deadline().into(), checkout).await {
                Err(_) => return self.ended(AttemptEnd::ConnectTimeout, false, target.timed_out()),
                Ok(Err(_)) => {
                    let failed = Exchanged::Reply(LocalReply::ConnectFailure);
                    return self.ended(AttemptEnd::ConnectFailure, false, failed);
                }
                Ok(Ok(up)) => up,
            };
        stats.upstream_rq_total.inc();
        endpoint.stats.rq_total.inc();
        let reused = up.reused;
        let head = std::mem::take(&mut self.head);
        let len = head.len();
        let (written, head) = crate::io::write_range(&mut up.writer, head, 0, len).await;
        self.head = head;
        if written.is_err() {
            endpoint.count_closed(stats);
            let closed = Exchanged::Reply(LocalReply::ConnectionClosed);
            return self.ended(AttemptEnd::ClosedBeforeResponse, reused, closed);
        }
        let (end, exchanged) = self.on_connection(&endpoint, up).await;
        self.ended(end, reused, exchanged)
    }
}

impl H1Attempts<'_, '_> {
    fn ended(&self, end: AttemptEnd, reused: bool, output: Exchanged) -> Tried<Exchanged> {
        Tried {
            end,
            replayable: Replayable {
                reused_connection: reused,
                // Only a body-less request can be sent again.
                request_held: self.end_at_headers,
            },
            output,
        }
    }

    /// The exchange on a connection the request head went out on.
    async fn on_connection(
        &mut self,
        endpoint: &EndpointPool,
        mut up: UpstreamConn,
    ) -> (AttemptEnd, Exchanged) {
        // Kept whole (over 100 lines): the request-body pump is one future
        // that borrows the downstream buffer and the upstream stream for the
        // whole exchange and is polled in both phases; split apart, every piece
        // would take those borrows and the pump as parameters.
        let target = self.target;
        let cluster = target.cluster;
        let stats = &cluster.stats;
        let (end_at_headers, framing, limit) = (self.end_at_headers, self.framing, target.limit);
        let (body, respond) = (&mut self.body, &mut *self.respond);
        let audit = target.trailers;
        let started = Instant::now();
        let UpstreamConn {
            reader,
            writer,
            buf,
            ..
        } = &mut up;
        let mut request_pump = Box::pin(async {
            if end_at_headers {
                return Ok(0);
            }
            let waits = Waits::Request(target.clock);
            pump_to_h1(body, writer, framing, limit, (audit, waits)).await
        });
        let mut request_done: Option<Result<u64, PumpError>> = None;
        let mut timer = HeadTimer::new(target.timeout, target.clock, target.deadline);
        let mut spans = Vec::new();
        let head_read = {
            let mut response = pin!(read_head(reader, buf, self.method, &mut spans));
            poll_fn(|cx| {
                poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
                match &request_done {
                    Some(Err(PumpError::Source(_))) => return Poll::Ready(Err(Phase::ClientGone)),
                    Some(Err(PumpError::Malformed)) => return Poll::Ready(Err(Phase::Malformed)),
                    Some(Err(PumpError::TooLarge)) => return Poll::Ready(Err(Phase::TooLarge)),
                    Some(Err(PumpError::Idle(expiry))) => {
                        return Poll::Ready(Err(Phase::Stalled(*expiry)));
                    }
                    _ => {}
                }
                if let Poll::Ready(r) = response.as_mut().poll(cx) {
                    return Poll::Ready(r.map_err(Phase::Head));
                }
                if respond.poll_reset(cx).is_ready() {
                    return Poll::Ready(Err(Phase::ClientGone));
                }
                if let Poll::Ready(expiry) = timer.poll_head(cx, request_done.is_some()) {
                    return Poll::Ready(Err(Phase::TimedOut(expiry)));
                }
                Poll::Pending
            })
            .await
        };
        let response_head = match head_read {
            Ok(h) => h,
            Err(phase) => {
                drop(request_pump);
                endpoint.count_closed(stats);
                return before_head(phase, target);
            }
        };
        let status = response_head.status;
        stats.record_upstream_status(status);
        endpoint.stats.record_status(status);
        if let Some(gate) = target.retry {
            let header = |name: &str| {
                (spans.iter())
                    .find(|h| h.name.get(buf).eq_ignore_ascii_case(name.as_bytes()))
                    .map(|h| h.value.get(buf))
            };
            if gate.retry_response(status, end_at_headers, header) {
                // Dropped at its head: the loop tries again.
                drop(request_pump);
                endpoint.count_closed(stats);
                let dropped = Exchanged::Reply(LocalReply::ResetBeforeResponse);
                return (AttemptEnd::Response(status), dropped);
            }
        }
        let head_after = started.elapsed();
        let mut response = http::Response::new(());
        *response.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        convert::from_h1(buf, &spans, response.headers_mut());
        if !target.listener.config.suppress_envoy_headers {
            convert::set_service_time(response.headers_mut(), head_after);
        }
        if let Some(log) = target.log {
            log.response(response.headers());
        }
        let body_start = response_head.head_len;
        let end = matches!(
            response_head.framing,
            BodyFraming::Empty | BodyFraming::Length(0)
        );
        let mut down = match respond.send_response(response, end) {
            Ok(down) => down,
            Err(_) => {
                endpoint.count_closed(stats);
                return (AttemptEnd::Downstream, Exchanged::ClientGone);
            }
        };
        target.clock.responding();
        let mut flag = None;
        let mut bytes_sent = 0;
        let mut complete = end;
        if !end {
            let finished = {
                let mut response_pump = pin!(pump_from_h1(
                    reader,
                    buf,
                    body_start,
                    response_head.framing,
                    &mut down,
                    Waits::Response(target.clock, target.timeout),
                ));
                poll_fn(|cx| {
                    poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
                    match &request_done {
                        Some(Err(PumpError::Source(_))) => {
                            return Poll::Ready(Err(Phase::ClientGone));
                        }
                        Some(Err(PumpError::Malformed)) => {
                            return Poll::Ready(Err(Phase::Malformed));
                        }
                        _ => {}
                    }
                    if let Poll::Ready(r) = response_pump.as_mut().poll(cx) {
                        return Poll::Ready(Ok(r));
                    }
                    if timer.poll_deadline(cx).is_ready() {
                        return Poll::Ready(Err(Phase::TimedOut(Expiry::Route)));
                    }
                    Poll::Pending
                })
                .await
            };
            match finished {
                Ok(Ok(n)) => {
                    bytes_sent = n;
                    complete = true;
                }
                Ok(Err(PumpError::Source(_))) => {
                    target.listener_reset(&mut down, Reason::INTERNAL_ERROR);
                    flag = Some(ResponseFlag::UpstreamConnectionTermination);
                }
                Ok(Err(PumpError::Sink | PumpError::TooLarge)) | Err(Phase::ClientGone) => {
                    flag = Some(ResponseFlag::DownstreamRemoteReset);
                }
                Ok(Err(PumpError::Malformed)) | Err(Phase::Malformed) => {
                    target.listener_reset(&mut down, Reason::PROTOCOL_ERROR);
                    flag = Some(ResponseFlag::LocalReset);
                }
                Ok(Err(PumpError::Idle(Expiry::StreamIdle | Expiry::Request))) => {
                    // Nothing moved either way: cut, as Envoy does.
                    Expiry::StreamIdle.count(&target.listener.stats);
                    target.listener_reset(&mut down, Reason::CANCEL);
                    flag = Some(ResponseFlag::StreamIdleTimeout);
                }
                Ok(Err(PumpError::Idle(Expiry::Route))) | Err(_) => {
                    stats.upstream_rq_timeout.inc();
                    endpoint.stats.rq_timeout.inc();
                    target.listener_reset(&mut down, Reason::CANCEL);
                    flag = Some(ResponseFlag::UpstreamTimeout);
                }
            }
        }
        drop(request_pump);
        let request_complete = end_at_headers || matches!(request_done, Some(Ok(_)));
        let leftover =
            buf.len() > body_start && matches!(response_head.framing, BodyFraming::Empty);
        let reusable = complete && request_complete && response_head.keep_alive && !leftover;
        endpoint.release(up, reusable, stats);
        let exchanged = Exchanged::Responded {
            status,
            flag,
            bytes_received: match request_done {
                Some(Ok(n)) => n,
                _ => 0,
            },
            bytes_sent,
            upstream_time: Some(head_after),
        };
        (AttemptEnd::Response(status), exchanged)
    }
}

/// How an attempt ended that got no response head.
fn before_head(phase: Phase, target: &Target<'_>) -> (AttemptEnd, Exchanged) {
    match phase {
        Phase::Head(HeadFailure::Closed) => (
            AttemptEnd::ClosedBeforeResponse,
            Exchanged::Reply(LocalReply::ClosedBeforeResponse),
        ),
        Phase::Head(HeadFailure::Malformed) => (
            AttemptEnd::ProtocolError,
            Exchanged::Reply(LocalReply::MalformedResponse),
        ),
        Phase::ClientGone => (AttemptEnd::Downstream, Exchanged::ClientGone),
        Phase::Malformed => (
            AttemptEnd::Downstream,
            Exchanged::Reply(LocalReply::MalformedRequest),
        ),
        Phase::TooLarge => (
            AttemptEnd::Downstream,
            Exchanged::Reply(LocalReply::BodyTooLarge),
        ),
        Phase::TimedOut(expiry) => (AttemptEnd::Timeout, target.ran_out(expiry, true)),
        Phase::Stalled(expiry) => (AttemptEnd::Downstream, target.ran_out(expiry, false)),
    }
}

enum Phase {
    /// The request's trailers are malformed.
    Malformed,
    Head(HeadFailure),
    ClientGone,
    TooLarge,
    /// The route timeout, gRPC deadline or stream idle timeout ran out
    /// waiting for the head.
    TimedOut(Expiry),
    /// The request body stopped coming (stream idle or request timeout).
    Stalled(Expiry),
}

/// Reads until `buf` starts with a final response head (interim 1xx
/// responses are dropped: HTTP/2 clients get the final one).
async fn read_head(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    method: Method,
    spans: &mut Vec<HeaderSpan>,
) -> Result<ResponseHead, HeadFailure> {
    loop {
        if !buf.is_empty() {
            match parse_response(
                buf,
                method,
                MIN_RESPONSE_HEAD_BYTES,
                MAX_RESPONSE_HEADERS,
                spans,
            ) {
                Ok(Some(head)) if (100..200).contains(&head.status) && head.status != 101 => {
                    buf.drain(..head.head_len);
                    continue;
                }
                Ok(Some(head)) if head.status == 101 => return Err(HeadFailure::Malformed),
                Ok(Some(head)) => return Ok(head),
                Ok(None) => {}
                Err(_) => return Err(HeadFailure::Malformed),
            }
        }
        ensure_room(buf, 4096, MIN_RESPONSE_HEAD_BYTES + 4096);
        match read_append(reader, buf, READ_STALL).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed | ReadOutcome::TimedOut => {
                return Err(HeadFailure::Closed);
            }
            ReadOutcome::Read(_) => {}
        }
    }
}

/// Writes the request body from HTTP/2 DATA frames to the upstream.
async fn pump_to_h1(
    recv: &mut RecvStream,
    writer: &mut StreamWriter,
    framing: H1Framing,
    limit: Option<u64>,
    (audit, waits): (&TrailerAudit, Waits<'_>),
) -> Result<u64, PumpError> {
    let chunked = framing == H1Framing::Chunked;
    let mut out = Vec::with_capacity(16 * 1024 + 32);
    let mut moved = 0u64;
    loop {
        let next = within(waits, async { Ok(poll_fn(|cx| recv.poll_data(cx)).await) });
        let data = match next.await? {
            None => break,
            Some(Err(e)) => return Err(PumpError::Source(Some(e))),
            Some(Ok(data)) => data,
        };
        let n = data.len();
        if limit.is_some_and(|l| moved + n as u64 > l) {
            return Err(PumpError::TooLarge);
        }
        out.clear();
        if chunked {
            convert::push_chunk(&mut out, &data);
        } else {
            out.extend_from_slice(&data);
        }
        let len = out.len();
        let (res, o) = crate::io::write_range(writer, out, 0, len).await;
        out = o;
        res.map_err(|_| PumpError::Sink)?;
        let _ = recv.flow_control().release_capacity(n);
        moved += n as u64;
    }
    let trailers = within(waits, async {
        poll_fn(|cx| recv.poll_trailers(cx))
            .await
            .map_err(|e| PumpError::Source(Some(e)))
    })
    .await?;
    if let Some(trailers) = &trailers
        && !audit.well_formed(recv.stream_id().as_u32(), trailers)
    {
        return Err(PumpError::Malformed);
    }
    if chunked {
        out.clear();
        convert::push_last_chunk(&mut out, trailers.as_ref());
        let len = out.len();
        let (res, _) = crate::io::write_range(writer, out, 0, len).await;
        res.map_err(|_| PumpError::Sink)?;
    }
    Ok(moved)
}

/// Sends the upstream's response body (from `buf[start..]` on) as DATA
/// frames, then its trailers; returns the payload bytes sent.
async fn pump_from_h1(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    start: usize,
    framing: BodyFraming,
    down: &mut SendStream<Bytes>,
    waits: Waits<'_>,
) -> Result<u64, PumpError> {
    buf.drain(..start.min(buf.len()));
    let mut sent = 0u64;
    match framing {
        BodyFraming::Empty => {}
        BodyFraming::Length(mut remaining) => {
            while remaining > 0 {
                if buf.is_empty() && read_more(reader, buf, down, waits).await? == 0 {
                    return Err(PumpError::Source(None));
                }
                let n = (buf.len() as u64).min(remaining) as usize;
                send_data(down, Bytes::copy_from_slice(&buf[..n])).await?;
                buf.drain(..n);
                remaining -= n as u64;
                sent += n as u64;
            }
        }
        BodyFraming::UntilClose => loop {
            if !buf.is_empty() {
                sent += buf.len() as u64;
                send_data(down, Bytes::copy_from_slice(buf)).await?;
                buf.clear();
            }
            if read_more(reader, buf, down, waits).await? == 0 {
                break;
            }
        },
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            let mut pos = 0;
            loop {
                let input = buf.get(pos..).unwrap_or_default();
                let (consumed, event) =
                    decoder.decode(input).map_err(|_| PumpError::Source(None))?;
                match event {
                    ChunkEvent::Data(range) => {
                        let data = Bytes::copy_from_slice(&input[range]);
                        pos += consumed;
                        sent += data.len() as u64;
                        send_data(down, data).await?;
                    }
                    ChunkEvent::Trailers(range) => {
                        let trailers = convert::parse_trailers(&input[range]);
                        buf.drain(..pos + consumed);
                        if !trailers.is_empty() {
                            down.send_trailers(trailers).map_err(|_| PumpError::Sink)?;
                            return Ok(sent);
                        }
                        break;
                    }
                    ChunkEvent::Done => {
                        buf.drain(..pos + consumed);
                        break;
                    }
                    ChunkEvent::NeedMore => {
                        buf.drain(..pos + consumed);
                        pos = 0;
                        if read_more(reader, buf, down, waits).await? == 0 {
                            return Err(PumpError::Source(None));
                        }
                    }
                }
            }
        }
    }
    down.send_data(Bytes::new(), true)
        .map_err(|_| PumpError::Sink)?;
    Ok(sent)
}

/// Reads more of the response, unless the client resets the stream first;
/// each wait bounded by `waits`.
async fn read_more(
    reader: &mut StreamReader,
    buf: &mut Vec<u8>,
    down: &mut SendStream<Bytes>,
    waits: Waits<'_>,
) -> Result<usize, PumpError> {
    ensure_room(buf, 16 * 1024, MAX_STREAM_BUFFER_BYTES);
    let clock = waits.clock();
    loop {
        let bound = waits.bound();
        monoio::select! {
            r = read_append(reader, buf, bound.wait) => match r {
                ReadOutcome::Read(n) => {
                    clock.moved();
                    return Ok(n);
                }
                ReadOutcome::TimedOut => {
                    // Not idle if the request moved meanwhile: wait again.
                    if let Some(expiry) = clock.ran_out(&bound) {
                        return Err(PumpError::Idle(expiry));
                    }
                }
                ReadOutcome::Failed => return Err(PumpError::Source(None)),
            },
            _ = poll_fn(|cx| down.poll_reset(cx)) => return Err(PumpError::Sink),
        }
    }
}
