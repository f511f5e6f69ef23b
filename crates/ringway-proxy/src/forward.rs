//! Forwarding one request to an upstream endpoint and its response back.
//!
//! The request head goes out as a vectored write of the original head's
//! kept slices plus a few added lines. Then the request body and the
//! response are pumped at the same time (a server may answer before it has
//! read the whole body, or stream its answer while it reads), each through
//! its own reused buffer with framing validated as bytes pass.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use ringway_config::model::Route;
use ringway_http1::{BodyDecoder, RequestHead};

use crate::conn::{Downstream, Scratch, Served};
use crate::exchange::{self, BodyError, Pumped, RequestBody};
use crate::head::{RequestId, build_request_head};
use crate::iovec::HeadWrite;
use crate::local_reply::ResponseFlag;
use crate::pool::{ConnectError, EndpointPool, UpstreamConn};
use crate::response::{ResponseError, ResponseJob};
use crate::state::{ClusterState, ListenerState, ProxyState};
use crate::tunnel;

/// How forwarding ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A response (possibly partial) went downstream.
    Served(Served),
    /// Nothing went downstream yet: answer locally.
    Local {
        status: u16,
        flag: Option<ResponseFlag>,
        message: &'static str,
    },
    /// Answer locally and close (the request body was not consumed).
    LocalClose {
        status: u16,
        flag: Option<ResponseFlag>,
        message: &'static str,
    },
}

/// Forwards to `endpoint` of `cluster` over HTTP/1.1; `limit` is the
/// request body limit (the declared length has been checked already).
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
    // The part of the body already read with the head goes out with it.
    let mut decoder = BodyDecoder::new(head.framing);
    let initial = match decoder.advance(down.buf.get(head.head_len..).unwrap_or_default()) {
        Ok(p) => p.consumed,
        Err(_) => {
            return Outcome::LocalClose {
                status: 400,
                flag: Some(ResponseFlag::LocalReset),
                message: "malformed request body\n",
            };
        }
    };
    if limit.is_some_and(|l| decoder.payload_len() > l) {
        return too_large(listener);
    }

    let request_id = head
        .request_id
        .is_none()
        .then(|| RequestId::generate(&mut state.rng.borrow_mut()));
    if let (Some(id), Some(_)) = (&request_id, &listener.access_log) {
        scratch.log.set_request_id(id.as_str());
    }
    let mut rewritten_target = std::mem::take(&mut scratch.rewrite);
    let has_rewrite =
        ringway_route::rewrite_prefix(route, head.target.get(&down.buf), &mut rewritten_target);
    build_request_head(
        &down.buf,
        head,
        &scratch.headers,
        route,
        down.peer.ip(),
        request_id.as_ref().map(RequestId::as_str),
        has_rewrite.then_some(&rewritten_target[..]),
        initial,
        &mut scratch.added,
        &mut scratch.pieces,
    );
    scratch.rewrite = rewritten_target;

    // Idempotent requests without a body can be replayed on a fresh
    // connection if a reused one turns out to be dead.
    let replayable = head.method.is_idempotent() && decoder.is_done() && initial == 0;
    let started = Instant::now();
    endpoint
        .active_requests
        .set(endpoint.active_requests.get() + 1);
    cluster.stats.upstream_rq_total.inc();
    cluster.stats.upstream_rq_active.inc();
    let plan = Plan {
        draining: &state.draining,
        listener,
        cluster,
        endpoint: &endpoint,
        route,
        head,
        limit,
        replayable,
        next_request_at: head.head_len + initial,
    };
    let outcome = exchange_with_retry(&plan, down, scratch, decoder).await;
    endpoint
        .active_requests
        .set(endpoint.active_requests.get().saturating_sub(1));
    cluster.stats.upstream_rq_active.dec();
    if let Outcome::Served(served) = &outcome {
        cluster.stats.record_upstream_status(served.status);
        cluster.stats.record_upstream_rq_time(started.elapsed());
    }
    outcome
}

