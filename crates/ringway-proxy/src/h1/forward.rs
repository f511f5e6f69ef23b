//! Forwarding one HTTP/1.1 request to an HTTP/1.1 endpoint and its
//! response back, as attempts of the one attempt loop
//! ([`crate::request::attempt`]).
//!
//! The request head goes out as a vectored write of the original head's
//! kept slices plus a few added lines. Then the request body and the
//! response are pumped at the same time (a server may answer before it has
//! read the whole body, or stream its answer while it reads), each through
//! its own reused buffer with framing validated as bytes pass.

use std::rc::Rc;
use std::time::Duration;

use ringway_http1::{BodyDecoder, RequestHead};

use super::downstream::{Downstream, Scratch, Served};
use super::exchange::{self, BodyError, Pumped, RequestBody};
use super::head::{HeadOut, ParsedHead, build_request_head};
use super::iovec::HeadWrite;
use super::response::{ResponseError, ResponseJob};
use super::tunnel;
use crate::limits::max_response_head_bytes;
use crate::request::attempt::{self, AttemptEnd, Replayable, Transport, Tried};
use crate::request::decide::pick_endpoint;
use crate::request::next_hop::Hop;
use crate::request::{Expiry, Forward, LocalReply, NextHop, Outcome, RequestContext};
use crate::response_flag::ResponseFlag;
use crate::upstream::pool::{EndpointPool, UpstreamConn};

/// How forwarding ended.
#[derive(Debug)]
pub(crate) enum Forwarded {
    /// A response (possibly partial) went downstream, or the client left.
    Served(Served),
    /// Nothing went downstream yet: answer locally.
    Reply(LocalReply),
    /// Answer locally and close (the request body was not consumed).
    ReplyAndClose(LocalReply),
}

/// Forwards to the decided endpoint over HTTP/1.1.
pub(crate) async fn forward(
    ctx: &RequestContext<'_>,
    forward: &Forward<'_>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    head: &RequestHead,
) -> Forwarded {
    // The part of the body already read with the head goes out with it.
    let mut decoder = BodyDecoder::new(head.framing);
    let initial = match decoder.advance(down.buf.get(head.head_len..).unwrap_or_default()) {
        Ok(p) => p.consumed,
        Err(_) => return Forwarded::ReplyAndClose(LocalReply::MalformedBody),
    };
    if forward
        .body_limit
        .is_some_and(|l| decoder.payload_len() > l)
    {
        return too_large(ctx);
    }
    let parsed = ParsedHead {
        buf: &down.buf,
        head,
        headers: &scratch.headers,
    };
    let hop = Hop {
        listener: &ctx.listener.config,
        route: forward.route,
        peer: down.peer.ip(),
        has_request_id: head.request_id.is_some(),
        endpoint_hostname: forward.endpoint.hostname.as_deref(),
    };
    let mut next_hop = NextHop::new(&mut ctx.state.rng.borrow_mut(), hop, || {
        parsed.forwarded_for()
    });
    if ctx.listener.access_log.is_some()
        && let Some(id) = next_hop.request_id()
    {
        scratch.log.set_request_id(id);
    }
    let mut rewritten_target = std::mem::take(&mut scratch.rewrite);
    let has_rewrite = ringway_route::rewrite_path(
        forward.route,
        head.target.get(&down.buf),
        &mut rewritten_target,
    );
    if has_rewrite {
        next_hop.path_rewritten();
    }
    let out = HeadOut {
        added: &mut scratch.added,
        pieces: &mut scratch.pieces,
    };
    let target = has_rewrite.then_some(&rewritten_target[..]);
    let timeout = build_request_head(parsed, &next_hop, target, initial, out);
    scratch.rewrite = rewritten_target;

    let stats = &forward.cluster.stats;
    let mut attempts = H1Attempts {
        ctx,
        forward,
        head,
        // Idempotent requests without a body can be replayed on a fresh
        // connection if a reused one turns out to be dead.
        replayable: head.method.is_idempotent() && decoder.is_done() && initial == 0,
        // The whole body came with the head: the buffer holds it all.
        held: decoder.is_done(),
        endpoint: forward.endpoint.clone(),
        next_request_at: head.head_len + initial,
        timeout,
        down,
        scratch,
        decoder,
    };
    let forwarded = attempt::run(&mut attempts, forward.retry.as_ref(), stats).await;
    if let Forwarded::Served(Served { outcome, .. }) = &forwarded
        && let Some(status) = outcome.status
    {
        stats.record_upstream_status(status);
        attempts.endpoint.stats.record_status(status);
    }
    forwarded
}

