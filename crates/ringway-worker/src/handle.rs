//! The control thread's side of a worker: spawning it and talking to it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use ringway_config::model::{IoDriver, Snapshot};
use ringway_proxy::DiscoveryRequest;
use ringway_stats::{HostSnapshot, StatsSnapshot};
use tokio::sync::oneshot;

use crate::worker;

/// The I/O driver a worker's runtime got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    IoUring,
    Epoll,
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IoUring => "io_uring",
            Self::Epoll => "epoll",
        })
    }
}

/// Messages from the control thread to a worker.
#[derive(Debug)]
pub enum Command {
    /// Serve this snapshot from now on; start accepting on `sockets`
    /// (listeners that are new or moved) and stop accepting for listeners
    /// the snapshot no longer has. `done` fires once it is in service.
    Apply {
        snapshot: Arc<Snapshot>,
        sockets: Vec<(String, TcpListener)>,
        done: oneshot::Sender<()>,
    },
    /// Report stats and activity.
    Report(oneshot::Sender<WorkerReport>),
    /// Zero every counter (Envoy's `/reset_counters`); `done` fires once
    /// they are.
    ResetCounters(oneshot::Sender<()>),
    /// Stop accepting; connections close after their current request.
    Drain,
    /// The control plane has no cluster of this name: requests waiting
    /// for its discovery get 503 `NC`.
    ClusterMissing(String),
}

/// What a worker reports about itself.
#[derive(Debug, Clone)]
pub struct WorkerReport {
    pub id: usize,
    pub cpu: Option<usize>,
    pub driver: Driver,
    pub connections_active: u64,
    pub requests_total: u64,
    pub requests_active: i64,
    pub stats: StatsSnapshot,
    /// Each endpoint's stats, by cluster.
    pub hosts: BTreeMap<String, Vec<(SocketAddr, HostSnapshot)>>,
}

/// A running worker.
#[derive(Debug)]
pub struct WorkerHandle {
    pub id: usize,
    pub cpu: Option<usize>,
    pub driver: Driver,
    commands: async_channel::Sender<Command>,
    _thread: JoinHandle<()>,
}

/// Starts worker `id` pinned to `cpu`, serving `snapshot` on `sockets`.
/// Returns once its runtime is up (so its driver is known), or the reason it
/// could not start (e.g. `uring` was demanded and the kernel refused it).
pub fn spawn(
    id: usize,
    cpu: Option<usize>,
    io_driver: IoDriver,
    snapshot: Arc<Snapshot>,
    sockets: Vec<(String, TcpListener)>,
    discovery: Option<async_channel::Sender<DiscoveryRequest>>,
) -> std::io::Result<WorkerHandle> {
    let (commands, inbox) = async_channel::unbounded();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("ringway-worker-{id}"))
        .spawn(move || {
            worker::run(
                id,
                cpu,
                io_driver,
                snapshot,
                sockets,
                worker::Links { inbox, discovery },
                started_tx,
            )
        })?;
    let driver = match started_rx.recv() {
        Ok(Ok(driver)) => driver,
        Ok(Err(err)) => return Err(err),
        Err(_) => {
            return Err(std::io::Error::other(format!(
                "worker {id} exited during start-up"
            )));
        }
    };
    Ok(WorkerHandle {
        id,
        cpu,
        driver,
        commands,
        _thread: thread,
    })
}

impl WorkerHandle {
    /// Sends a command; false when the worker is gone.
    pub fn send(&self, command: Command) -> bool {
        self.commands.try_send(command).is_ok()
    }

    /// Asks for a report; `None` when the worker is gone.
    pub async fn report(&self) -> Option<WorkerReport> {
        let (tx, rx) = oneshot::channel();
        if !self.send(Command::Report(tx)) {
            return None;
        }
        rx.await.ok()
    }

    /// Zeroes the worker's counters; false when the worker is gone.
    pub async fn reset_counters(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if !self.send(Command::ResetCounters(tx)) {
            return false;
        }
        rx.await.is_ok()
    }

    /// Hands the worker a new snapshot and waits until it serves it.
    pub async fn apply(
        &self,
        snapshot: Arc<Snapshot>,
        sockets: Vec<(String, TcpListener)>,
    ) -> bool {
        let (done, rx) = oneshot::channel();
        if !self.send(Command::Apply {
            snapshot,
            sockets,
            done,
        }) {
            return false;
        }
        rx.await.is_ok()
    }
}
