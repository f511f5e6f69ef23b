//! The validated, immutable configuration snapshot.
//!
//! Everything here has already been checked: a worker can serve from a
//! [`Snapshot`] without handling any configuration error. Values are shared
//! across cores behind `Arc` and never mutated after construction.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

mod access_log;
mod address;
pub mod log_format;
mod matcher;
mod retry;

pub use access_log::{
    AccessLog, AccessLogFormat, Comparison, ComparisonOp, ENVOY_RESPONSE_FLAGS, HeaderSource,
    JsonFormat, JsonValue, LogFilter, TextFormat,
};
pub use address::{CidrRange, InternalAddressConfig};
pub use matcher::{
    HeaderMatch, HeaderValueMatch, QueryParameterMatch, QueryParameterValueMatch, RegexRewrite,
    RegexRewriteError, StringMatch, StringMatchKind,
};
pub use retry::RetryPolicy;

/// One complete, validated configuration. Workers swap whole snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Where the snapshot came from (a file path, or `embedded:quickstart`).
    pub source: String,
    pub admin: Admin,
    pub workers: Workers,
    pub listeners: Vec<Arc<Listener>>,
    /// Clusters by name: the file's, and (once merged in by the control
    /// thread) those the control plane sent.
    pub clusters: BTreeMap<String, Arc<Cluster>>,
    /// The control plane to take clusters from, if any.
    pub xds: Option<Xds>,
    /// The Eureka registry to resolve VIPs in, if any.
    pub eureka: Option<Eureka>,
}

/// Where ringway reads Eureka, for clusters of `type: eureka` (and, with
/// no `xds` block, for names routes ask for on demand).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eureka {
    /// Base URLs like `http://127.0.0.1:8761/eureka/`, tried in turn.
    pub urls: Vec<String>,
    /// Time between delta fetches.
    pub fetch_interval: Duration,
}

/// The VIP a `type: eureka` cluster takes its endpoints from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EurekaVip {
    pub name: String,
    /// A secure VIP (`svip`), served on the instances' secure ports.
    pub secure: bool,
}

