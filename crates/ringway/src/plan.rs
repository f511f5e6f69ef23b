//! The worker plan: how many workers, pinned to which CPUs, with which I/O
//! driver, and where the admin API listens; from the command line over the
//! configuration file.

use std::net::SocketAddr;

use ringway_config::model::{IoDriver, Snapshot};
use ringway_worker::{affinity_cpus, parse_cpu_list};

use crate::cli::{Cli, DriverArg};

const DEFAULT_ADMIN: &str = "127.0.0.1:9901";

/// How many workers, on which CPUs, with which driver.
#[derive(Debug, Clone)]
pub struct Plan {
    pub count: usize,
    pub cpus: Vec<usize>,
    pub io_driver: IoDriver,
    pub admin: SocketAddr,
}

impl Plan {
    /// The plan for `snapshot`, with the command line's flags winning.
    pub fn new(cli: &Cli, snapshot: &Snapshot) -> Result<Self, String> {
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
        let count = match (cli.concurrency, cli.cpuset_threads) {
            (Some(n), cpuset) => {
                if cpuset {
                    tracing::warn!(
                        "both --concurrency and --cpuset-threads are set; not applying --cpuset-threads"
                    );
                }
                // As Envoy: 0 still runs one worker.
                n.max(1)
            }
            (None, true) => cpus.len(),
            (None, false) => snapshot.workers.count.unwrap_or(cpus.len()),
        };
        if count == 0 {
            return Err("workers.count must be at least 1".into());
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
        Ok(Self {
            count,
            cpus,
            io_driver,
            admin,
        })
    }
}
