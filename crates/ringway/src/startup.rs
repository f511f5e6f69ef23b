//! Start-up: load the configuration, plan and spawn the workers, then hand
//! over to the control loop.

use std::process::ExitCode;
use std::sync::Arc;

use ringway_config::model::Snapshot;
use ringway_worker::{ListenerSockets, WorkerHandle};

use crate::cli::{Cli, Mode};
use crate::control;
use crate::plan::Plan;

pub fn load(cli: &Cli) -> Result<Snapshot, String> {
    crate::config::load(cli.config_path.as_deref(), cli.config_yaml.as_deref())
}

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    let snapshot = load(&cli)?;
    if cli.mode == Mode::Validate {
        // The one thing `--mode validate` prints on success.
        #[allow(clippy::print_stdout)]
        {
            println!("configuration '{}' OK", snapshot.source);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let plan = Plan::new(&cli, &snapshot)?;
    let snapshot = Arc::new(snapshot);

    let mut sockets = ListenerSockets::default();
    let (per_worker, bound) = sockets
        .bind(&snapshot, plan.count)
        .map_err(|e| e.to_string())?;
    sockets.commit(bound);
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
    control::run(cli, plan, snapshot, sockets, workers, discovery_rx)
}
