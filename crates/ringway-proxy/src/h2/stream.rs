//! One HTTP/2 request stream: route it, answer locally or forward it to an
//! HTTP/2 or HTTP/1.1 upstream, and account for it.
//!
//! Replies ringway makes itself to a gRPC request are gRPC-shaped: HTTP 200
//! with `content-type: application/grpc` and a trailers-only
//! `grpc-status`/`grpc-message`, so that gRPC clients see UNAVAILABLE,
//! DEADLINE_EXCEEDED and so on rather than a protocol error.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::header::{self, HeaderMap, HeaderValue};
use monoio::time::Sleep;
use ringway_config::model::{Route, RouteAction, UpstreamProtocol};
use ringway_grpc::Code;
use ringway_route::{HeaderLookup, RequestView};

use super::server::ConnShared;
use super::{headers, upstream_h1, upstream_h2};
use crate::access_log::Entry;
use crate::head::RequestId;
use crate::local_reply::{self, ResponseFlag};
use crate::pool::EndpointPool;
use crate::state::{ActiveConfig, ClusterState, ListenerState, ProxyState};

/// Where a request is forwarded, and its limits.
#[derive(Debug)]
pub(crate) struct Target<'a> {
    pub(crate) listener: &'a ListenerState,
    pub(crate) cluster: &'a ClusterState,
    pub(crate) endpoint: &'a EndpointPool,
    /// The route timeout: for the response head once the request is
    /// complete, then for each wait for more response bytes.
    pub(crate) timeout: Duration,
    /// The whole exchange's deadline, from `grpc-timeout`.
    pub(crate) deadline: Option<Instant>,
    /// Request body limit.
    pub(crate) limit: Option<u64>,
    pub(crate) grpc: bool,
}

/// A request as forwarded: headers already readied for the next hop.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: http::Method,
    /// Absolute: scheme, authority and path.
    pub(crate) uri: http::Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RecvStream,
}

/// How forwarding one stream ended.
#[derive(Debug)]
pub(crate) enum Exchanged {
    /// A response (possibly cut short, then `flag` says how) went down.
    Responded {
        status: u16,
        flag: Option<ResponseFlag>,
        bytes_received: u64,
        bytes_sent: u64,
        upstream_time: Option<Duration>,
    },
    /// Nothing went downstream yet: answer locally.
    Local {
        status: u16,
        flag: ResponseFlag,
        message: &'static str,
    },
    /// The request body exceeded its limit before a response began.
    TooLarge,
    /// The client reset the stream (or left) before the response began.
    ClientGone,
}

impl Exchanged {
    pub(crate) fn local(status: u16, flag: ResponseFlag, message: &'static str) -> Self {
        Self::Local {
            status,
            flag,
            message,
        }
    }
}

impl Target<'_> {
    /// Until when to wait for a connection (or a stream slot) from now.
    pub(crate) fn connect_deadline(&self) -> Instant {
        let by_route = Instant::now() + self.timeout;
        self.deadline.map_or(by_route, |d| d.min(by_route))
    }

    /// 504 before any response: the route timeout (or the gRPC deadline)
    /// passed.
    pub(crate) fn timed_out(&self) -> Exchanged {
        self.cluster.stats.upstream_rq_timeout.inc();
        Exchanged::local(
            504,
            ResponseFlag::UpstreamTimeout,
            "upstream request timeout",
        )
    }

    /// Resets the downstream stream, counting it.
    pub(crate) fn listener_reset(&self, send: &mut SendStream<Bytes>, reason: Reason) {
        send.send_reset(reason);
        self.listener.stats.http2_tx_reset.inc();
        self.listener.stats.downstream_rq_tx_reset.inc();
    }
}

/// What to account for one stream.
#[derive(Default)]
struct Outcome {
    status: u16,
    flag: Option<ResponseFlag>,
    bytes_received: u64,
    bytes_sent: u64,
    /// The request id sent upstream, for the access log.
    request_id: Option<String>,
    upstream: Option<SocketAddr>,
    upstream_time: Option<Duration>,
}

