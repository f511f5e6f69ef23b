//! Envoy v3 messages to ringway's model: the one conversion used by the
//! Envoy bootstrap loader (`ringway -c envoy.yaml`), the xDS client and
//! ringway-control, and ringway's model back to Envoy resources for the
//! control plane to serve ([`cluster_resources`]) and for the admin API's
//! `/config_dump` to show ([`envoy_listener`], [`route_configuration`],
//! [`static_cluster`]).
//!
//! Every field of every message is in one of three states, kept in one
//! table ([`fields`]) that `docs/envoy-compat.md` is generated from:
//! applied, accepted and ignored because it cannot change behaviour here,
//! or refused with its path and the reason. A field that would change
//! behaviour is never dropped silently: a resource that sets one is
//! refused with a [`Rejected`] naming it (the xDS stream then NACKs the
//! update; the bootstrap loader fails naming the file).

#![forbid(unsafe_code)]

mod access_log;
pub mod bootstrap;
mod cluster;
mod endpoints;
pub mod fields;
mod listener;
mod render;
mod resources;
mod retry;
mod route;
#[cfg(test)]
mod test_support;
pub mod text;

pub use cluster::{ClusterSpec, EndpointSource, Names, cluster_spec};
pub use endpoints::{Assignment, assignment, endpoints};
pub use listener::listener;
pub use render::{
    envoy_listener, pack, route_configuration, served_listener, socket, static_cluster,
};
pub use resources::{
    HTTP_PROTOCOL_OPTIONS, cluster_resources, envoy_cluster, load_assignment, uncarried_fields,
};
pub use route::virtual_hosts;

/// `type_url` of a Cluster resource.
pub const CLUSTER_TYPE: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
/// `type_url` of a Listener resource.
pub const LISTENER_TYPE: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
/// `type_url` of a RouteConfiguration resource.
pub const ROUTE_TYPE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
/// `type_url` of a ClusterLoadAssignment resource.
pub const ENDPOINTS_TYPE: &str =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

/// Why a resource was refused: what a NACK's `error_detail` says, and
/// (with the file's name) what the bootstrap loader reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} `{resource}`: {field}: {reason}")]
pub struct Rejected {
    /// `Cluster`, `ClusterLoadAssignment`, `Listener`, ...
    pub kind: &'static str,
    /// The resource's name.
    pub resource: String,
    /// The field path inside the resource, as in the proto.
    pub field: String,
    pub reason: String,
}

impl Rejected {
    pub(crate) fn new(
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

    /// Checks `message` against the field table; a refused field becomes a
    /// rejection of the resource.
    pub(crate) fn check<M: prost::Message + prost::Name>(
        kind: &'static str,
        resource: &str,
        message: &M,
    ) -> Result<(), Self> {
        let Some(dynamic) = text::dynamic(message) else {
            return Err(Self::new(
                kind,
                resource,
                "-",
                "not a message ringway reads",
            ));
        };
        fields::check(&dynamic, "").map_err(|r| Self::new(kind, resource, r.field, r.reason))
    }
}

/// A protobuf `Duration` as a std one; `None` when negative or out of range.
pub(crate) fn duration(
    d: &envoy_types::pb::google::protobuf::Duration,
) -> Option<std::time::Duration> {
    let seconds = u64::try_from(d.seconds).ok()?;
    let nanos = u32::try_from(d.nanos).ok()?;
    std::time::Duration::new(seconds, 0)
        .checked_add(std::time::Duration::from_nanos(u64::from(nanos)))
}
