//! ringway-control, the xDS-lite control plane (docs/xds-lite.md): clusters
//! from pluggable [`source`]s (a watched folder of cluster files, Eureka),
//! route configurations (Envoy's shape or ringway's) and listeners from
//! watched folders, and a generated sidecar listener whose routes have a
//! virtual host per cluster ([`Sidecar`]), kept in one versioned resource
//! set and served to ringway
//! proxies over delta ADS, each proxy getting only the changes to what it
//! subscribed to; an admin API shows the proxies, their subscriptions, ACKs
//! and NACKs.

#![forbid(unsafe_code)]

mod admin;
mod ads;
mod cli;
mod error;
mod hub;
mod registry;
mod run;
mod sidecar;
pub mod source;

pub use cli::Cli;
pub use error::Error;
pub use hub::Hub;
pub use registry::EurekaRegistry;
pub use run::run;
pub use sidecar::Sidecar;