/// Serves one request stream, start to end.
pub(crate) async fn handle(
    state: Rc<ProxyState>,
    listener_name: Rc<str>,
    conn: Rc<ConnShared>,
    peer: SocketAddr,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let config = state.current();
    let Some(listener) = config.listeners.get(&*listener_name).cloned() else {
        respond.send_reset(Reason::REFUSED_STREAM);
        conn.stream_ended();
        return;
    };
    let started = Instant::now();
    let start_time = SystemTime::now();
    let stats = &listener.stats;
    stats.request_started(true);
    state.requests_total.set(state.requests_total.get() + 1);

    let (parts, body) = request.into_parts();
    let log = listener
        .access_log
        .as_ref()
        .map(|_| LogCapture::new(&parts));
    let outcome = if reset_already(&mut respond) {
        client_reset(&listener, &conn)
    } else {
        serve(
            &state,
            &config,
            &listener,
            &conn,
            peer,
            parts,
            body,
            &mut respond,
        )
        .await
    };

    let elapsed = started.elapsed();
    stats.request_ended(outcome.status, elapsed);
    if let (Some(logger), Some(f)) = (&listener.access_log, log) {
        let upstream = outcome.upstream.map(|a| a.to_string());
        logger.log(&Entry {
            start: start_time,
            method: &f.method,
            path: &f.path,
            protocol: "HTTP/2",
            status: outcome.status,
            flags: outcome.flag.map(ResponseFlag::code).unwrap_or("-"),
            bytes_received: outcome.bytes_received,
            bytes_sent: outcome.bytes_sent,
            duration: elapsed,
            upstream_service_time: outcome.upstream_time,
            forwarded_for: f.forwarded_for.as_deref().unwrap_or("-"),
            user_agent: f.user_agent.as_deref().unwrap_or("-"),
            request_id: outcome
                .request_id
                .as_deref()
                .or(f.request_id.as_deref())
                .unwrap_or("-"),
            authority: &f.authority,
            upstream_host: upstream.as_deref().unwrap_or("-"),
        });
    }
    conn.stream_ended();
}

/// Whether the client reset the stream already (a request reset in the
/// same packet that opened it costs nothing upstream).
fn reset_already(respond: &mut SendResponse<Bytes>) -> bool {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    matches!(respond.poll_reset(&mut cx), Poll::Ready(_))
}

