//! The control thread: admin API, SIGHUP reloads and graceful shutdown;
//! the top of the control side, which builds the [`Publisher`] and starts
//! the sources of clusters (xDS, Eureka) that publish through it.
//!
//! A reload builds and validates a whole new snapshot off the workers,
//! binds any new listener sockets, then hands the snapshot to every worker;
//! an invalid file is rejected whole and the running snapshot stays.

use std::cell::Cell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ringway_admin::{Control, ControlStat, Readiness};
use ringway_config::model::Snapshot;
use ringway_worker::{Command, DiscoveryRequest, ListenerSockets, WorkerHandle, WorkerReport};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::cli::{Cli, LogFile};
use crate::eureka::EurekaState;
use crate::identity::NodeIdentity;
use crate::plan::Plan;
use crate::publish::{ClusterSource, Publisher};
use crate::xds::XdsState;

/// How often shutdown checks whether in-flight requests have finished.
const DRAIN_POLL: Duration = Duration::from_millis(50);

/// What start-up settled that the control thread keeps.
pub struct Boot {
    pub node: NodeIdentity,
    /// The file's `xds` block with the node identity applied.
    pub xds: Option<ringway_config::model::Xds>,
    /// `--log-path`, reopened on SIGUSR1.
    pub log_file: Option<Arc<LogFile>>,
}

pub(crate) struct ControlState {
    config_path: Option<PathBuf>,
    config_yaml: Option<String>,
    node: NodeIdentity,
    /// The Envoy options as given, for `/server_info`.
    envoy_options: serde_json::Value,
    log_file: Option<Arc<LogFile>>,
    plan: Plan,
    drain_time: Duration,
    /// The workers, and the snapshots they serve.
    publisher: Rc<Publisher>,
    xds: Option<Rc<XdsState>>,
    eureka: Option<Rc<EurekaState>>,
    healthcheck_failed: Cell<bool>,
    draining: Cell<bool>,
    quit: Notify,
    started: SystemTime,
    reloads_ok: Cell<u64>,
    reloads_failed: Cell<u64>,
}

pub fn run(
    cli: Cli,
    plan: Plan,
    snapshot: Arc<Snapshot>,
    sockets: ListenerSockets,
    workers: Vec<WorkerHandle>,
    discovery: async_channel::Receiver<DiscoveryRequest>,
    boot: Boot,
) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the control thread's runtime: {e}"))?;
    // The Eureka client's task starts with the state.
    let _runtime = runtime.enter();
    let xds = boot.xds.map(|c| Rc::new(XdsState::new(c)));
    // With a control plane, the names routes lack are the control plane's.
    let eureka = snapshot
        .eureka
        .clone()
        .map(|c| Rc::new(EurekaState::start(c, xds.is_none())));
    // xDS clusters are merged before Eureka's.
    let sources = xds
        .iter()
        .map(|x| x.clone() as Rc<dyn ClusterSource>)
        .chain(eureka.iter().map(|e| e.clone() as Rc<dyn ClusterSource>))
        .collect();
    let state = Rc::new(ControlState {
        config_path: cli.config_path.clone(),
        config_yaml: cli.config_yaml.clone(),
        node: boot.node,
        envoy_options: envoy_options(&cli),
        log_file: boot.log_file,
        drain_time: Duration::from_secs(cli.drain_time_s),
        plan,
        publisher: Rc::new(Publisher::new(workers, snapshot, sources, sockets)),
        xds,
        eureka,
        healthcheck_failed: Cell::new(false),
        draining: Cell::new(false),
        quit: Notify::new(),
        started: SystemTime::now(),
        reloads_ok: Cell::new(0),
        reloads_failed: Cell::new(0),
    });
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, control_loop(state, cli, discovery))
}

