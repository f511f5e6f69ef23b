//! One HTTP/2 request stream: hand it to the request stage, write what it
//! decides (a local reply, or the response of an exchange with an HTTP/2
//! or HTTP/1.1 upstream), and account for it.
//!
//! Replies ringway makes itself to a gRPC request are gRPC-shaped: HTTP 200
//! with `content-type: application/grpc` and a trailers-only
//! `grpc-status`/`grpc-message`, so that gRPC clients see UNAVAILABLE,
//! DEADLINE_EXCEEDED and so on rather than a protocol error.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::header::{self, HeaderValue};
use ringway_config::model::{Route, UpstreamProtocol};
use ringway_route::RequestView;

use super::exchange::{Exchanged, LogSink, Request, Target};
use super::shared::ConnShared;
use super::{upstream_h1, upstream_h2};
use crate::access_log::{Captured, ConnInfo, Needs};
use crate::http2::headers::{
    GRPC_TIMEOUT, MapLookup, X_FORWARDED_FOR, X_REQUEST_ID, grpc_trailers, prepare_request,
};
use crate::request::admission::Admitted;
use crate::request::finish::finish;
use crate::request::next_hop::Hop;
use crate::request::{
    Decision, Forward, LocalReply, LogLine, NextHop, Outcome, Reply, RequestContext, Started,
};
use crate::response_flag::ResponseFlag;
use crate::state::{ListenerState, ProxyState};

/// What one stream leaves for its access-log line.
#[derive(Debug, Default)]
struct StreamEnd {
    outcome: Outcome,
    /// The request id sent upstream.
    request_id: Option<String>,
}

impl From<Outcome> for StreamEnd {
    fn from(outcome: Outcome) -> Self {
        Self {
            outcome,
            request_id: None,
        }
    }
}

/// Serves one request stream, start to end.
///
/// The stream is served by its listener's current configuration; when the
/// listener has just been removed, by the one its connection was accepted
/// with (the connection is draining: GOAWAY is on its way).
pub(crate) async fn handle(
    state: Rc<ProxyState>,
    accepted_by: Rc<ListenerState>,
    listener_name: Rc<str>,
    conn: Rc<ConnShared>,
    info: ConnInfo,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let config = state.current();
    let listener = match config.listeners.get(&*listener_name) {
        Some(current) => current.clone(),
        None => accepted_by,
    };
    let (parts, body) = request.into_parts();
    let log = listener
        .access_log
        .as_ref()
        .map(|l| LogCapture::new(&parts, &l.needs, info));
    let peer = info.peer;
    let stream_id = respond.stream_id().as_u32();
    let ctx = RequestContext {
        state: &state,
        config: &config,
        listener: &listener,
        peer,
        started: Instant::now(),
    };
    let started = Started::count(&ctx, true);
    let end = if reset_already(&mut respond) {
        client_reset(&listener, &conn).into()
    } else {
        serve(&ctx, &conn, parts, body, &mut respond, log.as_ref()).await
    };
    let captured = log.as_ref().map(|l| l.captured.take());
    finish(&listener, started, &end.outcome, || {
        log.as_ref()
            .map(|f| f.line(end.request_id.as_deref(), captured.as_ref()))
    });
    conn.trailers.forget(stream_id);
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
    Outcome::no_response(ResponseFlag::DownstreamRemoteReset)
}

/// The request stage decides; this writes.
async fn serve(
    ctx: &RequestContext<'_>,
    conn: &ConnShared,
    parts: http::request::Parts,
    body: RecvStream,
    respond: &mut SendResponse<Bytes>,
    log: Option<&LogCapture>,
) -> StreamEnd {
    let grpc = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| ringway_grpc::is_grpc(v.as_bytes()));
    let head_only = parts.method == http::Method::HEAD;
    let writer = ReplyWriter { grpc, head_only };
    let authority = request_authority(&parts);
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok()?.parse::<u64>().ok());
    let decision = {
        let view = RequestView {
            method: parts.method.as_str().as_bytes(),
            host: authority.as_bytes(),
            target: target.as_bytes(),
            headers: &MapLookup(&parts.headers),
        };
        crate::request::decide(ctx, &view, declared).await
    };
    let forward = match decision {
        Decision::Reply(reply) => return writer.write(respond, &reply).into(),
        Decision::Forward(forward) => forward,
    };
    let Some((request, timeout)) =
        forwarded_request(ctx, &forward, parts, body, &authority, &target)
    else {
        return writer.local(respond, LocalReply::MalformedRequest).into();
    };
    if let Some(log) = log
        && ctx
            .listener
            .access_log
            .as_ref()
            .is_some_and(|l| l.needs.upstream_cluster)
    {
        let _ = log.cluster.set(forward.cluster.config.name.clone());
    }
    let log = log.zip(ctx.listener.access_log.as_deref());
    let log = log.map(|(capture, loggers)| LogSink {
        needs: &loggers.needs,
        captured: &capture.captured,
    });
    exchange(
        ctx,
        conn,
        &forward,
        (request, timeout),
        respond,
        (writer, log),
    )
    .await
}

