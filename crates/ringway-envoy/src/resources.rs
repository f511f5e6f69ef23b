//! ringway's cluster model → Envoy v3 resources, the way a control plane
//! serves them: an `EDS` Cluster whose endpoints come over the same ADS
//! stream, and its ClusterLoadAssignment. The inverse of [`crate::cluster_spec`]
//! plus [`crate::endpoints`] for everything the subset carries.
//!
//! Not carried, because the subset has no field for them: a cluster's
//! `max_idle_per_endpoint` and its `http2.max_frame_size` and
//! `http2.max_header_list_size`. A proxy fed over xDS uses its defaults for
//! those; [`uncarried_fields`] names the ones a cluster sets otherwise.

use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, EdsClusterConfig, LbPolicy as EnvoyLbPolicy,
};
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ApiVersion, ConfigSource, Http1ProtocolOptions,
    Http2ProtocolOptions, HttpProtocolOptions as CommonHttpProtocolOptions, KeepaliveSettings,
    SocketAddress, address, socket_address,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    ExplicitHttpConfig, UpstreamProtocolOptions, explicit_http_config::ProtocolConfig,
};
use envoy_types::pb::google::protobuf::{Any, UInt32Value};
use prost::Message;
use ringway_config::defaults;
use ringway_config::model::{self, Http2Settings, LbPolicy, UpstreamProtocol};

use crate::{CLUSTER_TYPE, ENDPOINTS_TYPE};

/// Key of the upstream HTTP options in `typed_extension_protocol_options`.
pub const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
const HTTP_PROTOCOL_OPTIONS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// The Cluster and the ClusterLoadAssignment of one cluster, each packed in
/// an `Any` with its type URL ([`CLUSTER_TYPE`], [`ENDPOINTS_TYPE`]).
pub fn cluster_resources(cluster: &model::Cluster) -> (Any, Any) {
    let c = envoy_cluster(cluster);
    let cla = load_assignment(cluster);
    (
        Any {
            type_url: CLUSTER_TYPE.to_owned(),
            value: c.encode_to_vec(),
        },
        Any {
            type_url: ENDPOINTS_TYPE.to_owned(),
            value: cla.encode_to_vec(),
        },
    )
}

/// The `EDS` Cluster (endpoints over ADS, under the cluster's own name).
pub fn envoy_cluster(cluster: &model::Cluster) -> Cluster {
    let lb_policy = match cluster.lb_policy {
        LbPolicy::RoundRobin => EnvoyLbPolicy::RoundRobin,
        LbPolicy::LeastRequest => EnvoyLbPolicy::LeastRequest,
        LbPolicy::Random => EnvoyLbPolicy::Random,
    };
    let mut out = Cluster {
        name: cluster.name.clone(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32)),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                resource_api_version: ApiVersion::V3 as i32,
                ..Default::default()
            }),
            service_name: String::new(),
        }),
        connect_timeout: Some(proto_duration(cluster.connect_timeout)),
        lb_policy: lb_policy as i32,
        ..Default::default()
    };
    if let Some(options) = http_options(cluster) {
        out.typed_extension_protocol_options.insert(
            HTTP_PROTOCOL_OPTIONS.to_owned(),
            Any {
                type_url: HTTP_PROTOCOL_OPTIONS_TYPE.to_owned(),
                value: options.encode_to_vec(),
            },
        );
    }
    out
}

/// The cluster's endpoints: one locality, one entry per endpoint with its
/// weight (and the host name it was resolved from, if any).
pub fn load_assignment(cluster: &model::Cluster) -> ClusterLoadAssignment {
    let lb_endpoints = cluster
        .endpoints
        .iter()
        .map(|e| LbEndpoint {
            load_balancing_weight: Some(UInt32Value { value: e.weight }),
            host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                address: Some(Address {
                    address: Some(address::Address::SocketAddress(SocketAddress {
                        address: e.address.ip().to_string(),
                        port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(
                            e.address.port(),
                        ))),
                        ..Default::default()
                    })),
                }),
                hostname: e.hostname.clone().unwrap_or_default(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .collect();
    ClusterLoadAssignment {
        cluster_name: cluster.name.clone(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The settings of `cluster` that differ from the default but that no
/// field of the subset carries (a proxy will use its default instead).
pub fn uncarried_fields(cluster: &model::Cluster) -> Vec<&'static str> {
    let mut out = Vec::new();
    if cluster.eureka.is_some() {
        out.push("type: eureka");
    }
    if cluster.max_idle_per_endpoint != defaults::MAX_IDLE_PER_ENDPOINT {
        out.push("max_idle_per_endpoint");
    }
    if cluster.protocol == UpstreamProtocol::Http2 {
        let default = Http2Settings::default();
        if cluster.http2.max_frame_size != default.max_frame_size {
            out.push("http2.max_frame_size");
        }
        if cluster.http2.max_header_list_size != default.max_header_list_size {
            out.push("http2.max_header_list_size");
        }
    }
    out
}

/// `HttpProtocolOptions` for HTTP/2 clusters and for clusters whose idle
/// timeout is not the default; `None` for a plain HTTP/1.1 cluster.
fn http_options(cluster: &model::Cluster) -> Option<HttpProtocolOptions> {
    let idle_timeout_set = cluster.idle_timeout != defaults::CLUSTER_IDLE_TIMEOUT;
    let protocol_config = match cluster.protocol {
        UpstreamProtocol::Http1 if !idle_timeout_set => return None,
        UpstreamProtocol::Http1 => {
            ProtocolConfig::HttpProtocolOptions(Http1ProtocolOptions::default())
        }
        UpstreamProtocol::Http2 => ProtocolConfig::Http2ProtocolOptions(http2(&cluster.http2)),
    };
    Some(HttpProtocolOptions {
        common_http_protocol_options: idle_timeout_set.then(|| CommonHttpProtocolOptions {
            idle_timeout: Some(proto_duration(cluster.idle_timeout)),
            ..Default::default()
        }),
        upstream_protocol_options: Some(UpstreamProtocolOptions::ExplicitHttpConfig(
            ExplicitHttpConfig {
                protocol_config: Some(protocol_config),
            },
        )),
        ..Default::default()
    })
}

pub(crate) fn http2(settings: &Http2Settings) -> Http2ProtocolOptions {
    Http2ProtocolOptions {
        max_concurrent_streams: Some(UInt32Value {
            value: settings.max_concurrent_streams,
        }),
        initial_stream_window_size: Some(UInt32Value {
            value: settings.initial_stream_window_size,
        }),
        initial_connection_window_size: Some(UInt32Value {
            value: settings.initial_connection_window_size,
        }),
        connection_keepalive: settings.keepalive.map(|k| KeepaliveSettings {
            interval: Some(proto_duration(k.interval)),
            timeout: Some(proto_duration(k.timeout)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A std `Duration` as a protobuf one (saturating at `i64::MAX` seconds).
pub(crate) fn proto_duration(d: Duration) -> envoy_types::pb::google::protobuf::Duration {
    envoy_types::pb::google::protobuf::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // Below 1e9, so it fits.
        nanos: d.subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests;