async fn control_loop(
    state: Rc<ControlState>,
    cli: Cli,
    discovery: async_channel::Receiver<DiscoveryRequest>,
) -> Result<ExitCode, String> {
    let admin = tokio::net::TcpListener::bind(state.plan.admin)
        .await
        .map_err(|e| format!("admin address {}: {e}", state.plan.admin))?;
    let admin_address = admin.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %admin_address, "admin listening");
    if let Some(path) = &cli.admin_address_path {
        std::fs::write(path, format!("{admin_address}\n"))
            .map_err(|e| format!("--admin-address-path {}: {e}", path.display()))?;
    }
    tokio::task::spawn_local(ringway_admin::serve(admin, state.clone()));
    if let Some(xds) = &state.xds {
        xds.follow_file(&state.publisher.file());
        tracing::info!(addresses = ?xds.config.addresses, node = %xds.config.node_id, "xds: following the control plane");
        tokio::task::spawn_local(crate::xds::run(
            state.publisher.clone(),
            xds.clone(),
            discovery.clone(),
        ));
    }
    if let Some(eureka) = &state.eureka {
        tracing::info!(urls = ?eureka.config.urls, interval = ?eureka.config.fetch_interval, "eureka: following the registry");
        // With a control plane, on-demand names are the control plane's.
        let on_demand = state.xds.is_none().then(|| discovery.clone());
        tokio::task::spawn_local(crate::eureka::run(
            state.publisher.clone(),
            eureka.clone(),
            on_demand,
        ));
    }

    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut usr1 = signal(SignalKind::user_defined1()).map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = usr1.recv() => {
                if let Some(file) = &state.log_file
                    && let Err(err) = file.reopen()
                {
                    tracing::error!(%err, "SIGUSR1: cannot reopen --log-path");
                }
            }
            _ = hup.recv() => {
                state.reload().await;
                if let Some(eureka) = &state.eureka {
                    crate::eureka::refresh(&state.publisher, eureka).await;
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = state.quit.notified() => break,
        }
    }
    state.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// The Envoy options as given (for `/server_info`).
fn envoy_options(cli: &Cli) -> serde_json::Value {
    json!({
        "service_node": cli.service_node.clone().unwrap_or_default(),
        "service_cluster": cli.service_cluster.clone().unwrap_or_default(),
        "service_zone": cli.service_zone.clone().unwrap_or_default(),
        "log_level": cli.log_level,
        "component_log_level": cli.component_log_level.clone().unwrap_or_default(),
        "log_path": cli.log_path,
        "drain_strategy": format!("{:?}", cli.drain_strategy),
        "parent_shutdown_time_s": cli.parent_shutdown_time_s,
        "base_id": cli.base_id,
        "use_dynamic_base_id": cli.use_dynamic_base_id,
        "restart_epoch": cli.restart_epoch,
        "disable_hot_restart": cli.disable_hot_restart,
        "cpuset_threads": cli.cpuset_threads,
        "local_address_ip_version": format!("{:?}", cli.local_address_ip_version).to_lowercase(),
        "file_flush_interval_msec": cli.file_flush_interval_msec,
    })
}

impl ControlState {
    async fn reload(&self) {
        if self.config_path.is_none() && self.config_yaml.is_none() {
            tracing::info!("SIGHUP: serving the embedded quickstart; nothing to reload");
            return;
        }
        let (path, yaml) = (self.config_path.clone(), self.config_yaml.clone());
        let loaded = tokio::task::spawn_blocking(move || {
            crate::config::load(path.as_deref(), yaml.as_deref())
        })
        .await;
        let snapshot = match loaded {
            Ok(Ok(s)) => Arc::new(s),
            Ok(Err(errors)) => {
                self.reloads_failed.set(self.reloads_failed.get() + 1);
                tracing::error!(
                    "reload rejected; still serving the previous configuration:\n{errors}"
                );
                return;
            }
            Err(err) => {
                self.reloads_failed.set(self.reloads_failed.get() + 1);
                tracing::error!(%err, "reload failed");
                return;
            }
        };
        let current = self.publisher.file();
        if snapshot.workers != current.workers || snapshot.admin != current.admin {
            tracing::warn!("changes to `workers` and `admin` take effect on restart only");
        }
        if snapshot.xds != current.xds {
            tracing::warn!("changes to `xds` take effect on restart only");
        }
        let started = Instant::now();
        if let Err(err) = self.publisher.publish_file(snapshot.clone()).await {
            self.reloads_failed.set(self.reloads_failed.get() + 1);
            tracing::error!(%err, "reload rejected; still serving the previous configuration");
            return;
        }
        if let Some(xds) = &self.xds {
            xds.follow_file(&snapshot);
        }
        self.reloads_ok.set(self.reloads_ok.get() + 1);
        tracing::info!(elapsed = ?started.elapsed(), "configuration reloaded on every worker");
    }

