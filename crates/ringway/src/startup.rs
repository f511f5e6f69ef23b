//! Start-up: load the configuration, plan and spawn the workers, then hand
//! over to the control loop.

use std::process::ExitCode;
use std::sync::Arc;

use ringway_worker::{ListenerSockets, WorkerHandle};

use crate::cli::log::Logging;
use crate::cli::{BaseId, Cli, Mode};
use crate::config::Loaded;
use crate::control::{self, Boot};
use crate::identity::NodeIdentity;
use crate::plan::Plan;

pub fn load(cli: &Cli) -> Result<Loaded, String> {
    crate::config::load(cli.config_path.as_deref(), cli.config_yaml.as_deref())
}

pub fn run(cli: Cli, logging: Logging) -> Result<ExitCode, String> {
    let Loaded {
        snapshot,
        bootstrap,
    } = load(&cli)?;
    let node = NodeIdentity::new(&cli, &snapshot);
    let xds = snapshot.xds.as_ref().map(|x| node.apply(x)).transpose()?;
    if cli.mode == Mode::Validate {
        // The one thing `--mode validate` prints on success.
        #[allow(clippy::print_stdout)]
        {
            println!("configuration '{}' OK", snapshot.source);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // As Envoy: written at start whether picked or given, unless hot
    // restart is disabled (and never by `--mode validate`).
    if let Some(path) = cli
        .base_id_path
        .as_deref()
        .filter(|_| !cli.disable_hot_restart)
    {
        BaseId::pick(&cli).write(path)?;
    }
    let plan = Plan::new(&cli, &snapshot)?;
    let snapshot = Arc::new(snapshot);

    let mut sockets = ListenerSockets::default();
    let (per_worker, bound) = sockets
        .bind(&snapshot, plan.count)
        .map_err(|e| e.to_string())?;
    sockets.commit(bound);
    if cli.mode == Mode::InitOnly {
        return init_only(&cli, &plan, &sockets);
    }
    // Workers ask the control thread for clusters they lack (on-demand
    // discovery); without a control plane nobody listens.
    let (discovery_tx, discovery_rx) = async_channel::unbounded();
    let discovery = (snapshot.xds.is_some() || snapshot.eureka.is_some()).then_some(discovery_tx);
    let mut workers: Vec<WorkerHandle> = Vec::with_capacity(plan.count);
    for (id, worker_sockets) in per_worker.into_iter().enumerate() {
        let cpu = plan.cpus.get(id % plan.cpus.len().max(1)).copied();
        let worker = ringway_worker::spawn(
            id,
            cpu,
            plan.io_driver,
            snapshot.clone(),
            worker_sockets,
            discovery.clone(),
        )
        .map_err(|e| e.to_string())?;
        workers.push(worker);
    }
    for (name, b) in sockets.bound() {
        tracing::info!(listener = %name, address = %b.actual, "listening");
    }
    let boot = Boot {
        node,
        xds,
        logging,
        bootstrap,
    };
    control::run(cli, plan, snapshot, sockets, workers, discovery_rx, boot)
}

/// `--mode init_only`: everything is set up (configuration, plan,
/// listener sockets, the admin address), then the process exits 0
/// without serving.
fn init_only(cli: &Cli, plan: &Plan, sockets: &ListenerSockets) -> Result<ExitCode, String> {
    for (name, b) in sockets.bound() {
        tracing::info!(listener = %name, address = %b.actual, "bound");
    }
    let admin = std::net::TcpListener::bind(plan.admin)
        .map_err(|e| format!("admin address {}: {e}", plan.admin))?;
    let admin_address = admin.local_addr().map_err(|e| e.to_string())?;
    if let Some(path) = &cli.admin_address_path {
        std::fs::write(path, format!("{admin_address}\n"))
            .map_err(|e| format!("--admin-address-path {}: {e}", path.display()))?;
    }
    tracing::info!(admin = %admin_address, workers = plan.count, "--mode init_only: initialised; exiting");
    Ok(ExitCode::SUCCESS)
}
