//! The state every task shares: the one versioned resource set, the
//! connected proxies with their stream state, and the counters. Behind a
//! std `Mutex`, held only for short, non-blocking steps; a `watch` tells
//! every stream task that the set changed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse,
};
use ringway_config::model::Cluster;
use ringway_xds::{
    CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE, ProxyStream, ROUTE_TYPE, ResourceSet, WILDCARD,
};
use tokio::sync::{mpsc, watch};

use crate::sidecar::Sidecar;
use crate::source::{FileError, FolderRefresh, Kind, Refresh, Served};

/// Shared by the xDS streams, the sources and the admin API.
#[derive(Debug)]
pub struct Hub {
    state: Mutex<State>,
    /// Carries the set's generation; also bumped once on shutdown.
    changed: watch::Sender<u64>,
}

#[derive(Debug)]
struct SourceHook {
    wanted: mpsc::UnboundedSender<String>,
    /// Whether the source looks names up (proxies wait for its answer).
    looks_up: bool,
}

/// Everything behind the hub's lock.
#[derive(Debug, Default)]
pub struct State {
    pub set: ResourceSet,
    /// The clusters the set was built from, by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// The route configurations and listeners served, by `type_url` and
    /// name.
    pub envoy: BTreeMap<&'static str, BTreeMap<String, Served>>,
    /// Resources ringway-control makes itself (the sidecar template's
    /// Listener and RouteConfiguration), by `type_url` and name.
    pub generated: BTreeMap<&'static str, BTreeMap<String, Served>>,
    sidecar: Option<Sidecar>,
    /// Sources and folders not yet read once (the hub is ready when none
    /// is left).
    unread: usize,
    /// Each source's clusters, in the order the sources were added (the
    /// first to name a cluster wins).
    by_source: Vec<(&'static str, Vec<Cluster>)>,
    /// Names being looked up → sources yet to answer.
    lookups: BTreeMap<String, usize>,
    /// The sources, told of cluster names proxies asked for that no
    /// resource has.
    sources: Vec<SourceHook>,
    /// Whether every source and folder has been read once.
    pub ready: bool,
    first_reads: std::collections::BTreeSet<&'static str>,
    pub closing: bool,
    pub proxies: BTreeMap<u64, Proxy>,
    next_id: u64,
    pub counters: Counters,
}

/// One connected proxy.
#[derive(Debug)]
pub struct Proxy {
    pub peer: Option<SocketAddr>,
    pub connected_at: SystemTime,
    pub stream: ProxyStream,
}

/// Totals since start.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub streams: u64,
    pub responses: u64,
    pub acks: u64,
    pub nacks: u64,
    pub source_loaded: u64,
    pub source_failed: u64,
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            changed: watch::Sender::new(0),
        })
    }

    /// Adds a source; returns the receiving end of the names proxies ask
    /// for that no resource has. A source that `looks_up` names makes
    /// proxies wait for its next refresh before they hear "does not exist".
    pub fn add_source(
        &self,
        kind: &'static str,
        looks_up: bool,
    ) -> mpsc::UnboundedReceiver<String> {
        let (wanted, wanted_rx) = mpsc::unbounded_channel();
        let mut state = self.lock();
        state.unread += 1;
        state.sources.push(SourceHook { wanted, looks_up });
        if !state.by_source.iter().any(|(k, _)| *k == kind) {
            state.by_source.push((kind, Vec::new()));
        }
        wanted_rx
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Told when the set changes (or the server stops).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Takes a source's refresh: counts it, and replaces the clusters in
    /// one step when they changed.
    pub fn source_refreshed(&self, kind: &'static str, refresh: Refresh) {
        let generation = {
            let mut state = self.lock();
            state.counters.source_loaded += refresh.loaded;
            state.counters.source_failed += refresh.failed;
            let before = state.set.generation();
            if let Some(clusters) = refresh.clusters {
                state.set_source_clusters(kind, clusters);
                tracing::info!(
                    source = kind,
                    clusters = state.clusters.len(),
                    generation = state.set.generation(),
                    "clusters updated"
                );
            }
            for name in &refresh.answered {
                state.answered(name);
            }
            state.read_once(kind);
            (state.set.generation() != before).then(|| state.set.generation())
        };
        if let Some(generation) = generation {
            self.changed.send_replace(generation);
        }
    }

    /// Adds a folder of Envoy resources; the hub is not ready until it has
    /// been read once.
    pub fn add_folder(&self, kind: Kind) {
        let mut state = self.lock();
        state.unread += 1;
        state.envoy.entry(kind.type_url()).or_default();
    }

    /// Takes a folder's refresh: counts it, and replaces the resources of
    /// its type in one step when they changed.
    pub fn folder_refreshed(&self, kind: Kind, refresh: FolderRefresh) {
        let generation = {
            let mut state = self.lock();
            state.counters.source_loaded += refresh.loaded;
            state.counters.source_failed += refresh.failed;
            let before = state.set.generation();
            if let Some(resources) = refresh.resources {
                state.replace_envoy(kind.type_url(), resources);
                tracing::info!(
                    source = kind.label(),
                    resources = state.envoy.get(kind.type_url()).map_or(0, BTreeMap::len),
                    generation = state.set.generation(),
                    "{} updated",
                    kind.label()
                );
            }
            state.read_once(kind.label());
            if state.set.generation() != before {
                state.warn_unknown_rds();
            }
            (state.set.generation() != before).then(|| state.set.generation())
        };
        if let Some(generation) = generation {
            self.changed.send_replace(generation);
        }
    }

    /// Serves the sidecar template: its Listener now, and its
    /// RouteConfiguration for the clusters known, regenerated whenever they
    /// change.
    pub fn set_sidecar(&self, sidecar: Sidecar) -> Result<(), FileError> {
        let listener = sidecar.listener()?;
        let generation = {
            let mut state = self.lock();
            state.set.upsert_canonical(
                LISTENER_TYPE,
                &listener.name,
                listener.resource.clone(),
                &listener.canonical,
            );
            state
                .generated
                .entry(LISTENER_TYPE)
                .or_default()
                .insert(listener.name.clone(), listener);
            state.sidecar = Some(sidecar);
            state.regenerate();
            state.set.generation()
        };
        self.changed.send_replace(generation);
        Ok(())
    }

    /// Registers a new stream; returns its id.
    pub fn connect(&self, peer: Option<SocketAddr>) -> u64 {
        let mut state = self.lock();
        state.next_id += 1;
        state.counters.streams += 1;
        let id = state.next_id;
        let proxy = Proxy {
            peer,
            connected_at: SystemTime::now(),
            stream: ProxyStream::default(),
        };
        state.proxies.insert(id, proxy);
        id
    }

    pub fn disconnect(&self, id: u64) {
        self.lock().proxies.remove(&id);
    }

    /// Applies a proxy's request; returns the responses now due.
    pub fn on_request(
        &self,
        id: u64,
        request: DeltaDiscoveryRequest,
    ) -> Vec<DeltaDiscoveryResponse> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(proxy) = state.proxies.get_mut(&id) else {
            return Vec::new();
        };
        let (set, counters) = (&state.set, &mut state.counters);
        let type_url = request.type_url.clone();
        let unknown: Vec<String> = if type_url == CLUSTER_TYPE {
            let names = request.resource_names_subscribe.iter();
            names
                .filter(|n| *n != WILDCARD && set.version(CLUSTER_TYPE, n).is_none())
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if let Some(node) = request
            .node
            .as_ref()
            .filter(|_| proxy.stream.node().is_none())
        {
            tracing::info!(stream = id, node = %node.id, node_cluster = %node.cluster, "proxy identified");
        }
        let awaited = proxy.stream.awaiting_answer(&type_url);
        match proxy.stream.on_request(request) {
            Some(message) => {
                counters.nacks += 1;
                let node = proxy.stream.node().map(|n| n.id.as_str()).unwrap_or("");
                tracing::warn!(node, type_url, %message, "proxy refused an update (NACK)");
            }
            None if awaited && !proxy.stream.awaiting_answer(&type_url) => counters.acks += 1,
            None => {}
        }
        state.ask_sources(unknown);
        drop(guard);
        self.pending(id)
    }

    /// The responses due to a proxy after the set changed.
    pub fn pending(&self, id: u64) -> Vec<DeltaDiscoveryResponse> {
        let mut guard = self.lock();
        let State {
            set,
            proxies,
            counters,
            ..
        } = &mut *guard;
        let Some(proxy) = proxies.get_mut(&id) else {
            return Vec::new();
        };
        let responses = proxy.stream.next_responses(set);
        counters.responses += responses.len() as u64;
        responses
    }

    /// Tells every stream to finish.
    pub fn close(&self) {
        self.lock().closing = true;
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
    }

    pub fn closing(&self) -> bool {
        self.lock().closing
    }
}