/// Forwards to the decided endpoint and writes how it ended.
async fn exchange(
    ctx: &RequestContext<'_>,
    conn: &ConnShared,
    forward: &Forward<'_>,
    (request, timeout): (Request, Duration),
    respond: &mut SendResponse<Bytes>,
    (writer, log): (ReplyWriter, Option<LogSink<'_>>),
) -> StreamEnd {
    let listener = ctx.listener;
    let deadline = writer
        .grpc
        .then(|| request.headers.get(GRPC_TIMEOUT))
        .flatten()
        .and_then(|v| ringway_grpc::parse_timeout(v.as_bytes()))
        .map(|t| Instant::now() + t);
    let request_id = listener
        .access_log
        .as_ref()
        .and_then(|_| request.headers.get(X_REQUEST_ID))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let target = Target {
        listener,
        cluster: &forward.cluster,
        endpoint: RefCell::new(forward.endpoint.clone()),
        retry: forward.retry.as_ref(),
        timeout,
        deadline,
        clock: &forward.clock,
        limit: forward.body_limit,
        grpc: writer.grpc,
        trailers: &conn.trailers,
        log,
    };
    let admitted = Admitted::new(&forward.cluster, &forward.endpoint);
    let exchanged = match forward.cluster.config.protocol {
        UpstreamProtocol::Http2 => upstream_h2::exchange(&target, request, respond).await,
        UpstreamProtocol::Http1 => upstream_h1::exchange(&target, request, respond).await,
    };
    let upstream = Some(target.endpoint().address);
    let outcome = match exchanged {
        Exchanged::Responded {
            status,
            flag,
            bytes_received,
            bytes_sent,
            upstream_time,
        } => {
            admitted.responded();
            if flag == Some(ResponseFlag::DownstreamRemoteReset) {
                listener.stats.downstream_rq_rx_reset.inc();
                listener.stats.http2_rx_reset.inc();
            }
            Outcome {
                status: Some(status),
                flag: flag.or_else(|| forward.retry_flag()),
                bytes_received,
                bytes_sent,
                upstream,
                upstream_time,
            }
        }
        Exchanged::Reply(reply) => {
            if reply == LocalReply::BodyTooLarge {
                listener.stats.downstream_rq_too_large.inc();
            }
            writer.local(respond, reply)
        }
        Exchanged::ClientGone => {
            respond.send_reset(Reason::CANCEL);
            let mut outcome = client_reset(listener, conn);
            outcome.upstream = upstream;
            outcome
        }
    };
    StreamEnd {
        outcome,
        request_id,
    }
}

/// The request's method, absolute URI and headers for the next hop, and
/// its timeout.
fn forwarded_request(
    ctx: &RequestContext<'_>,
    forward: &Forward<'_>,
    parts: http::request::Parts,
    body: RecvStream,
    authority: &str,
    target: &str,
) -> Option<(Request, Duration)> {
    let http::request::Parts {
        method,
        uri,
        mut headers,
        ..
    } = parts;
    let route: &Route = forward.route;
    let hop = Hop {
        listener: &ctx.listener.config,
        route,
        peer: ctx.peer.ip(),
        has_request_id: headers.contains_key(X_REQUEST_ID),
        endpoint_hostname: forward.endpoint.hostname.as_deref(),
    };
    let mut next_hop = NextHop::new(&mut ctx.state.rng.borrow_mut(), hop, || {
        forwarded_for(&headers)
    });
    let mut rewritten = Vec::new();
    let path_rewritten = ringway_route::rewrite_path(route, target.as_bytes(), &mut rewritten);
    if path_rewritten {
        next_hop.path_rewritten();
    }
    let timeout = prepare_request(&mut headers, &next_hop, target.as_bytes());
    let uri = if !path_rewritten
        && next_hop.host_rewrite.is_none()
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
        let authority = next_hop.host_rewrite.unwrap_or(authority);
        http::Uri::builder()
            .scheme("http")
            .authority(authority)
            .path_and_query(path)
            .build()
            .ok()?
    };
    let request = Request {
        method,
        uri,
        headers,
        body,
    };
    Some((request, timeout))
}