/// 413 for a body over its limit, closing the connection (the rest of the
/// body is not read).
fn too_large(ctx: &RequestContext<'_>) -> Forwarded {
    ctx.listener.stats.downstream_rq_too_large.inc();
    Forwarded::ReplyAndClose(LocalReply::BodyTooLarge)
}

/// The attempts of one request over HTTP/1.1.
struct H1Attempts<'a, 'r> {
    ctx: &'a RequestContext<'r>,
    forward: &'a Forward<'r>,
    head: &'a RequestHead,
    /// Whether the request can be replayed safely (idempotent, held).
    replayable: bool,
    /// Whether the whole request is in the buffer, to send again.
    held: bool,
    /// Where this attempt goes: the decided endpoint, then the balancer's
    /// pick for each retry.
    endpoint: Rc<EndpointPool>,
    /// Where the next request starts in the downstream buffer when the
    /// body came whole with the head.
    next_request_at: usize,
    /// The route's, or a honoured `x-envoy-upstream-rq-timeout-ms`.
    timeout: Duration,
    down: &'a mut Downstream,
    scratch: &'a mut Scratch,
    decoder: BodyDecoder,
}

impl Transport for H1Attempts<'_, '_> {
    type Output = Forwarded;

    fn request_held(&self) -> bool {
        self.held
    }

    fn retarget(&mut self) {
        if let Some(endpoint) = pick_endpoint(&self.forward.cluster) {
            self.endpoint = endpoint;
        }
    }

    async fn attempt(&mut self, fresh_connection: bool) -> Tried<Forwarded> {
        let cluster = &self.forward.cluster;
        let stats = &cluster.stats;
        let endpoint = &self.endpoint.clone();
        let checkout = endpoint.checkout(stats, cluster.config.connect_timeout, fresh_connection);
        let Ok(mut up) = checkout.await else {
            return self.before_response(
                AttemptEnd::ConnectFailure,
                false,
                LocalReply::ConnectFailure,
            );
        };
        stats.upstream_rq_total.inc();
        endpoint.stats.rq_total.inc();
        let reused = up.reused;
        if self.write_head(&mut up).await.is_err() {
            endpoint.count_closed(stats);
            let end = AttemptEnd::ClosedBeforeResponse;
            return self.before_response(end, reused, LocalReply::ClosedBeforeResponse);
        }
        let limits = &self.ctx.listener.config.limits;
        let job = ResponseJob {
            method: self.head.method,
            ctx: self.ctx,
            client_http10: self.head.minor_version == 0,
            client_keep_alive: self.head.keep_alive,
            upgrade_requested: self.head.upgrade,
            timeout: self.timeout,
            clock: &self.forward.clock,
            max_head: max_response_head_bytes(limits.max_request_head_bytes),
            service_time: !self.ctx.listener.config.suppress_envoy_headers,
            retry: self.forward.retry.as_ref().map(|gate| (gate, self.held)),
            log: (self.ctx.listener.access_log.as_ref())
                .map(|l| &l.needs)
                .filter(|n| !n.response.is_empty()),
        };
        let body = RequestBody {
            decoder: &mut self.decoder,
            limit: self.forward.body_limit,
            clock: &self.forward.clock,
            next_request_at: self.next_request_at,
        };
        let pumped = exchange::run(self.head, job, body, self.down, &mut up, self.scratch).await;
        match pumped {
            Pumped::Done {
                end,
                body,
                next_start,
            } => {
                let body_complete = self.decoder.is_done();
                endpoint.release(up, end.upstream_reusable && body_complete, stats);
                let mut outcome = self.responded(end.status, end.bytes_sent);
                outcome.bytes_received = body;
                outcome.upstream_time = Some(end.head_after);
                let served = Served {
                    outcome,
                    keep_alive: end.downstream_keep_alive && body_complete,
                    consumed: next_start.unwrap_or(self.down.buf.len()),
                };
                Tried::last(AttemptEnd::Response(end.status), Forwarded::Served(served))
            }
            Pumped::Upgraded { end } => {
                self.ctx.listener.stats.downstream_cx_upgrades_total.inc();
                let (sent, received) = tunnel::run(self.down, &mut up, self.next_request_at).await;
                endpoint.count_closed(stats);
                let mut outcome = self.responded(101, end.bytes_sent + sent);
                outcome.bytes_received = received;
                outcome.upstream_time = Some(end.head_after);
                let served = Served {
                    outcome,
                    keep_alive: false,
                    consumed: self.down.buf.len(),
                };
                Tried::last(AttemptEnd::Response(101), Forwarded::Served(served))
            }
            Pumped::ResponseFailed { error, body_done } => {
                endpoint.count_closed(stats);
                self.response_failed(error, body_done, reused)
            }
            Pumped::BodyFailed(error) => {
                endpoint.count_closed(stats);
                self.body_failed(error)
            }
        }
    }
}

