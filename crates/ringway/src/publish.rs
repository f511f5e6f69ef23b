//! Publishing to the workers: the one handle through which reloads and the
//! control thread's sources of clusters (xDS, Eureka) reach the workers.
//!
//! It holds the config file's snapshot and the one the workers serve (the
//! file's with the sources' clusters, listeners and routes merged in),
//! binds the sockets of listeners that are new (from the file or the
//! control plane), hands each new snapshot to every worker one publication
//! at a time, and tells workers waiting on on-demand discovery that a name
//! does not exist.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Debug;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ringway_config::model::Snapshot;
use ringway_worker::{BoundListener, Command, ListenerSockets, NewSockets, WorkerHandle};

/// Something that adds clusters (and listeners, and routes) to the config
/// file's snapshot.
pub(crate) trait ClusterSource: Debug {
    /// Whether [`ClusterSource::merge_into`] may add or change anything
    /// now; when no source does, the file's snapshot is served as it is.
    fn contributes(&self) -> bool;

    /// Adds this source's clusters to `snapshot` (which starts as the
    /// file's).
    fn merge_into(&self, snapshot: &mut Snapshot);
}

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
    /// The listener sockets bound, by listener name.
    sockets: RefCell<ListenerSockets>,
}

impl Publisher {
    /// `snapshot` is the file's, and what the workers serve already.
    /// `sockets` are those bound for `snapshot` at start-up.
    pub(crate) fn new(
        workers: Vec<WorkerHandle>,
        snapshot: Arc<Snapshot>,
        sources: Vec<Rc<dyn ClusterSource>>,
        sockets: ListenerSockets,
    ) -> Self {
        Self {
            workers,
            file: RefCell::new(snapshot.clone()),
            serving: RefCell::new(snapshot),
            serving_since: Cell::new(SystemTime::now()),
            publishing: tokio::sync::Mutex::new(()),
            sources,
            sockets: RefCell::new(sockets),
        }
    }

    /// Every listener bound, with the address it got.
    pub(crate) fn listeners(&self) -> Vec<(String, SocketAddr)> {
        let mut list: Vec<_> = self
            .sockets
            .borrow()
            .bound()
            .iter()
            .map(|(name, b)| (name.clone(), b.actual))
            .collect();
        list.sort();
        list
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
    /// once all serve it. If a new listener of the file cannot be bound,
    /// nothing changes and the error says which.
    pub(crate) async fn publish_file(&self, file: Arc<Snapshot>) -> io::Result<()> {
        let _publishing = self.publishing.lock().await;
        let previous = self.file.replace(file);
        let merged = self.merged();
        let bound = self.bind(&merged);
        let (sockets, bound) = match bound {
            Ok(b) => b,
            Err(err) => {
                *self.file.borrow_mut() = previous;
                return Err(err);
            }
        };
        self.apply_everywhere(merged, sockets).await;
        self.sockets.borrow_mut().commit(bound);
        Ok(())
    }

    /// Publishes the sources' current clusters, listeners and routes to
    /// every worker; returns once all serve them. A control plane's new
    /// listener that cannot be bound is left out (and logged), and is
    /// tried again at the next publication.
    pub(crate) async fn publish_dynamic(&self) {
        let _publishing = self.publishing.lock().await;
        let started = Instant::now();
        let mut merged = self.merged();
        let bound = match self.bind(&merged) {
            Ok(b) => b,
            Err(err) => {
                tracing::error!(%err, "a listener from the control plane cannot be bound; it is left out");
                let file = self.file.borrow().clone();
                let held = self.sockets.borrow();
                let mut without = (*merged).clone();
                without.listeners.retain(|l| {
                    file.listeners.iter().any(|f| f.name == l.name)
                        || held
                            .bound()
                            .get(&l.name)
                            .is_some_and(|b| b.configured == l.address)
                });
                drop(held);
                merged = Arc::new(without);
                match self.bind(&merged) {
                    Ok(b) => b,
                    Err(err) => {
                        tracing::error!(%err, "cannot publish the control plane's update");
                        return;
                    }
                }
            }
        };
        let (sockets, bound) = bound;
        self.apply_everywhere(merged, sockets).await;
        self.sockets.borrow_mut().commit(bound);
        tracing::debug!(elapsed = ?started.elapsed(), "xds: snapshot published to every worker");
    }

    /// Binds each worker's socket for every listener of `snapshot` that is
    /// new or moved; nothing is recorded until the caller commits.
    fn bind(
        &self,
        snapshot: &Snapshot,
    ) -> io::Result<(NewSockets, HashMap<String, BoundListener>)> {
        self.sockets.borrow_mut().bind(snapshot, self.workers.len())
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
    async fn apply_everywhere(&self, snapshot: Arc<Snapshot>, sockets: NewSockets) {
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
