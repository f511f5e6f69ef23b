//! The file format as written: serde types that mirror the YAML/JSON text.
//!
//! Nothing here is checked beyond its shape; [`crate::validate`] turns these
//! into the [`crate::model`] types.

mod matcher;
mod scalar;

use serde::Deserialize;

pub(crate) use matcher::{
    InternalAddressConfig, QueryParameterMatcher, RegexRewrite, StringMatcher,
};
pub(crate) use scalar::{CpuSetText, DurationText, EndpointText};

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `listeners` and `clusters`"
)]
pub(crate) struct File {
    pub admin: Option<Admin>,
    pub workers: Option<Workers>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    pub xds: Option<Xds>,
    pub eureka: Option<Eureka>,
}

/// A file of route configurations on their own (a control plane's routes
/// folder): `route_configurations:`, each a name and virtual hosts as a
/// listener's are written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `route_configurations`"
)]
pub(crate) struct RoutesFile {
    pub route_configurations: Vec<RouteConfiguration>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a route configuration: a mapping with name and virtual_hosts"
)]
pub(crate) struct RouteConfiguration {
    pub name: String,
    #[serde(default)]
    pub virtual_hosts: Vec<VirtualHost>,
}

/// Settings every generated route gets (a control plane's route template).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping with `route`")]
pub(crate) struct RouteTemplateFile {
    pub route: RouteTemplate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping like { timeout: 2s }")]
pub(crate) struct RouteTemplate {
    pub timeout: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { urls: [\"http://127.0.0.1:8761/eureka/\"], fetch_interval: 30s }"
)]
pub(crate) struct Eureka {
    pub urls: Vec<String>,
    pub fetch_interval: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { address: \"127.0.0.1:18000\", node: { id: sidecar-1, cluster: orders } }"
)]
pub(crate) struct Xds {
    /// One `host:port`, or a list of replicas to fail over between.
    pub address: XdsAddress,
    /// May be left out when `--service-node` gives the id.
    #[serde(default)]
    pub node: XdsNode,
    pub initial_fetch_timeout: Option<DurationText>,
    #[serde(default)]
    pub all_clusters: bool,
    #[serde(default)]
    pub all_listeners: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a `host:port` or a list of them")]
pub(crate) enum XdsAddress {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { id: sidecar-1, cluster: orders, zone: eu-west-1a }"
)]
pub(crate) struct XdsNode {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { address: \"127.0.0.1:9901\" }"
)]
pub(crate) struct Admin {
    pub address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with count, cpu_set or io_driver"
)]
pub(crate) struct Workers {
    pub count: Option<usize>,
    pub cpu_set: Option<CpuSetText>,
    pub io_driver: Option<IoDriver>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum IoDriver {
    Auto,
    Uring,
    Epoll,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a listener: a mapping with name, address and virtual_hosts"
)]
pub(crate) struct Listener {
    pub name: String,
    pub address: String,
    pub stat_prefix: Option<String>,
    #[serde(default)]
    pub virtual_hosts: Vec<VirtualHost>,
    pub limits: Option<Limits>,
    pub access_log: Option<AccessLog>,
    pub protocol: Option<ListenerProtocol>,
    pub http2: Option<Http2>,
    pub use_remote_address: Option<bool>,
    pub xff_num_trusted_hops: Option<u32>,
    pub internal_address_config: Option<InternalAddressConfig>,
    pub suppress_envoy_headers: Option<bool>,
    pub generate_request_id: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListenerProtocol {
    Auto,
    Http1,
    Http2,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UpstreamProtocol {
    Http1,
    Http2,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of HTTP/2 settings")]
pub(crate) struct Http2 {
    pub max_concurrent_streams: Option<u32>,
    pub initial_stream_window_size: Option<u32>,
    pub initial_connection_window_size: Option<u32>,
    pub max_frame_size: Option<u32>,
    pub max_header_list_size: Option<u32>,
    pub keepalive: Option<Keepalive>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { interval: 30s, timeout: 10s }"
)]
pub(crate) struct Keepalive {
    pub interval: DurationText,
    pub timeout: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of listener limits")]
pub(crate) struct Limits {
    pub max_request_head_bytes: Option<usize>,
    pub max_request_headers: Option<usize>,
    pub max_uri_bytes: Option<usize>,
    pub request_head_timeout: Option<DurationText>,
    pub idle_timeout: Option<DurationText>,
    pub stream_idle_timeout: Option<DurationText>,
    pub request_timeout: Option<DurationText>,
    pub max_connections_per_worker: Option<usize>,
    pub max_request_body_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { path: /dev/stdout, format: text }"
)]
pub(crate) struct AccessLog {
    pub path: Option<String>,
    pub format: Option<AccessLogFormat>,
    /// An Envoy format string (command operators).
    pub text_format: Option<String>,
    /// A JSON object whose values are Envoy format strings.
    pub json_format: Option<serde_json::Map<String, serde_json::Value>>,
    pub omit_empty_values: Option<bool>,
    pub filter: Option<AccessLogFilter>,
}

/// Which requests are logged: all the conditions given must hold.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { status_code: { op: ge, value: 400 } }"
)]
pub(crate) struct AccessLogFilter {
    pub status_code: Option<Comparison>,
    pub duration_ms: Option<Comparison>,
    pub response_flags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { op: ge, value: 400 }"
)]
pub(crate) struct Comparison {
    pub op: ComparisonOp,
    pub value: u64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ComparisonOp {
    Ge,
    Eq,
    Le,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccessLogFormat {
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a virtual host: a mapping with name, domains and routes"
)]
pub(crate) struct VirtualHost {
    pub name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry policy like { retry_on: \"5xx,reset\", num_retries: 2 }"
)]
pub(crate) struct RetryPolicy {
    pub retry_on: String,
    pub num_retries: Option<u32>,
    pub retry_back_off: Option<RetryBackOff>,
    #[serde(default)]
    pub retriable_status_codes: Vec<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { base_interval: 25ms, max_interval: 250ms }"
)]
pub(crate) struct RetryBackOff {
    pub base_interval: DurationText,
    pub max_interval: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a route: a mapping with `match` and one action (cluster, cluster_from, cluster_header, weighted_clusters, direct_response or redirect)"
)]
pub(crate) struct Route {
    #[serde(rename = "match")]
    pub matcher: RouteMatch,
    pub cluster: Option<String>,
    pub cluster_from: Option<ClusterFrom>,
    pub cluster_header: Option<String>,
    pub on_demand: Option<OnDemand>,
    pub weighted_clusters: Option<Vec<WeightedCluster>>,
    pub direct_response: Option<DirectResponse>,
    pub redirect: Option<Redirect>,
    pub timeout: Option<DurationText>,
    pub idle_timeout: Option<DurationText>,
    pub retry_policy: Option<RetryPolicy>,
    pub prefix_rewrite: Option<String>,
    pub regex_rewrite: Option<RegexRewrite>,
    pub host_rewrite: Option<String>,
    #[serde(default)]
    pub auto_host_rewrite: bool,
    pub max_request_body_bytes: Option<u64>,
}

