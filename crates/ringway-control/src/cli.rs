//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// ringway-control: serves clusters to ringway proxies over delta xDS
/// (docs/xds-lite.md), from a folder of cluster files.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "ringway-control", version)]
pub struct Cli {
    /// Where the delta ADS gRPC server listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:18000")]
    pub xds_address: SocketAddr,
    /// Where the admin HTTP API listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:18001")]
    pub admin_address: SocketAddr,
    /// Folder of cluster files (`*.yaml`, `*.yml`, `*.json`), each a list
    /// of clusters as in ringway's `clusters:`; watched for changes.
    #[arg(long)]
    pub clusters_dir: PathBuf,
    /// How often the folder is looked at, like `200ms` or `2s`.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Write the xDS address actually bound (`ip:port` and a newline) here.
    #[arg(long)]
    pub xds_address_path: Option<PathBuf>,
    /// Write the admin address actually bound (`ip:port` and a newline) here.
    #[arg(long)]
    pub admin_address_path: Option<PathBuf>,
}