/// Where ringway's xDS-lite stream goes (see `docs/xds-lite.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Xds {
    /// `host:port` of the control plane's gRPC servers (replicas serving
    /// the same resources), in the order tried; a name may resolve to
    /// several. At least one.
    pub addresses: Vec<String>,
    /// Empty when the file gives none: `--service-node` must then (the
    /// binary checks; the control plane tells proxies apart by it).
    pub node_id: String,
    pub node_cluster: String,
    /// `node.locality.zone`; may be empty.
    pub node_zone: String,
    /// `/ready` answers 503 until the first answers arrive or this passes.
    pub initial_fetch_timeout: Duration,
    /// Subscribe to every cluster the control plane has (Envoy's wildcard
    /// CDS) rather than only those routes name and on-demand discovery
    /// asks for.
    pub all_clusters: bool,
    /// Serve every listener the control plane has (Envoy's wildcard LDS),
    /// bound and drained live as they come and go.
    pub all_listeners: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Admin {
    /// `None` when the file names no admin address (the CLI default applies).
    pub address: Option<SocketAddr>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Workers {
    /// Number of workers; `None` = one per CPU in the affinity mask.
    pub count: Option<usize>,
    /// CPUs to pin workers to; `None` = the process's affinity mask.
    pub cpu_set: Option<Vec<usize>>,
    pub io_driver: Option<IoDriver>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IoDriver {
    /// io_uring when the kernel offers it, else epoll.
    Auto,
    Uring,
    Epoll,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    /// The `<prefix>` of its `http.<prefix>.*` stats (Envoy's HCM
    /// `stat_prefix`); listeners with the same one share their counts.
    pub stat_prefix: String,
    /// In config order. Selection does not depend on this order: an exact
    /// domain wins, then the longest suffix wildcard, then the longest prefix
    /// wildcard, then `*` (as in Envoy; see `ringway-route`). Each domain
    /// appears once across the listener.
    pub virtual_hosts: Vec<VirtualHost>,
    /// When set, the virtual hosts are the control plane's
    /// RouteConfiguration of this name (RDS), filled in by the control
    /// thread as it arrives; until then there are none (404 `NR`).
    pub rds: Option<String>,
    pub limits: Limits,
    /// Envoy's `access_log` list: every request is offered to each.
    pub access_logs: Vec<AccessLog>,
    /// Which HTTP versions the listener speaks.
    pub protocol: ListenerProtocol,
    /// HTTP/2 settings for downstream connections.
    pub http2: Http2Settings,
    /// Envoy's `use_remote_address`: the peer is appended to
    /// `x-forwarded-for` and is the client address; otherwise the client
    /// address comes from `x-forwarded-for`. (ringway's file defaults this
    /// to `true`, Envoy to `false`.)
    pub use_remote_address: bool,
    /// Envoy's `xff_num_trusted_hops`: trusted proxies in front whose
    /// `x-forwarded-for` entries (from the right) are skipped to find the
    /// client address.
    pub xff_num_trusted_hops: u32,
    /// Which client addresses are internal (`x-envoy-internal`, and
    /// `x-envoy-*` request headers honoured); `None`: none is.
    pub internal_address_config: Option<InternalAddressConfig>,
    /// The router's `suppress_envoy_headers`: no `x-envoy-upstream-service-time`,
    /// `x-envoy-expected-rq-timeout-ms` or `x-envoy-original-path` added.
    pub suppress_envoy_headers: bool,
    /// Envoy's `generate_request_id`: a request without `x-request-id` gets
    /// one (the default); `false` leaves it without.
    pub generate_request_id: bool,
}

/// The HTTP versions a listener accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerProtocol {
    /// HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port, told
    /// apart by the HTTP/2 connection preface.
    Auto,
    Http1,
    Http2,
}

/// The HTTP version ringway speaks to a cluster's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamProtocol {
    Http1,
    /// Cleartext HTTP/2 with prior knowledge; streams are multiplexed over
    /// per-core connections.
    Http2,
}

/// HTTP/2 connection settings, for a listener (what ringway accepts) or a
/// cluster (what ringway offers its upstreams and opens at most).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Http2Settings {
    /// Streams open at once on one connection. Downstream, this is the
    /// SETTINGS value sent; upstream, ringway opens a new connection once
    /// this many (or the peer's limit, if lower) are in use.
    pub max_concurrent_streams: u32,
    /// Receive window of each stream: bounds the bytes buffered per stream.
    pub initial_stream_window_size: u32,
    /// Receive window of the whole connection.
    pub initial_connection_window_size: u32,
    /// Largest frame payload accepted.
    pub max_frame_size: u32,
    /// Largest decoded header list accepted (RFC 9113 §6.5.2).
    pub max_header_list_size: u32,
    /// PINGs to detect dead connections; `None` sends none.
    pub keepalive: Option<Keepalive>,
}

impl Default for Http2Settings {
    /// See [`crate::defaults`].
    fn default() -> Self {
        use crate::defaults;
        Self {
            max_concurrent_streams: defaults::HTTP2_MAX_CONCURRENT_STREAMS,
            initial_stream_window_size: defaults::HTTP2_INITIAL_STREAM_WINDOW_SIZE,
            initial_connection_window_size: defaults::HTTP2_INITIAL_CONNECTION_WINDOW_SIZE,
            max_frame_size: defaults::HTTP2_MAX_FRAME_SIZE,
            max_header_list_size: defaults::HTTP2_MAX_HEADER_LIST_SIZE,
            keepalive: None,
        }
    }
}

/// HTTP/2 keepalive: a PING every `interval` while the connection is open;
/// no answer within `timeout` closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Keepalive {
    pub interval: Duration,
    pub timeout: Duration,
}

