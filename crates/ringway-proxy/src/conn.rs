//! One downstream HTTP/1.1 connection: read a request head, route it, answer
//! locally or forward it, and repeat while the connection stays alive.
//!
//! Requests on a connection are handled one after another, so pipelined
//! requests are answered in order; the bytes of the next request simply wait
//! in the connection's read buffer.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Instant, SystemTime};

use monoio::io::{OwnedReadHalf, OwnedWriteHalf, Splitable};
use monoio::net::TcpStream;
use ringway_config::model::{ListenerProtocol, RouteAction, UpstreamProtocol};
use ringway_http1::{BodyDecoder, BodyFraming, HeadLimits, HeaderSpan, RequestHead};
use ringway_route::{HeaderLookup, RequestView};

use crate::access_log::{Entry, LogFields};
use crate::forward::{self, Outcome};
use crate::h2::{self, Sniffed};
use crate::io::{ReadOutcome, ensure_room, read_append};
use crate::iovec::Piece;
use crate::local_reply::{self, ResponseFlag};
use crate::state::{ActiveConfig, ClusterState, ListenerState, ProxyState};

/// Initial size of a connection's request-direction buffer.
const DOWNSTREAM_BUFFER_BYTES: usize = 16 * 1024;

/// The downstream side of a connection and its request-direction buffer.
#[derive(Debug)]
pub(crate) struct Downstream {
    pub reader: OwnedReadHalf<TcpStream>,
    pub writer: OwnedWriteHalf<TcpStream>,
    pub peer: SocketAddr,
    /// Starts with the current request's head; may hold the next one.
    pub buf: Vec<u8>,
}

/// Buffers reused by every request on a connection.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub headers: Vec<HeaderSpan>,
    pub upstream_headers: Vec<HeaderSpan>,
    pub added: Vec<u8>,
    pub pieces: Vec<Piece>,
    pub iovecs: Vec<libc::iovec>,
    pub reply: Vec<u8>,
    pub rewrite: Vec<u8>,
    pub log: LogFields,
}

/// What happened to one request, for stats and the access log.
#[derive(Debug)]
pub(crate) struct Served {
    pub status: u16,
    pub flag: Option<ResponseFlag>,
    pub keep_alive: bool,
    /// Bytes of `Downstream::buf` that belonged to this request; the next
    /// request starts there.
    pub consumed: usize,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub upstream: Option<SocketAddr>,
    pub upstream_time: Option<std::time::Duration>,
}

enum HeadRead {
    Head(RequestHead),
    /// Clean end: EOF or idle timeout between requests.
    Closed,
    /// Answer with this status and close.
    Rejected(u16),
}

/// Serves one accepted connection until it closes.
pub async fn serve(
    state: Rc<ProxyState>,
    listener_name: Rc<str>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let _ = stream.set_nodelay(true);
    let first = state.current();
    let Some(listener) = first.listeners.get(&*listener_name).cloned() else {
        return;
    };
    drop(first);
    listener.stats.downstream_cx_total.inc();
    listener.stats.downstream_cx_active.inc();
    state
        .connections_active
        .set(state.connections_active.get() + 1);

    let mut stream = stream;
    let mut buf = Vec::with_capacity(DOWNSTREAM_BUFFER_BYTES);
    let protocol = match listener.config.protocol {
        ListenerProtocol::Http1 => Some(Sniffed::Http1),
        ListenerProtocol::Http2 => Some(Sniffed::Http2),
        ListenerProtocol::Auto => sniff(&mut stream, &mut buf, &listener).await,
    };
    match protocol {
        Some(Sniffed::Http2) => {
            let (l, name) = (listener.clone(), listener_name.clone());
            // Boxed, so HTTP/1.1 connections do not carry (and copy) the
            // HTTP/2 server's state in their own future.
            Box::pin(h2::serve(state.clone(), l, name, stream, buf, peer)).await;
        }
        Some(_) => serve_http1(&state, &listener_name, &listener, stream, buf, peer).await,
        None => {}
    }

    listener.stats.downstream_cx_destroy.inc();
    listener.stats.downstream_cx_active.dec();
    state
        .connections_active
        .set(state.connections_active.get().saturating_sub(1));
}

