//! Cluster → [`ClusterSpec`]: what ringway needs to build the cluster once
//! its endpoints are known.

use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, LbPolicy as EnvoyLbPolicy,
};
use envoy_types::pb::envoy::config::core::v3::Http2ProtocolOptions;
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    UpstreamProtocolOptions, explicit_http_config::ProtocolConfig,
};
use prost::Message;
use ringway_config::defaults;
use ringway_config::model::{self, Endpoint, Http2Settings, Keepalive, LbPolicy, UpstreamProtocol};

use crate::{Rejected, duration};

const KIND: &str = "Cluster";
const HTTP_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// A cluster as the control plane described it, before its endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    pub name: String,
    pub lb_policy: LbPolicy,
    pub protocol: UpstreamProtocol,
    pub http2: Http2Settings,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub endpoints: EndpointSource,
}

/// Where a cluster's endpoints come from.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointSource {
    /// A ClusterLoadAssignment of this name, on the same stream.
    Eds { service_name: String },
    /// Listed in the Cluster itself.
    Static(Vec<Endpoint>),
}

impl ClusterSpec {
    /// The cluster ringway serves with these endpoints.
    pub fn with_endpoints(&self, endpoints: Vec<Endpoint>) -> model::Cluster {
        model::Cluster {
            name: self.name.clone(),
            lb_policy: self.lb_policy,
            endpoints,
            connect_timeout: self.connect_timeout,
            max_idle_per_endpoint: defaults::MAX_IDLE_PER_ENDPOINT,
            idle_timeout: self.idle_timeout,
            protocol: self.protocol,
            http2: self.http2.clone(),
            eureka: None,
        }
    }
}

/// Checks a Cluster against the subset in `docs/xds-lite.md`.
pub fn cluster_spec(cluster: &Cluster) -> Result<ClusterSpec, Rejected> {
    let name = cluster.name.as_str();
    let reject = |field: &str, reason: String| Rejected::new(KIND, name, field, reason);
    if name.is_empty() {
        return Err(reject("name", "must not be empty".into()));
    }
    if let Some(field) = unsupported_field(cluster) {
        return Err(reject(
            field,
            "not supported by ringway (see docs/xds-lite.md)".into(),
        ));
    }
    let discovery = match &cluster.cluster_discovery_type {
        None => DiscoveryType::Static,
        Some(ClusterDiscoveryType::Type(t)) => {
            DiscoveryType::try_from(*t).map_err(|_| reject("type", format!("unknown type {t}")))?
        }
        Some(ClusterDiscoveryType::ClusterType(_)) => {
            return Err(reject(
                "cluster_type",
                "custom cluster types are not supported".into(),
            ));
        }
    };
    let endpoints = match discovery {
        DiscoveryType::Eds => {
            if cluster.load_assignment.is_some() {
                return Err(reject(
                    "load_assignment",
                    "an EDS cluster takes its endpoints from EDS".into(),
                ));
            }
            let eds = cluster.eds_cluster_config.as_ref();
            if let Some(source) = eds.and_then(|e| e.eds_config.as_ref()) {
                match &source.config_source_specifier {
                    None | Some(ConfigSourceSpecifier::Ads(_)) => {}
                    Some(_) => {
                        return Err(reject(
                            "eds_cluster_config.eds_config",
                            "endpoints must come over the same stream (ads: {})".into(),
                        ));
                    }
                }
            }
            let service_name = eds
                .map(|e| e.service_name.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| name.to_owned());
            EndpointSource::Eds { service_name }
        }
        DiscoveryType::Static => {
            if cluster.eds_cluster_config.is_some() {
                return Err(reject("eds_cluster_config", "only for type EDS".into()));
            }
            let cla = cluster.load_assignment.as_ref().ok_or_else(|| {
                reject(
                    "load_assignment",
                    "a STATIC cluster needs its endpoints here".into(),
                )
            })?;
            let endpoints = crate::endpoints(cla).map_err(|mut e| {
                e.kind = KIND;
                e.resource = name.to_owned();
                e.field = format!("load_assignment.{}", e.field);
                e
            })?;
            if endpoints.is_empty() {
                return Err(reject("load_assignment", "no endpoint in rotation".into()));
            }
            EndpointSource::Static(endpoints)
        }
        other => {
            return Err(reject(
                "type",
                format!(
                    "{} is not supported (STATIC and EDS are)",
                    other.as_str_name()
                ),
            ));
        }
    };
    let lb_policy = match EnvoyLbPolicy::try_from(cluster.lb_policy) {
        Ok(EnvoyLbPolicy::RoundRobin) => LbPolicy::RoundRobin,
        Ok(EnvoyLbPolicy::LeastRequest) => LbPolicy::LeastRequest,
        Ok(EnvoyLbPolicy::Random) => LbPolicy::Random,
        Ok(other) => {
            return Err(reject(
                "lb_policy",
                format!(
                    "{} is not supported (ROUND_ROBIN, LEAST_REQUEST and RANDOM are)",
                    other.as_str_name()
                ),
            ));
        }
        Err(_) => {
            return Err(reject(
                "lb_policy",
                format!("unknown policy {}", cluster.lb_policy),
            ));
        }
    };
    let connect_timeout = match &cluster.connect_timeout {
        None => defaults::CONNECT_TIMEOUT,
        Some(d) => duration(d)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| reject("connect_timeout", "must be positive".into()))?,
    };
    let (protocol, http2, idle_timeout) = protocol_options(cluster, &reject)?;
    Ok(ClusterSpec {
        name: name.to_owned(),
        lb_policy,
        protocol,
        http2,
        connect_timeout,
        idle_timeout,
        endpoints,
    })
}

