//! Per-core proxy state: the worker's view of the current snapshot, its
//! clusters with their balancers and connection pools, and its stats.
//!
//! Everything here belongs to one worker thread (`Rc`, `Cell`, `RefCell`).
//! A new snapshot is applied between requests by building a new
//! [`ActiveConfig`]; clusters whose definition did not change keep their
//! state, and endpoints that survive a change keep their idle connections.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use ringway_balance::{Balancer, WeightedPicker};
use ringway_config::model::{Cluster, Listener, Route, Snapshot};
use ringway_stats::{ClusterStats, HostSnapshot, ListenerStats, WorkerStats};

use crate::access_log::AccessLoggers;
use crate::discovery::Discovery;
use crate::h2::ConnShared;
use crate::signal::Signal;
use crate::upstream::ClusterRef;
use crate::upstream::pool::EndpointPool;

/// State owned by one worker and shared by all its connections.
#[derive(Debug)]
pub struct ProxyState {
    pub worker_id: usize,
    config: RefCell<Rc<ActiveConfig>>,
    pub stats: WorkerStats,
    pub rng: RefCell<fastrand::Rng>,
    pub weighted: RefCell<WeightedPicker>,
    /// Set when the worker drains: connections finish their current
    /// request and close.
    pub draining: Cell<bool>,
    /// Requests served by this worker (for `/workers`).
    pub requests_total: Cell<u64>,
    pub connections_active: Cell<u64>,
    /// Connections accepted by this worker (their ids for access logs).
    pub connections_accepted: Cell<u64>,
    /// Open HTTP/2 connections and their listeners, told to send GOAWAY
    /// when the worker drains or their listener is removed.
    h2_connections: RefCell<Vec<(Rc<str>, Weak<ConnShared>)>>,
    /// Requests waiting for on-demand cluster discovery.
    pub discovery: Discovery,
}

/// The worker's view of one snapshot.
#[derive(Debug)]
pub struct ActiveConfig {
    pub snapshot: Arc<Snapshot>,
    pub listeners: HashMap<String, Rc<ListenerState>>,
    pub clusters: HashMap<String, Rc<ClusterState>>,
}

#[derive(Debug)]
pub struct ListenerState {
    pub config: Arc<Listener>,
    pub stats: Rc<ListenerStats>,
    pub access_log: Option<Rc<AccessLoggers>>,
    /// Fired when the listener leaves the configuration: its idle HTTP/1.1
    /// connections close, busy ones close after their current request, and
    /// HTTP/2 ones send GOAWAY. Shared by every generation of the listener.
    pub(crate) removed: Rc<Signal>,
}

/// One cluster on one core. A change to its endpoints alone (an EDS
/// update) swaps its [`Members`] in place; the cluster, its stats and the
/// pools of surviving endpoints stay.
#[derive(Debug)]
pub struct ClusterState {
    /// The cluster's settings. Its `endpoints` are those it was first built
    /// with; the current ones are in [`Self::members`].
    pub config: Arc<Cluster>,
    members: RefCell<Members>,
    pub stats: Rc<ClusterStats>,
    /// Retries in progress on this worker (back-off included), for the
    /// retry budget; carried across reloads.
    pub retries_active: Rc<Cell<u64>>,
}

/// A cluster's current endpoints and the balancer over them.
#[derive(Debug)]
pub struct Members {
    /// The snapshot's cluster these were built from.
    source: Arc<Cluster>,
    pub endpoints: Vec<Rc<EndpointPool>>,
    pub balancer: Balancer,
}

// === impl ListenerState ===

impl ListenerState {
    /// The request body limit for `route`: its own, else the listener's.
    pub fn body_limit(&self, route: &Route) -> Option<u64> {
        route
            .max_request_body_bytes
            .or(self.config.limits.max_request_body_bytes)
    }
}

// === impl ClusterState ===

impl ClusterState {
    /// The current endpoints and balancer. Do not hold across an await.
    pub fn members(&self) -> std::cell::RefMut<'_, Members> {
        self.members.borrow_mut()
    }

    /// What the upstream pools need of this cluster.
    pub(crate) fn upstream(&self) -> ClusterRef<'_> {
        ClusterRef {
            config: &self.config,
            stats: &self.stats,
        }
    }

    fn built_from(&self, cluster: &Arc<Cluster>) -> bool {
        let members = self.members.borrow();
        Arc::ptr_eq(&members.source, cluster) || *members.source == **cluster
    }
}

