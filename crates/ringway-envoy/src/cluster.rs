//! Cluster → [`ClusterSpec`]: what ringway needs to build the cluster once
//! its endpoints are known.

use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, DnsLookupFamily, LbPolicy as EnvoyLbPolicy,
    common_lb_config::LocalityConfigSpecifier,
};
use envoy_types::pb::envoy::config::core::v3::Http2ProtocolOptions;
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    UpstreamProtocolOptions, explicit_http_config::ProtocolConfig,
};
use prost::Message;
use ringway_config::Resolve;
use ringway_config::defaults;
use ringway_config::model::{self, Endpoint, Http2Settings, Keepalive, LbPolicy, UpstreamProtocol};

use crate::endpoints::{EndpointOptions, endpoints_with};
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
    /// Locality weights share traffic (`locality_weighted_lb_config`).
    pub locality_weighted: bool,
    pub endpoints: EndpointSource,
}

/// Where a cluster's endpoints come from.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointSource {
    /// A ClusterLoadAssignment of this name, on the same stream.
    Eds { service_name: String },
    /// Listed in the Cluster itself (resolved, for DNS clusters).
    Static(Vec<Endpoint>),
}

/// How host names in endpoint addresses are treated.
#[derive(Clone, Copy)]
pub enum Names<'a> {
    /// Only IP addresses: names are the control plane's to resolve.
    Refuse,
    /// Resolved now (a bootstrap's STRICT_DNS and LOGICAL_DNS clusters).
    Resolve(&'a dyn Resolve),
}

impl std::fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Refuse => "Refuse",
            Self::Resolve(_) => "Resolve",
        })
    }
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

/// Checks a Cluster against the field table and turns it into a spec.
/// Host names in a `STRICT_DNS` or `LOGICAL_DNS` cluster's endpoints are
/// resolved through `names`, or refused.
pub fn cluster_spec(cluster: &Cluster, names: Names<'_>) -> Result<ClusterSpec, Rejected> {
    let name = cluster.name.as_str();
    let reject = |field: &str, reason: String| Rejected::new(KIND, name, field, reason);
    if name.is_empty() {
        return Err(reject("name", "must not be empty".into()));
    }
    Rejected::check(KIND, name, cluster)?;
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
    let locality_weighted = matches!(
        cluster
            .common_lb_config
            .as_ref()
            .and_then(|c| c.locality_config_specifier.as_ref()),
        Some(LocalityConfigSpecifier::LocalityWeightedLbConfig(_))
    );
    let family = DnsLookupFamily::try_from(cluster.dns_lookup_family)
        .map_err(|_| reject("dns_lookup_family", "unknown family".into()))?;
    let endpoints = match discovery {
        DiscoveryType::Eds => EndpointSource::Eds {
            service_name: eds_service_name(cluster, &reject)?,
        },
        DiscoveryType::Static | DiscoveryType::StrictDns | DiscoveryType::LogicalDns => {
            if cluster.eds_cluster_config.is_some() {
                return Err(reject("eds_cluster_config", "only for type EDS".into()));
            }
            let cla = cluster.load_assignment.as_ref().ok_or_else(|| {
                reject(
                    "load_assignment",
                    format!(
                        "a {} cluster needs its endpoints here",
                        discovery.as_str_name()
                    ),
                )
            })?;
            let options = EndpointOptions {
                locality_weighted,
                names: match discovery {
                    DiscoveryType::Static => Names::Refuse,
                    _ => names,
                },
                family,
                first_address_only: discovery == DiscoveryType::LogicalDns,
            };
            let endpoints = endpoints_with(cla, &options).map_err(|mut e| {
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
                    "{} is not supported (STATIC, STRICT_DNS, LOGICAL_DNS and EDS are)",
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
        locality_weighted,
        endpoints,
    })
}

/// The assignment an `EDS` cluster takes its endpoints from.
fn eds_service_name(
    cluster: &Cluster,
    reject: &dyn Fn(&str, String) -> Rejected,
) -> Result<String, Rejected> {
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
    Ok(eds
        .map(|e| e.service_name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cluster.name.clone()))
}

/// The upstream protocol, HTTP/2 settings and idle timeout from
/// `typed_extension_protocol_options` (whose fields the table has checked).
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
        if let Some(d) = options
            .common_http_protocol_options
            .as_ref()
            .and_then(|c| c.idle_timeout.as_ref())
        {
            idle_timeout = duration(d).filter(|d| !d.is_zero()).ok_or_else(|| {
                reject(
                    &format!("{field}.common_http_protocol_options.idle_timeout"),
                    "must be positive".into(),
                )
            })?;
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

/// HTTP/2 settings from Envoy's options (for clusters and listeners alike).
pub(crate) fn http2_settings(
    h2: &Http2ProtocolOptions,
) -> Result<Http2Settings, (&'static str, String)> {
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

#[cfg(test)]
mod tests;
