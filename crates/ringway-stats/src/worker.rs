//! The per-worker registry of stats blocks.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::cluster::ClusterStats;
use crate::listener::ListenerStats;
use crate::snapshot::StatsSnapshot;

/// Every stats block of one worker, by name. Blocks are looked up when a
/// configuration is applied (not per request) and handed out as `Rc`s, so
/// the request path only touches its own block's cells.
#[derive(Debug, Default)]
pub struct WorkerStats {
    listeners: RefCell<BTreeMap<String, Rc<ListenerStats>>>,
    clusters: RefCell<BTreeMap<String, Rc<ClusterStats>>>,
}

impl WorkerStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// The block of listener `name`, created on first use. The same name
    /// always yields the same block, so counts survive reloads.
    pub fn listener(&self, name: &str) -> Rc<ListenerStats> {
        get_or_create(&self.listeners, name)
    }

    /// The block of cluster `name`, created on first use.
    pub fn cluster(&self, name: &str) -> Rc<ClusterStats> {
        get_or_create(&self.clusters, name)
    }

    /// Forgets blocks nothing else holds any more (listeners and clusters
    /// removed from the configuration). A name that comes back later starts
    /// from zero.
    pub fn prune_unused(&self) {
        self.listeners
            .borrow_mut()
            .retain(|_, s| Rc::strong_count(s) > 1);
        self.clusters
            .borrow_mut()
            .retain(|_, s| Rc::strong_count(s) > 1);
    }

    /// Zeroes every counter of every block (Envoy's `/reset_counters`).
    pub fn reset_counters(&self) {
        for s in self.listeners.borrow().values() {
            s.reset_counters();
        }
        for s in self.clusters.borrow().values() {
            s.reset_counters();
        }
    }

    /// A plain copy of every block, to send to the admin thread.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            listeners: self
                .listeners
                .borrow()
                .iter()
                .map(|(name, s)| (name.clone(), s.snapshot()))
                .collect(),
            clusters: self
                .clusters
                .borrow()
                .iter()
                .map(|(name, s)| (name.clone(), s.snapshot()))
                .collect(),
        }
    }
}

fn get_or_create<T: Default>(map: &RefCell<BTreeMap<String, Rc<T>>>, name: &str) -> Rc<T> {
    let mut map = map.borrow_mut();
    if let Some(existing) = map.get(name) {
        return Rc::clone(existing);
    }
    let created = Rc::new(T::default());
    map.insert(name.to_owned(), Rc::clone(&created));
    created
}
