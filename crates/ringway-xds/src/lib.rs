//! xDS-lite (see `docs/xds-lite.md`) without I/O: Envoy v3 `Cluster` and
//! `ClusterLoadAssignment` messages checked against the subset ringway
//! applies and turned into ringway's cluster model, and the client state of
//! the delta exchange on both sides: [`DeltaClient`] (subscriptions, held
//! versions, ACK, NACK, resuming a stream) and, for the control plane,
//! [`ResourceSet`] with one [`ProxyStream`] per proxy (only what changed
//! among what each proxy asked for). For the control plane too, the way
//! back: ringway's cluster model as Envoy resources ([`cluster_resources`]).
//!
//! A resource that sets a field ringway does not support, where the field
//! would change behaviour, is refused with a [`Rejected`] naming the field:
//! the stream then NACKs the update rather than silently serving something
//! other than what the control plane asked for.

#![forbid(unsafe_code)]

mod cluster;
mod delta;
mod endpoints;
mod resources;
mod server;

pub use cluster::{ClusterSpec, EndpointSource, cluster_spec};
pub use delta::{DeltaClient, Update};
pub use endpoints::endpoints;
pub use resources::{
    HTTP_PROTOCOL_OPTIONS, cluster_resources, envoy_cluster, load_assignment, uncarried_fields,
};
pub use server::{ProxyStream, ResourceSet, StreamStatus, WILDCARD, wildcard_capable};

/// `type_url` of a Cluster resource.
pub const CLUSTER_TYPE: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
/// `type_url` of a Listener resource (not served by ringway-control yet;
/// the wildcard rules cover it).
pub const LISTENER_TYPE: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
/// `type_url` of a ClusterLoadAssignment resource.
pub const ENDPOINTS_TYPE: &str =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

/// Why a resource was refused: what a NACK's `error_detail` says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} `{resource}`: {field}: {reason}")]
pub struct Rejected {
    /// `Cluster` or `ClusterLoadAssignment`.
    pub kind: &'static str,
    /// The resource's name.
    pub resource: String,
    /// The field path inside the resource, as in the proto.
    pub field: String,
    pub reason: String,
}

impl Rejected {
    fn new(
        kind: &'static str,
        resource: &str,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            resource: resource.to_owned(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A protobuf `Duration` as a std one; `None` when negative or out of range.
fn duration(d: &envoy_types::pb::google::protobuf::Duration) -> Option<std::time::Duration> {
    let seconds = u64::try_from(d.seconds).ok()?;
    let nanos = u32::try_from(d.nanos).ok()?;
    std::time::Duration::new(seconds, 0)
        .checked_add(std::time::Duration::from_nanos(u64::from(nanos)))
}

#[cfg(test)]
mod tests;
