//! The control thread: admin API, SIGHUP reloads and graceful shutdown;
//! the top of the control side, which builds the [`Publisher`] and starts
//! the sources of clusters (xDS, Eureka) that publish through it.
//!
//! A reload builds and validates a whole new snapshot off the workers,
//! binds any new listener sockets, then hands the snapshot to every worker;
//! an invalid file is rejected whole and the running snapshot stays.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use envoy_types::pb::envoy::admin::v3::CommandLineOptions;
use ringway_admin::{ConfigView, Control, ControlStat, LogChange, Readiness, Runtime};
use ringway_config::model::Snapshot;
use ringway_worker::{Command, DiscoveryRequest, ListenerSockets, WorkerHandle, WorkerReport};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::cli::Cli;
use crate::cli::log::Logging;
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
    /// `--log-path` (reopened on SIGUSR1) and the live log levels.
    pub logging: Logging,
    /// For an Envoy bootstrap, the bootstrap as loaded (Envoy's JSON).
    pub bootstrap: Option<serde_json::Value>,
}

pub(crate) struct ControlState {
    config_path: Option<PathBuf>,
    config_yaml: Option<String>,
    node: NodeIdentity,
    /// The command line as Envoy's options, for `/server_info`.
    options: CommandLineOptions,
    logging: Logging,
    /// For an Envoy bootstrap, the bootstrap as loaded (Envoy's JSON).
    bootstrap: RefCell<Option<Arc<serde_json::Value>>>,
    /// When the configuration file was last (re)loaded.
    file_loaded: Cell<SystemTime>,
    /// The runtime layers, from the bootstrap at start-up.
    runtime: RefCell<Runtime>,
    /// Where the admin API listens, once bound.
    admin_address: Cell<Option<SocketAddr>>,
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
        options: crate::server_info::command_line_options(&cli, &plan),
        logging: boot.logging,
        runtime: RefCell::new(Runtime::from_bootstrap(boot.bootstrap.as_ref())),
        bootstrap: RefCell::new(boot.bootstrap.map(Arc::new)),
        file_loaded: Cell::new(SystemTime::now()),
        admin_address: Cell::new(None),
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
    state.admin_address.set(Some(admin_address));
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
                if let Some(file) = &state.logging.file
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
        let (snapshot, bootstrap) = match loaded {
            Ok(Ok(l)) => (Arc::new(l.snapshot), l.bootstrap),
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
        *self.bootstrap.borrow_mut() = bootstrap.map(Arc::new);
        self.file_loaded.set(SystemTime::now());
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

    async fn reset_counters(&self) {
        for w in self.publisher.workers() {
            w.reset_counters().await;
        }
    }

    fn config(&self) -> ConfigView {
        ConfigView {
            file: self.publisher.file(),
            file_loaded: self.file_loaded.get(),
            serving: self.publisher.serving(),
            serving_since: self.publisher.serving_since(),
            bootstrap: self.bootstrap.borrow().clone(),
            node: (
                self.node.id.clone(),
                self.node.cluster.clone(),
                self.node.zone.clone(),
            ),
            admin: self.admin_address.get().unwrap_or(self.plan.admin),
        }
    }

    fn cluster_version(&self, name: &str) -> Option<String> {
        if self.publisher.file().clusters.contains_key(name) {
            return None;
        }
        self.xds
            .as_ref()
            .and_then(|x| x.cluster_version(name))
            .or_else(|| self.eureka.as_ref().and_then(|e| e.cluster_version(name)))
    }

    fn runtime(&self) -> &RefCell<Runtime> {
        &self.runtime
    }

    fn loggers(&self) -> BTreeMap<String, String> {
        self.logging.levels.loggers()
    }

    fn set_log_levels(&self, change: LogChange) -> Result<(), String> {
        let changed = match &change {
            LogChange::All(level) => self.logging.levels.set_all(level),
            LogChange::Loggers(list) => self.logging.levels.set(list),
        };
        if changed.is_ok() {
            tracing::info!(?change, "admin: log levels changed");
        }
        changed
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
        let mut info = crate::server_info::envoy_json(
            &self.options,
            &self.node,
            self.readiness(),
            self.started,
        );
        // What ringway adds to Envoy's fields.
        if let Some(map) = info.as_object_mut() {
            map.insert(
                "config_source".into(),
                json!(self.publisher.serving().source),
            );
            map.insert(
                "reloads".into(),
                json!({ "ok": self.reloads_ok.get(), "failed": self.reloads_failed.get() }),
            );
            map.insert("xds".into(), json!(self.xds.as_ref().map(|x| x.info())));
            map.insert(
                "eureka".into(),
                json!(self.eureka.as_ref().map(|e| e.info())),
            );
            map.insert(
                "workers".into(),
                self.publisher
                    .workers()
                    .iter()
                    .map(|w| json!({ "id": w.id, "cpu": w.cpu, "io_driver": w.driver.to_string() }))
                    .collect(),
            );
        }
        info
    }
}
