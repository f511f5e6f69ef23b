//! What the control thread knows of its xDS stream: subscriptions and
//! held versions, the control plane's clusters, whether the stream is up,
//! what `/ready`, `/stats` and `/server_info` say about it, and how its
//! clusters join the file's.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use envoy_types::pb::envoy::service::discovery::v3::DeltaDiscoveryRequest;
use ringway_admin::ControlStat;
use ringway_config::model::{Snapshot, Xds};
use ringway_envoy::ROUTE_TYPE;
use ringway_xds::{CLUSTER_TYPE, DeltaClient, LISTENER_TYPE};
use tokio::sync::mpsc;

use super::{DynamicClusters, DynamicListeners};
use crate::publish::ClusterSource;

/// The stream's state, shared with the admin API.
#[derive(Debug)]
pub struct XdsState {
    pub config: Xds,
    pub(super) client: RefCell<DeltaClient>,
    pub clusters: RefCell<DynamicClusters>,
    pub listeners: RefCell<DynamicListeners>,
    /// Where to send requests while a stream is up.
    pub(super) outbound: RefCell<Option<mpsc::UnboundedSender<DeltaDiscoveryRequest>>>,
    pub(super) started: Instant,
    pub(super) connected: Cell<bool>,
    /// When the last stream ended (for "stale since").
    pub(super) lost_at: Cell<Option<Instant>>,
    /// The initial names have all been answered once.
    pub(super) initialized: Cell<bool>,
    pub(super) initial_names: RefCell<Vec<String>>,
    /// A Cluster response has been applied (what `all_clusters` waits for).
    pub(super) clusters_answered: Cell<bool>,
    /// A Listener response has been applied (what `all_listeners` waits for).
    pub(super) listeners_answered: Cell<bool>,
    pub(super) updates_ok: Cell<u64>,
    pub(super) updates_rejected: Cell<u64>,
    pub(super) streams: Cell<u64>,
    pub(super) last_nack: RefCell<Option<String>>,
    /// The control plane address the stream uses (or last tried).
    pub(super) current: RefCell<String>,
}

impl XdsState {
    pub fn new(config: Xds) -> Self {
        let client =
            DeltaClient::new(&config.node_id, &config.node_cluster).with_zone(&config.node_zone);
        Self {
            config,
            client: RefCell::new(client),
            clusters: RefCell::new(DynamicClusters::default()),
            listeners: RefCell::new(DynamicListeners::default()),
            outbound: RefCell::new(None),
            started: Instant::now(),
            connected: Cell::new(false),
            lost_at: Cell::new(None),
            initialized: Cell::new(false),
            initial_names: RefCell::new(Vec::new()),
            clusters_answered: Cell::new(false),
            listeners_answered: Cell::new(false),
            updates_ok: Cell::new(0),
            updates_rejected: Cell::new(0),
            streams: Cell::new(0),
            last_nack: RefCell::new(None),
            current: RefCell::new(String::new()),
        }
    }

    /// Subscribes to the clusters the file's routes name but do not
    /// define; called at start and after each reload.
    pub fn follow_file(&self, file: &Snapshot) {
        self.clusters
            .borrow_mut()
            .set_file_names(file.clusters.keys().cloned());
        let routes = self.listeners.borrow_mut().set_file(file);
        self.client
            .borrow_mut()
            .subscribe(ROUTE_TYPE, routes.iter().map(String::as_str));
        if self.config.all_listeners {
            self.client
                .borrow_mut()
                .subscribe(LISTENER_TYPE, [ringway_xds::WILDCARD]);
        }
        let wanted = file.undefined_route_clusters();
        if self.config.all_clusters {
            self.client
                .borrow_mut()
                .subscribe(CLUSTER_TYPE, [ringway_xds::WILDCARD]);
        }
        self.client
            .borrow_mut()
            .subscribe(CLUSTER_TYPE, wanted.iter().map(String::as_str));
        if self.initial_names.borrow().is_empty() {
            *self.initial_names.borrow_mut() = wanted;
        }
        self.flush();
    }

    /// Whether `/ready` may say LIVE: the first answers are in, or the
    /// initial fetch timeout has passed.
    pub fn ready(&self) -> bool {
        self.initialized.get() || self.started.elapsed() >= self.config.initial_fetch_timeout
    }

    /// The control plane address in use (or last tried).
    pub fn current_address(&self) -> String {
        let current = self.current.borrow();
        if current.is_empty() {
            self.config.address().to_owned()
        } else {
            current.clone()
        }
    }

    /// Lines for `/ready`.
    pub fn detail(&self) -> Vec<String> {
        if self.connected.get() {
            return Vec::new();
        }
        let since = self.lost_at.get().map_or_else(
            || "start-up".to_owned(),
            |t| format!("{:.1}s", t.elapsed().as_secs_f64()),
        );
        vec![format!(
            "xds: control plane {} unreachable (for {since}); serving the last good configuration",
            self.current_address()
        )]
    }

