//! HTTP/1.1 downstream connections: read a request head, hand the request
//! to the request stage, write what it decides (a local reply, or the
//! response of an upstream exchange), and repeat while the connection
//! stays alive.
//!
//! Requests on a connection are handled one after another, so pipelined
//! requests are answered in order; the bytes of the next request simply
//! wait in the connection's read buffer. Heads go upstream as slices of
//! the bytes they arrived in ([`head`], [`iovec`]); bodies move through
//! reused buffers ([`exchange`]); an HTTP/2 cluster is reached through
//! [`to_h2`].

mod dechunk;
mod downstream;
mod exchange;
mod forward;
mod head;
mod iovec;
mod reply;
mod response;
mod to_h2;
mod tunnel;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use monoio::io::Splitable;
use ringway_config::model::UpstreamProtocol;
use ringway_http1::{BodyDecoder, BodyFraming, HeadLimits, RequestHead};
use ringway_route::RequestView;

use self::downstream::{Downstream, Scratch, Served};
use self::forward::Forwarded;
use self::head::ParsedHead;
use crate::access_log::ConnInfo;
use crate::io::{ReadOutcome, ensure_room, read_append};
use crate::limits::DOWNSTREAM_BUFFER_BYTES;
use crate::request::admission::Admitted;
use crate::request::finish::finish;
use crate::request::{Decision, Forward, LocalReply, Outcome, Reply, RequestContext, Started};
use crate::response_flag::ResponseFlag;
use crate::signal::Wait;
use crate::state::{ListenerState, ProxyState};
use crate::transport::Stream;

enum HeadRead {
    /// A whole head, and when its first byte arrived if not with its end.
    Head(RequestHead, Option<Instant>),
    /// Clean end: EOF or idle timeout between requests.
    Closed,
    /// Answer with this status and close.
    Rejected(u16),
}

