//! One request's retries: whether an attempt's end is retried, how many
//! retries are left, and the wait before the next.

use std::time::Duration;

use crate::backoff::BackOff;
use crate::retry_on::RetryOn;

/// A gRPC status code, as sent in `grpc-status`.
pub type GrpcStatus = u32;

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// No connection could be made (refused, or not within the connect
    /// timeout): nothing of the request left.
    ConnectFailure,
    /// The upstream refused the stream before processing it (HTTP/2
    /// REFUSED_STREAM).
    RefusedStream,
    /// The stream or connection ended without a response;
    /// `request_started`: some of the request had been sent.
    Reset { request_started: bool },
    /// No response within the per-try timeout; the attempt was reset.
    PerTryTimeout,
    /// A response head arrived.
    Response {
        status: u16,
        /// `grpc-status` in the response headers (a trailers-only answer).
        grpc_status: Option<GrpcStatus>,
        /// The response carries `x-envoy-ratelimited`.
        rate_limited: bool,
        /// The response matches one of the policy's `retriable_headers`
        /// (the caller matches them).
        retriable_header: bool,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after waiting `after`.
    Retry { after: Duration },
    /// Keep this attempt's end.
    Stop(NoRetry),
}

/// Why an attempt is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRetry {
    /// The policy does not retry this end (or it was a success).
    NotRetriable,
    /// Retriable, but the request's retries are used up: Envoy's
    /// `upstream_rq_retry_limit_exceeded`, flag `URX`.
    LimitExceeded,
    /// Retriable, but the cluster's retry budget (or `max_retries`) is
    /// spent: `upstream_rq_retry_overflow`, flag `UO`.
    Overflow,
}

/// The retry state of one request under one policy. The policy's
/// `retriable_status_codes` are passed to each call rather than held, so
/// the state borrows nothing.
#[derive(Debug, Clone)]
pub struct RetryState {
    on: RetryOn,
    remaining: u32,
    backoff: BackOff,
    retries: u32,
}

impl RetryState {
    /// A request that may be retried `num_retries` times on the
    /// conditions `on`.
    pub fn new(on: RetryOn, num_retries: u32, backoff: BackOff) -> Self {
        Self {
            on,
            remaining: num_retries,
            backoff,
            retries: 0,
        }
    }

    /// Whether the policy retries an attempt that ended so (Envoy's
    /// `wouldRetryFromHeaders` and `wouldRetryFromReset`); `codes` are its
    /// `retriable_status_codes`.
    pub fn is_retriable(&self, attempt: &Attempt, codes: &[u16]) -> bool {
        let on = self.on;
        let no_response = |request_started: bool| {
            (on.any(RetryOn::RESET_BEFORE_REQUEST) && !request_started)
                || on.any(RetryOn::RESET | RetryOn::FIVE_XX | RetryOn::GATEWAY_ERROR)
        };
        match *attempt {
            Attempt::ConnectFailure => on.any(RetryOn::CONNECT_FAILURE) || no_response(false),
            Attempt::RefusedStream => on.any(RetryOn::REFUSED_STREAM) || no_response(true),
            Attempt::Reset { request_started } => no_response(request_started),
            Attempt::PerTryTimeout => no_response(true),
            Attempt::Response { rate_limited, .. } if rate_limited => {
                on.any(RetryOn::ENVOY_RATELIMITED)
            }
            Attempt::Response {
                status,
                grpc_status,
                retriable_header,
                ..
            } => {
                (on.any(RetryOn::FIVE_XX) && (500..600).contains(&status))
                    || (on.any(RetryOn::GATEWAY_ERROR) && matches!(status, 502..=504))
                    || (on.any(RetryOn::RETRIABLE_4XX) && status == 409)
                    || (on.any(RetryOn::RETRIABLE_STATUS_CODES) && codes.contains(&status))
                    || (on.any(RetryOn::RETRIABLE_HEADERS) && retriable_header)
                    || grpc_status.is_some_and(|s| on.any(grpc_condition(s)))
            }
        }
    }

    /// Decides after an attempt. `budget_allows` is asked only when the
    /// attempt is retriable and retries are left (it is the cluster's
    /// limit at this moment); `random` draws the back-off, only for a
    /// retry.
    pub fn decide(
        &mut self,
        attempt: &Attempt,
        codes: &[u16],
        budget_allows: impl FnOnce() -> bool,
        random: impl FnOnce() -> u64,
    ) -> Decision {
        if !self.is_retriable(attempt, codes) {
            return Decision::Stop(NoRetry::NotRetriable);
        }
        if self.remaining == 0 {
            return Decision::Stop(NoRetry::LimitExceeded);
        }
        // As Envoy: a retry refused by the budget still uses one up.
        self.remaining -= 1;
        if !budget_allows() {
            return Decision::Stop(NoRetry::Overflow);
        }
        self.retries += 1;
        Decision::Retry {
            after: self.backoff.next(random()),
        }
    }

    /// Retries made so far (the request's attempts are one more).
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// The condition of a gRPC status, or none.
fn grpc_condition(status: GrpcStatus) -> RetryOn {
    match status {
        1 => RetryOn::GRPC_CANCELLED,
        4 => RetryOn::GRPC_DEADLINE_EXCEEDED,
        8 => RetryOn::GRPC_RESOURCE_EXHAUSTED,
        13 => RetryOn::GRPC_INTERNAL,
        14 => RetryOn::GRPC_UNAVAILABLE,
        _ => RetryOn::NONE,
    }
}

#[cfg(test)]
mod tests;