impl State {
    /// A source or folder has been read: the first read of each counts
    /// towards readiness.
    fn read_once(&mut self, kind: &'static str) {
        if self.first_reads.insert(kind) {
            self.unread = self.unread.saturating_sub(1);
        }
        self.ready = self.unread == 0;
    }

    /// Makes the sidecar's RouteConfiguration hold a virtual host for each
    /// cluster held now (nothing without `--sidecar-listener`).
    fn regenerate(&mut self) {
        let Some(sidecar) = &self.sidecar else {
            return;
        };
        match sidecar.route_configuration(self.clusters.keys().map(String::as_str)) {
            Ok(served) => {
                self.set.upsert_canonical(
                    ROUTE_TYPE,
                    &served.name,
                    served.resource.clone(),
                    &served.canonical,
                );
                self.generated
                    .entry(ROUTE_TYPE)
                    .or_default()
                    .insert(served.name.clone(), served);
            }
            Err(e) => {
                tracing::error!(field = %e.field, reason = %e.reason, "sidecar: the generated route configuration does not check; the last one stays");
            }
        }
    }

    /// Warns of listeners whose `rds` names a route configuration nobody
    /// serves (when a routes folder is followed): proxies then serve 404
    /// `NR` on them until it appears.
    fn warn_unknown_rds(&self) {
        let Some(routes) = self.envoy.get(ROUTE_TYPE) else {
            return;
        };
        if !self.first_reads.contains(Kind::Routes.label()) {
            return;
        }
        for (name, listener) in self.envoy.get(LISTENER_TYPE).into_iter().flatten() {
            let generated = |rds: &str| {
                self.generated
                    .get(ROUTE_TYPE)
                    .is_some_and(|g| g.contains_key(rds))
            };
            if let Some(rds) = listener.rds.as_deref()
                && !routes.contains_key(rds)
                && !generated(rds)
            {
                tracing::warn!(listener = %name, rds, "the listener's route configuration is not served; proxies answer 404 on it until it is");
            }
        }
    }

