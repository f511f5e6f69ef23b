//! Bytes from the network as xDS resources (a Cluster, a
//! ClusterLoadAssignment, a Listener, a RouteConfiguration), and text as an
//! Envoy bootstrap: decoded, checked against the field table and converted.
//! No step may panic, whatever the input; an accepted cluster must build.

#![no_main]

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use ringway_envoy::Names;

fn no_dns(_: &str, _: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
    Err(std::io::Error::other("no DNS while fuzzing"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cluster) = Cluster::decode(data)
        && let Ok(spec) = ringway_envoy::cluster_spec(&cluster, Names::Resolve(&no_dns))
    {
        let _ = spec.with_endpoints(Vec::new());
    }
    if let Ok(cla) = ClusterLoadAssignment::decode(data) {
        let _ = ringway_envoy::assignment(&cla);
    }
    if let Ok(listener) = Listener::decode(data) {
        let _ = ringway_envoy::listener(&listener, "fuzz");
    }
    if let Ok(routes) = RouteConfiguration::decode(data) {
        let _ = ringway_envoy::virtual_hosts(&routes);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ringway_envoy::bootstrap::load("fuzz.yaml", Some(text), None, &no_dns);
    }
});
