//! The attempt loop: one request, one or more attempts over an upstream
//! transport (HTTP/1.1 or HTTP/2 to the endpoint), each classified by how
//! it ended, and a policy that says whether to try again.
//!
//! The loop knows nothing of sockets: a [`Transport`] makes an attempt and
//! says how it ended; [`ReplayPolicy`] decides. Today's policy is the
//! replay of requests that certainly never reached the application: a
//! reused HTTP/1.1 connection found dead, an HTTP/2 stream refused
//! (REFUSED_STREAM) or beyond a GOAWAY's last stream, once, on a fresh
//! connection, and only while the whole request is still held. Retries
//! with budgets, per-try timeouts and hedging extend this loop.
//!
//! [`http2`] classifies how attempts over an HTTP/2 upstream end, for the
//! two transports that make them.

use std::future::Future;

use ringway_retry::Attempt;
use ringway_stats::ClusterStats;

use super::retry::RetryGate;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptEnd {
    /// No connection could be made.
    ConnectFailure,
    /// No connection or stream slot before the deadline.
    ConnectTimeout,
    /// The connection closed before any of the response arrived (a dead
    /// pooled connection, or the server hung up on the request).
    ClosedBeforeResponse,
    /// The upstream refused the stream before processing it.
    Refused,
    /// The connection is going away and did not process the stream.
    GoingAway,
    /// The stream was reset before the response.
    ResetBeforeResponse,
    /// The upstream's response could not be read as HTTP.
    ProtocolError,
    /// A response head arrived with this status.
    Response(u16),
    /// The route timeout (or the request's deadline) passed.
    Timeout,
    /// The exchange ended for a reason of the client's or of the request
    /// itself (client gone, body too large or malformed): never retried.
    Downstream,
}

/// What one attempt says about trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replayable {
    /// The attempt ran on a connection taken from the pool.
    pub reused_connection: bool,
    /// Everything sent of the request is still held, so it can be sent
    /// again whole.
    pub request_held: bool,
}

// === impl Replayable ===

impl Replayable {
    /// Nothing can be sent again: the request left, or the attempt ended
    /// in a way no replay mends.
    pub(crate) const NO: Self = Self {
        reused_connection: false,
        request_held: false,
    };
    /// Nothing of the request left: it can be sent again whole.
    pub(crate) const NEVER_SENT: Self = Self {
        reused_connection: false,
        request_held: true,
    };
}

/// An attempt's end, what it says about a replay, and what the transport
/// returns if it is the last.
#[derive(Debug)]
pub(crate) struct Tried<T> {
    pub end: AttemptEnd,
    pub replayable: Replayable,
    pub output: T,
}

// === impl Tried ===

impl<T> Tried<T> {
    /// An attempt the policy never replays.
    pub(crate) fn last(end: AttemptEnd, output: T) -> Self {
        Self {
            end,
            replayable: Replayable::NO,
            output,
        }
    }

    /// The same attempt with its output turned into the transport's.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Tried<U> {
        Tried {
            end: self.end,
            replayable: self.replayable,
            output: f(self.output),
        }
    }
}

/// Makes attempts to one endpoint.
pub(crate) trait Transport {
    type Output;

    /// Makes one attempt; `fresh_connection` asks for a new connection
    /// rather than a pooled or shared one.
    fn attempt(&mut self, fresh_connection: bool) -> impl Future<Output = Tried<Self::Output>>;

    /// Whether the whole request could be sent again now.
    fn request_held(&self) -> bool;

    /// The next attempt is a retry: it goes to an endpoint the cluster's
    /// balancer picks afresh.
    fn retarget(&mut self);
}

/// Whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Again, on a new connection.
    Retry,
    Stop,
}

/// The replay rules (see the module doc), as a state machine over the
/// attempts of one request.
#[derive(Debug, Default)]
pub(crate) struct ReplayPolicy {
    attempts: u32,
}

// === impl ReplayPolicy ===

impl ReplayPolicy {
    /// Replays allowed per request.
    const MAX_REPLAYS: u32 = 1;

    /// Records an attempt's end and says what comes next.
    pub(crate) fn after(&mut self, end: AttemptEnd, replayable: Replayable) -> Next {
        self.attempts += 1;
        if self.attempts > Self::MAX_REPLAYS {
            return Next::Stop;
        }
        let never_processed = match end {
            AttemptEnd::ClosedBeforeResponse => replayable.reused_connection,
            AttemptEnd::Refused | AttemptEnd::GoingAway => true,
            AttemptEnd::ConnectFailure
            | AttemptEnd::ConnectTimeout
            | AttemptEnd::ResetBeforeResponse
            | AttemptEnd::ProtocolError
            | AttemptEnd::Response(_)
            | AttemptEnd::Timeout
            | AttemptEnd::Downstream => false,
        };
        if never_processed && replayable.request_held {
            Next::Retry
        } else {
            Next::Stop
        }
    }
}

/// Runs attempts over `transport` until the replay rules and the route's
/// retry policy (`retry`) stop; each replay and retry is counted in
/// `upstream_rq_retry`. Returns the last attempt's output.
pub(crate) async fn run<T: Transport>(
    transport: &mut T,
    retry: Option<&RetryGate<'_>>,
    stats: &ClusterStats,
) -> T::Output {
    let mut policy = ReplayPolicy::default();
    let mut fresh_connection = false;
    loop {
        let tried = transport.attempt(fresh_connection).await;
        fresh_connection = false;
        if policy.after(tried.end, tried.replayable) == Next::Retry {
            stats.upstream_rq_retry.inc();
            fresh_connection = true;
            continue;
        }
        let Some(gate) = retry else {
            return tried.output;
        };
        // A response held back at its head, or an end without one.
        let after = gate.take_pending().or_else(|| {
            failure(tried.end)
                .filter(|_| transport.request_held())
                .and_then(|attempt| gate.retry_failure(attempt))
        });
        let Some(after) = after else {
            return tried.output;
        };
        stats.upstream_rq_retry.inc();
        if !after.is_zero() {
            monoio::time::sleep(after).await;
        }
        transport.retarget();
    }
}

/// How an attempt that got no response ended, for the retry policy.
fn failure(end: AttemptEnd) -> Option<Attempt> {
    match end {
        AttemptEnd::ConnectFailure | AttemptEnd::ConnectTimeout => Some(Attempt::ConnectFailure),
        AttemptEnd::Refused | AttemptEnd::GoingAway => Some(Attempt::RefusedStream),
        AttemptEnd::ClosedBeforeResponse
        | AttemptEnd::ResetBeforeResponse
        | AttemptEnd::ProtocolError => Some(Attempt::Reset {
            request_started: true,
        }),
        // The route timeout bounds the whole request: never retried.
        AttemptEnd::Response(_) | AttemptEnd::Timeout | AttemptEnd::Downstream => None,
    }
}

pub(crate) mod http2;

#[cfg(test)]
mod tests;