/// The upstream protocol, HTTP/2 settings and idle timeout from
/// `typed_extension_protocol_options`.
fn protocol_options(
    cluster: &Cluster,
    reject: &dyn Fn(&str, String) -> Rejected,
) -> Result<(UpstreamProtocol, Http2Settings, Duration), Rejected> {
    let mut protocol = UpstreamProtocol::Http1;
    let mut http2 = Http2Settings::default();
    let mut idle_timeout = defaults::CLUSTER_IDLE_TIMEOUT;
    for (key, any) in &cluster.typed_extension_protocol_options {
        let field = format!("typed_extension_protocol_options[\"{key}\"]");
        if key != HTTP_OPTIONS {
            return Err(reject(&field, format!("only {HTTP_OPTIONS} is supported")));
        }
        let options = HttpProtocolOptions::decode(any.value.as_slice())
            .map_err(|e| reject(&field, format!("cannot decode: {e}")))?;
        let mut rest = options.clone();
        rest.common_http_protocol_options = None;
        rest.upstream_protocol_options = None;
        if rest != HttpProtocolOptions::default() {
            return Err(reject(&field, "only common_http_protocol_options.idle_timeout and explicit_http_config are supported".into()));
        }
        if let Some(common) = &options.common_http_protocol_options {
            let mut rest = *common;
            rest.idle_timeout = None;
            if rest != Default::default() {
                return Err(reject(
                    &format!("{field}.common_http_protocol_options"),
                    "only idle_timeout is supported".into(),
                ));
            }
            if let Some(d) = &common.idle_timeout {
                idle_timeout = duration(d).filter(|d| !d.is_zero()).ok_or_else(|| {
                    reject(
                        &format!("{field}.common_http_protocol_options.idle_timeout"),
                        "must be positive".into(),
                    )
                })?;
            }
        }
        match &options.upstream_protocol_options {
            None => {}
            Some(UpstreamProtocolOptions::ExplicitHttpConfig(explicit)) => {
                match &explicit.protocol_config {
                    None | Some(ProtocolConfig::HttpProtocolOptions(_)) => {
                        protocol = UpstreamProtocol::Http1
                    }
                    Some(ProtocolConfig::Http2ProtocolOptions(h2)) => {
                        protocol = UpstreamProtocol::Http2;
                        http2 = http2_settings(h2).map_err(|(f, reason)| {
                            reject(
                                &format!("{field}.explicit_http_config.http2_protocol_options.{f}"),
                                reason,
                            )
                        })?;
                    }
                    Some(ProtocolConfig::Http3ProtocolOptions(_)) => {
                        return Err(reject(
                            &format!("{field}.explicit_http_config.http3_protocol_options"),
                            "HTTP/3 is not supported".into(),
                        ));
                    }
                }
            }
            Some(_) => {
                return Err(reject(
                    &format!("{field}.upstream_protocol_options"),
                    "only explicit_http_config is supported".into(),
                ));
            }
        }
    }
    Ok((protocol, http2, idle_timeout))
}

