//! One request's retries under its route's `retry_policy`, for every
//! transport: the decisions are `ringway-retry`'s; this keeps the
//! request's [`RetryState`], the cluster's count of retries in progress
//! (its retry budget), the stats and the response flag.
//!
//! A transport asks [`RetryGate::retry_response`] at each response head
//! before sending it downstream: a response the policy retries is dropped
//! there and its back-off left for the attempt loop. Attempts that got no
//! response are judged by the loop ([`RetryGate::retry_failure`]). Only a
//! request that is still held whole is retried.
//!
//! The budget is kept per worker: retries in progress on this core against
//! requests in progress on this core (Envoy's 20% of active requests, at
//! least 3, the default for every cluster). Each core's share of the load
//! is near equal under `SO_REUSEPORT`, so the fraction holds for the
//! process; the floor of 3 is per core.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use ringway_config::model::RetryPolicy;
use ringway_retry::{
    Attempt, BackOff, Decision, GrpcStatus, NoRetry, RetryLimit, RetryOn, RetryState,
};

use crate::response_flag::ResponseFlag;
use crate::state::{ClusterState, ProxyState};

/// A request's retry state, shared by its attempts.
#[derive(Debug)]
pub(crate) struct RetryGate<'r> {
    state: RefCell<RetryState>,
    policy: &'r RetryPolicy,
    limit: RetryLimit,
    cluster: Rc<ClusterState>,
    proxy: &'r ProxyState,
    /// The back-off of a retry decided at a response head.
    pending: Cell<Option<Duration>>,
    /// A retry is in progress (counted in the cluster's `retries_active`).
    counted: Cell<bool>,
    /// Why the last retriable end was not retried.
    refused: Cell<Option<NoRetry>>,
}

impl<'r> RetryGate<'r> {
    pub(crate) fn new(
        policy: &'r RetryPolicy,
        cluster: Rc<ClusterState>,
        proxy: &'r ProxyState,
    ) -> Self {
        let state = RetryState::new(
            policy.retry_on,
            policy.num_retries,
            BackOff::new(policy.back_off_base, policy.back_off_max),
        );
        Self {
            state: RefCell::new(state),
            policy,
            limit: RetryLimit::default(),
            cluster,
            proxy,
            pending: Cell::new(None),
            counted: Cell::new(false),
            refused: Cell::new(None),
        }
    }

    /// At a response head: whether to drop this response and try again
    /// (`held`: the whole request can be sent again). `header` looks up a
    /// response header, read only when the policy needs it.
    pub(crate) fn retry_response<'h>(
        &self,
        status: u16,
        held: bool,
        header: impl Fn(&str) -> Option<&'h [u8]>,
    ) -> bool {
        // Headers are looked up only for the conditions that read them.
        let on = self.policy.retry_on;
        let grpc_status: Option<GrpcStatus> = on
            .any(RetryOn::GRPC)
            .then(|| header("grpc-status"))
            .flatten()
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok());
        let attempt = Attempt::Response {
            status,
            grpc_status,
            rate_limited: on.any(RetryOn::ENVOY_RATELIMITED)
                && header("x-envoy-ratelimited").is_some(),
            retriable_header: false,
        };
        if !held {
            self.finish_retry(&attempt);
            return false;
        }
        match self.decide(&attempt) {
            Some(after) => {
                self.pending.set(Some(after));
                true
            }
            None => false,
        }
    }

    /// The back-off of a retry decided at a response head, once.
    pub(crate) fn take_pending(&self) -> Option<Duration> {
        self.pending.take()
    }

    /// After an attempt that got no response: the back-off before trying
    /// again, or `None`.
    pub(crate) fn retry_failure(&self, attempt: Attempt) -> Option<Duration> {
        self.decide(&attempt)
    }

    /// The flag for the request's answer: `URX` when retriable attempts
    /// outlived its retries, `UO` when the budget refused one.
    pub(crate) fn flag(&self) -> Option<ResponseFlag> {
        match self.refused.get()? {
            NoRetry::LimitExceeded => Some(ResponseFlag::UpstreamRetryLimitExceeded),
            NoRetry::Overflow => Some(ResponseFlag::UpstreamOverflow),
            NoRetry::NotRetriable => None,
        }
    }

    fn decide(&self, attempt: &Attempt) -> Option<Duration> {
        self.end_counted_retry();
        let stats = &self.cluster.stats;
        let retried_before = self.state.borrow().retries() > 0;
        let retries_active = &self.cluster.retries_active;
        // Read only for a retriable end with retries left.
        let budget = || {
            let active = u64::try_from(stats.upstream_rq_active.get()).unwrap_or(0);
            self.limit.allows(active, retries_active.get())
        };
        let random = || self.proxy.rng.borrow_mut().u64(..);
        let codes = &self.policy.retriable_status_codes;
        let decision = self
            .state
            .borrow_mut()
            .decide(attempt, codes, budget, random);
        match decision {
            Decision::Retry { after } => {
                retries_active.set(retries_active.get() + 1);
                self.counted.set(true);
                Some(after)
            }
            Decision::Stop(why) => {
                match why {
                    NoRetry::NotRetriable if retried_before => {
                        stats.upstream_rq_retry_success.inc()
                    }
                    NoRetry::NotRetriable => {}
                    NoRetry::LimitExceeded => stats.upstream_rq_retry_limit_exceeded.inc(),
                    NoRetry::Overflow => stats.upstream_rq_retry_overflow.inc(),
                }
                self.refused.set(Some(why));
                None
            }
        }
    }

    /// A response that cannot be retried (the request is no longer held)
    /// still ends the retry in progress.
    fn finish_retry(&self, attempt: &Attempt) {
        self.end_counted_retry();
        let codes = &self.policy.retriable_status_codes;
        let state = self.state.borrow();
        if state.retries() > 0 && !state.is_retriable(attempt, codes) {
            self.cluster.stats.upstream_rq_retry_success.inc();
        }
    }

    fn end_counted_retry(&self) {
        if self.counted.replace(false) {
            let n = self.cluster.retries_active.get();
            self.cluster.retries_active.set(n.saturating_sub(1));
        }
    }
}

impl Drop for RetryGate<'_> {
    fn drop(&mut self) {
        self.end_counted_retry();
    }
}
