//! An HTTP/1.1 request forwarded to an HTTP/2 upstream: the head becomes
//! HEADERS (`Host` → `:authority`, hop-by-hop fields dropped), the body
//! (by length or chunked) becomes DATA and its chunked trailers become
//! HTTP/2 trailers; the response comes back as an HTTP/1.1 head and a
//! body with its length, or chunked with the upstream's trailers as the
//! trailer section (close-delimited for HTTP/1.0 clients).
//!
//! Once the request body has begun to move, a failure before the response
//! is answered locally and the connection closes: the rest of the body
//! cannot be skipped reliably.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use http::header::{self, HeaderMap};
use monoio::io::{OwnedReadHalf, OwnedWriteHalf};
use monoio::net::TcpStream;
use ringway_config::model::Route;
use ringway_http1::{BodyFraming, ChunkEvent, ChunkedDecoder, RequestHead};

use crate::conn::{Downstream, Scratch, Served};
use crate::forward::Outcome;
use crate::h2::headers::{self as convert, H1Framing};
use crate::h2::{OpenError, OpenStream, PumpError, open_stream, poll_unless_done, send_data};
use crate::head::RequestId;
use crate::io::{ReadOutcome, ensure_room, read_append, write_range};
use crate::local_reply::ResponseFlag;
use crate::pool::EndpointPool;
use crate::state::{ClusterState, ListenerState, ProxyState};

/// How the exchange ended before a response head went downstream.
enum Early {
    Response(Result<http::Response<RecvStream>, h2::Error>),
    ClientGone,
    TooLarge,
    Malformed,
    TimedOut,
}

/// Forwards to `endpoint` of `cluster` over HTTP/2; `limit` is the request
/// body limit (the declared length has been checked already).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward(
    state: &ProxyState,
    listener: &ListenerState,
    cluster: &Rc<ClusterState>,
    endpoint: Rc<EndpointPool>,
    route: &Route,
    limit: Option<u64>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Outcome {
    let stats = &cluster.stats;
    let Some(request) = build_request(state, route, down, scratch, head) else {
        return Outcome::LocalClose {
            status: 400,
            flag: Some(ResponseFlag::LocalReset),
            message: "malformed request\n",
        };
    };
    let end_at_headers = matches!(head.framing, BodyFraming::Empty | BodyFraming::Length(0));
    let timeout = route.timeout;
    let opened = open_stream(
        &endpoint,
        cluster,
        Instant::now() + timeout,
        request,
        end_at_headers,
        false,
    )
    .await;
    let OpenStream {
        slot,
        response,
        send: mut upstream_send,
    } = match opened {
        Ok(opened) => opened,
        Err(OpenError::TimedOut) => return timed_out(cluster),
        Err(OpenError::Connect) => return crate::forward::connect_failure(),
        Err(OpenError::Closed) => {
            return Outcome::Local {
                status: 503,
                flag: Some(ResponseFlag::UpstreamConnectionTermination),
                message: "upstream connection closed\n",
            };
        }
    };
    stats.upstream_rq_active.inc();
    endpoint
        .active_requests
        .set(endpoint.active_requests.get() + 1);
    let started = Instant::now();
    let served = exchange(
        state,
        listener,
        cluster,
        down,
        scratch,
        head,
        response,
        &mut upstream_send,
        Pumping {
            started,
            end_at_headers,
            limit,
            timeout,
        },
    )
    .await;
    endpoint
        .active_requests
        .set(endpoint.active_requests.get().saturating_sub(1));
    stats.upstream_rq_active.dec();
    drop(slot);
    match served {
        Ok(mut served) => {
            stats.record_upstream_rq_time(started.elapsed());
            served.upstream = Some(endpoint.address);
            Outcome::Served(served)
        }
        Err(outcome) => outcome,
    }
}

struct Pumping {
    started: Instant,
    end_at_headers: bool,
    limit: Option<u64>,
    /// The route timeout: for the response head once the request body is
    /// complete, then for each wait for more response bytes.
    timeout: Duration,
}

