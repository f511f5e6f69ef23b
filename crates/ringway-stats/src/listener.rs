//! Per-listener stats: Envoy's HTTP connection manager block
//! (`http.<listener>.*`).

use std::time::Duration;

use crate::block::stats_block;

stats_block! {
    /// One listener's live stats on one worker. Shared by the listener's
    /// connections through an `Rc`; survives configuration reloads.
    live ListenerStats;
    /// A plain, `Send` copy of [`ListenerStats`].
    snapshot ListenerSnapshot;
    envoy_prefix "http";
    prometheus_label "envoy_http_conn_manager_prefix";
    stats {
        counter downstream_cx_total: "Downstream connections accepted.",
        counter downstream_cx_destroy: "Downstream connections closed.",
        counter downstream_cx_overflow: "Downstream connections refused because the per-worker connection limit was reached.",
        counter downstream_cx_idle_timeout: "Downstream connections closed by the idle timeout.",
        counter downstream_cx_upgrades_total: "Downstream connections upgraded to another protocol.",
        counter downstream_cx_http1_total: "Downstream HTTP/1.x connections.",
        counter downstream_cx_http2_total: "Downstream HTTP/2 connections.",
        counter downstream_cx_protocol_error: "Downstream connections closed for an HTTP/2 protocol error or flood.",
        counter downstream_rq_http1_total: "Downstream HTTP/1.x requests.",
        counter downstream_rq_http2_total: "Downstream HTTP/2 requests.",
        counter downstream_rq_rx_reset: "Downstream requests reset by the client.",
        counter downstream_rq_tx_reset: "Downstream requests reset by ringway.",
        counter http2_rx_reset as "http2.rx_reset": "HTTP/2 RST_STREAM frames received from clients.",
        counter http2_tx_reset as "http2.tx_reset": "HTTP/2 RST_STREAM frames sent to clients.",
        counter http2_goaway_sent as "http2.goaway_sent": "HTTP/2 GOAWAY frames sent to clients (drain, idle, floods, protocol errors).",
        counter http2_goaway_received as "http2.goaway_received": "HTTP/2 GOAWAY frames received from clients.",
        counter http2_premature_reset_closed as "http2.premature_reset_closed": "HTTP/2 connections closed because clients reset too many streams before their responses (rapid reset).",
        counter http2_keepalive_timeout as "http2.keepalive_timeout": "HTTP/2 connections closed because a PING went unanswered.",
        counter http2_header_overflow as "http2.header_overflow": "HTTP/2 connections closed because a header list exceeded the abuse limit.",
        counter downstream_rq_total: "Downstream requests received.",
        counter downstream_rq_1xx: "Downstream responses with a 1xx status.",
        counter downstream_rq_2xx: "Downstream responses with a 2xx status.",
        counter downstream_rq_3xx: "Downstream responses with a 3xx status.",
        counter downstream_rq_4xx: "Downstream responses with a 4xx status.",
        counter downstream_rq_5xx: "Downstream responses with a 5xx status.",
        counter downstream_rq_header_timeout: "Requests answered 408 because the request head did not arrive in time.",
        counter downstream_rq_idle_timeout: "Requests ended by the stream idle timeout (nothing moved either way).",
        counter downstream_rq_timeout: "Requests answered 408 because the whole request did not arrive within request_timeout.",
        counter downstream_rq_too_large: "Requests answered 413 because the body exceeded the limit.",
        counter downstream_rq_rejected_head: "Requests rejected locally with 400, 414 or 431 (malformed or oversized head).",
        counter no_route: "Requests that matched no route.",
        counter rq_direct_response: "Requests answered with a configured direct response.",
        counter rq_redirect: "Requests answered with a configured redirect.",
        counter on_demand_cluster_hit: "Requests whose route names its cluster (by authority or header) and found it already known.",
        counter on_demand_cluster_discovery: "Requests that waited for on-demand discovery of their cluster.",
        counter on_demand_cluster_success: "Requests whose cluster was discovered while they waited.",
        counter on_demand_cluster_missing: "Requests answered 503 NC: the control plane says their cluster does not exist, or no cluster was named.",
        counter on_demand_cluster_timeout: "Requests answered 503 NC: their cluster was not discovered within the on-demand timeout.",
        gauge downstream_cx_active: "Downstream connections open.",
        gauge downstream_rq_active: "Downstream requests in progress.",
        histogram downstream_rq_time: "Downstream request time, from the first byte of the request to the last byte of the response, in milliseconds.",
    }
}

impl ListenerStats {
    /// Counts a request as begun: `downstream_rq_total`, its protocol's
    /// total, and `downstream_rq_active`.
    #[inline]
    pub fn request_started(&self, http2: bool) {
        self.downstream_rq_total.inc();
        if http2 {
            self.downstream_rq_http2_total.inc();
        } else {
            self.downstream_rq_http1_total.inc();
        }
        self.downstream_rq_active.inc();
    }

    /// Counts a request as done: `downstream_rq_active`, its status class
    /// and its time.
    #[inline]
    pub fn request_ended(&self, status: u16, elapsed: Duration) {
        self.downstream_rq_active.dec();
        self.record_response_status(status);
        self.record_downstream_rq_time(elapsed);
    }

    /// Records one request's total time in `downstream_rq_time`.
    #[inline]
    pub fn record_downstream_rq_time(&self, elapsed: Duration) {
        self.downstream_rq_time.record(elapsed);
    }

    /// Counts a response sent downstream in `downstream_rq_<N>xx`. Statuses
    /// outside 100..=599 are not counted.
    #[inline]
    pub fn record_response_status(&self, status: u16) {
        let counter = match status / 100 {
            1 => &self.downstream_rq_1xx,
            2 => &self.downstream_rq_2xx,
            3 => &self.downstream_rq_3xx,
            4 => &self.downstream_rq_4xx,
            5 => &self.downstream_rq_5xx,
            _ => return,
        };
        counter.inc();
    }
}