/// Per-listener protection limits. Each has its own status code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    /// Largest request head (request line + headers), else 431.
    pub max_request_head_bytes: usize,
    /// Most request header fields, else 431.
    pub max_request_headers: usize,
    /// Longest request-target, else 414.
    pub max_uri_bytes: usize,
    /// Time allowed for a whole request head to arrive once its first byte
    /// has, else 408 (slowloris).
    pub request_head_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// Envoy's `stream_idle_timeout`: a request whose stream moves no byte
    /// either way for this long ends (408, or 504 once the request is
    /// complete, flag `SI`; reset once the response has begun). `None`: off.
    pub stream_idle_timeout: Option<Duration>,
    /// Envoy's `request_timeout`: the whole request (head and body) must
    /// arrive within this from its first byte, else 408. `None`: off.
    pub request_timeout: Option<Duration>,
    /// Connections each worker accepts at once on this listener; more wait
    /// in the kernel backlog.
    pub max_connections_per_worker: usize,
    /// Default request body limit for routes that set none, else 413.
    pub max_request_body_bytes: Option<u64>,
}

impl Default for Limits {
    /// The limits a listener gets when its config sets none: see
    /// [`crate::defaults`].
    fn default() -> Self {
        use crate::defaults;
        Self {
            max_request_head_bytes: defaults::MAX_REQUEST_HEAD_BYTES,
            max_request_headers: defaults::MAX_REQUEST_HEADERS,
            max_uri_bytes: defaults::MAX_URI_BYTES,
            request_head_timeout: defaults::REQUEST_HEAD_TIMEOUT,
            idle_timeout: defaults::LISTENER_IDLE_TIMEOUT,
            stream_idle_timeout: Some(defaults::STREAM_IDLE_TIMEOUT),
            request_timeout: None,
            max_connections_per_worker: defaults::MAX_CONNECTIONS_PER_WORKER,
            max_request_body_bytes: None,
        }
    }
}

/// A route configuration on its own, as a control plane serves it by name
/// (RDS) to the listeners that take their routes from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteConfiguration {
    pub name: String,
    pub virtual_hosts: Vec<VirtualHost>,
}

/// What every route a control plane generates gets (its route template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RouteTemplate {
    /// As a route's `timeout`; [`crate::defaults::ROUTE_TIMEOUT_OFF`] for `0s`.
    pub timeout: Duration,
}

impl Default for RouteTemplate {
    fn default() -> Self {
        Self {
            timeout: crate::defaults::ROUTE_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<DomainPattern>,
    pub routes: Vec<Route>,
}

/// A `domains` entry, lower-cased at validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainPattern {
    /// `example.com` (also matches `example.com:port`).
    Exact(String),
    /// `*.example.com`, stored as the suffix `.example.com`.
    Suffix(String),
    /// `example.*`, stored as the prefix `example.`.
    Prefix(String),
    /// `*`.
    Any,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub matcher: RouteMatch,
    pub action: RouteAction,
    /// For forwarded requests: the wait for the response head once the
    /// request is complete, then each wait for more response bytes (504 UT
    /// when it fires before the head). `0s` in the config turns it off; it
    /// is then [`crate::defaults::ROUTE_TIMEOUT_OFF`].
    pub timeout: Duration,
    /// Overrides the listener's `stream_idle_timeout` for this route's
    /// requests; `Some(0)` turns it off. `None`: the listener's.
    pub idle_timeout: Option<Duration>,
    /// Replaces the matched `prefix` (prefix routes only).
    pub prefix_rewrite: Option<String>,
    /// Rewrites the path (not the query) by regular expression. At most
    /// one of this and `prefix_rewrite`.
    pub regex_rewrite: Option<RegexRewrite>,
    /// Replaces the `Host` header sent upstream.
    pub host_rewrite: Option<String>,
    /// `Host` becomes the chosen endpoint's hostname, when it has one (an
    /// endpoint given by DNS name); not with `host_rewrite`.
    pub auto_host_rewrite: bool,
    /// Request body limit (413), overriding the listener's.
    pub max_request_body_bytes: Option<u64>,
    /// When the cluster is unknown, wait this long for the control plane
    /// to supply it (on-demand discovery); `None` answers 503 `NC` at once.
    pub on_demand: Option<Duration>,
    /// The route's retry policy, else its virtual host's (forwarding
    /// routes only).
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteMatch {
    pub path: PathMatch,
    /// `false`: `prefix` and `path` compare ASCII case-insensitively
    /// (`regex` is unaffected).
    pub case_sensitive: bool,
    /// All must match.
    pub headers: Vec<HeaderMatch>,
    /// All must match.
    pub query_parameters: Vec<QueryParameterMatch>,
    /// Upper-case method names; empty means any method.
    pub methods: Vec<String>,
}

/// How a route matches the request path. As in Envoy, `prefix` is compared
/// with the whole request-target (query included); `exact` and `regex`
/// with the path once the query is removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathMatch {
    Prefix(String),
    Exact(String),
    Regex(Pattern),
}

/// A compiled regular expression, anchored to match the whole input.
#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    /// As written in the config.
    pub source: String,
    #[serde(skip)]
    pub regex: regex::bytes::Regex,
}

