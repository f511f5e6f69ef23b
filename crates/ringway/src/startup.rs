//! Start-up: load the configuration, plan and spawn the workers, then hand
//! over to the control loop.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ringway_config::SystemResolver;
use ringway_config::model::{IoDriver, Snapshot};
use ringway_worker::{ListenerSockets, WorkerHandle, affinity_cpus, parse_cpu_list};

use crate::cli::{Cli, DriverArg, Mode};
use crate::control;

/// The quickstart configuration served when no file is given.
pub const QUICKSTART: &str = include_str!("../../../configs/quickstart.yaml");
const QUICKSTART_SOURCE: &str = "embedded:configs/quickstart.yaml";
const DEFAULT_ADMIN: &str = "127.0.0.1:9901";

/// How many workers, on which CPUs, with which driver.
#[derive(Debug, Clone)]
pub struct Plan {
    pub count: usize,
    pub cpus: Vec<usize>,
    pub io_driver: IoDriver,
    pub admin: SocketAddr,
}

pub fn load(cli: &Cli) -> Result<Snapshot, String> {
    match &cli.config_path {
        Some(path) => ringway_config::load_file(path, &SystemResolver).map_err(|e| e.to_string()),
        None => ringway_config::load_str(QUICKSTART_SOURCE, QUICKSTART, &SystemResolver)
            .map_err(|e| e.to_string()),
    }
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
    let plan = plan(&cli, &snapshot)?;
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

fn plan(cli: &Cli, snapshot: &Snapshot) -> Result<Plan, String> {
    let cpus = match (&cli.cpu_set, &snapshot.workers.cpu_set) {
        (Some(list), _) => parse_cpu_list(list).map_err(|e| format!("--cpu-set: {e}"))?,
        (None, Some(cpus)) => cpus.clone(),
        (None, None) => affinity_cpus().unwrap_or_else(|| vec![0]),
    };
    if let Some(allowed) = affinity_cpus()
        && let Some(cpu) = cpus.iter().find(|c| !allowed.contains(c))
    {
        return Err(format!(
            "CPU {cpu} is not in this process's affinity mask {allowed:?}"
        ));
    }
    let count = cli
        .concurrency
        .or(snapshot.workers.count)
        .unwrap_or(cpus.len());
    if count == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let io_driver = match cli.io_driver {
        Some(DriverArg::Auto) => IoDriver::Auto,
        Some(DriverArg::Uring) => IoDriver::Uring,
        Some(DriverArg::Epoll) => IoDriver::Epoll,
        None => snapshot.workers.io_driver.unwrap_or(IoDriver::Auto),
    };
    let admin = match (cli.admin_address, snapshot.admin.address) {
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => DEFAULT_ADMIN
            .parse()
            .map_err(|_| "bad default admin address".to_string())?,
    };
    Ok(Plan {
        count,
        cpus,
        io_driver,
        admin,
    })
}
