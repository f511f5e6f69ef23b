#![allow(clippy::unwrap_used, clippy::expect_used)]

use envoy_types::pb::envoy::config::cluster::v3::cluster::{
    ClusterDiscoveryType, DiscoveryType, EdsClusterConfig, LbPolicy as EnvoyLbPolicy,
};
use envoy_types::pb::envoy::config::cluster::v3::{Cluster, OutlierDetection};
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ApiConfigSource, ConfigSource, HealthStatus,
    Http2ProtocolOptions, KeepaliveSettings, SocketAddress, address, socket_address,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    ExplicitHttpConfig, UpstreamProtocolOptions, explicit_http_config::ProtocolConfig,
};
use envoy_types::pb::google::protobuf::{Any, Duration, UInt32Value};
use prost::Message;
use ringway_config::model::{LbPolicy, UpstreamProtocol};

use super::*;
use crate::endpoints;

fn eds_cluster(name: &str) -> Cluster {
    Cluster {
        name: name.into(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32)),
        eds_cluster_config: Some(EdsClusterConfig {
            eds_config: Some(ConfigSource {
                config_source_specifier: Some(ConfigSourceSpecifier::Ads(
                    AggregatedConfigSource {},
                )),
                ..Default::default()
            }),
            service_name: String::new(),
        }),
        connect_timeout: Some(Duration {
            seconds: 1,
            nanos: 500_000_000,
        }),
        lb_policy: EnvoyLbPolicy::LeastRequest as i32,
        ..Default::default()
    }
}

