//! The sidecar's generated resources.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use prost::Message;
use ringway_config::defaults;

use super::*;

fn sidecar(timeout: Duration) -> Sidecar {
    Sidecar {
        listener: "outbound".into(),
        address: "127.0.0.1:15001".parse().unwrap(),
        routes: "mesh".into(),
        template: RouteTemplate { timeout },
    }
}

fn hosts(served: &Served) -> Vec<VirtualHost> {
    let config = RouteConfiguration::decode(served.resource.value.as_slice()).unwrap();
    assert_eq!(config.name, "mesh");
    ringway_envoy::virtual_hosts(&config).unwrap()
}

#[test]
fn one_virtual_host_per_cluster_with_the_template_timeout() {
    let s = sidecar(Duration::from_secs(2));
    let served = s.route_configuration(["orders", "users.internal"]).unwrap();
    let hosts = hosts(&served);
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0].name, "orders");
    assert_eq!(
        hosts[0].domains,
        vec![DomainPattern::Exact("orders".into())]
    );
    assert_eq!(
        hosts[1].domains,
        vec![DomainPattern::Exact("users.internal".into())]
    );
    let route = &hosts[1].routes[0];
    assert_eq!(route.matcher.path, PathMatch::Prefix("/".into()));
    assert_eq!(route.action, RouteAction::Cluster("users.internal".into()));
    assert_eq!(route.timeout, Duration::from_secs(2));
    assert_eq!(served.summary["file"], ORIGIN);
}

#[test]
fn no_timeout_and_no_clusters() {
    let s = sidecar(defaults::ROUTE_TIMEOUT_OFF);
    let off = hosts(&s.route_configuration(["a"]).unwrap());
    assert_eq!(off[0].routes[0].timeout, defaults::ROUTE_TIMEOUT_OFF);
    assert!(hosts(&s.route_configuration([]).unwrap()).is_empty());
}

#[test]
fn names_differing_only_in_case_get_one_virtual_host() {
    let s = sidecar(defaults::ROUTE_TIMEOUT);
    let served = s.route_configuration(["Orders", "orders"]).unwrap();
    let hosts = hosts(&served);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].name, "Orders");
    assert_eq!(
        hosts[0].domains,
        vec![DomainPattern::Exact("orders".into())]
    );
}

#[test]
fn versions_are_content_hashes() {
    let a = sidecar(Duration::from_secs(2));
    let b = sidecar(Duration::from_secs(2));
    let one = a.route_configuration(["x", "y"]).unwrap();
    let two = b.route_configuration(["x", "y"]).unwrap();
    assert_eq!(one.canonical, two.canonical, "two replicas agree");
    assert_eq!(one.resource, two.resource);
    let other = b.route_configuration(["x"]).unwrap();
    assert_ne!(one.canonical, other.canonical);
    let slower = sidecar(Duration::from_secs(3))
        .route_configuration(["x", "y"])
        .unwrap();
    assert_ne!(one.canonical, slower.canonical);
}

#[test]
fn the_listener_takes_its_routes_by_rds_and_strips_ports() {
    let served = sidecar(defaults::ROUTE_TIMEOUT).listener().unwrap();
    assert_eq!(served.name, "outbound");
    assert_eq!(served.rds.as_deref(), Some("mesh"));
    assert_eq!(served.summary["address"], "127.0.0.1:15001");
    let listener = Listener::decode(served.resource.value.as_slice()).unwrap();
    let model = ringway_envoy::listener(&listener, "").unwrap();
    assert!(model.virtual_hosts.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&served.canonical).unwrap();
    let hcm = &json["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(hcm["strip_any_host_port"], true);
}
