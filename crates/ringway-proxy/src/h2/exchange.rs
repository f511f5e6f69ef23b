//! What forwarding one downstream HTTP/2 stream takes and gives, whatever
//! the upstream's protocol: where it goes and its clocks ([`Target`]), the
//! request readied for the next hop ([`Request`]), and how it ended
//! ([`Exchanged`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use http::header::HeaderMap;

use crate::access_log::{Captured, Needs};
use crate::http2::trailers::TrailerAudit;
use crate::request::decide::pick_endpoint;
use crate::request::retry::RetryGate;
use crate::request::{Expiry, LocalReply, StreamClock};
use crate::response_flag::ResponseFlag;
use crate::state::{ClusterState, ListenerState};
use crate::upstream::pool::EndpointPool;

/// Where a request is forwarded, and its limits.
#[derive(Debug)]
pub(crate) struct Target<'a> {
    pub(crate) listener: &'a ListenerState,
    pub(crate) cluster: &'a ClusterState,
    /// Where the current attempt goes: the decided endpoint, then the
    /// balancer's pick for each retry.
    pub(crate) endpoint: RefCell<Rc<EndpointPool>>,
    /// The route's retry policy at work, when it has one.
    pub(crate) retry: Option<&'a RetryGate<'a>>,
    /// The route timeout: for the response head once the request is
    /// complete, then for each wait for more response bytes.
    pub(crate) timeout: Duration,
    /// The whole exchange's deadline, from `grpc-timeout`.
    pub(crate) deadline: Option<Instant>,
    /// The stream idle and request timeouts.
    pub(crate) clock: &'a StreamClock,
    /// Request body limit.
    pub(crate) limit: Option<u64>,
    pub(crate) grpc: bool,
    /// The connection's count of request trailers fields, to check the
    /// trailers `h2` delivers against.
    pub(crate) trailers: &'a TrailerAudit,
    /// Where the response headers the access logs name go, when the
    /// listener logs.
    pub(crate) log: Option<LogSink<'a>>,
}

/// The access logs' needs and the stream's captured headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogSink<'a> {
    pub(crate) needs: &'a Needs,
    pub(crate) captured: &'a RefCell<Captured>,
}

impl LogSink<'_> {
    /// Captures the response headers the logs name from `headers`.
    pub(crate) fn response(&self, headers: &http::HeaderMap) {
        if !self.needs.response.is_empty() {
            self.captured
                .borrow_mut()
                .response(self.needs, |n| headers.get(n).map(|v| v.as_bytes()));
        }
    }
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
    Reply(LocalReply),
    /// The client reset the stream (or left) before the response began.
    ClientGone,
}

impl Target<'_> {
    /// The current attempt's endpoint.
    pub(crate) fn endpoint(&self) -> Rc<EndpointPool> {
        self.endpoint.borrow().clone()
    }

    /// The next attempt goes to the endpoint the balancer picks now.
    pub(crate) fn retarget(&self) {
        if let Some(endpoint) = pick_endpoint(self.cluster) {
            *self.endpoint.borrow_mut() = endpoint;
        }
    }

    /// Whether to drop `response` at its head and retry (`held`: the
    /// whole request can be sent again).
    pub(crate) fn retry_response(
        &self,
        status: u16,
        headers: &http::HeaderMap,
        held: bool,
    ) -> bool {
        self.retry.is_some_and(|gate| {
            gate.retry_response(status, held, |name| headers.get(name).map(|v| v.as_bytes()))
        })
    }

    /// Until when to wait for a connection (or a stream slot) from now.
    pub(crate) fn connect_deadline(&self) -> Instant {
        let by_route = Instant::now() + self.timeout;
        self.deadline.map_or(by_route, |d| d.min(by_route))
    }

    /// 504 before any response: the route timeout (or the gRPC deadline)
    /// passed.
    pub(crate) fn timed_out(&self) -> Exchanged {
        self.cluster.stats.upstream_rq_timeout.inc();
        self.endpoint().stats.rq_timeout.inc();
        Exchanged::Reply(LocalReply::Timeout)
    }

    /// The reply when `expiry` ran out before any response: the route
    /// timeout's 504, or the stream's own timeouts (counted).
    pub(crate) fn ran_out(&self, expiry: Expiry, request_complete: bool) -> Exchanged {
        if expiry == Expiry::Route {
            return self.timed_out();
        }
        expiry.count(&self.listener.stats);
        Exchanged::Reply(expiry.reply(request_complete))
    }

    /// Resets the downstream stream, counting it.
    pub(crate) fn listener_reset(&self, send: &mut SendStream<Bytes>, reason: Reason) {
        send.send_reset(reason);
        self.listener.stats.http2_tx_reset.inc();
        self.listener.stats.downstream_rq_tx_reset.inc();
    }
}
