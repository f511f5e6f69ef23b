//! Why ringway-control could not start.

use std::path::PathBuf;

/// A start-up failure; each names what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {address} for {what}: {source}")]
    Bind {
        what: &'static str,
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    AddressFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--{option} {}: {source}", path.display())]
    Folder {
        option: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--sidecar-template: {0}")]
    Template(ringway_config::ConfigErrors),
    #[error("--sidecar-template {}: {source}", path.display())]
    TemplateRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--{option} `{name}`: {reason}")]
    SidecarName {
        option: &'static str,
        name: String,
        reason: String,
    },
    #[error("the sidecar listener does not check: {field}: {reason}")]
    Sidecar { field: String, reason: String },
    #[error(
        "nothing to serve: give --clusters-dir, --routes-dir, --listeners-dir, --eureka-registry-address or --eureka-url"
    )]
    NoSource,
    #[error("cannot install the {0} handler: {1}")]
    Signal(&'static str, std::io::Error),
    #[error("the xDS server failed: {0}")]
    Xds(#[from] tonic::transport::Error),
}