/// Reads until the first bytes tell HTTP/2's preface from HTTP/1.x;
/// `None` if the connection closes or stays silent first.
async fn sniff(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    listener: &ListenerState,
) -> Option<Sniffed> {
    let limits = &listener.config.limits;
    let mut timeout = limits.idle_timeout;
    loop {
        match read_append(stream, buf, timeout).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed => return None,
            ReadOutcome::TimedOut => {
                if buf.is_empty() {
                    listener.stats.downstream_cx_idle_timeout.inc();
                }
                return None;
            }
            ReadOutcome::Read(_) => {}
        }
        match h2::sniff(buf) {
            Sniffed::NeedMore => timeout = limits.request_head_timeout,
            found => return Some(found),
        }
    }
}

/// Serves HTTP/1.x on `stream`; `buf` holds bytes already read from it.
async fn serve_http1(
    state: &Rc<ProxyState>,
    listener_name: &Rc<str>,
    listener: &ListenerState,
    stream: TcpStream,
    buf: Vec<u8>,
    peer: SocketAddr,
) {
    listener.stats.downstream_cx_http1_total.inc();
    let (reader, writer) = stream.into_split();
    let mut down = Downstream {
        reader,
        writer,
        peer,
        buf,
    };
    let mut scratch = Scratch::default();
    let state = &**state;
    loop {
        // The listener's limits for reading the head come from the current
        // snapshot; the request itself is served from whatever is current
        // once its head has arrived (a reload may land while we wait).
        let waiting_config = state.current();
        let Some(waiting) = waiting_config.listeners.get(&**listener_name).cloned() else {
            break;
        };
        let head = match read_head(&mut down, &waiting, &mut scratch).await {
            HeadRead::Head(head) => head,
            HeadRead::Closed => break,
            HeadRead::Rejected(status) => {
                waiting.stats.downstream_rq_rejected_head.inc();
                if status == 408 {
                    waiting.stats.downstream_rq_header_timeout.inc();
                }
                waiting.stats.record_response_status(status);
                reply_and_close(&mut down, &mut scratch, status).await;
                break;
            }
        };
        let config = state.current();
        let listener = if Rc::ptr_eq(&config, &waiting_config) {
            waiting
        } else {
            drop(waiting);
            match config.listeners.get(&**listener_name).cloned() {
                Some(listener) => listener,
                None => break,
            }
        };
        drop(waiting_config);
        // A draining worker answers this request, then closes: say so.
        let head = RequestHead {
            keep_alive: head.keep_alive && !state.draining.get(),
            ..head
        };
        let served = handle(state, &config, &listener, &mut down, &mut scratch, &head).await;
        let keep = served.keep_alive && !state.draining.get();
        let consumed = served.consumed.min(down.buf.len());
        down.buf.drain(..consumed);
        // A large request body grew the buffer; give it back between requests.
        if down.buf.capacity() > DOWNSTREAM_BUFFER_BYTES * 4
            && down.buf.len() <= DOWNSTREAM_BUFFER_BYTES
        {
            let mut small = Vec::with_capacity(DOWNSTREAM_BUFFER_BYTES);
            small.extend_from_slice(&down.buf);
            down.buf = small;
        }
        if !keep {
            break;
        }
    }
}

/// Reads until `down.buf` starts with a complete request head.
async fn read_head(
    down: &mut Downstream,
    listener: &ListenerState,
    scratch: &mut Scratch,
) -> HeadRead {
    let limits = &listener.config.limits;
    let head_limits = HeadLimits {
        max_head_bytes: limits.max_request_head_bytes,
        max_headers: limits.max_request_headers,
        max_uri_bytes: limits.max_uri_bytes,
    };
    let mut head_deadline: Option<Instant> = None;
    loop {
        if !down.buf.is_empty() {
            match ringway_http1::parse_request(&down.buf, &head_limits, &mut scratch.headers) {
                Ok(Some(head)) => return HeadRead::Head(head),
                Ok(None) => {}
                Err(err) => {
                    tracing::debug!(peer = %down.peer, %err, "rejected request head");
                    return HeadRead::Rejected(err.status());
                }
            }
        }
        let timeout = match head_deadline {
            None if down.buf.is_empty() => limits.idle_timeout,
            None => {
                let deadline = Instant::now() + limits.request_head_timeout;
                head_deadline = Some(deadline);
                limits.request_head_timeout
            }
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
        };
        ensure_room(&mut down.buf, 4096, limits.max_request_head_bytes + 4096);
        let was_empty = down.buf.is_empty();
        match read_append(&mut down.reader, &mut down.buf, timeout).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed => return HeadRead::Closed,
            ReadOutcome::Read(_) => {}
            ReadOutcome::TimedOut if was_empty => {
                listener.stats.downstream_cx_idle_timeout.inc();
                return HeadRead::Closed;
            }
            ReadOutcome::TimedOut => return HeadRead::Rejected(408),
        }
    }
}