    pub fn stats(&self) -> Vec<ControlStat> {
        let clusters = self.clusters.borrow();
        vec![
            ControlStat {
                name: "control_plane.connected_state",
                value: i64::from(self.connected.get()),
                gauge: true,
                help: "1 while the xDS stream to the control plane is up; 0 while ringway serves its last good configuration.",
            },
            ControlStat {
                name: "control_plane.streams_total",
                value: self.streams.get() as i64,
                gauge: false,
                help: "xDS streams opened to the control plane.",
            },
            ControlStat {
                name: "cluster_manager.xds.update_success",
                value: self.updates_ok.get() as i64,
                gauge: false,
                help: "xDS responses applied and ACKed.",
            },
            ControlStat {
                name: "cluster_manager.xds.update_rejected",
                value: self.updates_rejected.get() as i64,
                gauge: false,
                help: "xDS responses refused whole and NACKed.",
            },
            ControlStat {
                name: "cluster_manager.active_dynamic_clusters",
                value: clusters.serving().len() as i64,
                gauge: true,
                help: "Clusters from the control plane that serve.",
            },
            ControlStat {
                name: "listener_manager.total_listeners_active",
                value: self.listeners.borrow().serving() as i64,
                gauge: true,
                help: "Listeners from the control plane that serve.",
            },
            ControlStat {
                name: "listener_manager.total_listeners_warming",
                value: self.listeners.borrow().warming() as i64,
                gauge: true,
                help: "Listeners from the control plane waiting for their routes.",
            },
            ControlStat {
                name: "cluster_manager.warming_clusters",
                value: clusters.warming() as i64,
                gauge: true,
                help: "Clusters from the control plane waiting for their endpoints.",
            },
        ]
    }

    /// The version held of a cluster the control plane serves; `None`
    /// for other names.
    pub fn cluster_version(&self, name: &str) -> Option<String> {
        if !self.clusters.borrow().serving().contains_key(name) {
            return None;
        }
        let client = self.client.borrow();
        Some(
            client
                .version(CLUSTER_TYPE, name)
                .unwrap_or_default()
                .to_owned(),
        )
    }

    pub fn info(&self) -> serde_json::Value {
        let mut node =
            serde_json::json!({ "id": self.config.node_id, "cluster": self.config.node_cluster });
        if !self.config.node_zone.is_empty() {
            node["zone"] = self.config.node_zone.clone().into();
        }
        serde_json::json!({
            "address": self.current_address(),
            "addresses": self.config.addresses,
            "node": node,
            "connected": self.connected.get(),
            "updates": { "ok": self.updates_ok.get(), "rejected": self.updates_rejected.get() },
            "last_nack": *self.last_nack.borrow(),
        })
    }

    /// Sends subscription changes, if a stream is up.
    pub(super) fn flush(&self) {
        let requests = self.client.borrow_mut().pending_requests();
        self.send(requests);
    }

    pub(super) fn send(&self, requests: Vec<DeltaDiscoveryRequest>) {
        if let Some(tx) = &*self.outbound.borrow() {
            for r in requests {
                let _ = tx.send(r);
            }
        }
    }

    pub(super) fn check_initialized(&self) {
        if self.initialized.get() || !self.connected.get() {
            return;
        }
        let clusters = self.clusters.borrow();
        if self.config.all_clusters && (!self.clusters_answered.get() || clusters.warming() > 0) {
            return;
        }
        let listeners = self.listeners.borrow();
        if self.config.all_listeners && (!self.listeners_answered.get() || listeners.warming() > 0)
        {
            return;
        }
        if !listeners.file_routes_arrived() {
            return;
        }
        let done = self
            .initial_names
            .borrow()
            .iter()
            .all(|n| clusters.serving().contains_key(n) || clusters.is_missing(n));
        if done {
            self.initialized.set(true);
            tracing::info!(elapsed = ?self.started.elapsed(), "xds: initial configuration received");
        }
    }
}

impl ClusterSource for XdsState {
    fn contributes(&self) -> bool {
        !self.clusters.borrow().serving().is_empty() || self.listeners.borrow().contributes()
    }

    /// Adds the control plane's serving clusters; the file's own win on a
    /// name clash (the xDS side refuses those anyway).
    fn merge_into(&self, snapshot: &mut Snapshot) {
        self.listeners.borrow().merge_into(snapshot);
        for (name, cluster) in self.clusters.borrow().serving() {
            snapshot
                .clusters
                .entry(name.clone())
                .or_insert_with(|| cluster.clone());
        }
    }
}