/// Where and how one request is forwarded.
struct Plan<'a> {
    /// The worker's draining flag.
    draining: &'a Cell<bool>,
    listener: &'a ListenerState,
    cluster: &'a ClusterState,
    endpoint: &'a EndpointPool,
    route: &'a Route,
    head: &'a RequestHead,
    /// Request body limit (413).
    limit: Option<u64>,
    /// Whether a dead reused connection may be replaced by a fresh one.
    replayable: bool,
    /// Where the next request starts in the downstream buffer when the
    /// body came whole with the head.
    next_request_at: usize,
}

async fn exchange_with_retry(
    plan: &Plan<'_>,
    down: &mut Downstream,
    scratch: &mut Scratch,
    mut decoder: BodyDecoder,
) -> Outcome {
    let Plan {
        draining,
        listener,
        cluster,
        endpoint,
        route,
        head,
        limit,
        replayable,
        next_request_at,
    } = *plan;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let fresh_only = attempt > 1;
        let Ok(mut up) = checkout(cluster, endpoint, fresh_only).await else {
            return connect_failure();
        };
        let retry_allowed = replayable && up.reused && attempt == 1;

        // Request head (and the body bytes that came with it).
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
        if res.is_err() {
            close_upstream(cluster);
            if retry_allowed {
                cluster.stats.upstream_rq_retry.inc();
                continue;
            }
            return Outcome::Local {
                status: 503,
                flag: Some(ResponseFlag::UpstreamConnectionTermination),
                message: "upstream closed the connection before responding\n",
            };
        }

        let job = ResponseJob {
            method: head.method,
            draining,
            client_http10: head.minor_version == 0,
            client_keep_alive: head.keep_alive,
            upgrade_requested: head.upgrade,
            timeout: route.timeout,
            max_head: listener.config.limits.max_request_head_bytes.max(64 * 1024),
        };
        let body = RequestBody {
            decoder: &mut decoder,
            limit,
            idle: listener.config.limits.idle_timeout,
            next_request_at,
        };
        let result = exchange::run(head, job, body, down, &mut up, scratch).await;
        match result {
            Pumped::Done {
                end,
                body,
                next_start,
            } => {
                let body_complete = decoder.is_done();
                if end.upstream_reusable && body_complete {
                    if !endpoint.put(up) {
                        close_upstream(cluster);
                    }
                } else {
                    close_upstream(cluster);
                }
                return Outcome::Served(Served {
                    status: end.status,
                    flag: None,
                    keep_alive: end.downstream_keep_alive && body_complete,
                    consumed: next_start,
                    bytes_received: body,
                    bytes_sent: end.bytes_sent,
                    upstream: Some(endpoint.address),
                    upstream_time: Some(end.head_after),
                });
            }
            Pumped::Upgraded { end } => {
                listener.stats.downstream_cx_upgrades_total.inc();
                let (sent, received) = tunnel::run(down, &mut up, next_request_at).await;
                close_upstream(cluster);
                return Outcome::Served(Served {
                    status: 101,
                    flag: None,
                    keep_alive: false,
                    consumed: down.buf.len(),
                    bytes_received: received,
                    bytes_sent: end.bytes_sent + sent,
                    upstream: Some(endpoint.address),
                    upstream_time: Some(end.head_after),
                });
            }
            Pumped::ResponseFailed { error, body_done } => {
                close_upstream(cluster);
                match error {
                    ResponseError::ClosedBeforeResponse if retry_allowed => {
                        cluster.stats.upstream_rq_retry.inc();
                        continue;
                    }
                    ResponseError::ClosedBeforeResponse => {
                        return failure(
                            body_done,
                            503,
                            ResponseFlag::UpstreamConnectionTermination,
                            "upstream closed the connection before responding\n",
                        );
                    }
                    ResponseError::Malformed => {
                        return failure(
                            body_done,
                            502,
                            ResponseFlag::UpstreamConnectionTermination,
                            "upstream sent a malformed response\n",
                        );
                    }
                    ResponseError::Timeout => {
                        cluster.stats.upstream_rq_timeout.inc();
                        return failure(
                            body_done,
                            504,
                            ResponseFlag::UpstreamTimeout,
                            "upstream request timeout\n",
                        );
                    }
                    ResponseError::AfterHead {
                        status,
                        bytes_sent,
                        flag,
                    } => {
                        // The response was cut short: all we can do is close.
                        return Outcome::Served(Served {
                            status,
                            flag: Some(flag),
                            keep_alive: false,
                            consumed: down.buf.len(),
                            bytes_received: decoder.payload_len(),
                            bytes_sent,
                            upstream: Some(endpoint.address),
                            upstream_time: None,
                        });
                    }
                }
            }
            Pumped::BodyFailed(error) => {
                close_upstream(cluster);
                return match error {
                    BodyError::TooLarge => too_large(listener),
                    BodyError::Malformed => Outcome::LocalClose {
                        status: 400,
                        flag: Some(ResponseFlag::LocalReset),
                        message: "malformed request body\n",
                    },
                    BodyError::DownstreamTimeout => Outcome::LocalClose {
                        status: 408,
                        flag: Some(ResponseFlag::DownstreamConnectionTermination),
                        message: "request body not received in time\n",
                    },
                    BodyError::DownstreamClosed => Outcome::Served(Served {
                        status: 0,
                        flag: Some(ResponseFlag::DownstreamConnectionTermination),
                        keep_alive: false,
                        consumed: down.buf.len(),
                        bytes_received: decoder.payload_len(),
                        bytes_sent: 0,
                        upstream: Some(endpoint.address),
                        upstream_time: None,
                    }),
                    BodyError::UpstreamWrite => Outcome::LocalClose {
                        status: 503,
                        flag: Some(ResponseFlag::UpstreamConnectionTermination),
                        message: "upstream closed the connection before responding\n",
                    },
                };
            }
        }
    }
}