impl H1Attempts<'_, '_> {
    /// Writes the request head (and the body bytes that came with it).
    async fn write_head(&mut self, up: &mut UpstreamConn) -> std::io::Result<()> {
        let (down, scratch) = (&mut *self.down, &mut *self.scratch);
        let write = HeadWrite::new(
            std::mem::take(&mut down.buf),
            std::mem::take(&mut scratch.added),
            &scratch.pieces,
            std::mem::take(&mut scratch.iovecs),
        );
        let (res, write) = write.write_all(&mut up.writer).await;
        let (buf, added, iovecs) = write.into_parts();
        down.buf = buf;
        scratch.added = added;
        scratch.iovecs = iovecs;
        res
    }

    /// An attempt that ended before the request went out, answered with
    /// `reply` if it is the last.
    fn before_response(
        &self,
        end: AttemptEnd,
        reused: bool,
        reply: LocalReply,
    ) -> Tried<Forwarded> {
        Tried {
            end,
            replayable: Replayable {
                reused_connection: reused,
                request_held: self.replayable,
            },
            output: Forwarded::Reply(reply),
        }
    }

    /// An outcome for a response of `status` from this endpoint.
    fn responded(&self, status: u16, bytes_sent: u64) -> Outcome {
        Outcome {
            status: Some(status),
            bytes_sent,
            upstream: Some(self.endpoint.address),
            ..Outcome::default()
        }
    }

    fn response_failed(
        &mut self,
        error: ResponseError,
        body_done: bool,
        reused: bool,
    ) -> Tried<Forwarded> {
        // Once the body has begun to move and is not done, the connection
        // must close after the reply: the rest cannot be skipped reliably.
        let reply = |reply| {
            if body_done {
                Forwarded::Reply(reply)
            } else {
                Forwarded::ReplyAndClose(reply)
            }
        };
        let (end, output) = match error {
            ResponseError::ClosedBeforeResponse => (
                AttemptEnd::ClosedBeforeResponse,
                reply(LocalReply::ClosedBeforeResponse),
            ),
            ResponseError::Malformed => (
                AttemptEnd::ProtocolError,
                reply(LocalReply::MalformedResponse),
            ),
            ResponseError::Timeout => {
                self.forward.cluster.stats.upstream_rq_timeout.inc();
                self.endpoint.stats.rq_timeout.inc();
                (AttemptEnd::Timeout, reply(LocalReply::Timeout))
            }
            ResponseError::Retry { status } => {
                // Dropped at its head for a retry the loop will make.
                self.forward.cluster.stats.record_upstream_status(status);
                self.endpoint.stats.record_status(status);
                (
                    AttemptEnd::Response(status),
                    reply(LocalReply::ResetBeforeResponse),
                )
            }
            ResponseError::StreamIdle => {
                Expiry::StreamIdle.count(&self.ctx.listener.stats);
                let idle = Expiry::StreamIdle.reply(true);
                (AttemptEnd::Timeout, reply(idle))
            }
            ResponseError::AfterHead {
                status,
                bytes_sent,
                flag,
            } => {
                // The response was cut short: all we can do is close.
                let mut outcome = self.responded(status, bytes_sent);
                outcome.flag = Some(flag);
                outcome.bytes_received = self.decoder.payload_len();
                let served = Served {
                    outcome,
                    keep_alive: false,
                    consumed: self.down.buf.len(),
                };
                (AttemptEnd::Response(status), Forwarded::Served(served))
            }
        };
        Tried {
            end,
            replayable: Replayable {
                reused_connection: reused,
                request_held: self.replayable,
            },
            output,
        }
    }

    fn body_failed(&mut self, error: BodyError) -> Tried<Forwarded> {
        let output = match error {
            BodyError::TooLarge => too_large(self.ctx),
            BodyError::Malformed => Forwarded::ReplyAndClose(LocalReply::MalformedBody),
            BodyError::DownstreamTimeout(expiry) => {
                expiry.count(&self.ctx.listener.stats);
                Forwarded::ReplyAndClose(expiry.reply(false))
            }
            BodyError::DownstreamClosed => {
                let mut outcome =
                    Outcome::no_response(ResponseFlag::DownstreamConnectionTermination);
                outcome.bytes_received = self.decoder.payload_len();
                outcome.upstream = Some(self.endpoint.address);
                Forwarded::Served(Served {
                    outcome,
                    keep_alive: false,
                    consumed: self.down.buf.len(),
                })
            }
            BodyError::UpstreamWrite => Forwarded::ReplyAndClose(LocalReply::ClosedBeforeResponse),
        };
        Tried::last(AttemptEnd::Downstream, output)
    }
}
