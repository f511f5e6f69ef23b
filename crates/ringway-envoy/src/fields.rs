//! Which fields of which Envoy messages ringway reads: the one table that
//! decides, for any message handed to ringway, whether each field set in
//! it is applied, accepted and ignored (it cannot change behaviour here),
//! or refused. [`check`] walks a message against it; `docs/envoy-compat.md`
//! is rendered from it ([`render_markdown`]) and a test keeps the two equal.

use std::fmt::Write as _;

use prost_reflect::{DynamicMessage, MapKey, ReflectMessage, Value};

use crate::text::pool;

/// What ringway does with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Read and acted on; the text says how.
    Applied(&'static str),
    /// Accepted and not acted on; the text says why that changes nothing.
    Ignored(&'static str),
}

/// The fields ringway knows of one message type. A field set in a message
/// that is not listed is refused.
#[derive(Debug)]
pub struct MessageFields {
    /// The message's full proto name.
    pub message: &'static str,
    /// A heading for the documentation.
    pub title: &'static str,
    pub fields: &'static [(&'static str, Support)],
}

/// A field refused: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

use Support::{Applied as A, Ignored as I};

/// Message types taken whole: plain values with nothing to refuse.
const VALUE_TYPES: &[&str] = &[
    "google.protobuf.Duration",
    "google.protobuf.UInt32Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.DoubleValue",
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Empty",
];

const IGNORED_METADATA: Support = I("metadata does not change forwarding");