    /// Stops accepting, waits for in-flight requests (up to the drain
    /// time), then flushes access logs.
    async fn shutdown(&self) {
        tracing::info!(drain_time = ?self.drain_time, "shutting down: draining");
        self.draining.set(true);
        for w in self.publisher.workers() {
            w.send(Command::Drain);
        }
        let deadline = Instant::now() + self.drain_time;
        loop {
            let active: i64 = self.collect().await.iter().map(|r| r.requests_active).sum();
            if active <= 0 || Instant::now() >= deadline {
                if active > 0 {
                    tracing::warn!(active, "drain time over; exiting with requests in flight");
                }
                break;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
        // Drain again: the worker flushes its access logs when it handles it.
        for w in self.publisher.workers() {
            w.send(Command::Drain);
        }
        let _ = self.collect().await;
        tracing::info!("stopped");
    }

    async fn collect(&self) -> Vec<WorkerReport> {
        let mut reports = Vec::with_capacity(self.publisher.workers().len());
        for w in self.publisher.workers() {
            if let Some(r) = w.report().await {
                reports.push(r);
            }
        }
        reports
    }
}

impl Control for ControlState {
    async fn reports(&self) -> Vec<WorkerReport> {
        self.collect().await
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.publisher.serving()
    }

    fn listeners(&self) -> Vec<(String, std::net::SocketAddr)> {
        self.publisher.listeners()
    }

    fn readiness(&self) -> Readiness {
        if self.draining.get() {
            Readiness::Draining
        } else if self.healthcheck_failed.get() {
            Readiness::HealthcheckFailed
        } else if self.xds.as_ref().is_some_and(|x| !x.ready())
            || self.eureka.as_ref().is_some_and(|e| !e.ready())
        {
            Readiness::Initializing
        } else {
            Readiness::Live
        }
    }

    fn readiness_detail(&self) -> Vec<String> {
        let mut lines = self.xds.as_ref().map(|x| x.detail()).unwrap_or_default();
        lines.extend(self.eureka.iter().flat_map(|e| e.detail()));
        lines
    }

    fn control_stats(&self) -> Vec<ControlStat> {
        let mut stats = self.xds.as_ref().map(|x| x.stats()).unwrap_or_default();
        stats.extend(self.eureka.iter().flat_map(|e| e.stats()));
        stats
    }

    fn set_healthcheck_failed(&self, failed: bool) {
        self.healthcheck_failed.set(failed);
    }

    fn drain_listeners(&self) {
        self.draining.set(true);
        for w in self.publisher.workers() {
            w.send(Command::Drain);
        }
    }

    fn quit(&self) {
        self.quit.notify_one();
    }

    fn server_info(&self) -> serde_json::Value {
        let uptime = self.started.elapsed().map(|d| d.as_secs()).unwrap_or(0);
        let state = match self.readiness() {
            Readiness::Live => "LIVE",
            Readiness::Initializing => "INITIALIZING",
            Readiness::Draining => "DRAINING",
            Readiness::HealthcheckFailed => "HEALTHCHECK_FAILED",
        };
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "state": state,
            "uptime_current_epoch": uptime,
            "config_source": self.publisher.serving().source,
            "node": self.node.to_json(),
            "reloads": { "ok": self.reloads_ok.get(), "failed": self.reloads_failed.get() },
            "xds": self.xds.as_ref().map(|x| x.info()),
            "eureka": self.eureka.as_ref().map(|e| e.info()),
            "command_line_options": {
                "config_path": self.config_path,
                "mode": "Serve",
                "service_node": self.envoy_options["service_node"],
                "service_cluster": self.envoy_options["service_cluster"],
                "service_zone": self.envoy_options["service_zone"],
                "envoy": self.envoy_options,
                "concurrency": self.plan.count,
                "cpu_set": self.plan.cpus,
                "io_driver": self.plan.io_driver,
                "admin_address": self.plan.admin.to_string(),
                "drain_time_s": self.drain_time.as_secs(),
            },
            "workers": self.publisher.workers().iter().map(|w| json!({
                "id": w.id, "cpu": w.cpu, "io_driver": w.driver.to_string(),
            })).collect::<Vec<_>>(),
        })
    }
}
