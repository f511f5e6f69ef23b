//! xDS-lite (see `docs/xds-lite.md`) without I/O: the state of the delta
//! exchange on both sides. [`DeltaClient`] holds a proxy's subscriptions
//! and versions (ACK, NACK, resuming a stream); for the control plane,
//! [`ResourceSet`] with one [`ProxyStream`] per proxy sends only what
//! changed among what each proxy asked for. What the resources mean, and
//! which of their fields ringway applies, is `ringway-envoy`'s.

#![forbid(unsafe_code)]

mod delta;
mod server;

pub use delta::{DeltaClient, Update};
pub use ringway_envoy::{CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE, ROUTE_TYPE};
pub use server::{ProxyStream, ResourceSet, StreamStatus, WILDCARD, wildcard_capable};