// === impl ProxyState ===

impl ProxyState {
    /// Every endpoint's stats, by cluster (for `/clusters`).
    pub fn host_stats(&self) -> BTreeMap<String, Vec<(SocketAddr, HostSnapshot)>> {
        let config = self.config.borrow().clone();
        config
            .clusters
            .iter()
            .map(|(name, cluster)| {
                let members = cluster.members.borrow();
                let hosts = members
                    .endpoints
                    .iter()
                    .map(|e| {
                        let active = i64::from(e.active_requests.get());
                        (e.address, e.stats.snapshot(active))
                    })
                    .collect();
                (name.clone(), hosts)
            })
            .collect()
    }

    /// Zeroes every counter: the listeners', clusters' and endpoints'
    /// (Envoy's `/reset_counters`).
    pub fn reset_counters(&self) {
        self.stats.reset_counters();
        let config = self.config.borrow().clone();
        for cluster in config.clusters.values() {
            for e in &cluster.members.borrow().endpoints {
                e.stats.reset_counters();
            }
        }
    }

    pub fn new(worker_id: usize, snapshot: Arc<Snapshot>, discovery: Discovery) -> Self {
        let stats = WorkerStats::new();
        let seed = seed_for(worker_id);
        let empty = ActiveConfig {
            snapshot: snapshot.clone(),
            listeners: HashMap::new(),
            clusters: HashMap::new(),
        };
        let state = Self {
            worker_id,
            config: RefCell::new(Rc::new(empty)),
            stats,
            rng: RefCell::new(fastrand::Rng::with_seed(seed)),
            weighted: RefCell::new(WeightedPicker::new(seed ^ 0x5bd1_e995)),
            draining: Cell::new(false),
            requests_total: Cell::new(0),
            connections_active: Cell::new(0),
            connections_accepted: Cell::new(0),
            h2_connections: RefCell::new(Vec::new()),
            discovery,
        };
        state.apply(snapshot);
        state
    }

    /// Stops taking new requests: HTTP/1.1 connections close after their
    /// current request, HTTP/2 connections send GOAWAY and finish their
    /// streams.
    pub fn start_draining(&self) {
        self.draining.set(true);
        for (_, conn) in self.h2_connections.take() {
            if let Some(conn) = conn.upgrade() {
                conn.shutdown.fire();
            }
        }
    }

    /// Tracks an HTTP/2 connection for [`Self::start_draining`].
    pub(crate) fn register_h2_connection(&self, listener: &Rc<str>, conn: &Rc<ConnShared>) {
        let mut conns = self.h2_connections.borrow_mut();
        // Forget closed connections once the list has doubled since the last
        // clean-up, so the list stays proportional to open connections.
        if conns.len() >= 64 && conns.len().is_power_of_two() {
            conns.retain(|(_, c)| c.strong_count() > 0);
        }
        conns.push((listener.clone(), Rc::downgrade(conn)));
    }

    /// Drains the connections of listeners `old` has and `snapshot` lacks.
    fn drain_removed(&self, old: &ActiveConfig, snapshot: &Snapshot) {
        let kept = |name: &str| snapshot.listeners.iter().any(|l| l.name == name);
        let mut removed = false;
        for (name, listener) in &old.listeners {
            if !kept(name) {
                tracing::info!(worker = self.worker_id, listener = %name, "listener removed: draining its connections");
                listener.removed.fire();
                removed = true;
            }
        }
        if removed {
            self.h2_connections.borrow_mut().retain(|(name, conn)| {
                if kept(name) {
                    return conn.strong_count() > 0;
                }
                if let Some(conn) = conn.upgrade() {
                    conn.shutdown.fire();
                }
                false
            });
        }
    }

    /// The configuration a new request should use.
    pub fn current(&self) -> Rc<ActiveConfig> {
        self.config.borrow().clone()
    }