/// Serves HTTP/1.x on `stream`; `buf` holds bytes already read from it.
pub(crate) async fn serve(
    state: &ProxyState,
    listener_name: &str,
    listener: &Rc<ListenerState>,
    stream: Stream,
    buf: Vec<u8>,
    info: ConnInfo,
) {
    let peer = info.peer;
    listener.stats.downstream_cx_http1_total.inc();
    let (reader, writer) = stream.into_split();
    let mut down = Downstream {
        reader,
        writer,
        peer,
        info,
        buf,
    };
    let mut scratch = Scratch::default();
    // Waits for the listener's removal between requests. Made once, so the
    // connection's waker is registered once, not per request.
    let removed = listener.removed.clone();
    let mut removed_wait = removed.wait();
    loop {
        // The listener's limits for reading the head come from the current
        // snapshot; the request itself is served from whatever is current
        // once its head has arrived (a reload may land while we wait).
        // A listener removed from the configuration serves what has
        // already arrived with the settings the connection had, then closes.
        let waiting_config = state.current();
        let waiting = match waiting_config.listeners.get(listener_name) {
            Some(current) => current.clone(),
            None => listener.clone(),
        };
        let (head, first_byte) =
            match read_head(&mut down, &waiting, &mut scratch, &mut removed_wait).await {
                HeadRead::Head(head, first_byte) => (head, first_byte),
                HeadRead::Closed => break,
                HeadRead::Rejected(status) => {
                    waiting.stats.downstream_rq_rejected_head.inc();
                    if status == 408 {
                        waiting.stats.downstream_rq_header_timeout.inc();
                    }
                    waiting.stats.record_response_status(status);
                    let reply = LocalReply::for_rejected_head(status);
                    let _ =
                        send_reply(&mut down, &mut scratch, reply_text(reply), false, false).await;
                    break;
                }
            };
        let config = state.current();
        let listener = if Rc::ptr_eq(&config, &waiting_config) {
            waiting
        } else {
            match config.listeners.get(listener_name) {
                Some(current) => current.clone(),
                None => waiting,
            }
        };
        drop(waiting_config);
        // A draining worker or listener answers this request, then closes:
        // say so.
        let ctx = RequestContext {
            state,
            config: &config,
            listener: &listener,
            peer,
            started: first_byte.unwrap_or_else(Instant::now),
        };
        let head = RequestHead {
            keep_alive: head.keep_alive && !ctx.closing(),
            ..head
        };
        let served = handle(&ctx, &mut down, &mut scratch, &head).await;
        let keep = served.keep_alive && !ctx.closing();
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
    removed: &mut Wait<'_>,
) -> HeadRead {
    let limits = &listener.config.limits;
    let head_limits = HeadLimits {
        max_head_bytes: limits.max_request_head_bytes,
        max_headers: limits.max_request_headers,
        max_uri_bytes: limits.max_uri_bytes,
    };
    // The request timeout bounds the head too.
    let head_timeout = match limits.request_timeout {
        Some(whole) => whole.min(limits.request_head_timeout),
        None => limits.request_head_timeout,
    };
    let mut head_deadline: Option<Instant> = None;
    loop {
        if !down.buf.is_empty() {
            match ringway_http1::parse_request(&down.buf, &head_limits, &mut scratch.headers) {
                Ok(Some(head)) => {
                    let first_byte = head_deadline.map(|d| d - head_timeout);
                    return HeadRead::Head(head, first_byte);
                }
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
                let deadline = Instant::now() + head_timeout;
                head_deadline = Some(deadline);
                head_timeout
            }
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
        };
        ensure_room(&mut down.buf, 4096, limits.max_request_head_bytes + 4096);
        let was_empty = down.buf.is_empty();
        let read = read_append(&mut down.reader, &mut down.buf, timeout);
        let outcome = if was_empty {
            // Between requests: a removed listener closes the connection.
            match unless_fired(read, removed).await {
                Some(outcome) => outcome,
                None => return HeadRead::Closed,
            }
        } else {
            read.await
        };
        match outcome {
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

/// `read`'s outcome, or `None` once `removed` fires first. Polls `read`
/// first; `removed` keeps its waker slot between calls.
async fn unless_fired<F: Future<Output = ReadOutcome>>(
    read: F,
    removed: &mut Wait<'_>,
) -> Option<ReadOutcome> {
    let mut read = std::pin::pin!(read);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(outcome) = read.as_mut().poll(cx) {
            return Poll::Ready(Some(outcome));
        }
        match Pin::new(&mut *removed).poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Serves one request whose head is at the start of `down.buf`: the
/// request stage decides, this writes.
async fn handle(
    ctx: &RequestContext<'_>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Served {
    let listener = ctx.listener;
    let started = Started::count(ctx, false);
    let parsed = ParsedHead {
        buf: &down.buf,
        head,
        headers: &scratch.headers,
    };
    if let Some(log) = &listener.access_log {
        scratch.log.capture(parsed, &log.needs);
    }
    let view = RequestView {
        method: head.method_span.get(parsed.buf),
        host: parsed.authority(),
        target: head.target.get(parsed.buf),
        headers: &parsed,
    };
    let declared = match head.framing {
        BodyFraming::Length(n) => Some(n),
        _ => None,
    };
    let served = match crate::request::decide(ctx, &view, declared).await {
        Decision::Reply(Reply::Local(LocalReply::BodyTooLarge)) => {
            // The body has not been read: answer, then close.
            reply_and_close(down, scratch, head, LocalReply::BodyTooLarge).await
        }
        Decision::Reply(reply) => {
            let text = match &reply {
                Reply::Local(local) => reply_text(*local),
                Reply::Direct { status, body } => ReplyText::new(*status, None, body),
                Reply::Redirect { status, location } => {
                    ReplyText::new(*status, None, "").with_location(location)
                }
            };
            local(down, scratch, head, text).await
        }
        Decision::Forward(forward) => forward_to(ctx, down, scratch, head, forward).await,
    };
    let protocol = if head.minor_version == 0 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    finish(listener, started, &served.outcome, || {
        Some(scratch.log.line(protocol, &down.info))
    });
    served
}

/// Forwards to the decided endpoint over the cluster's protocol.
async fn forward_to(
    ctx: &RequestContext<'_>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    forward: Forward<'_>,
) -> Served {
    let admitted = Admitted::new(&forward.cluster, &forward.endpoint);
    if let Some(log) = &ctx.listener.access_log
        && log.needs.upstream_cluster
    {
        scratch.log.set_cluster(&forward.cluster.config.name);
    }
    let forwarded = match forward.cluster.config.protocol {
        UpstreamProtocol::Http1 => forward::forward(ctx, &forward, down, scratch, head).await,
        UpstreamProtocol::Http2 => to_h2::forward(ctx, &forward, down, scratch, head).await,
    };
    match forwarded {
        Forwarded::Served(mut served) => {
            if served.outcome.upstream_time.is_some() {
                admitted.responded();
            }
            served.outcome.flag = served.outcome.flag.or_else(|| forward.retry_flag());
            served
        }
        Forwarded::Reply(reply) => local(down, scratch, head, reply_text(reply)).await,
        Forwarded::ReplyAndClose(reply) => reply_and_close(down, scratch, head, reply).await,
    }
}

/// A local reply as HTTP/1.1 writes it.
#[derive(Debug, Clone, Copy)]
struct ReplyText<'a> {
    status: u16,
    flag: Option<ResponseFlag>,
    /// The body, sent as `text/plain`.
    body: &'a str,
    /// A table message: the body is it plus a newline.
    line: bool,
    location: Option<&'a str>,
}

impl<'a> ReplyText<'a> {
    fn new(status: u16, flag: Option<ResponseFlag>, body: &'a str) -> Self {
        Self {
            status,
            flag,
            body,
            line: false,
            location: None,
        }
    }

    fn with_location(self, location: &'a str) -> Self {
        Self {
            location: Some(location),
            ..self
        }
    }

    fn body_len(&self) -> usize {
        self.body.len() + usize::from(self.line)
    }
}

fn reply_text(reply: LocalReply) -> ReplyText<'static> {
    let (status, flag, message) = reply.spec();
    ReplyText {
        line: true,
        ..ReplyText::new(status, flag, message)
    }
}

/// Answers locally. The connection stays open only when the request's body
/// (if any) is already in the buffer, so the next request can be found.
async fn local(
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    text: ReplyText<'_>,
) -> Served {
    let mut decoder = BodyDecoder::new(head.framing);
    let rest = down.buf.get(head.head_len..).unwrap_or_default();
    let (consumed, body_in_buffer) = match decoder.advance(rest) {
        Ok(p) => (head.head_len + p.consumed, p.done),
        Err(_) => (down.buf.len(), false),
    };
    let keep_alive = head.keep_alive && body_in_buffer;
    let head_only = head.method == ringway_http1::Method::Head;
    let res = send_reply(down, scratch, text, keep_alive, head_only).await;
    let mut outcome = Outcome::local(
        text.status,
        text.flag,
        if head_only { 0 } else { text.body_len() as u64 },
    );
    outcome.bytes_received = decoder.payload_len();
    Served {
        outcome,
        keep_alive: keep_alive && res.is_ok(),
        consumed,
    }
}

/// Answers locally and closes: the request body was not (all) read.
async fn reply_and_close(
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
    reply: LocalReply,
) -> Served {
    let head_only = head.method == ringway_http1::Method::Head;
    let text = reply_text(reply);
    let _ = send_reply(down, scratch, text, false, head_only).await;
    Served {
        outcome: Outcome::local(text.status, text.flag, text.body_len() as u64),
        keep_alive: false,
        consumed: down.buf.len(),
    }
}

/// Renders a local reply into the connection's reply buffer and writes it.
async fn send_reply(
    down: &mut Downstream,
    scratch: &mut Scratch,
    text: ReplyText<'_>,
    keep_alive: bool,
    head_only: bool,
) -> std::io::Result<()> {
    let shape = reply::Shape {
        keep_alive,
        head_only,
        location: text.location,
        line: text.line,
    };
    reply::render(&mut scratch.reply, text.status, text.body, shape);
    let out = std::mem::take(&mut scratch.reply);
    let len = out.len();
    let (res, out) = crate::io::write_range(&mut down.writer, out, 0, len).await;
    scratch.reply = out;
    res
}