/// The endpoint the cluster's balancer picks for the next request.
pub(crate) fn pick_endpoint(cluster: &ClusterState) -> Option<Rc<EndpointPool>> {
    let mut members = cluster.members();
    let crate::state::Members {
        endpoints,
        balancer,
        ..
    } = &mut *members;
    let pick = balancer.pick(|i| endpoints.get(i).map_or(0, |e| e.active_requests.get()));
    pick.and_then(|i| endpoints.get(i)).cloned()
}

/// 413 for a body over its limit, closing the connection (the rest of the
/// body is not read).
pub(crate) fn too_large(listener: &ListenerState) -> Outcome {
    listener.stats.downstream_rq_too_large.inc();
    Outcome::LocalClose {
        status: 413,
        flag: Some(ResponseFlag::LocalReset),
        message: "request body too large\n",
    }
}

pub(crate) fn connect_failure() -> Outcome {
    Outcome::Local {
        status: 503,
        flag: Some(ResponseFlag::UpstreamConnectFailure),
        message: "upstream connect failure\n",
    }
}

fn failure(body_done: bool, status: u16, flag: ResponseFlag, message: &'static str) -> Outcome {
    if body_done {
        Outcome::Local {
            status,
            flag: Some(flag),
            message,
        }
    } else {
        Outcome::LocalClose {
            status,
            flag: Some(flag),
            message,
        }
    }
}

pub(crate) fn close_upstream(cluster: &ClusterState) {
    cluster.stats.upstream_cx_destroy.inc();
    cluster.stats.upstream_cx_active.dec();
}

pub(crate) async fn checkout(
    cluster: &ClusterState,
    endpoint: &EndpointPool,
    fresh_only: bool,
) -> Result<UpstreamConn, ConnectError> {
    if !fresh_only {
        let (conn, expired) = endpoint.take(Instant::now());
        if expired > 0 {
            cluster.stats.upstream_cx_idle_timeout.add(expired as u64);
            cluster.stats.upstream_cx_destroy.add(expired as u64);
            cluster.stats.upstream_cx_active.sub(expired as i64);
        }
        if let Some(conn) = conn {
            return Ok(conn);
        }
    }
    let conn = UpstreamConn::connect(endpoint.address, cluster.config.connect_timeout)
        .await
        .inspect_err(|err| err.count(&cluster.stats, endpoint.address))?;
    cluster.stats.upstream_cx_total.inc();
    cluster.stats.upstream_cx_http1_total.inc();
    cluster.stats.upstream_cx_active.inc();
    Ok(conn)
}