fn client_reset(listener: &ListenerState, conn: &ConnShared) -> Outcome {
    listener.stats.downstream_rq_rx_reset.inc();
    listener.stats.http2_rx_reset.inc();
    conn.premature_reset();
    Outcome {
        flag: Some(ResponseFlag::DownstreamRemoteReset),
        ..Outcome::default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    state: &ProxyState,
    config: &ActiveConfig,
    listener: &ListenerState,
    conn: &ConnShared,
    peer: SocketAddr,
    parts: http::request::Parts,
    body: RecvStream,
    respond: &mut SendResponse<Bytes>,
) -> Outcome {
    let grpc = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| ringway_grpc::is_grpc(v.as_bytes()));
    let authority = request_authority(&parts);
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let route = {
        let view = RequestView {
            method: parts.method.as_str().as_bytes(),
            host: authority.as_bytes(),
            target: target.as_bytes(),
            headers: &MapLookup(&parts.headers),
        };
        ringway_route::route(&listener.config, &view)
    };
    let head_only = parts.method == http::Method::HEAD;
    let reply = |respond: &mut SendResponse<Bytes>, status, flag, message: &str| {
        let bytes = local(respond, grpc, head_only, status, message, None);
        local_outcome(grpc, status, flag, bytes)
    };
    let Some(route) = route else {
        listener.stats.no_route.inc();
        return reply(
            respond,
            404,
            Some(ResponseFlag::NoRoute),
            "no route matched this request",
        );
    };
    match &route.action {
        RouteAction::DirectResponse { status, body } => {
            listener.stats.rq_direct_response.inc();
            let bytes = local(respond, false, head_only, *status, body, None);
            return local_outcome(false, *status, None, bytes);
        }
        RouteAction::Redirect(redirect) => {
            listener.stats.rq_redirect.inc();
            let location = local_reply::redirect_location(redirect, &authority, &target);
            let bytes = local(
                respond,
                false,
                head_only,
                redirect.status,
                "",
                Some(&location),
            );
            return local_outcome(false, redirect.status, None, bytes);
        }
        RouteAction::Cluster(_)
        | RouteAction::ClusterFrom(_)
        | RouteAction::WeightedClusters(_) => {}
    }
    let found = crate::discovery::route_cluster(
        state,
        config,
        listener,
        route,
        authority.as_bytes(),
        &MapLookup(&parts.headers),
    )
    .await;
    let cluster = match found {
        Ok(cluster) => cluster,
        Err(no_cluster) => {
            let message = no_cluster.message().trim_end();
            return reply(respond, 503, Some(ResponseFlag::NoClusterFound), message);
        }
    };
    let cluster = &cluster;
    let limit = listener.body_limit(route);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok()?.parse::<u64>().ok());
    if let (Some(limit), Some(n)) = (limit, declared)
        && n > limit
    {
        listener.stats.downstream_rq_too_large.inc();
        return reply(
            respond,
            413,
            Some(ResponseFlag::LocalReset),
            "request body too large",
        );
    }
    let Some(endpoint) = crate::forward::pick_endpoint(cluster) else {
        cluster.stats.upstream_cx_none_healthy.inc();
        return reply(
            respond,
            503,
            Some(ResponseFlag::NoHealthyUpstream),
            "no healthy upstream endpoint",
        );
    };
    let request = match forwarded_request(state, route, peer, parts, body, &authority, &target) {
        Some(request) => request,
        None => {
            return reply(
                respond,
                400,
                Some(ResponseFlag::LocalReset),
                "malformed request",
            );
        }
    };
    let deadline = grpc
        .then(|| request.headers.get(headers::GRPC_TIMEOUT))
        .flatten()
        .and_then(|v| ringway_grpc::parse_timeout(v.as_bytes()))
        .map(|t| Instant::now() + t);
    let request_id = listener
        .access_log
        .as_ref()
        .and_then(|_| request.headers.get(headers::X_REQUEST_ID))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let target = Target {
        listener,
        cluster,
        endpoint: &endpoint,
        timeout: route.timeout,
        deadline,
        limit,
        grpc,
    };

    let started = Instant::now();
    endpoint
        .active_requests
        .set(endpoint.active_requests.get() + 1);
    cluster.stats.upstream_rq_active.inc();
    let exchanged = match cluster.config.protocol {
        UpstreamProtocol::Http2 => upstream_h2::exchange(&target, request, respond).await,
        UpstreamProtocol::Http1 => upstream_h1::exchange(&target, request, respond).await,
    };
    endpoint
        .active_requests
        .set(endpoint.active_requests.get().saturating_sub(1));
    cluster.stats.upstream_rq_active.dec();

    let upstream = Some(endpoint.address);
    match exchanged {
        Exchanged::Responded {
            status,
            flag,
            bytes_received,
            bytes_sent,
            upstream_time,
        } => {
            cluster.stats.record_upstream_rq_time(started.elapsed());
            if flag == Some(ResponseFlag::DownstreamRemoteReset) {
                listener.stats.downstream_rq_rx_reset.inc();
                listener.stats.http2_rx_reset.inc();
            }
            Outcome {
                status,
                flag,
                bytes_received,
                bytes_sent,
                request_id,
                upstream,
                upstream_time,
            }
        }
        Exchanged::Local {
            status,
            flag,
            message,
        } => reply(respond, status, Some(flag), message),
        Exchanged::TooLarge => {
            listener.stats.downstream_rq_too_large.inc();
            reply(
                respond,
                413,
                Some(ResponseFlag::LocalReset),
                "request body too large",
            )
        }
        Exchanged::ClientGone => {
            respond.send_reset(Reason::CANCEL);
            let mut outcome = client_reset(listener, conn);
            outcome.upstream = upstream;
            outcome
        }
    }
}

/// The request's method, absolute URI and headers for the next hop.
fn forwarded_request(
    state: &ProxyState,
    route: &Route,
    peer: SocketAddr,
    parts: http::request::Parts,
    body: RecvStream,
    authority: &str,
    target: &str,
) -> Option<Request> {
    let http::request::Parts {
        method,
        uri,
        mut headers,
        ..
    } = parts;
    let request_id = (!headers.contains_key(headers::X_REQUEST_ID))
        .then(|| RequestId::generate(&mut state.rng.borrow_mut()));
    headers::prepare_request(
        &mut headers,
        peer.ip(),
        request_id.as_ref().map(RequestId::as_str),
    );
    let mut rewritten = Vec::new();
    let path_rewritten = ringway_route::rewrite_prefix(route, target.as_bytes(), &mut rewritten);
    let uri = if !path_rewritten
        && route.host_rewrite.is_none()
        && uri.scheme() == Some(&http::uri::Scheme::HTTP)
        && uri.authority().is_some()
    {
        // The common case: the request's own absolute URI goes on as it is.
        uri
    } else {
        let path = if path_rewritten {
            String::from_utf8(rewritten).ok()?
        } else {
            target.to_owned()
        };
        let authority = route.host_rewrite.as_deref().unwrap_or(authority);
        http::Uri::builder()
            .scheme("http")
            .authority(authority)
            .path_and_query(path)
            .build()
            .ok()?
    };
    Some(Request {
        method,
        uri,
        headers,
        body,
    })
}