/// Routes and serves one request whose head is at the start of `down.buf`.
async fn handle(
    state: &ProxyState,
    config: &ActiveConfig,
    listener: &ListenerState,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Served {
    let started = Instant::now();
    let start_time = SystemTime::now();
    let stats = &listener.stats;
    stats.request_started(false);
    state.requests_total.set(state.requests_total.get() + 1);
    if listener.access_log.is_some() {
        scratch.log.capture(&down.buf, head, &scratch.headers);
    }

    let route = {
        let lookup = Lookup {
            buf: &down.buf,
            headers: &scratch.headers,
        };
        let view = RequestView {
            method: head.method_span.get(&down.buf),
            host: request_authority(&down.buf, head),
            target: head.target.get(&down.buf),
            headers: &lookup,
        };
        ringway_route::route(&listener.config, &view)
    };

    let served = match route {
        None => {
            stats.no_route.inc();
            local(
                down,
                scratch,
                head,
                404,
                "no route matched this request\n",
                "",
                Some(ResponseFlag::NoRoute),
            )
            .await
        }
        Some(route) => match &route.action {
            RouteAction::DirectResponse { status, body } => {
                stats.rq_direct_response.inc();
                local(down, scratch, head, *status, body, "", None).await
            }
            RouteAction::Redirect(redirect) => {
                stats.rq_redirect.inc();
                let host = String::from_utf8_lossy(request_authority(&down.buf, head)).into_owned();
                let target =
                    String::from_utf8_lossy(ringway_route::origin_form(head.target.get(&down.buf)))
                        .into_owned();
                let location = local_reply::redirect_location(redirect, &host, &target);
                let extra = format!("location: {location}\r\n");
                local(down, scratch, head, redirect.status, "", &extra, None).await
            }
            RouteAction::Cluster(_)
            | RouteAction::ClusterFrom(_)
            | RouteAction::WeightedClusters(_) => {
                let lookup = Lookup {
                    buf: &down.buf,
                    headers: &scratch.headers,
                };
                let authority = request_authority(&down.buf, head);
                let found = crate::discovery::route_cluster(
                    state, config, listener, route, authority, &lookup,
                )
                .await;
                match found {
                    Ok(cluster) => {
                        forward_to(state, listener, down, scratch, head, route, &cluster).await
                    }
                    Err(no_cluster) => {
                        local(
                            down,
                            scratch,
                            head,
                            503,
                            no_cluster.message(),
                            "",
                            Some(ResponseFlag::NoClusterFound),
                        )
                        .await
                    }
                }
            }
        },
    };

    let elapsed = started.elapsed();
    stats.request_ended(served.status, elapsed);
    if let Some(log) = &listener.access_log {
        let upstream = served.upstream.map(|a| a.to_string());
        let f = &scratch.log;
        log.log(&Entry {
            start: start_time,
            method: f.get(0),
            path: f.get(1),
            protocol: if head.minor_version == 0 {
                "HTTP/1.0"
            } else {
                "HTTP/1.1"
            },
            status: served.status,
            flags: served.flag.map(ResponseFlag::code).unwrap_or("-"),
            bytes_received: served.bytes_received,
            bytes_sent: served.bytes_sent,
            duration: elapsed,
            upstream_service_time: served.upstream_time,
            forwarded_for: f.get(3),
            user_agent: f.get(2),
            request_id: f.get(4),
            authority: f.get(5),
            upstream_host: upstream.as_deref().unwrap_or("-"),
        });
    }
    served
}

async fn forward_to(
    state: &ProxyState,
    listener: &ListenerState,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    route: &ringway_config::model::Route,
    cluster: &Rc<ClusterState>,
) -> Served {
    let limit = listener.body_limit(route);
    let outcome = if let (Some(limit), BodyFraming::Length(n)) = (limit, head.framing)
        && n > limit
    {
        forward::too_large(listener)
    } else if let Some(endpoint) = forward::pick_endpoint(cluster) {
        match cluster.config.protocol {
            UpstreamProtocol::Http1 => {
                forward::forward(
                    state, listener, cluster, endpoint, route, limit, down, scratch, head,
                )
                .await
            }
            UpstreamProtocol::Http2 => {
                crate::h1_to_h2::forward(
                    state, listener, cluster, endpoint, route, limit, down, scratch, head,
                )
                .await
            }
        }
    } else {
        cluster.stats.upstream_cx_none_healthy.inc();
        Outcome::Local {
            status: 503,
            flag: Some(ResponseFlag::NoHealthyUpstream),
            message: "no healthy upstream endpoint\n",
        }
    };
    match outcome {
        Outcome::Served(served) => served,
        Outcome::Local {
            status,
            flag,
            message,
        } => {
            let mut served = local(down, scratch, head, status, message, "", flag).await;
            served.upstream = None;
            served
        }
        Outcome::LocalClose {
            status,
            flag,
            message,
        } => {
            let head_only = head.method == ringway_http1::Method::Head;
            let _ = send_reply(down, scratch, status, message, false, head_only, "").await;
            Served {
                status,
                flag,
                keep_alive: false,
                consumed: down.buf.len(),
                bytes_received: 0,
                bytes_sent: message.len() as u64,
                upstream: None,
                upstream_time: None,
            }
        }
    }
}

/// Answers locally. The connection stays open only when the request's body
/// (if any) is already in the buffer, so the next request can be found.
async fn local(
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    status: u16,
    body: &str,
    extra_headers: &str,
    flag: Option<ResponseFlag>,
) -> Served {
    let mut decoder = BodyDecoder::new(head.framing);
    let rest = down.buf.get(head.head_len..).unwrap_or_default();
    let (consumed, body_in_buffer) = match decoder.advance(rest) {
        Ok(p) => (head.head_len + p.consumed, p.done),
        Err(_) => (down.buf.len(), false),
    };
    let keep_alive = head.keep_alive && body_in_buffer;
    let head_only = head.method == ringway_http1::Method::Head;
    let res = send_reply(
        down,
        scratch,
        status,
        body,
        keep_alive,
        head_only,
        extra_headers,
    )
    .await;
    Served {
        status,
        flag,
        keep_alive: keep_alive && res.is_ok(),
        consumed,
        bytes_received: decoder.payload_len(),
        bytes_sent: if head_only { 0 } else { body.len() as u64 },
        upstream: None,
        upstream_time: None,
    }
}

async fn reply_and_close(down: &mut Downstream, scratch: &mut Scratch, status: u16) {
    let body = match status {
        408 => "request head not received in time\n",
        414 => "request target too long\n",
        431 => "request header fields too large\n",
        505 => "HTTP version not supported\n",
        _ => "malformed request\n",
    };
    let _ = send_reply(down, scratch, status, body, false, false, "").await;
}

/// Renders a local reply into the connection's reply buffer and writes it.
async fn send_reply(
    down: &mut Downstream,
    scratch: &mut Scratch,
    status: u16,
    body: &str,
    keep_alive: bool,
    head_only: bool,
    extra_headers: &str,
) -> std::io::Result<()> {
    local_reply::render(
        &mut scratch.reply,
        status,
        body,
        keep_alive,
        head_only,
        extra_headers,
    );
    let reply = std::mem::take(&mut scratch.reply);
    let len = reply.len();
    let (res, reply) = crate::io::write_range(&mut down.writer, reply, 0, len).await;
    scratch.reply = reply;
    res
}

/// The request's authority: an absolute-form target's, else `Host`.
fn request_authority<'a>(buf: &'a [u8], head: &RequestHead) -> &'a [u8] {
    ringway_route::absolute_form_authority(head.target.get(buf))
        .or_else(|| head.host.map(|h| h.get(buf)))
        .unwrap_or_default()
}

/// Header lookup over the parsed spans of a head in its buffer.
pub(crate) struct Lookup<'a> {
    pub buf: &'a [u8],
    pub headers: &'a [HeaderSpan],
}

impl HeaderLookup for Lookup<'_> {
    fn find(&self, lower_case_name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| {
                h.name
                    .get(self.buf)
                    .eq_ignore_ascii_case(lower_case_name.as_bytes())
            })
            .map(|h| h.value.get(self.buf))
    }
}