    /// Makes the set hold exactly these resources of one type: gone ones
    /// removed, changed ones replaced (each encoded once, by its folder).
    fn replace_envoy(&mut self, type_url: &'static str, resources: Vec<Served>) {
        let new: BTreeMap<String, Served> =
            resources.into_iter().map(|s| (s.name.clone(), s)).collect();
        let held = self.envoy.entry(type_url).or_default();
        for name in held.keys().filter(|n| !new.contains_key(*n)) {
            self.set.remove(type_url, name);
        }
        for (name, served) in &new {
            self.set
                .upsert_canonical(type_url, name, served.resource.clone(), &served.canonical);
        }
        *held = new;
    }

    /// Replaces one source's clusters, and the set with the union of all
    /// sources' (the first source to name a cluster wins).
    fn set_source_clusters(&mut self, kind: &'static str, clusters: Vec<Cluster>) {
        match self.by_source.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, held)) => *held = clusters,
            None => self.by_source.push((kind, clusters)),
        }
        let mut union: BTreeMap<String, Cluster> = BTreeMap::new();
        for (_, clusters) in &self.by_source {
            for cluster in clusters {
                union
                    .entry(cluster.name.clone())
                    .or_insert_with(|| cluster.clone());
            }
        }
        self.replace_clusters(union.into_values().collect());
    }

    /// Tells every source of names nobody has; marks them as being looked
    /// up while a source that looks names up has yet to answer.
    fn ask_sources(&mut self, names: Vec<String>) {
        let looking = self.sources.iter().filter(|s| s.looks_up).count();
        for name in names {
            tracing::debug!(cluster = %name, "a proxy asked for an unknown cluster");
            if looking > 0 && !self.lookups.contains_key(&name) {
                self.lookups.insert(name.clone(), looking);
                self.set.look_up(CLUSTER_TYPE, &name);
            }
            for source in &self.sources {
                let _ = source.wanted.send(name.clone());
            }
        }
    }

    /// A source that looks names up has answered for `name`.
    fn answered(&mut self, name: &str) {
        let Some(left) = self.lookups.get_mut(name) else {
            return;
        };
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.lookups.remove(name);
            self.set.looked_up(CLUSTER_TYPE, name);
        }
    }

    /// Makes the set hold exactly these clusters (and their endpoints).
    fn replace_clusters(&mut self, clusters: Vec<Cluster>) {
        let new: BTreeMap<String, Cluster> =
            clusters.into_iter().map(|c| (c.name.clone(), c)).collect();
        let gone: Vec<String> = self
            .clusters
            .keys()
            .filter(|name| !new.contains_key(*name))
            .cloned()
            .collect();
        for name in gone {
            self.set.remove(CLUSTER_TYPE, &name);
            self.set.remove(ENDPOINTS_TYPE, &name);
        }
        for (name, cluster) in &new {
            // Unchanged clusters are not encoded again: an update costs
            // what changed, not the size of the set.
            if self.clusters.get(name) == Some(cluster) {
                continue;
            }
            let (c, endpoints) = ringway_envoy::cluster_resources(cluster);
            self.set.upsert(CLUSTER_TYPE, name, c);
            self.set.upsert(ENDPOINTS_TYPE, name, endpoints);
        }
        self.clusters = new;
        self.regenerate();
    }
}

#[cfg(test)]
mod tests;
