//! What the admin API needs from the process: the [`Control`] trait the
//! binary implements, and the plain types it answers with.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use ringway_config::model::Snapshot;
use ringway_worker::WorkerReport;

use crate::runtime::Runtime;

/// Server state as `/ready` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Live,
    /// Waiting for the control plane's first answers (503), up to the
    /// `xds.initial_fetch_timeout`.
    Initializing,
    Draining,
    HealthcheckFailed,
}

impl Readiness {
    /// The state's name in Envoy's `ServerInfo.State` (what `/ready` and
    /// `/server_info` print): a failed health check is `DRAINING`, as in
    /// Envoy.
    pub fn envoy_state(self) -> &'static str {
        match self {
            Readiness::Live => "LIVE",
            Readiness::Initializing => "INITIALIZING",
            Readiness::Draining | Readiness::HealthcheckFailed => "DRAINING",
        }
    }
}

/// A process-wide stat kept by the control thread (not by the workers),
/// such as the control plane connection's: Envoy-style dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlStat {
    pub name: &'static str,
    pub value: i64,
    pub gauge: bool,
    pub help: &'static str,
}

/// The configuration as `/config_dump` shows it.
#[derive(Debug, Clone)]
pub struct ConfigView {
    /// The configuration file's snapshot: its listeners and clusters are
    /// the static ones.
    pub file: Arc<Snapshot>,
    /// When the file was (re)loaded.
    pub file_loaded: SystemTime,
    /// What the workers serve: the file's clusters and those of the
    /// control plane or registry.
    pub serving: Arc<Snapshot>,
    /// When the workers took `serving`.
    pub serving_since: SystemTime,
    /// For an Envoy bootstrap, the bootstrap as loaded (Envoy's JSON);
    /// `None` for ringway's own format.
    pub bootstrap: Option<Arc<serde_json::Value>>,
    /// The node identity: id, cluster, zone.
    pub node: (String, String, String),
    /// Where the admin API listens.
    pub admin: SocketAddr,
}

/// A change of log levels asked for by `POST /logging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogChange {
    /// `?level=`: every logger.
    All(String),
    /// `?paths=a:debug,b:info` or `?a=debug`: these loggers.
    Loggers(Vec<(String, String)>),
}

/// What the admin API needs from the process. Implemented by the binary;
/// every method runs on the control thread.
pub trait Control {
    /// Reports from every worker.
    fn reports(&self) -> impl std::future::Future<Output = Vec<WorkerReport>>;
    /// Zeroes every worker's counters; returns once all have.
    fn reset_counters(&self) -> impl std::future::Future<Output = ()>;
    fn snapshot(&self) -> Arc<Snapshot>;
    /// The configuration for `/config_dump`.
    fn config(&self) -> ConfigView;
    /// The `version_info` of a cluster the control plane or registry
    /// sent; `None` for the file's own.
    fn cluster_version(&self, name: &str) -> Option<String>;
    /// (listener name, address it accepts on)
    fn listeners(&self) -> Vec<(String, SocketAddr)>;
    fn readiness(&self) -> Readiness;
    fn set_healthcheck_failed(&self, failed: bool);
    fn drain_listeners(&self);
    fn quit(&self);
    /// `/server_info`: Envoy's `ServerInfo` and what ringway adds.
    fn server_info(&self) -> serde_json::Value;
    /// The runtime layers (`/runtime`, `/runtime_modify`).
    fn runtime(&self) -> &RefCell<Runtime>;
    /// Loggers (Envoy's names) and their levels, for `/logging`.
    fn loggers(&self) -> BTreeMap<String, String>;
    /// Applies a change of log levels; an error names what is wrong.
    fn set_log_levels(&self, change: LogChange) -> Result<(), String>;
    /// Lines added under `LIVE` in `/ready` (e.g. that the control plane is
    /// unreachable and the config is stale).
    fn readiness_detail(&self) -> Vec<String> {
        Vec::new()
    }
    /// Stats the control thread keeps, added to `/stats`.
    fn control_stats(&self) -> Vec<ControlStat> {
        Vec::new()
    }
}