/// The table. Later features add their messages and fields here.
pub static TABLE: &[MessageFields] = &[
    // ---- bootstrap ----
    MessageFields {
        message: "envoy.config.bootstrap.v3.Bootstrap",
        title: "Bootstrap",
        fields: &[
            (
                "node",
                A("the identity sent on the xDS stream and shown by `/server_info`"),
            ),
            ("static_resources", A("listeners and clusters")),
            (
                "dynamic_resources",
                A("the ADS stream (delta gRPC) for clusters and listeners"),
            ),
            ("admin", A("the admin API's address")),
            (
                "layered_runtime",
                A(
                    "accepted; `/runtime` shows the static layers (no runtime key changes ringway's behaviour yet)",
                ),
            ),
            (
                "stats_flush_interval",
                I("stats are read on demand from `/stats`; nothing is flushed"),
            ),
            (
                "stats_config",
                I("stat tag extraction only renames tags in sinks ringway does not have"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.Node",
        title: "Node",
        fields: &[
            ("id", A("`node.id` on the xDS stream")),
            ("cluster", A("`node.cluster` on the xDS stream")),
            (
                "locality",
                A("sent on the xDS stream; `zone` is `--service-zone`"),
            ),
            ("metadata", A("sent on the xDS stream")),
            ("user_agent_name", I("ringway sends its own user agent")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.Locality",
        title: "Locality",
        fields: &[
            ("region", A("carried")),
            ("zone", A("carried")),
            ("sub_zone", A("carried")),
        ],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.Admin",
        title: "Admin",
        fields: &[
            ("address", A("where the admin API listens")),
            ("access_log", I("admin requests are not logged")),
            ("access_log_path", I("admin requests are not logged")),
            ("profile_path", I("ringway has no CPU profiler endpoint")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.Address",
        title: "Address",
        fields: &[("socket_address", A("an IP address and port"))],
    },
    MessageFields {
        message: "envoy.config.core.v3.SocketAddress",
        title: "SocketAddress",
        fields: &[
            (
                "address",
                A(
                    "an IP literal; a host name in cluster endpoints of STRICT_DNS and LOGICAL_DNS clusters",
                ),
            ),
            ("port_value", A("the port")),
            (
                "ipv4_compat",
                I("ringway's IPv6 sockets are dual-stack as the kernel configures them"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.Bootstrap.StaticResources",
        title: "Bootstrap.StaticResources",
        fields: &[
            ("listeners", A("the listeners")),
            ("clusters", A("the clusters")),
        ],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.Bootstrap.DynamicResources",
        title: "Bootstrap.DynamicResources",
        fields: &[
            (
                "ads_config",
                A("the control plane: `api_type: DELTA_GRPC` over a static cluster"),
            ),
            (
                "cds_config",
                A("`ads: {}`: every cluster of the control plane (wildcard CDS)"),
            ),
            (
                "lds_config",
                A(
                    "`ads: {}`: every listener of the control plane (wildcard LDS), bound and removed live",
                ),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.ApiConfigSource",
        title: "ApiConfigSource",
        fields: &[
            (
                "api_type",
                A("`DELTA_GRPC` only (ringway speaks delta xDS)"),
            ),
            ("transport_api_version", A("`V3` only")),
            (
                "grpc_services",
                A("one `envoy_grpc` service naming a static cluster"),
            ),
            (
                "set_node_on_first_message_only",
                I("ringway sends the node on the first message only"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.GrpcService",
        title: "GrpcService",
        fields: &[
            (
                "envoy_grpc",
                A("the static cluster whose endpoints are the control plane"),
            ),
            (
                "timeout",
                I("the stream is long-lived; ringway reconnects with backoff"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.GrpcService.EnvoyGrpc",
        title: "GrpcService.EnvoyGrpc",
        fields: &[(
            "cluster_name",
            A("a static cluster; its endpoints are the control plane's addresses"),
        )],
    },
    MessageFields {
        message: "envoy.config.core.v3.ConfigSource",
        title: "ConfigSource",
        fields: &[
            (
                "ads",
                A("over the ADS stream (the only source ringway reads)"),
            ),
            ("resource_api_version", A("`V3` only")),
            (
                "initial_fetch_timeout",
                A("`/ready` waits at most this long for the first answers"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.AggregatedConfigSource",
        title: "AggregatedConfigSource",
        fields: &[],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.LayeredRuntime",
        title: "LayeredRuntime",
        fields: &[("layers", A("static and admin layers"))],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.RuntimeLayer",
        title: "RuntimeLayer",
        fields: &[
            ("name", A("shown by `/runtime`")),
            ("static_layer", A("shown by `/runtime`")),
            ("admin_layer", A("accepted")),
        ],
    },
    MessageFields {
        message: "envoy.config.bootstrap.v3.RuntimeLayer.AdminLayer",
        title: "RuntimeLayer.AdminLayer",
        fields: &[],
    },
    // ---- listeners ----
    MessageFields {
        message: "envoy.config.listener.v3.Listener",
        title: "Listener",
        fields: &[
            (
                "name",
                A("the listener's name in stats, logs and `/listeners`"),
            ),
            ("address", A("where it listens (`socket_address`)")),
            (
                "filter_chains",
                A("exactly one chain holding one `http_connection_manager`"),
            ),
            ("metadata", IGNORED_METADATA),
            ("stat_prefix", A("the listener's name in stats")),
            (
                "traffic_direction",
                I("only informs tracing and stats Envoy keeps per direction"),
            ),
            (
                "enable_reuse_port",
                I("ringway always binds one SO_REUSEPORT socket per worker"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.listener.v3.FilterChain",
        title: "FilterChain",
        fields: &[
            (
                "filters",
                A("one `envoy.filters.network.http_connection_manager`"),
            ),
            ("name", I("a label")),
            ("metadata", IGNORED_METADATA),
        ],
    },
    MessageFields {
        message: "envoy.config.listener.v3.Filter",
        title: "Filter (network)",
        fields: &[
            ("name", A("a label")),
            ("typed_config", A("an `HttpConnectionManager`")),
        ],
    },
    MessageFields {
        message: "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        title: "HttpConnectionManager",
        fields: &[
            (
                "codec_type",
                A("`AUTO` (HTTP/1.1 and h2c by preface), `HTTP1`, `HTTP2`"),
            ),
            (
                "stat_prefix",
                A("the prefix of the listener's `http.<stat_prefix>.*` stats"),
            ),
            ("route_config", A("the virtual hosts and routes")),
            (
                "rds",
                A("the routes come from the control plane (RDS over ADS)"),
            ),
            ("http_filters", A("must end in `envoy.filters.http.router`")),
            (
                "access_log",
                A(
                    "file, stdout and stderr loggers, as many as given; every request is offered to each",
                ),
            ),
            (
                "use_remote_address",
                A("x-forwarded-for appended and internal/external origin from the peer address"),
            ),
            ("xff_num_trusted_hops", A("trusted x-forwarded-for hops")),
            (
                "internal_address_config",
                A(
                    "which client addresses are internal (`x-envoy-internal`, `x-envoy-*` headers honoured)",
                ),
            ),
            (
                "request_headers_timeout",
                A("time allowed for the request head (408)"),
            ),
            (
                "request_timeout",
                A("time allowed for the whole request from its first byte (408 `request timeout`)"),
            ),
            (
                "stream_idle_timeout",
                A(
                    "a stream with no bytes moving either way for this long ends (408 or 504 `stream timeout`, flag `SI`; reset once the response began); default 5 min, 0 turns it off",
                ),
            ),
            (
                "common_http_protocol_options",
                A("`idle_timeout` of downstream connections"),
            ),
            ("http2_protocol_options", A("downstream HTTP/2 settings")),
            (
                "generate_request_id",
                A("false: no `x-request-id` is generated"),
            ),
            (
                "server_name",
                I("ringway's local replies carry no `server` header"),
            ),
            (
                "normalize_path",
                A(
                    "`false` only (Envoy's default): ringway does not normalize paths, so `true` is refused",
                ),
            ),
            (
                "max_request_headers_kb",
                A("the request head limit (431), as `max_request_head_bytes`"),
            ),
            (
                "strip_any_host_port",
                I(
                    "ringway always matches `domains` against the host without its port (the `Host` sent upstream keeps it)",
                ),
            ),
        ],
    },
    MessageFields {
        message: "envoy.extensions.filters.network.http_connection_manager.v3.Rds",
        title: "Rds",
        fields: &[
            ("config_source", A("must be ADS")),
            ("route_config_name", A("the RouteConfiguration to take")),
        ],
    },
    MessageFields {
        message: "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig",
        title: "HttpConnectionManager.InternalAddressConfig",
        fields: &[("cidr_ranges", A("the internal ranges"))],
    },
    MessageFields {
        message: "envoy.config.core.v3.CidrRange",
        title: "CidrRange",
        fields: &[
            ("address_prefix", A("the network")),
            ("prefix_len", A("its length")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.HttpProtocolOptions",
        title: "HttpProtocolOptions (core)",
        fields: &[("idle_timeout", A("the connection's idle timeout"))],
    },
    MessageFields {
        message: "envoy.config.core.v3.Http2ProtocolOptions",
        title: "Http2ProtocolOptions",
        fields: &[
            ("max_concurrent_streams", A("streams per connection")),
            ("initial_stream_window_size", A("stream receive window")),
            (
                "initial_connection_window_size",
                A("connection receive window"),
            ),
            ("connection_keepalive", A("PING interval and timeout")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.KeepaliveSettings",
        title: "KeepaliveSettings",
        fields: &[
            ("interval", A("PING interval")),
            ("timeout", A("PING timeout")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.Http1ProtocolOptions",
        title: "Http1ProtocolOptions",
        fields: &[],
    },
    MessageFields {
        message: "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
        title: "HttpFilter",
        fields: &[
            ("name", A("a label")),
            (
                "typed_config",
                A("the filter; `envoy.filters.http.router` is the only one yet"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.extensions.filters.http.router.v3.Router",
        title: "Router",
        fields: &[
            ("suppress_envoy_headers", A("no `x-envoy-*` headers added")),
            (
                "dynamic_stats",
                I("ringway keeps the per-cluster stats either way"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.AccessLog",
        title: "AccessLog",
        fields: &[
            ("name", A("a label")),
            (
                "typed_config",
                A("`FileAccessLog`, `StdoutAccessLog` or `StderrAccessLog`"),
            ),
            ("filter", A("which requests are logged")),
        ],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.AccessLogFilter",
        title: "AccessLogFilter",
        fields: &[
            (
                "status_code_filter",
                A("the response code (0 when none) compared"),
            ),
            (
                "duration_filter",
                A("the duration in milliseconds compared"),
            ),
            (
                "not_health_check_filter",
                A("every request passes: ringway has no health check filter marking requests"),
            ),
            (
                "response_flag_filter",
                A("requests with one of the flags (any flag when none is listed)"),
            ),
            ("and_filter", A("all of the filters")),
            ("or_filter", A("any of the filters")),
        ],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.StatusCodeFilter",
        title: "StatusCodeFilter",
        fields: &[("comparison", A("the comparison"))],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.DurationFilter",
        title: "DurationFilter",
        fields: &[("comparison", A("the comparison"))],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.ComparisonFilter",
        title: "ComparisonFilter",
        fields: &[
            ("op", A("`GE`, `EQ` or `LE` (`NE` is refused)")),
            ("value", A("its `default_value`")),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.RuntimeUInt32",
        title: "RuntimeUInt32",
        fields: &[
            ("default_value", A("the value")),
            (
                "runtime_key",
                I("no runtime key changes ringway's behaviour: `default_value` applies"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.NotHealthCheckFilter",
        title: "NotHealthCheckFilter",
        fields: &[],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.ResponseFlagFilter",
        title: "ResponseFlagFilter",
        fields: &[("flags", A("short names, checked against Envoy's list"))],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.AndFilter",
        title: "AndFilter",
        fields: &[("filters", A("all must pass"))],
    },
    MessageFields {
        message: "envoy.config.accesslog.v3.OrFilter",
        title: "OrFilter",
        fields: &[("filters", A("one must pass"))],
    },
    MessageFields {
        message: "envoy.extensions.access_loggers.file.v3.FileAccessLog",
        title: "FileAccessLog",
        fields: &[
            ("path", A("the file to append to")),
            ("log_format", A("the format; none: Envoy's default line")),
            ("format", A("a format string (deprecated form)")),
            (
                "json_format",
                A("a format dictionary whose values are all strings (deprecated form)"),
            ),
            (
                "typed_json_format",
                A("a format dictionary keeping numbers (deprecated form)"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        title: "StdoutAccessLog",
        fields: &[("log_format", A("the format; none: Envoy's default line"))],
    },
    MessageFields {
        message: "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
        title: "StderrAccessLog",
        fields: &[("log_format", A("the format; none: Envoy's default line"))],
    },
    MessageFields {
        message: "envoy.config.core.v3.SubstitutionFormatString",
        title: "SubstitutionFormatString",
        fields: &[
            (
                "text_format_source",
                A(
                    "a format string of command operators (the README's \"Access logs\" lists them; others are refused)",
                ),
            ),
            ("text_format", A("a format string (deprecated form)")),
            (
                "json_format",
                A(
                    "a format dictionary: a value that is one numeric operator is a number, an absent one `null`; nested objects allowed; keys in alphabetical order",
                ),
            ),
            (
                "omit_empty_values",
                A("absent values written as nothing (text) or left out (JSON)"),
            ),
            (
                "content_type",
                I("only used by local reply bodies, which ringway does not format"),
            ),
            (
                "json_format_options",
                I("keys are always written in alphabetical order"),
            ),
        ],
    },
    // ---- routes ----
    MessageFields {
        message: "envoy.config.route.v3.RouteConfiguration",
        title: "RouteConfiguration",
        fields: &[
            ("name", A("the route configuration's name")),
            ("virtual_hosts", A("the virtual hosts")),
            (
                "validate_clusters",
                I("clusters are always checked: a route to an unknown cluster answers 503 `NC`"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.VirtualHost",
        title: "VirtualHost",
        fields: &[
            ("name", A("the virtual host's name")),
            ("domains", A("exact, `*.suffix`, `prefix.*` and `*`")),
            ("routes", A("tried in order")),
            (
                "retry_policy",
                A("the retry policy of its routes that have none of their own"),
            ),
            ("metadata", IGNORED_METADATA),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.RetryPolicy",
        title: "RetryPolicy",
        fields: &[
            (
                "retry_on",
                A(
                    "every HTTP and gRPC condition (`5xx`, `gateway-error`, `reset`, `reset-before-request`, `connect-failure`, `refused-stream`, `retriable-4xx`, `retriable-status-codes`, `retriable-headers`, `envoy-ratelimited`, `cancelled`, `deadline-exceeded`, `resource-exhausted`, `internal`, `unavailable`)",
                ),
            ),
            (
                "num_retries",
                A("retries after the first attempt (default 1)"),
            ),
            (
                "retry_back_off",
                A("fully jittered exponential back-off (base 25 ms, max 10x base)"),
            ),
            (
                "retriable_status_codes",
                A("the statuses `retriable-status-codes` retries"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.RetryPolicy.RetryBackOff",
        title: "RetryPolicy.RetryBackOff",
        fields: &[
            ("base_interval", A("the back-off base")),
            ("max_interval", A("the longest back-off (default 10x base)")),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.Route",
        title: "Route",
        fields: &[
            ("name", I("a label")),
            ("match", A("path, headers, query parameters")),
            ("route", A("forward")),
            ("redirect", A("answer with a redirect")),
            ("direct_response", A("answer locally")),
            ("metadata", IGNORED_METADATA),
            (
                "decorator",
                I("only names spans for tracing, which ringway does not do"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.RouteMatch",
        title: "RouteMatch",
        fields: &[
            ("prefix", A("prefix of the request-target")),
            ("path", A("exact path (query ignored)")),
            ("safe_regex", A("whole-path regular expression")),
            (
                "case_sensitive",
                A("false: `prefix` and `path` ignore ASCII case"),
            ),
            ("headers", A("all must match")),
            ("query_parameters", A("all must match")),
        ],
    },
    MessageFields {
        message: "envoy.type.matcher.v3.RegexMatcher",
        title: "RegexMatcher",
        fields: &[
            (
                "regex",
                A("RE2 syntax (Rust's regex crate, which has RE2's guarantees)"),
            ),
            ("google_re2", I("deprecated and without effect in Envoy")),
        ],
    },
    MessageFields {
        message: "envoy.type.matcher.v3.RegexMatcher.GoogleRE2",
        title: "RegexMatcher.GoogleRE2",
        fields: &[],
    },
    MessageFields {
        message: "envoy.type.v3.Int64Range",
        title: "Int64Range",
        fields: &[("start", A("included")), ("end", A("excluded"))],
    },
    MessageFields {
        message: "envoy.config.route.v3.HeaderMatcher",
        title: "HeaderMatcher",
        fields: &[
            ("name", A("the header")),
            ("present_match", A("present (or absent with `false`)")),
            (
                "string_match",
                A("exact, prefix, suffix, contains, safe_regex, ignore_case"),
            ),
            ("exact_match", A("deprecated form of `string_match.exact`")),
            (
                "prefix_match",
                A("deprecated form of `string_match.prefix`"),
            ),
            (
                "suffix_match",
                A("deprecated form of `string_match.suffix`"),
            ),
            (
                "contains_match",
                A("deprecated form of `string_match.contains`"),
            ),
            (
                "safe_regex_match",
                A("deprecated form of `string_match.safe_regex`"),
            ),
            (
                "range_match",
                A("a base-10 integer value in `[start, end)`"),
            ),
            ("invert_match", A("negates the match")),
            (
                "treat_missing_header_as_empty",
                A("a missing header matches as the empty string"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.QueryParameterMatcher",
        title: "QueryParameterMatcher",
        fields: &[
            ("name", A("the parameter")),
            (
                "string_match",
                A("exact, prefix, suffix, contains, safe_regex, ignore_case"),
            ),
            ("present_match", A("present")),
        ],
    },
    MessageFields {
        message: "envoy.type.matcher.v3.StringMatcher",
        title: "StringMatcher",
        fields: &[
            ("exact", A("equal")),
            ("prefix", A("starts with")),
            ("suffix", A("ends with")),
            ("contains", A("contains")),
            ("safe_regex", A("matches the whole value")),
            (
                "ignore_case",
                A("ASCII case ignored (not for `safe_regex`)"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.RouteAction",
        title: "RouteAction",
        fields: &[
            ("cluster", A("one cluster")),
            (
                "cluster_header",
                A("the cluster the request names in this header"),
            ),
            ("weighted_clusters", A("a split by weight")),
            (
                "timeout",
                A("the route timeout (default 15 s, 0 turns it off)"),
            ),
            (
                "idle_timeout",
                A("replaces the listener's `stream_idle_timeout` for this route; 0 turns it off"),
            ),
            ("retry_policy", A("the route's retry policy")),
            ("prefix_rewrite", A("replaces the matched prefix")),
            ("regex_rewrite", A("rewrites the path")),
            ("host_rewrite_literal", A("replaces `Host`/`:authority`")),
            (
                "auto_host_rewrite",
                A("`Host` becomes the endpoint's DNS name"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.WeightedCluster",
        title: "WeightedCluster",
        fields: &[
            ("clusters", A("clusters and their weights")),
            (
                "total_weight",
                A("deprecated; must equal the sum of the weights"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.WeightedCluster.ClusterWeight",
        title: "WeightedCluster.ClusterWeight",
        fields: &[("name", A("the cluster")), ("weight", A("its weight"))],
    },
    MessageFields {
        message: "envoy.type.matcher.v3.RegexMatchAndSubstitute",
        title: "RegexMatchAndSubstitute",
        fields: &[
            ("pattern", A("the regular expression")),
            ("substitution", A("the replacement, `\\1` for groups")),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.RedirectAction",
        title: "RedirectAction",
        fields: &[
            ("https_redirect", A("scheme `https`")),
            ("scheme_redirect", A("the scheme")),
            ("host_redirect", A("the host")),
            ("port_redirect", A("the port")),
            ("path_redirect", A("the whole path")),
            ("prefix_rewrite", A("replaces the matched prefix")),
            ("response_code", A("301, 302, 303, 307 or 308")),
            ("strip_query", A("drops the query")),
        ],
    },
    MessageFields {
        message: "envoy.config.route.v3.DirectResponseAction",
        title: "DirectResponseAction",
        fields: &[
            ("status", A("the status")),
            (
                "body",
                A("`inline_string`, `inline_bytes` or `filename` (read at load)"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.core.v3.DataSource",
        title: "DataSource",
        fields: &[
            ("inline_string", A("the text")),
            ("inline_bytes", A("the bytes (UTF-8 only)")),
            ("filename", A("read when the config is loaded")),
        ],
    },
    // ---- clusters ----
    MessageFields {
        message: "envoy.config.cluster.v3.Cluster",
        title: "Cluster",
        fields: &[
            ("name", A("the cluster's name")),
            (
                "type",
                A("`STATIC`, `STRICT_DNS`, `LOGICAL_DNS` (resolved at load), `EDS` (over ADS)"),
            ),
            (
                "eds_cluster_config",
                A("`eds_config` must be ADS; `service_name` names the assignment"),
            ),
            ("connect_timeout", A("the connect timeout (default 5 s)")),
            ("lb_policy", A("`ROUND_ROBIN`, `LEAST_REQUEST`, `RANDOM`")),
            ("load_assignment", A("the endpoints")),
            (
                "typed_extension_protocol_options",
                A("`envoy.extensions.upstreams.http.v3.HttpProtocolOptions`"),
            ),
            ("common_lb_config", A("`locality_weighted_lb_config`")),
            ("alt_stat_name", I("stats use the cluster name")),
            ("metadata", IGNORED_METADATA),
            (
                "wait_for_warm_on_init",
                I("ringway always waits for an EDS cluster's first assignment"),
            ),
            (
                "cleanup_interval",
                I("ringway keeps no host map to clean up"),
            ),
            (
                "dns_lookup_family",
                A(
                    "`V4_ONLY`, `V6_ONLY`, `AUTO`, `V4_PREFERRED`, `ALL` for the names resolved at load",
                ),
            ),
            (
                "respect_dns_ttl",
                I("names are resolved when the config is loaded (and on reload)"),
            ),
            (
                "dns_refresh_rate",
                I("names are resolved when the config is loaded (and on reload)"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.cluster.v3.Cluster.EdsClusterConfig",
        title: "Cluster.EdsClusterConfig",
        fields: &[
            ("eds_config", A("must be ADS")),
            ("service_name", A("the assignment's name")),
        ],
    },
    MessageFields {
        message: "envoy.config.cluster.v3.Cluster.CommonLbConfig",
        title: "Cluster.CommonLbConfig",
        fields: &[
            (
                "locality_weighted_lb_config",
                A("locality weights share traffic between localities"),
            ),
            (
                "healthy_panic_threshold",
                I("without health checks every endpoint is healthy"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig",
        title: "Cluster.CommonLbConfig.LocalityWeightedLbConfig",
        fields: &[],
    },
    MessageFields {
        message: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        title: "HttpProtocolOptions (upstream)",
        fields: &[
            (
                "common_http_protocol_options",
                A("`idle_timeout` of upstream connections"),
            ),
            (
                "explicit_http_config",
                A("`http_protocol_options` (HTTP/1.1) or `http2_protocol_options` (h2c)"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig",
        title: "HttpProtocolOptions.ExplicitHttpConfig",
        fields: &[
            ("http_protocol_options", A("HTTP/1.1")),
            ("http2_protocol_options", A("cleartext HTTP/2")),
        ],
    },
    MessageFields {
        message: "envoy.config.endpoint.v3.ClusterLoadAssignment",
        title: "ClusterLoadAssignment",
        fields: &[
            ("cluster_name", A("the cluster (or its EDS `service_name`)")),
            ("endpoints", A("endpoints by locality and priority")),
        ],
    },
    MessageFields {
        message: "envoy.config.endpoint.v3.LocalityLbEndpoints",
        title: "LocalityLbEndpoints",
        fields: &[
            ("locality", I("only a label unless locality weights apply")),
            ("lb_endpoints", A("the endpoints")),
            (
                "load_balancing_weight",
                A("the locality's weight, with `locality_weighted_lb_config`"),
            ),
            (
                "priority",
                A("traffic goes to the lowest priority that has endpoints in rotation"),
            ),
        ],
    },
    MessageFields {
        message: "envoy.config.endpoint.v3.LbEndpoint",
        title: "LbEndpoint",
        fields: &[
            ("endpoint", A("the address")),
            (
                "health_status",
                A("`UNHEALTHY`, `DRAINING`, `TIMEOUT` take it out of rotation"),
            ),
            ("load_balancing_weight", A("its weight (default 1)")),
            ("metadata", IGNORED_METADATA),
        ],
    },
    MessageFields {
        message: "envoy.config.endpoint.v3.Endpoint",
        title: "Endpoint",
        fields: &[
            ("address", A("`socket_address`")),
            ("hostname", A("the name `auto_host_rewrite` uses")),
        ],
    },
];

/// Checks every field set in `message` (and in what it contains) against
/// [`TABLE`]; `path` prefixes the field paths in the refusal.
pub fn check(message: &DynamicMessage, path: &str) -> Result<(), Refusal> {
    let name = message.descriptor().full_name().to_owned();
    if name == "google.protobuf.Any" {
        return check_any(message, path);
    }
    if VALUE_TYPES.contains(&name.as_str()) {
        return Ok(());
    }
    let Some(known) = TABLE.iter().find(|m| m.message == name) else {
        return Err(Refusal {
            field: or_root(path),
            reason: format!("{name} is not supported by ringway"),
        });
    };
    for (field, value) in message.fields() {
        let field_path = join(path, field.name());
        match known.fields.iter().find(|(f, _)| *f == field.name()) {
            None => {
                return Err(Refusal {
                    field: field_path,
                    reason: "not supported by ringway (see docs/envoy-compat.md)".into(),
                });
            }
            Some((_, Support::Ignored(_))) => {}
            Some((_, Support::Applied(_))) => check_value(value, &field_path)?,
        }
    }
    Ok(())
}

fn check_value(value: &Value, path: &str) -> Result<(), Refusal> {
    match value {
        Value::Message(m) => check(m, path),
        Value::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_value(v, &format!("{path}[{i}]"))),
        Value::Map(entries) => entries
            .iter()
            .try_for_each(|(k, v)| check_value(v, &format!("{path}[{}]", key_text(k)))),
        _ => Ok(()),
    }
}

/// An `Any`: the message it holds, by its type URL.
fn check_any(any: &DynamicMessage, path: &str) -> Result<(), Refusal> {
    let inner = unpack(any).map_err(|reason| Refusal {
        field: or_root(path),
        reason,
    })?;
    check(&inner, path)
}

/// The message an `Any` holds.
pub(crate) fn unpack(any: &DynamicMessage) -> Result<DynamicMessage, String> {
    let type_url = match any.get_field_by_name("type_url").as_deref() {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let bytes = match any.get_field_by_name("value").as_deref() {
        Some(Value::Bytes(b)) => b.clone(),
        _ => Default::default(),
    };
    let type_name = type_url.rsplit('/').next().unwrap_or_default();
    let descriptor = pool()
        .get_message_by_name(type_name)
        .ok_or_else(|| format!("{type_name} is not supported by ringway"))?;
    DynamicMessage::decode(descriptor, bytes).map_err(|e| format!("cannot decode {type_name}: {e}"))
}

fn key_text(key: &MapKey) -> String {
    match key {
        MapKey::String(s) => format!("\"{s}\""),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn or_root(path: &str) -> String {
    if path.is_empty() {
        "-".into()
    } else {
        path.to_owned()
    }
}

/// The table as Markdown: one section per message, one row per field.
pub fn render_markdown() -> String {
    let mut out = String::new();
    for m in TABLE {
        let _ = writeln!(out, "### {}\n\n`{}`\n", m.title, m.message);
        if m.fields.is_empty() {
            out.push_str("No fields ringway reads; setting any is refused.\n\n");
            continue;
        }
        out.push_str("| field | ringway |\n|---|---|\n");
        for (field, support) in m.fields {
            let _ = match support {
                Support::Applied(how) => writeln!(out, "| `{field}` | applied: {how} |"),
                Support::Ignored(why) => writeln!(out, "| `{field}` | ignored: {why} |"),
            };
        }
        out.push_str("\nAny other field: refused.\n\n");
    }
    out
}

#[cfg(test)]
mod tests;
