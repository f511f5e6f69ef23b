//! Per-request retry decisions, as Envoy's router makes them, with no I/O:
//! which ends of an attempt a policy retries ([`RetryOn`], [`Attempt`]),
//! how many times ([`RetryState`]), how long to wait first ([`BackOff`]),
//! and whether the cluster can afford another retry now ([`RetryLimit`]).
//!
//! Time and randomness are passed in: the caller measures, draws a random
//! number, and runs the timers. Everything here is plain data, per core,
//! tested without a clock.

#![forbid(unsafe_code)]

mod backoff;
mod limit;
mod retry_on;
mod state;

pub use backoff::BackOff;
pub use limit::{RetryBudget, RetryLimit};
pub use retry_on::{RetryOn, UnknownCondition};
pub use state::{Attempt, Decision, GrpcStatus, NoRetry, RetryState};
