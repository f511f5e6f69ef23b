//! Round trips: model → Envoy resources → the checks a proxy applies
//! (`cluster_spec`, `endpoints`) → the same model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::cluster::v3::cluster::{ClusterDiscoveryType, DiscoveryType};
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use prost::Message;
use ringway_config::defaults;
use ringway_config::model::{self, Endpoint, Http2Settings, Keepalive, LbPolicy, UpstreamProtocol};

use super::*;
use crate::{EndpointSource, Names, cluster_spec, endpoints};

fn cluster(name: &str, lb_policy: LbPolicy, endpoints: &[(&str, u32)]) -> model::Cluster {
    model::Cluster {
        name: name.into(),
        lb_policy,
        endpoints: endpoints
            .iter()
            .map(|(a, weight)| Endpoint {
                address: a.parse().unwrap(),
                weight: *weight,
                hostname: None,
            })
            .collect(),
        connect_timeout: defaults::CONNECT_TIMEOUT,
        max_idle_per_endpoint: defaults::MAX_IDLE_PER_ENDPOINT,
        idle_timeout: defaults::CLUSTER_IDLE_TIMEOUT,
        protocol: UpstreamProtocol::Http1,
        http2: Http2Settings::default(),
        eureka: None,
    }
}

/// What a proxy makes of the two resources.
fn through_the_proxy(original: &model::Cluster) -> model::Cluster {
    let (c, cla) = cluster_resources(original);
    assert_eq!(c.type_url, CLUSTER_TYPE);
    assert_eq!(cla.type_url, ENDPOINTS_TYPE);
    let c = Cluster::decode(c.value.as_slice()).unwrap();
    let cla = ClusterLoadAssignment::decode(cla.value.as_slice()).unwrap();
    let spec = cluster_spec(&c, Names::Refuse).unwrap();
    assert_eq!(
        spec.endpoints,
        EndpointSource::Eds {
            service_name: original.name.clone()
        }
    );
    assert_eq!(cla.cluster_name, original.name);
    spec.with_endpoints(endpoints(&cla, false).unwrap())
}

#[test]
fn http1_cluster_round_trips() {
    let mut c = cluster(
        "orders",
        LbPolicy::RoundRobin,
        &[("127.0.0.1:8081", 1), ("127.0.0.1:8082", 5)],
    );
    c.endpoints[1].hostname = Some("orders-2.internal".into());
    assert_eq!(through_the_proxy(&c), c);
    let (envoy, _) = cluster_resources(&c);
    let envoy = Cluster::decode(envoy.value.as_slice()).unwrap();
    assert!(
        envoy.typed_extension_protocol_options.is_empty(),
        "a default HTTP/1.1 cluster needs no protocol options"
    );
}

#[test]
fn idle_timeout_and_policies_round_trip() {
    for policy in [LbPolicy::LeastRequest, LbPolicy::Random] {
        let mut c = cluster("users", policy, &[("[::1]:9000", 3)]);
        c.idle_timeout = Duration::from_secs(30);
        c.connect_timeout = Duration::from_millis(250);
        assert_eq!(through_the_proxy(&c), c);
    }
}

#[test]
fn http2_cluster_round_trips() {
    let mut c = cluster("greeter", LbPolicy::Random, &[("10.0.0.1:50051", 1)]);
    c.protocol = UpstreamProtocol::Http2;
    c.idle_timeout = Duration::from_secs(90);
    c.http2.max_concurrent_streams = 100;
    c.http2.initial_stream_window_size = 65_535;
    c.http2.initial_connection_window_size = 1 << 20;
    c.http2.keepalive = Some(Keepalive {
        interval: Duration::from_secs(10),
        timeout: Duration::from_millis(1500),
    });
    assert_eq!(through_the_proxy(&c), c);
    c.http2.keepalive = None;
    assert_eq!(through_the_proxy(&c), c);
}

#[test]
fn the_cluster_is_eds_over_ads() {
    let c = cluster("orders", LbPolicy::LeastRequest, &[("127.0.0.1:1", 1)]);
    let envoy = envoy_cluster(&c);
    assert_eq!(
        envoy.cluster_discovery_type,
        Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32))
    );
    let source = envoy.eds_cluster_config.unwrap().eds_config.unwrap();
    assert!(matches!(
        source.config_source_specifier,
        Some(ConfigSourceSpecifier::Ads(_))
    ));
    assert_eq!(source.resource_api_version, ApiVersion::V3 as i32);
    assert_eq!(load_assignment(&c).endpoints.len(), 1, "one locality");
}

#[test]
fn settings_without_a_field_are_named() {
    let mut c = cluster("orders", LbPolicy::RoundRobin, &[("127.0.0.1:1", 1)]);
    assert!(uncarried_fields(&c).is_empty());
    c.max_idle_per_endpoint = 3;
    c.protocol = UpstreamProtocol::Http2;
    c.http2.max_frame_size = 32 * 1024;
    assert_eq!(
        uncarried_fields(&c),
        ["max_idle_per_endpoint", "http2.max_frame_size"]
    );
    // The proxy gets the defaults for them.
    let back = through_the_proxy(&c);
    assert_eq!(back.max_idle_per_endpoint, defaults::MAX_IDLE_PER_ENDPOINT);
    assert_eq!(back.http2.max_frame_size, defaults::HTTP2_MAX_FRAME_SIZE);
}
