//! Envoy's stream timeouts for one request, the same for every codec: the
//! stream idle timeout (nothing moved either way for so long) and the
//! request timeout (the whole request by a deadline from its first byte).
//!
//! The codecs' pumps already bound each wait with a timer. They take that
//! bound from here ([`StreamClock::request_wait`] for request bytes,
//! [`StreamClock::response_wait`] for response bytes), count each move of
//! bytes ([`StreamClock::moved`]), and ask what a wait that ran out means
//! ([`StreamClock::ran_out`]): the stream is idle only if the other
//! direction did not move meanwhile. No timer of its own and no clock read
//! unless a request timeout is set, so an idle timeout that never fires
//! costs nothing per request. Time is passed in: decisions are unit-tested
//! here.

use std::cell::Cell;
use std::time::{Duration, Instant};

use ringway_config::defaults::ROUTE_TIMEOUT_OFF;
use ringway_config::model::{Limits, Route};

use super::LocalReply;

/// One request's stream timeouts and its count of moves.
#[derive(Debug)]
pub(crate) struct StreamClock {
    /// The route's `idle_timeout`, else the listener's
    /// `stream_idle_timeout`; `None` when off.
    idle: Option<Duration>,
    /// When the whole request must have arrived, from `request_timeout`.
    request_deadline: Option<Instant>,
    /// Bytes moved (reads either way), counted, not timed.
    moves: Cell<u64>,
    /// The response head went downstream: the request timeout no longer
    /// applies, and an idle stream is cut rather than answered.
    responding: Cell<bool>,
}

/// Which clock bounds a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// The route timeout (the caller's own bound).
    Route,
    /// The stream idle timeout.
    StreamIdle,
    /// The request timeout.
    Request,
}

/// How long one wait may last, which clock that is, and the move count
/// when it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub(crate) wait: Duration,
    pub(crate) expiry: Expiry,
    mark: u64,
}

impl StreamClock {
    /// The clocks of a request that began (its first byte) at `started` on
    /// a listener with `limits`, routed by `route` (`None` before routing).
    pub(crate) fn new(limits: &Limits, route: Option<&Route>, started: Instant) -> Self {
        let idle = match route.and_then(|r| r.idle_timeout) {
            Some(by_route) => Some(by_route).filter(|d| !d.is_zero()),
            None => limits.stream_idle_timeout,
        };
        Self {
            idle,
            request_deadline: limits.request_timeout.map(|t| started + t),
            moves: Cell::new(0),
            responding: Cell::new(false),
        }
    }

    /// The response head went downstream.
    pub(crate) fn responding(&self) {
        self.responding.set(true);
    }

    /// Whether the response head went downstream.
    pub(crate) fn has_responded(&self) -> bool {
        self.responding.get()
    }

    /// Counts bytes moving, either way.
    pub(crate) fn moved(&self) {
        self.moves.set(self.moves.get().wrapping_add(1));
    }

    /// The bound on a wait for more of the request: the idle timeout or
    /// what is left of the request timeout (until the response begins),
    /// whichever is shorter. `now` is read only when a request timeout is
    /// set.
    pub(crate) fn request_wait(&self, now: impl FnOnce() -> Instant) -> Bound {
        let idle = self.bound(self.idle.unwrap_or(ROUTE_TIMEOUT_OFF), Expiry::StreamIdle);
        match self.request_deadline {
            Some(deadline) if !self.responding.get() => {
                let left = deadline.saturating_duration_since(now());
                if left <= idle.wait {
                    return self.bound(left, Expiry::Request);
                }
                idle
            }
            _ => idle,
        }
    }

    /// The bound on a wait for the response: `route` (the route timeout
    /// still to run), or the idle timeout when shorter.
    pub(crate) fn response_wait(&self, route: Duration) -> Bound {
        match self.idle {
            Some(idle) if idle < route => self.bound(idle, Expiry::StreamIdle),
            _ => self.bound(route, Expiry::Route),
        }
    }

    /// What a wait bounded by `bound` that ran out means; `None` when the
    /// stream moved the other way meanwhile, so it is not idle: wait again.
    pub(crate) fn ran_out(&self, bound: &Bound) -> Option<Expiry> {
        if bound.expiry == Expiry::StreamIdle && self.moves.get() != bound.mark {
            return None;
        }
        Some(bound.expiry)
    }

    fn bound(&self, wait: Duration, expiry: Expiry) -> Bound {
        Bound {
            wait,
            expiry,
            mark: self.moves.get(),
        }
    }
}

impl Expiry {
    /// The reply for a request whose stream ran out of this clock before
    /// any response went down (not for [`Expiry::Route`], which each
    /// exchange answers itself).
    pub(crate) fn reply(self, request_complete: bool) -> LocalReply {
        match self {
            Self::Request => LocalReply::RequestTimeout,
            Self::StreamIdle | Self::Route => LocalReply::StreamIdleTimeout { request_complete },
        }
    }

    /// Counts it in the listener's stats (`downstream_rq_idle_timeout`,
    /// `downstream_rq_timeout`).
    pub(crate) fn count(self, stats: &ringway_stats::ListenerStats) {
        match self {
            Self::StreamIdle => stats.downstream_rq_idle_timeout.inc(),
            Self::Request => stats.downstream_rq_timeout.inc(),
            Self::Route => {}
        }
    }
}

#[cfg(test)]
mod tests;
