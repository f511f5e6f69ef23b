//! Publishing to the workers: the one handle through which reloads and the
//! control thread's sources of clusters (xDS, Eureka) reach the workers.
//!
//! It holds the config file's snapshot and the one the workers serve (the
//! file's with the sources' clusters merged in), hands each new snapshot to
//! every worker one publication at a time, and tells workers waiting on
//! on-demand discovery that a name does not exist.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::net::TcpListener;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ringway_config::model::Snapshot;
use ringway_worker::{Command, WorkerHandle};

/// Something that adds clusters to the config file's snapshot.
pub(crate) trait ClusterSource: Debug {
    /// Whether [`ClusterSource::merge_into`] may add or change anything
    /// now; when no source does, the file's snapshot is served as it is.
    fn contributes(&self) -> bool;

    /// Adds this source's clusters to `snapshot` (which starts as the
    /// file's).
    fn merge_into(&self, snapshot: &mut Snapshot);
}

/// Listener sockets for each worker, in worker order.
pub(crate) type WorkerSockets = Vec<Vec<(String, TcpListener)>>;

/// The workers and the snapshots they are given.
#[derive(Debug)]
pub(crate) struct Publisher {
    workers: Vec<WorkerHandle>,
    /// The config file's own snapshot.
    file: RefCell<Arc<Snapshot>>,
    /// What the workers serve: the file's snapshot with the sources'
    /// clusters merged in.
    serving: RefCell<Arc<Snapshot>>,
    /// When the workers took `serving`.
    serving_since: Cell<SystemTime>,
    /// Serialises publishing (reloads and the sources' updates).
    publishing: tokio::sync::Mutex<()>,
    /// Merged in this order.
    sources: Vec<Rc<dyn ClusterSource>>,
}

impl Publisher {
    /// `snapshot` is the file's, and what the workers serve already.
    pub(crate) fn new(
        workers: Vec<WorkerHandle>,
        snapshot: Arc<Snapshot>,
        sources: Vec<Rc<dyn ClusterSource>>,
    ) -> Self {
        Self {
            workers,
            file: RefCell::new(snapshot.clone()),
            serving: RefCell::new(snapshot),
            serving_since: Cell::new(SystemTime::now()),
            publishing: tokio::sync::Mutex::new(()),
            sources,
        }
    }

    pub(crate) fn workers(&self) -> &[WorkerHandle] {
        &self.workers
    }

    /// The config file's own snapshot.
    pub(crate) fn file(&self) -> Arc<Snapshot> {
        self.file.borrow().clone()
    }

    /// The snapshot every worker serves.
    pub(crate) fn serving(&self) -> Arc<Snapshot> {
        self.serving.borrow().clone()
    }

    /// When the workers took the snapshot they serve.
    pub(crate) fn serving_since(&self) -> SystemTime {
        self.serving_since.get()
    }

    /// Makes `file` the config file's snapshot and publishes it (merged)
    /// to every worker with each worker's new listener sockets; returns
    /// once all serve it.
    pub(crate) async fn publish_file(&self, file: Arc<Snapshot>, sockets: WorkerSockets) {
        let _publishing = self.publishing.lock().await;
        *self.file.borrow_mut() = file;
        self.apply_everywhere(self.merged(), sockets).await;
    }

    /// Publishes the sources' current clusters to every worker; returns
    /// once all serve them.
    pub(crate) async fn publish_dynamic(&self) {
        let _publishing = self.publishing.lock().await;
        let started = Instant::now();
        self.apply_everywhere(self.merged(), Vec::new()).await;
        tracing::debug!(elapsed = ?started.elapsed(), "xds: snapshot published to every worker");
    }

    /// Tells every worker that no cluster `name` exists.
    pub(crate) fn missing_everywhere(&self, name: &str) {
        for w in &self.workers {
            w.send(Command::ClusterMissing(name.to_owned()));
        }
    }

    /// Tells `worker` that no cluster `name` exists.
    pub(crate) fn missing_for(&self, worker: usize, name: String) {
        if let Some(w) = self.workers.iter().find(|w| w.id == worker) {
            w.send(Command::ClusterMissing(name));
        }
    }

    /// The file's snapshot with the sources' clusters added, in order (the
    /// file's own win on a name clash; the xDS side refuses those anyway).
    fn merged(&self) -> Arc<Snapshot> {
        let file = self.file.borrow().clone();
        if !self.sources.iter().any(|s| s.contributes()) {
            return file;
        }
        let mut merged = (*file).clone();
        for source in &self.sources {
            source.merge_into(&mut merged);
        }
        Arc::new(merged)
    }

    /// Hands `snapshot` (and each worker's new listener sockets, if any) to
    /// every worker, waits until all serve it, and makes it current.
    async fn apply_everywhere(&self, snapshot: Arc<Snapshot>, sockets: WorkerSockets) {
        let mut sockets = sockets.into_iter();
        for worker in &self.workers {
            let mine = sockets.next().unwrap_or_default();
            if !worker.apply(snapshot.clone(), mine).await {
                tracing::error!(
                    worker = worker.id,
                    "worker did not take the new configuration"
                );
            }
        }
        *self.serving.borrow_mut() = snapshot;
        self.serving_since.set(SystemTime::now());
    }
}