fn lb_endpoint(ip: &str, port: u32, weight: Option<u32>, health: HealthStatus) -> LbEndpoint {
    LbEndpoint {
        health_status: health as i32,
        load_balancing_weight: weight.map(|value| UInt32Value { value }),
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
            address: Some(Address {
                address: Some(address::Address::SocketAddress(SocketAddress {
                    address: ip.into(),
                    port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
                    ..Default::default()
                })),
            }),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn assignment(name: &str, endpoints: Vec<LbEndpoint>) -> ClusterLoadAssignment {
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: endpoints,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn eds_cluster_is_accepted() {
    let spec = cluster_spec(&eds_cluster("orders"), Names::Refuse).unwrap();
    assert_eq!(spec.name, "orders");
    assert_eq!(spec.lb_policy, LbPolicy::LeastRequest);
    assert_eq!(spec.protocol, UpstreamProtocol::Http1);
    assert_eq!(spec.connect_timeout, std::time::Duration::from_millis(1500));
    assert_eq!(
        spec.endpoints,
        EndpointSource::Eds {
            service_name: "orders".into()
        }
    );
    let endpoints = endpoints(
        &assignment(
            "orders",
            vec![
                lb_endpoint("10.0.0.1", 8080, Some(3), HealthStatus::Healthy),
                lb_endpoint("10.0.0.2", 8080, None, HealthStatus::Unknown),
                lb_endpoint("10.0.0.3", 8080, None, HealthStatus::Draining),
                lb_endpoint("::1", 9090, None, HealthStatus::Unhealthy),
            ],
        ),
        false,
    )
    .unwrap();
    let listed: Vec<(String, u32)> = endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.weight))
        .collect();
    assert_eq!(
        listed,
        [
            ("10.0.0.1:8080".to_string(), 3),
            ("10.0.0.2:8080".to_string(), 1)
        ]
    );
    let cluster = spec.with_endpoints(endpoints);
    assert_eq!(cluster.endpoints.len(), 2);
}

#[test]
fn static_cluster_and_http2_options() {
    let h2 = HttpProtocolOptions {
        upstream_protocol_options: Some(UpstreamProtocolOptions::ExplicitHttpConfig(
            ExplicitHttpConfig {
                protocol_config: Some(ProtocolConfig::Http2ProtocolOptions(Http2ProtocolOptions {
                    max_concurrent_streams: Some(UInt32Value { value: 100 }),
                    connection_keepalive: Some(KeepaliveSettings {
                        interval: Some(Duration {
                            seconds: 30,
                            nanos: 0,
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                })),
            },
        )),
        ..Default::default()
    };
    let cluster = Cluster {
        name: "greeter".into(),
        load_assignment: Some(assignment(
            "greeter",
            vec![lb_endpoint("127.0.0.1", 50051, None, HealthStatus::Unknown)],
        )),
        typed_extension_protocol_options: [(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions".to_string(),
            Any {
                type_url:
                    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
                        .into(),
                value: h2.encode_to_vec(),
            },
        )]
        .into(),
        ..Default::default()
    };
    let spec = cluster_spec(&cluster, Names::Refuse).unwrap();
    assert_eq!(spec.protocol, UpstreamProtocol::Http2);
    assert_eq!(spec.http2.max_concurrent_streams, 100);
    assert_eq!(spec.http2.keepalive.map(|k| k.interval.as_secs()), Some(30));
    assert_eq!(spec.lb_policy, LbPolicy::RoundRobin);
    match spec.endpoints {
        EndpointSource::Static(endpoints) => {
            assert_eq!(endpoints[0].address.to_string(), "127.0.0.1:50051")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_fields_are_named() {
    let cases: Vec<(Cluster, &str, &str)> = vec![
        (
            Cluster {
                outlier_detection: Some(OutlierDetection::default()),
                ..eds_cluster("a")
            },
            "outlier_detection",
            "not supported",
        ),
        (
            Cluster {
                cluster_discovery_type: Some(ClusterDiscoveryType::Type(
                    DiscoveryType::StrictDns as i32,
                )),
                eds_cluster_config: None,
                ..eds_cluster("a")
            },
            "load_assignment",
            "STRICT_DNS cluster needs",
        ),
        (
            Cluster {
                lb_policy: EnvoyLbPolicy::RingHash as i32,
                ..eds_cluster("a")
            },
            "lb_policy",
            "RING_HASH",
        ),
        (
            Cluster {
                eds_cluster_config: Some(EdsClusterConfig {
                    eds_config: Some(ConfigSource {
                        config_source_specifier: Some(ConfigSourceSpecifier::ApiConfigSource(
                            ApiConfigSource::default(),
                        )),
                        ..Default::default()
                    }),
                    service_name: String::new(),
                }),
                ..eds_cluster("a")
            },
            "eds_cluster_config.eds_config.api_config_source",
            "not supported",
        ),
        (
            Cluster {
                typed_extension_protocol_options: [(
                    "envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions".to_string(),
                    Any::default(),
                )]
                .into(),
                ..eds_cluster("a")
            },
            "typed_extension_protocol_options[\"envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions\"]",
            "not supported",
        ),
        (
            Cluster {
                name: "s".into(),
                ..Default::default()
            },
            "load_assignment",
            "STATIC cluster needs",
        ),
    ];
    for (cluster, field, words) in cases {
        let err = cluster_spec(&cluster, Names::Refuse).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert!(err.reason.contains(words), "{err}");
        assert_eq!(err.kind, "Cluster");
    }
    let err = cluster_spec(
        &Cluster {
            outlier_detection: Some(OutlierDetection::default()),
            ..eds_cluster("payments")
        },
        Names::Refuse,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cluster `payments`: outlier_detection: not supported by ringway (see docs/envoy-compat.md)"
    );
}

#[test]
fn bad_assignments_are_named() {
    let host_name = {
        let mut e = lb_endpoint("backend.local", 80, None, HealthStatus::Unknown);
        if let Some(lb_endpoint::HostIdentifier::Endpoint(ep)) = &mut e.host_identifier {
            ep.hostname = "x".into();
        }
        e
    };
    let cases = vec![
        (
            assignment("a", vec![host_name]),
            "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address",
            "IP address",
        ),
        (
            assignment(
                "a",
                vec![lb_endpoint("10.0.0.1", 0, None, HealthStatus::Unknown)],
            ),
            "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value",
            "1 to 65535",
        ),
        (
            assignment(
                "a",
                vec![lb_endpoint("10.0.0.1", 80, Some(0), HealthStatus::Unknown)],
            ),
            "endpoints[0].lb_endpoints[0].load_balancing_weight",
            "at least 1",
        ),
        (
            assignment(
                "a",
                vec![
                    lb_endpoint("10.0.0.1", 80, None, HealthStatus::Unknown),
                    lb_endpoint("10.0.0.1", 80, None, HealthStatus::Unknown),
                ],
            ),
            "endpoints[0].lb_endpoints[1].endpoint.address",
            "listed twice",
        ),
    ];
    for (cla, field, words) in cases {
        let err = endpoints(&cla, false).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert!(err.reason.contains(words), "{err}");
    }
}

fn group(priority: u32, weight: Option<u32>, eps: Vec<LbEndpoint>) -> LocalityLbEndpoints {
    LocalityLbEndpoints {
        priority,
        load_balancing_weight: weight.map(|value| UInt32Value { value }),
        lb_endpoints: eps,
        ..Default::default()
    }
}

fn listed(endpoints: &[ringway_config::model::Endpoint]) -> Vec<(String, u32)> {
    endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.weight))
        .collect()
}

#[test]
fn the_lowest_priority_with_endpoints_in_rotation_takes_the_traffic() {
    let cla = ClusterLoadAssignment {
        cluster_name: "a".into(),
        endpoints: vec![
            group(
                1,
                None,
                vec![lb_endpoint("10.0.0.2", 80, None, HealthStatus::Unknown)],
            ),
            group(
                0,
                None,
                vec![lb_endpoint("10.0.0.1", 80, None, HealthStatus::Unhealthy)],
            ),
            group(
                2,
                None,
                vec![lb_endpoint("10.0.0.3", 80, None, HealthStatus::Unknown)],
            ),
        ],
        ..Default::default()
    };
    assert_eq!(
        listed(&endpoints(&cla, false).unwrap()),
        [("10.0.0.2:80".to_string(), 1)]
    );
}

#[test]
fn locality_weights_share_traffic_only_when_asked_for() {
    let cla = ClusterLoadAssignment {
        cluster_name: "a".into(),
        endpoints: vec![
            group(
                0,
                Some(3),
                vec![
                    lb_endpoint("10.0.0.1", 80, Some(1), HealthStatus::Unknown),
                    lb_endpoint("10.0.0.2", 80, Some(3), HealthStatus::Unknown),
                ],
            ),
            group(
                0,
                Some(1),
                vec![lb_endpoint("10.0.1.1", 80, None, HealthStatus::Unknown)],
            ),
            group(
                0,
                None,
                vec![lb_endpoint("10.0.2.1", 80, None, HealthStatus::Unknown)],
            ),
        ],
        ..Default::default()
    };
    assert_eq!(
        listed(&endpoints(&cla, false).unwrap()),
        [
            ("10.0.0.1:80".to_string(), 1),
            ("10.0.0.2:80".to_string(), 3),
            ("10.0.1.1:80".to_string(), 1),
            ("10.0.2.1:80".to_string(), 1)
        ]
    );
    // 3/4 of the traffic to the first locality (split 1:3), 1/4 to the
    // second, none to the one without a weight.
    assert_eq!(
        listed(&endpoints(&cla, true).unwrap()),
        [
            ("10.0.0.1:80".to_string(), 1875),
            ("10.0.0.2:80".to_string(), 5625),
            ("10.0.1.1:80".to_string(), 2500)
        ]
    );
}

fn dns_cluster(kind: DiscoveryType, family: i32) -> Cluster {
    Cluster {
        name: "svc".into(),
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(kind as i32)),
        dns_lookup_family: family,
        load_assignment: Some(assignment(
            "svc",
            vec![lb_endpoint(
                "backend.local",
                8080,
                None,
                HealthStatus::Unknown,
            )],
        )),
        ..Default::default()
    }
}

#[test]
fn dns_clusters_resolve_names_by_family() {
    let resolver = |host: &str, port: u16| -> std::io::Result<Vec<std::net::SocketAddr>> {
        assert_eq!(host, "backend.local");
        Ok(vec![
            format!("10.1.0.1:{port}").parse().unwrap(),
            format!("[fd00::1]:{port}").parse().unwrap(),
            format!("10.1.0.2:{port}").parse().unwrap(),
        ])
    };
    use envoy_types::pb::envoy::config::cluster::v3::cluster::DnsLookupFamily as F;
    let cases = [
        (
            DiscoveryType::StrictDns,
            F::V4Only,
            vec!["10.1.0.1:8080", "10.1.0.2:8080"],
        ),
        (DiscoveryType::StrictDns, F::Auto, vec!["[fd00::1]:8080"]),
        (
            DiscoveryType::StrictDns,
            F::All,
            vec!["10.1.0.1:8080", "[fd00::1]:8080", "10.1.0.2:8080"],
        ),
        (
            DiscoveryType::LogicalDns,
            F::V4Preferred,
            vec!["10.1.0.1:8080"],
        ),
    ];
    for (kind, family, want) in cases {
        let spec =
            cluster_spec(&dns_cluster(kind, family as i32), Names::Resolve(&resolver)).unwrap();
        let EndpointSource::Static(eps) = spec.endpoints else {
            panic!("not static");
        };
        let got: Vec<String> = eps.iter().map(|e| e.address.to_string()).collect();
        assert_eq!(got, want, "{kind:?} {family:?}");
        assert!(
            eps.iter()
                .all(|e| e.hostname.as_deref() == Some("backend.local"))
        );
    }
    let err = cluster_spec(&dns_cluster(DiscoveryType::StrictDns, 0), Names::Refuse).unwrap_err();
    assert_eq!(
        err.field,
        "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address"
    );
    let static_named = Cluster {
        cluster_discovery_type: None,
        ..dns_cluster(DiscoveryType::Static, 0)
    };
    assert!(cluster_spec(&static_named, Names::Resolve(&resolver)).is_err());
}
