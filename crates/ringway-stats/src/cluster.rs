//! Per-cluster stats: Envoy's upstream cluster block (`cluster.<name>.*`).

use std::time::Duration;

use crate::block::stats_block;

stats_block! {
    /// One cluster's live stats on one worker. Shared through an `Rc`;
    /// survives configuration reloads.
    live ClusterStats;
    /// A plain, `Send` copy of [`ClusterStats`].
    snapshot ClusterSnapshot;
    envoy_prefix "cluster";
    prometheus_label "envoy_cluster_name";
    stats {
        counter upstream_cx_total: "Upstream connections opened.",
        counter upstream_cx_connect_fail: "Upstream connection attempts that failed.",
        counter upstream_cx_connect_timeout: "Upstream connection attempts that timed out.",
        counter upstream_cx_http1_total: "Upstream HTTP/1.1 connections opened.",
        counter upstream_cx_http2_total: "Upstream HTTP/2 connections opened.",
        counter upstream_cx_destroy: "Upstream connections closed.",
        counter upstream_cx_idle_timeout: "Idle upstream connections closed by the idle timeout.",
        counter upstream_cx_none_healthy: "Requests that found no endpoint to send to.",
        counter upstream_rq_total: "Upstream requests sent.",
        counter upstream_rq_1xx: "Upstream responses with a 1xx status.",
        counter upstream_rq_2xx: "Upstream responses with a 2xx status.",
        counter upstream_rq_3xx: "Upstream responses with a 3xx status.",
        counter upstream_rq_4xx: "Upstream responses with a 4xx status.",
        counter upstream_rq_5xx: "Upstream responses with a 5xx status.",
        counter upstream_rq_timeout: "Upstream requests that hit the route timeout.",
        counter upstream_rq_retry: "Upstream requests retried.",
        counter upstream_rq_retry_success: "Retried requests whose last attempt needed no further retry.",
        counter upstream_rq_retry_overflow: "Retries refused by the cluster's retry budget.",
        counter upstream_rq_retry_limit_exceeded: "Retriable attempts not retried because the request's retries were used up.",
        counter upstream_rq_tx_reset: "Upstream requests reset by ringway (client gone, timeout).",
        counter upstream_rq_rx_reset: "Upstream requests reset by the upstream.",
        counter http2_goaway_received as "http2.goaway_received": "HTTP/2 GOAWAY frames received from upstreams.",
        counter http2_rx_reset as "http2.rx_reset": "HTTP/2 RST_STREAM frames received from upstreams.",
        counter http2_tx_reset as "http2.tx_reset": "HTTP/2 RST_STREAM frames sent to upstreams.",
        counter http2_keepalive_timeout as "http2.keepalive_timeout": "Upstream HTTP/2 connections closed because a PING went unanswered.",
        gauge upstream_cx_active: "Upstream connections open.",
        gauge upstream_rq_active: "Upstream requests in progress.",
        config_gauge membership_total: "Endpoints in the cluster.",
        histogram upstream_rq_time: "Upstream request time, from sending the request to the last byte of the response, in milliseconds.",
    }
}

impl ClusterStats {
    /// Records one upstream request's time in `upstream_rq_time`.
    #[inline]
    pub fn record_upstream_rq_time(&self, elapsed: Duration) {
        self.upstream_rq_time.record(elapsed);
    }

    /// Counts a response received from upstream in `upstream_rq_<N>xx`.
    /// Statuses outside 100..=599 are not counted.
    #[inline]
    pub fn record_upstream_status(&self, status: u16) {
        let counter = match status / 100 {
            1 => &self.upstream_rq_1xx,
            2 => &self.upstream_rq_2xx,
            3 => &self.upstream_rq_3xx,
            4 => &self.upstream_rq_4xx,
            5 => &self.upstream_rq_5xx,
            _ => return,
        };
        counter.inc();
    }
}