    /// Builds the per-core view of `snapshot`, carrying over unchanged
    /// clusters, surviving endpoint pools and access log files, and makes it
    /// current. In-flight requests keep the view they started with.
    pub fn apply(&self, snapshot: Arc<Snapshot>) {
        let old = self.current();
        let mut clusters = HashMap::with_capacity(snapshot.clusters.len());
        for (name, cluster) in &snapshot.clusters {
            let state = match old.clusters.get(name) {
                Some(prev) if prev.built_from(cluster) => prev.clone(),
                Some(prev) if prev.config.same_settings(cluster) => {
                    let members = self.members(cluster, Some(prev));
                    *prev.members.borrow_mut() = members;
                    prev.clone()
                }
                prev => Rc::new(self.build_cluster(cluster, prev.map(|p| &**p))),
            };
            clusters.insert(name.clone(), state);
        }
        self.drain_removed(&old, &snapshot);
        let mut listeners = HashMap::with_capacity(snapshot.listeners.len());
        for listener in &snapshot.listeners {
            let removed = match old.listeners.get(&listener.name) {
                Some(prev) if !prev.removed.is_fired() => prev.removed.clone(),
                _ => Rc::default(),
            };
            let logs = &listener.access_logs;
            let access_log = match old.listeners.get(&listener.name) {
                _ if logs.is_empty() => None,
                Some(prev) if prev.config.access_logs == *logs => prev.access_log.clone(),
                _ => match AccessLoggers::open(logs) {
                    Ok(loggers) => Some(Rc::new(loggers)),
                    Err(err) => {
                        tracing::error!(listener = %listener.name, %err, "cannot open access log");
                        None
                    }
                },
            };
            let state = ListenerState {
                config: listener.clone(),
                stats: self.stats.listener(&listener.stat_prefix),
                access_log,
                removed,
            };
            listeners.insert(listener.name.clone(), Rc::new(state));
        }
        self.discovery.found_in(|name| clusters.contains_key(name));
        *self.config.borrow_mut() = Rc::new(ActiveConfig {
            snapshot,
            listeners,
            clusters,
        });
    }

    fn build_cluster(&self, config: &Arc<Cluster>, prev: Option<&ClusterState>) -> ClusterState {
        let stats = self.stats.cluster(&config.name);
        let members = self.members(config, prev);
        ClusterState {
            config: config.clone(),
            members: RefCell::new(members),
            stats,
            retries_active: prev.map(|p| p.retries_active.clone()).unwrap_or_default(),
        }
    }

    /// Members for `config`'s endpoints, reusing the pools `prev` has for
    /// the same addresses.
    fn members(&self, config: &Arc<Cluster>, prev: Option<&ClusterState>) -> Members {
        let prev = prev.map(|p| p.members.borrow());
        let previous: HashMap<SocketAddr, &Rc<EndpointPool>> = prev
            .as_ref()
            .map(|p| p.endpoints.iter().map(|e| (e.address, e)).collect())
            .unwrap_or_default();
        let endpoints: Vec<Rc<EndpointPool>> = config
            .endpoints
            .iter()
            .map(|e| match previous.get(&e.address) {
                Some(pool) if pool.hostname.as_deref() == e.hostname.as_deref() => {
                    pool.reconfigure(config.max_idle_per_endpoint, config.idle_timeout);
                    Rc::clone(pool)
                }
                _ => Rc::new(EndpointPool::new(
                    e.address,
                    e.hostname.as_deref(),
                    config.max_idle_per_endpoint,
                    config.idle_timeout,
                )),
            })
            .collect();
        let weights: Vec<u32> = config.endpoints.iter().map(|e| e.weight).collect();
        let seed = self.rng.borrow_mut().u64(..);
        self.stats
            .cluster(&config.name)
            .membership_total
            .set(endpoints.len() as i64);
        Members {
            source: config.clone(),
            balancer: Balancer::new(config.lb_policy, &weights, seed),
            endpoints,
        }
    }

    /// Closes idle upstream connections that outlived their idle timeout.
    pub fn sweep_idle(&self) {
        let now = std::time::Instant::now();
        for cluster in self.current().clusters.values() {
            for endpoint in &cluster.members().endpoints {
                let closed = endpoint.sweep(now, &cluster.stats);
                if closed > 0 {
                    cluster.stats.upstream_cx_idle_timeout.add(closed as u64);
                    cluster.stats.upstream_cx_destroy.add(closed as u64);
                    cluster.stats.upstream_cx_active.sub(closed as i64);
                }
            }
        }
    }

    /// Flushes buffered access log lines.
    pub fn flush_access_logs(&self) {
        for listener in self.current().listeners.values() {
            if let Some(log) = &listener.access_log {
                log.flush();
            }
        }
    }
}

fn seed_for(worker_id: usize) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ ((worker_id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}