/// `:authority`, else `Host`.
fn request_authority(parts: &http::request::Parts) -> String {
    match parts.uri.authority() {
        Some(a) => a.as_str().to_owned(),
        None => parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Sends a local reply; returns the body bytes sent.
fn local(
    respond: &mut SendResponse<Bytes>,
    grpc: bool,
    head_only: bool,
    status: u16,
    message: &str,
    location: Option<&str>,
) -> u64 {
    if grpc {
        let code = match status {
            504 => Code::DeadlineExceeded,
            s => Code::for_http_status(s),
        };
        let mut response = http::Response::new(());
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(ringway_grpc::CONTENT_TYPE),
        );
        h.extend(grpc_trailers(code, message.trim_end()));
        let _ = respond.send_response(response, true);
        return 0;
    }
    let mut response = http::Response::new(());
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        h.insert(header::LOCATION, location);
    }
    let with_body = !message.is_empty() && !head_only;
    if !message.is_empty() {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(message.len() + 1));
    }
    let Ok(mut send) = respond.send_response(response, !with_body) else {
        return 0;
    };
    if with_body {
        let mut body = Vec::with_capacity(message.len() + 1);
        body.extend_from_slice(message.as_bytes());
        body.push(b'\n');
        let n = body.len() as u64;
        let _ = send.send_data(Bytes::from(body), true);
        return n;
    }
    0
}

fn local_outcome(grpc: bool, status: u16, flag: Option<ResponseFlag>, bytes_sent: u64) -> Outcome {
    Outcome {
        status: if grpc { 200 } else { status },
        flag,
        bytes_sent,
        ..Outcome::default()
    }
}

/// `grpc-status` and `grpc-message` for a status ringway produces.
pub(crate) fn grpc_trailers(code: Code, message: &str) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(2);
    map.insert(
        headers::GRPC_STATUS,
        HeaderValue::from_static(code.as_str()),
    );
    let mut encoded = String::with_capacity(message.len());
    ringway_grpc::encode_message(message, &mut encoded);
    if let Ok(v) = HeaderValue::from_str(&encoded) {
        map.insert(headers::GRPC_MESSAGE, v);
    }
    map
}

/// The clocks of one exchange: an overall deadline (from `grpc-timeout`),
/// and the route timeout, which starts once the request is complete and
/// bounds the wait for the response head.
#[derive(Debug)]
pub(crate) struct HeadTimer {
    timeout: Duration,
    head: Option<Pin<Box<Sleep>>>,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl HeadTimer {
    pub(crate) fn new(timeout: Duration, deadline: Option<Instant>) -> Self {
        Self {
            timeout,
            head: None,
            deadline: deadline.map(|d| Box::pin(monoio::time::sleep_until(d.into()))),
        }
    }

    /// Ready when the deadline passes, or the route timeout has passed
    /// since the first call with `request_complete`.
    pub(crate) fn poll_head(&mut self, cx: &mut Context<'_>, request_complete: bool) -> Poll<()> {
        if self.poll_deadline(cx).is_ready() {
            return Poll::Ready(());
        }
        if request_complete {
            let timeout = self.timeout;
            let head = self
                .head
                .get_or_insert_with(|| Box::pin(monoio::time::sleep(timeout)));
            return head.as_mut().poll(cx);
        }
        Poll::Pending
    }

    /// Ready when the overall deadline passes.
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.deadline {
            Some(d) => d.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

/// Header lookup over an `http::HeaderMap` (names are lower case there).
struct MapLookup<'a>(&'a HeaderMap);

impl HeaderLookup for MapLookup<'_> {
    fn find(&self, lower_case_name: &str) -> Option<&[u8]> {
        self.0.get(lower_case_name).map(HeaderValue::as_bytes)
    }
}

/// Request fields for the access log, captured before forwarding.
struct LogCapture {
    method: String,
    path: String,
    authority: String,
    user_agent: Option<String>,
    forwarded_for: Option<String>,
    request_id: Option<String>,
}

impl LogCapture {
    fn new(parts: &http::request::Parts) -> Self {
        let get = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
            authority: request_authority(parts),
            user_agent: get("user-agent"),
            forwarded_for: get("x-forwarded-for"),
            request_id: get("x-request-id"),
        }
    }
}