/// Where a route takes its cluster name from, besides a header.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClusterFrom {
    Authority,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping like { timeout: 5s }")]
pub(crate) struct OnDemand {
    pub timeout: Option<DurationText>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a route match: a mapping with one of prefix, path or regex"
)]
pub(crate) struct RouteMatch {
    pub prefix: Option<String>,
    pub path: Option<String>,
    pub regex: Option<String>,
    pub case_sensitive: Option<bool>,
    #[serde(default)]
    pub headers: Vec<HeaderMatch>,
    #[serde(default)]
    pub query_parameters: Vec<QueryParameterMatcher>,
    #[serde(default)]
    pub methods: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a header match: a mapping with name and at most one of exact, prefix, suffix, contains, regex, string_match, range_match, present, present_match"
)]
pub(crate) struct HeaderMatch {
    pub name: String,
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub contains: Option<String>,
    pub regex: Option<String>,
    pub string_match: Option<StringMatcher>,
    pub range_match: Option<Int64Range>,
    pub present: Option<bool>,
    pub present_match: Option<bool>,
    /// ringway's spelling: also matches when the header is missing.
    #[serde(default)]
    pub invert: bool,
    /// Envoy's spelling and meaning.
    #[serde(default)]
    pub invert_match: bool,
    #[serde(default)]
    pub treat_missing_header_as_empty: bool,
}

/// `start` included, `end` not.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { start: 1, end: 10 }"
)]
pub(crate) struct Int64Range {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { name: backend, weight: 90 }"
)]
pub(crate) struct WeightedCluster {
    pub name: String,
    pub weight: u32,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping like { status: 200, body: \"ok\" }"
)]
pub(crate) struct DirectResponse {
    pub status: u16,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with status, scheme, host, port, path, prefix_rewrite or strip_query"
)]
pub(crate) struct Redirect {
    pub status: Option<u16>,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub prefix_rewrite: Option<String>,
    pub strip_query: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a cluster: a mapping with name and endpoints"
)]
pub(crate) struct Cluster {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<ClusterType>,
    pub vip: Option<String>,
    pub svip: Option<String>,
    pub lb_policy: Option<LbPolicy>,
    #[serde(default)]
    pub endpoints: Vec<EndpointText>,
    pub connect_timeout: Option<DurationText>,
    pub max_idle_per_endpoint: Option<usize>,
    pub idle_timeout: Option<DurationText>,
    pub protocol: Option<UpstreamProtocol>,
    pub http2: Option<Http2>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClusterType {
    Static,
    Eureka,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LbPolicy {
    RoundRobin,
    LeastRequest,
    Random,
}
