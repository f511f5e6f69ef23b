//! A route's retry policy, as Envoy's `retry_policy`.

use std::time::Duration;

use ringway_retry::RetryOn;
use serde::Serialize;

/// When and how often a forwarded request is tried again, and how long
/// each retry waits first (Envoy's `retry_policy`; a route's replaces its
/// virtual host's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub retry_on: RetryOn,
    /// Retries after the first attempt (Envoy's default: 1).
    pub num_retries: u32,
    /// `retry_back_off.base_interval` (default 25 ms).
    pub back_off_base: Duration,
    /// `retry_back_off.max_interval` (default ten times the base).
    pub back_off_max: Option<Duration>,
    /// The statuses `retriable-status-codes` retries.
    pub retriable_status_codes: Vec<u16>,
}

impl RetryPolicy {
    /// Envoy's default `num_retries`.
    pub const DEFAULT_NUM_RETRIES: u32 = 1;
}