/// The `x-forwarded-for` values, joined by `,` when there are several.
fn forwarded_for(headers: &http::HeaderMap) -> Option<std::borrow::Cow<'_, [u8]>> {
    let mut values = headers.get_all(X_FORWARDED_FOR).iter();
    let first = values.next()?.as_bytes();
    let mut joined: Option<Vec<u8>> = None;
    for value in values {
        let all = joined.get_or_insert_with(|| first.to_vec());
        all.push(b',');
        all.extend_from_slice(value.as_bytes());
    }
    Some(joined.map_or(std::borrow::Cow::Borrowed(first), std::borrow::Cow::Owned))
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

/// How local replies go out on this stream.
#[derive(Debug, Clone, Copy)]
struct ReplyWriter {
    /// A gRPC request: table replies are trailers-only gRPC answers.
    grpc: bool,
    /// A HEAD request: no body.
    head_only: bool,
}

impl ReplyWriter {
    /// Writes a decided reply.
    fn write(self, respond: &mut SendResponse<Bytes>, reply: &Reply<'_>) -> Outcome {
        match reply {
            Reply::Local(local) => self.local(respond, *local),
            Reply::Direct { status, body } => {
                let sent = self.http(respond, *status, body, None);
                Outcome::local(*status, None, sent)
            }
            Reply::Redirect { status, location } => {
                let sent = self.http(respond, *status, "", Some(location));
                Outcome::local(*status, None, sent)
            }
        }
    }

    /// Writes a reply from the table: gRPC-shaped to gRPC requests, else
    /// its message as one line of text.
    fn local(self, respond: &mut SendResponse<Bytes>, reply: LocalReply) -> Outcome {
        let (status, flag, message) = reply.spec();
        if self.grpc {
            let mut response = http::Response::new(());
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(ringway_grpc::CONTENT_TYPE),
            );
            h.extend(grpc_trailers(reply.grpc_code(), message));
            let _ = respond.send_response(response, true);
            return Outcome::local(200, flag, 0);
        }
        let mut line = String::with_capacity(message.len() + 1);
        line.push_str(message);
        line.push('\n');
        let sent = self.http(respond, status, &line, None);
        Outcome::local(status, flag, sent)
    }

    /// Writes an HTTP response with `body` as text; returns the body bytes
    /// sent.
    fn http(
        self,
        respond: &mut SendResponse<Bytes>,
        status: u16,
        body: &str,
        location: Option<&str>,
    ) -> u64 {
        let mut response = http::Response::new(());
        *response.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let h = response.headers_mut();
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
            h.insert(header::LOCATION, location);
        }
        let with_body = !body.is_empty() && !self.head_only;
        if !body.is_empty() {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        let Ok(mut send) = respond.send_response(response, !with_body) else {
            return 0;
        };
        if with_body {
            let n = body.len() as u64;
            let _ = send.send_data(Bytes::copy_from_slice(body.as_bytes()), true);
            return n;
        }
        0
    }
}

/// Request fields for the access log, captured before forwarding.
#[derive(Debug)]
struct LogCapture {
    method: String,
    path: String,
    authority: String,
    user_agent: Option<String>,
    forwarded_for: Option<String>,
    request_id: Option<String>,
    /// The cluster the request was forwarded to.
    cluster: OnceCell<String>,
    conn: ConnInfo,
    /// The headers the log formats name.
    captured: RefCell<Captured>,
}

impl LogCapture {
    /// The line's request fields; `request_id` is the one sent upstream
    /// (generated when the request had none).
    fn line<'a>(
        &'a self,
        request_id: Option<&'a str>,
        captured: Option<&'a Captured>,
    ) -> LogLine<'a> {
        LogLine {
            cluster: self.cluster.get().map_or("-", String::as_str),
            conn: Some(&self.conn),
            captured,
            method: &self.method,
            path: &self.path,
            protocol: "HTTP/2",
            authority: &self.authority,
            user_agent: self.user_agent.as_deref().unwrap_or("-"),
            forwarded_for: self.forwarded_for.as_deref().unwrap_or("-"),
            request_id: request_id.or(self.request_id.as_deref()).unwrap_or("-"),
        }
    }

    fn new(parts: &http::request::Parts, needs: &Needs, conn: ConnInfo) -> Self {
        let mut captured = Captured::default();
        if !needs.request.is_empty() {
            captured.request(needs, |n| parts.headers.get(n).map(|v| v.as_bytes()));
        }
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
            cluster: OnceCell::new(),
            conn,
            captured: RefCell::new(captured),
        }
    }
}
