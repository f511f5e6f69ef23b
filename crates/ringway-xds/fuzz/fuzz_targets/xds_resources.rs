//! Bytes from the network as an xDS resource: decoded as a Cluster or a
//! ClusterLoadAssignment, then checked against the subset ringway applies.
//! Neither step may panic, whatever the bytes; an accepted cluster must
//! build.

#![no_main]

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(cluster) = Cluster::decode(data)
        && let Ok(spec) = ringway_xds::cluster_spec(&cluster)
    {
        let _ = spec.with_endpoints(Vec::new());
    }
    if let Ok(cla) = ClusterLoadAssignment::decode(data) {
        let _ = ringway_xds::endpoints(&cla);
    }
});