fn http2_settings(h2: &Http2ProtocolOptions) -> Result<Http2Settings, (&'static str, String)> {
    let mut rest = h2.clone();
    rest.max_concurrent_streams = None;
    rest.initial_stream_window_size = None;
    rest.initial_connection_window_size = None;
    rest.connection_keepalive = None;
    if rest != Http2ProtocolOptions::default() {
        return Err(("*", "only max_concurrent_streams, the initial windows and connection_keepalive are supported".into()));
    }
    let mut settings = Http2Settings::default();
    if let Some(v) = &h2.max_concurrent_streams {
        settings.max_concurrent_streams = v.value.max(1);
    }
    if let Some(v) = &h2.initial_stream_window_size {
        settings.initial_stream_window_size = v.value.clamp(65_535, (1 << 31) - 1);
    }
    if let Some(v) = &h2.initial_connection_window_size {
        settings.initial_connection_window_size = v.value.clamp(65_535, (1 << 31) - 1);
    }
    if let Some(k) = &h2.connection_keepalive {
        let interval = k
            .interval
            .as_ref()
            .and_then(duration)
            .filter(|d| !d.is_zero())
            .ok_or((
                "connection_keepalive.interval",
                "must be positive".to_string(),
            ))?;
        let timeout = match &k.timeout {
            None => defaults::HTTP2_KEEPALIVE_TIMEOUT,
            Some(t) => duration(t).filter(|d| !d.is_zero()).ok_or((
                "connection_keepalive.timeout",
                "must be positive".to_string(),
            ))?,
        };
        settings.keepalive = Some(Keepalive { interval, timeout });
    }
    Ok(settings)
}

/// The first field set that ringway neither applies nor may ignore.
/// Deprecated fields count: Envoy still honours them.
#[allow(deprecated)]
fn unsupported_field(cluster: &Cluster) -> Option<&'static str> {
    macro_rules! first_set {
        ($($field:ident),* $(,)?) => {
            $( if !is_default(&cluster.$field) { return Some(stringify!($field)); } )*
        };
    }
    first_set!(
        transport_socket_matches,
        transport_socket_matcher,
        per_connection_buffer_limit_bytes,
        per_connection_buffer_high_watermark_timeout,
        health_checks,
        max_requests_per_connection,
        circuit_breakers,
        upstream_http_protocol_options,
        common_http_protocol_options,
        http_protocol_options,
        http2_protocol_options,
        dns_refresh_rate,
        dns_failure_refresh_rate,
        respect_dns_ttl,
        dns_lookup_family,
        dns_resolvers,
        use_tcp_for_dns_lookups,
        dns_resolution_config,
        typed_dns_resolver_config,
        outlier_detection,
        upstream_bind_config,
        lb_subset_config,
        common_lb_config,
        transport_socket,
        protocol_selection,
        upstream_connection_options,
        close_connections_on_host_health_failure,
        ignore_health_on_host_removal,
        filters,
        load_balancing_policy,
        lrs_server,
        track_timeout_budgets,
        upstream_config,
        track_cluster_stats,
        preconnect_policy,
        connection_pool_per_downstream_connection,
        lb_config,
    );
    // Anything else set that ringway does not read is refused too, so a
    // field added to the proto later cannot slip through unnoticed.
    let mut rest = cluster.clone();
    rest.name.clear();
    rest.alt_stat_name.clear();
    rest.metadata = None;
    rest.cluster_discovery_type = None;
    rest.eds_cluster_config = None;
    rest.connect_timeout = None;
    rest.lb_policy = 0;
    rest.load_assignment = None;
    rest.typed_extension_protocol_options.clear();
    rest.wait_for_warm_on_init = None;
    rest.stats_matcher = None;
    rest.cleanup_interval = None;
    (rest != Cluster::default()).then_some("a field ringway does not read")
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
