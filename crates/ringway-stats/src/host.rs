//! Per-endpoint stats: what Envoy's `/clusters` shows for each host
//! (`cx_total`, `rq_success`, ...). Kept beside the endpoint's pool on each
//! worker, copied into [`HostSnapshot`]s for the admin thread.

use crate::metric::{Counter, Gauge};

/// One endpoint's live stats on one worker.
#[derive(Debug, Default)]
pub struct HostStats {
    /// Connections opened.
    pub cx_total: Counter,
    /// Connection attempts that failed.
    pub cx_connect_fail: Counter,
    /// Connections open.
    pub cx_active: Gauge,
    /// Requests sent.
    pub rq_total: Counter,
    /// Responses with a status below 500.
    pub rq_success: Counter,
    /// Responses with a 5xx status.
    pub rq_error: Counter,
    /// Requests that hit the route timeout.
    pub rq_timeout: Counter,
}

/// A plain copy of [`HostStats`] (and the endpoint's active requests), or
/// the sum of several workers' copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostSnapshot {
    pub cx_total: u64,
    pub cx_connect_fail: u64,
    pub cx_active: i64,
    pub rq_total: u64,
    pub rq_success: u64,
    pub rq_error: u64,
    pub rq_timeout: u64,
    pub rq_active: i64,
}

impl HostStats {
    /// Counts a response by its status: `rq_error` for 5xx, else
    /// `rq_success` (as Envoy's hosts count them).
    #[inline]
    pub fn record_status(&self, status: u16) {
        if status >= 500 {
            self.rq_error.inc();
        } else {
            self.rq_success.inc();
        }
    }

    /// A plain copy; `rq_active` is the endpoint's active requests, which
    /// its pool keeps.
    pub fn snapshot(&self, rq_active: i64) -> HostSnapshot {
        HostSnapshot {
            cx_total: self.cx_total.get(),
            cx_connect_fail: self.cx_connect_fail.get(),
            cx_active: self.cx_active.get(),
            rq_total: self.rq_total.get(),
            rq_success: self.rq_success.get(),
            rq_error: self.rq_error.get(),
            rq_timeout: self.rq_timeout.get(),
            rq_active,
        }
    }

    /// Zeroes the counters (gauges keep theirs).
    pub fn reset_counters(&self) {
        for c in [
            &self.cx_total,
            &self.cx_connect_fail,
            &self.rq_total,
            &self.rq_success,
            &self.rq_error,
            &self.rq_timeout,
        ] {
            c.add(c.get().wrapping_neg());
        }
    }
}

impl HostSnapshot {
    /// Adds another worker's copy.
    pub fn merge(&mut self, other: &Self) {
        self.cx_total = self.cx_total.wrapping_add(other.cx_total);
        self.cx_connect_fail = self.cx_connect_fail.wrapping_add(other.cx_connect_fail);
        self.cx_active = self.cx_active.wrapping_add(other.cx_active);
        self.rq_total = self.rq_total.wrapping_add(other.rq_total);
        self.rq_success = self.rq_success.wrapping_add(other.rq_success);
        self.rq_error = self.rq_error.wrapping_add(other.rq_error);
        self.rq_timeout = self.rq_timeout.wrapping_add(other.rq_timeout);
        self.rq_active = self.rq_active.wrapping_add(other.rq_active);
    }

    /// The counters by Envoy name, sorted.
    pub fn counters(&self) -> [(&'static str, u64); 6] {
        [
            ("cx_connect_fail", self.cx_connect_fail),
            ("cx_total", self.cx_total),
            ("rq_error", self.rq_error),
            ("rq_success", self.rq_success),
            ("rq_timeout", self.rq_timeout),
            ("rq_total", self.rq_total),
        ]
    }

    /// The gauges by Envoy name, sorted.
    pub fn gauges(&self) -> [(&'static str, i64); 2] {
        [("cx_active", self.cx_active), ("rq_active", self.rq_active)]
    }
}