#[allow(clippy::too_many_arguments)]
async fn exchange(
    state: &ProxyState,
    listener: &ListenerState,
    cluster: &ClusterState,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    response: h2::client::ResponseFuture,
    upstream_send: &mut SendStream<Bytes>,
    pumping: Pumping,
) -> Result<Served, Outcome> {
    let stats = &cluster.stats;
    let Downstream {
        reader,
        writer,
        buf,
        ..
    } = down;
    let idle = listener.config.limits.idle_timeout;
    let body_start = head.head_len;
    if head.expect_continue && !pumping.end_at_headers && buf.len() <= body_start {
        let (res, _) = write_range(writer, b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(), 0, 25).await;
        if res.is_err() {
            return Err(client_gone());
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
            idle,
        )
        .await
    });
    let mut request_done: Option<Result<(u64, usize), PumpError>> = None;
    let mut timer = crate::h2::HeadTimer::new(pumping.timeout, None);
    let early = {
        let mut response = pin!(response);
        poll_fn(|cx| {
            poll_unless_done(request_pump.as_mut(), &mut request_done, cx);
            match &request_done {
                Some(Err(PumpError::Source(None))) => return Poll::Ready(Early::ClientGone),
                Some(Err(PumpError::Source(Some(_)))) => return Poll::Ready(Early::Malformed),
                Some(Err(PumpError::TooLarge)) => return Poll::Ready(Early::TooLarge),
                _ => {}
            }
            if let Poll::Ready(r) = response.as_mut().poll(cx) {
                return Poll::Ready(Early::Response(r));
            }
            if timer.poll_head(cx, request_done.is_some()).is_ready() {
                return Poll::Ready(Early::TimedOut);
            }
            Poll::Pending
        })
        .await
    };
    let response = match early {
        Early::Response(Ok(response)) => response,
        Early::Response(Err(err)) => {
            if err.is_go_away() {
                stats.http2_goaway_received.inc();
            } else if err.is_remote() {
                stats.http2_rx_reset.inc();
                stats.upstream_rq_rx_reset.inc();
            }
            return Err(Outcome::LocalClose {
                status: 503,
                flag: Some(ResponseFlag::UpstreamRemoteReset),
                message: "upstream reset the stream before responding\n",
            });
        }
        Early::ClientGone => return Err(client_gone()),
        Early::TooLarge => {
            listener.stats.downstream_rq_too_large.inc();
            return Err(Outcome::LocalClose {
                status: 413,
                flag: Some(ResponseFlag::LocalReset),
                message: "request body too large\n",
            });
        }
        Early::Malformed => {
            return Err(Outcome::LocalClose {
                status: 400,
                flag: Some(ResponseFlag::LocalReset),
                message: "malformed request body\n",
            });
        }
        Early::TimedOut => return Err(timed_out(cluster)),
    };

    let (parts, mut body) = response.into_parts();
    let status = parts.status.as_u16();
    stats.record_upstream_status(status);
    let upstream_time = Some(pumping.started.elapsed());
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
    let keep_alive = head.keep_alive && framing != H1Framing::UntilClose && !state.draining.get();
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
            pumping.timeout
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
        Ok(Err(PumpError::Sink | PumpError::TooLarge)) | Err(_) => {
            flag = Some(ResponseFlag::DownstreamConnectionTermination);
        }
        Ok(Err(PumpError::Idle)) => {
            stats.upstream_rq_timeout.inc();
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
        status,
        flag,
        keep_alive: keep_alive && complete && request_complete,
        consumed,
        bytes_received,
        bytes_sent,
        upstream: None,
        upstream_time,
    })
}

fn client_gone() -> Outcome {
    Outcome::Served(Served {
        status: 0,
        flag: Some(ResponseFlag::DownstreamConnectionTermination),
        keep_alive: false,
        consumed: 0,
        bytes_received: 0,
        bytes_sent: 0,
        upstream: None,
        upstream_time: None,
    })
}

fn timed_out(cluster: &ClusterState) -> Outcome {
    cluster.stats.upstream_rq_timeout.inc();
    Outcome::LocalClose {
        status: 504,
        flag: Some(ResponseFlag::UpstreamTimeout),
        message: "upstream request timeout\n",
    }
}

/// The HTTP/2 request for an HTTP/1.1 head.
fn build_request(
    state: &ProxyState,
    route: &Route,
    down: &Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Option<http::Request<()>> {
    let buf = &down.buf;
    let target = head.target.get(buf);
    let authority = match &route.host_rewrite {
        Some(host) => host.as_bytes(),
        None => ringway_route::absolute_form_authority(target)
            .or_else(|| head.host.map(|h| h.get(buf)))
            .unwrap_or_default(),
    };
    let mut rewritten = std::mem::take(&mut scratch.rewrite);
    let path = if ringway_route::rewrite_prefix(route, target, &mut rewritten) {
        &rewritten[..]
    } else {
        ringway_route::origin_form(target)
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
    let request_id = head
        .request_id
        .is_none()
        .then(|| RequestId::generate(&mut state.rng.borrow_mut()));
    if let Some(id) = &request_id {
        scratch.log.set_request_id(id.as_str());
    }
    convert::prepare_request(
        headers,
        down.peer.ip(),
        request_id.as_ref().map(RequestId::as_str),
    );
    Some(request)
}

/// Sends the HTTP/1.1 request body (from `buf[start..]` on, reading more
/// from `reader`) as DATA frames, then any chunked trailers. Returns the
/// payload bytes and where the next request starts in `buf`.
async fn pump_request_body(
    reader: &mut OwnedReadHalf<TcpStream>,
    buf: &mut Vec<u8>,
    start: usize,
    framing: BodyFraming,
    send: &mut SendStream<Bytes>,
    limit: Option<u64>,
    idle: Duration,
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
                    read_body(reader, buf, idle).await?;
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
                        read_body(reader, buf, idle).await?;
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

async fn read_body(
    reader: &mut OwnedReadHalf<TcpStream>,
    buf: &mut Vec<u8>,
    idle: Duration,
) -> Result<(), PumpError> {
    ensure_room(buf, 16 * 1024, crate::io::MAX_STREAM_BUFFER_BYTES);
    match read_append(reader, buf, idle).await {
        ReadOutcome::Read(n) if n > 0 => Ok(()),
        _ => Err(PumpError::Source(None)),
    }
}

/// Writes the response head in `out`, then the body and trailers.
async fn write_response_body(
    writer: &mut OwnedWriteHalf<TcpStream>,
    out: &mut Vec<u8>,
    body: &mut RecvStream,
    framing: H1Framing,
    no_body: bool,
    idle: Duration,
) -> Result<u64, PumpError> {
    let mut sent = 0u64;
    let len = out.len();
    let (res, o) = write_range(writer, std::mem::take(out), 0, len).await;
    *out = o;
    res.map_err(|_| PumpError::Sink)?;
    if no_body {
        return Ok(0);
    }
    loop {
        let data = match monoio::time::timeout(idle, poll_fn(|cx| body.poll_data(cx))).await {
            Err(_) => return Err(PumpError::Idle),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(PumpError::Source(Some(e))),
            Ok(Some(Ok(data))) => data,
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
