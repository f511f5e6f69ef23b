//! The values a config gets for the optional settings it leaves out.

use std::time::Duration;

/// `limits.max_request_head_bytes`.
pub const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;
/// `limits.max_request_headers`.
pub const MAX_REQUEST_HEADERS: usize = 100;
/// `limits.max_uri_bytes`.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// `limits.request_head_timeout`.
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// `limits.idle_timeout` (downstream keep-alive).
pub const LISTENER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// `limits.stream_idle_timeout` (Envoy's default too).
pub const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// `limits.max_connections_per_worker`.
pub const MAX_CONNECTIONS_PER_WORKER: usize = 16384;
/// `access_log.path`.
pub const ACCESS_LOG_PATH: &str = "/dev/stdout";
/// A route's `timeout`.
pub const ROUTE_TIMEOUT: Duration = Duration::from_secs(15);
/// What a route's `timeout: 0s` (no timeout) is stored as: a year, which
/// timers handle and no exchange reaches.
pub const ROUTE_TIMEOUT_OFF: Duration = Duration::from_secs(365 * 24 * 3600);
/// A `redirect`'s `status`.
pub const REDIRECT_STATUS: u16 = 301;
/// A cluster's `connect_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A cluster's `max_idle_per_endpoint`.
pub const MAX_IDLE_PER_ENDPOINT: usize = 64;
/// A cluster's `idle_timeout` (upstream pooled connections).
pub const CLUSTER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// An endpoint's `weight`.
pub const ENDPOINT_WEIGHT: u32 = 1;
/// `http2.max_concurrent_streams`, for listeners and clusters.
pub const HTTP2_MAX_CONCURRENT_STREAMS: u32 = 1024;
/// `http2.initial_stream_window_size`.
pub const HTTP2_INITIAL_STREAM_WINDOW_SIZE: u32 = 1024 * 1024;
/// `http2.initial_connection_window_size`.
pub const HTTP2_INITIAL_CONNECTION_WINDOW_SIZE: u32 = 4 * 1024 * 1024;
/// `http2.max_frame_size` (the protocol's initial value).
pub const HTTP2_MAX_FRAME_SIZE: u32 = 16 * 1024;
/// `http2.max_header_list_size`.
pub const HTTP2_MAX_HEADER_LIST_SIZE: u32 = 64 * 1024;
/// `http2.keepalive.timeout`.
pub const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a request waits for on-demand discovery of its cluster.
pub const ON_DEMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// `eureka.fetch_interval` (Eureka's clients use 30 s too).
pub const EUREKA_FETCH_INTERVAL: Duration = Duration::from_secs(30);
/// How long ringway waits for the control plane's first answer before it
/// reports ready anyway (serving what it has).
pub const XDS_INITIAL_FETCH_TIMEOUT: Duration = Duration::from_secs(15);
