//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// ringway-control: serves clusters, route configurations and listeners to
/// ringway proxies (and Envoy) over delta xDS (docs/xds-lite.md), from
/// watched folders and Eureka.
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
    pub clusters_dir: Option<PathBuf>,
    /// Folder of route files (`*.yaml`, `*.yml`, `*.json`), each one Envoy
    /// v3 `RouteConfiguration` or a list of them, or ringway's shape: a
    /// top-level `route_configurations:` list of `{ name, virtual_hosts }`
    /// with virtual hosts as in ringway.yaml. Served by name (RDS);
    /// watched for changes. A file with any bad resource is refused whole.
    #[arg(long)]
    pub routes_dir: Option<PathBuf>,
    /// Folder of listener files, each one Envoy v3 `Listener` or a list of
    /// them, served by name or to every wildcard subscriber (LDS); watched
    /// for changes. A file with any bad resource is refused whole.
    #[arg(long)]
    pub listeners_dir: Option<PathBuf>,
    /// Serve a sidecar Listener on this address (like `127.0.0.1:15001`)
    /// to every proxy subscribed to all listeners: its routes come by RDS
    /// from a generated RouteConfiguration with one virtual host per known
    /// cluster (folder and Eureka), domain = the cluster's name, so an
    /// application calls `http://<cluster>/...` or
    /// `http://<cluster>:<port>/...` through it. Regenerated as clusters
    /// come and go.
    #[arg(long, value_name = "ADDR")]
    pub sidecar_listener: Option<SocketAddr>,
    /// The sidecar Listener's name; a listener file may not use it.
    #[arg(long, default_value = "outbound", value_name = "NAME")]
    pub sidecar_listener_name: String,
    /// The generated RouteConfiguration's name; a route file may not use it.
    #[arg(long, default_value = "mesh", value_name = "NAME")]
    pub sidecar_route_name: String,
    /// What every generated route gets, in ringway's YAML (or JSON):
    /// `route: { timeout: 2s }` (`0s`: no timeout; left out: 15s). Read at
    /// start-up; an invalid file stops it, naming the field.
    #[arg(long, value_name = "FILE", requires = "sidecar_listener")]
    pub sidecar_template: Option<PathBuf>,
    /// How often the folders are looked at, like `200ms` or `2s`.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Write the xDS address actually bound (`ip:port` and a newline) here.
    #[arg(long)]
    pub xds_address_path: Option<PathBuf>,
    /// Write the admin address actually bound (`ip:port` and a newline) here.
    #[arg(long)]
    pub admin_address_path: Option<PathBuf>,
    /// Serve a Eureka-compatible registry here (port 0: any free port), so
    /// Eureka clients register with ringway-control directly; off when
    /// absent. Registrations are kept in memory only.
    #[arg(long)]
    pub eureka_registry_address: Option<SocketAddr>,
    /// Write the Eureka registry address actually bound (`ip:port` and a
    /// newline) here.
    #[arg(long)]
    pub eureka_registry_address_path: Option<PathBuf>,
    /// How often the registry evicts instances whose lease ran out.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub eureka_eviction_interval: Duration,
    /// How long a registry change stays in `/eureka/apps/delta`.
    #[arg(long, default_value = "180s", value_parser = humantime::parse_duration)]
    pub eureka_delta_retention: Duration,
    /// Read an external Eureka server at this base URL, like
    /// `http://10.0.0.5:8761/eureka/` (repeat for failover); its VIPs
    /// become clusters, and on-demand names are looked up in it.
    #[arg(long = "eureka-url", value_name = "URL", value_parser = parse_eureka_url)]
    pub eureka_urls: Vec<ringway_eureka::ServerUrl>,
    /// How often the external Eureka is fetched (a delta each time).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub eureka_fetch_interval: Duration,
}

fn parse_eureka_url(text: &str) -> Result<ringway_eureka::ServerUrl, String> {
    ringway_eureka::ServerUrl::parse(text).map_err(|e| e.to_string())
}