impl Route {
    /// A route with `matcher` and `action` and every other setting at its
    /// default (the 15 s timeout, no rewrite, no body limit of its own).
    pub fn new(matcher: RouteMatch, action: RouteAction) -> Self {
        Self {
            matcher,
            action,
            timeout: crate::defaults::ROUTE_TIMEOUT,
            idle_timeout: None,
            prefix_rewrite: None,
            regex_rewrite: None,
            host_rewrite: None,
            auto_host_rewrite: false,
            max_request_body_bytes: None,
            on_demand: None,
            retry_policy: None,
        }
    }
}

impl RouteMatch {
    /// Matches `path` case-sensitively, and nothing else.
    pub fn path(path: PathMatch) -> Self {
        Self {
            path,
            case_sensitive: true,
            headers: Vec::new(),
            query_parameters: Vec::new(),
            methods: Vec::new(),
        }
    }
}

impl Pattern {
    /// Compiles `source` anchored at both ends (`^(?:source)$`), so it must
    /// match the whole input, as Envoy's `safe_regex` does.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        // Checked on its own first: errors then point into the text as
        // written, and unbalanced parentheses like `a)|(b` cannot escape
        // the anchoring group.
        regex::bytes::Regex::new(source)?;
        let regex = regex::bytes::Regex::new(&format!("^(?:{source})$"))?;
        Ok(Self {
            source: source.to_owned(),
            regex,
        })
    }

    /// Whether the whole of `input` matches.
    pub fn is_match(&self, input: &[u8]) -> bool {
        self.regex.is_match(input)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteAction {
    /// Forward to one cluster: one of the file's, or (with `xds`) one the
    /// control plane is asked for.
    Cluster(String),
    /// Forward to the cluster the request names, in its authority or in a
    /// header.
    ClusterFrom(ClusterSource),
    /// Forward to one of several clusters, chosen by weight per request.
    WeightedClusters(Vec<WeightedCluster>),
    /// Answer locally.
    DirectResponse { status: u16, body: String },
    /// Answer with a redirect built from the request.
    Redirect(Redirect),
}

impl RouteAction {
    /// Whether the route forwards to a cluster (rather than answering).
    pub fn forwards(&self) -> bool {
        matches!(
            self,
            Self::Cluster(_) | Self::ClusterFrom(_) | Self::WeightedClusters(_)
        )
    }
}

/// Where a request names its cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterSource {
    /// `:authority` or `Host`, lower-cased and without its port.
    Authority,
    /// This header (lower-case name), as sent.
    Header(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedCluster {
    pub name: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redirect {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// `http` or `https`; `None` keeps the request's.
    pub scheme: Option<String>,
    /// `None` keeps the request's host (dropping its port when `port` is
    /// set, or when the scheme changes and the port was the old scheme's
    /// default, as Envoy does).
    pub host: Option<String>,
    /// Appended to the host as `:port`.
    pub port: Option<u16>,
    /// The new path; `None` keeps the request's.
    pub path: Option<RedirectPath>,
    /// Drops the request's query (a `RedirectPath::Replace` that has its own
    /// query always replaces the request's).
    pub strip_query: bool,
}

/// How a redirect changes the path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectPath {
    /// The whole path (Envoy's `path_redirect`). Without a `?` of its own
    /// the request's query follows it unless `strip_query`.
    Replace(String),
    /// Replaces the route's matched `prefix` (Envoy's redirect
    /// `prefix_rewrite`); with an exact or regex match, the whole path.
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub name: String,
    pub lb_policy: LbPolicy,
    /// Hostnames are already resolved. At least one for a file's cluster;
    /// a control plane's may have none for a while (503 `UH`).
    pub endpoints: Vec<Endpoint>,
    pub connect_timeout: Duration,
    /// Idle upstream connections kept per endpoint, per worker.
    pub max_idle_per_endpoint: usize,
    /// An idle upstream connection is closed after this.
    pub idle_timeout: Duration,
    pub protocol: UpstreamProtocol,
    /// Used when `protocol` is HTTP/2.
    pub http2: Http2Settings,
    /// For `type: eureka`: the VIP whose UP instances are the endpoints.
    pub eureka: Option<EurekaVip>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LbPolicy {
    /// Smooth weighted round robin.
    RoundRobin,
    /// Power of two choices over active requests, weighted.
    LeastRequest,
    /// Weighted random.
    Random,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub address: SocketAddr,
    /// At least 1.
    pub weight: u32,
    /// The name this address was resolved from, if any.
    pub hostname: Option<String>,
}

impl Xds {
    /// The first control plane address, for messages.
    pub fn address(&self) -> &str {
        self.addresses.first().map_or("", String::as_str)
    }
}

impl Snapshot {
    /// The cluster names routes give (`cluster`, `weighted_clusters`) that
    /// the file does not define: a control plane's or a registry's to
    /// supply. Sorted, without duplicates.
    pub fn undefined_route_clusters(&self) -> Vec<String> {
        let mut names = Vec::new();
        for listener in &self.listeners {
            for vhost in &listener.virtual_hosts {
                for route in &vhost.routes {
                    match &route.action {
                        RouteAction::Cluster(name) => names.push(name.clone()),
                        RouteAction::WeightedClusters(list) => {
                            names.extend(list.iter().map(|c| c.name.clone()));
                        }
                        _ => {}
                    }
                }
            }
        }
        names.retain(|n| !self.clusters.contains_key(n));
        names.sort();
        names.dedup();
        names
    }
}

impl Cluster {
    /// A cluster with every setting at its default (round robin, HTTP/1.1),
    /// for clusters made from a registry rather than written in a file.
    pub fn with_defaults(name: &str, endpoints: Vec<Endpoint>) -> Self {
        Self {
            name: name.to_owned(),
            lb_policy: LbPolicy::RoundRobin,
            endpoints,
            connect_timeout: crate::defaults::CONNECT_TIMEOUT,
            max_idle_per_endpoint: crate::defaults::MAX_IDLE_PER_ENDPOINT,
            idle_timeout: crate::defaults::CLUSTER_IDLE_TIMEOUT,
            protocol: UpstreamProtocol::Http1,
            http2: Http2Settings::default(),
            eureka: None,
        }
    }

    /// Whether `other` differs from `self` in its endpoints at most: such a
    /// change keeps the cluster's per-core state and swaps its members.
    pub fn same_settings(&self, other: &Cluster) -> bool {
        self.name == other.name
            && self.lb_policy == other.lb_policy
            && self.connect_timeout == other.connect_timeout
            && self.max_idle_per_endpoint == other.max_idle_per_endpoint
            && self.idle_timeout == other.idle_timeout
            && self.protocol == other.protocol
            && self.http2 == other.http2
            && self.eureka == other.eureka
    }
}
