//! Eureka as a source of endpoints, on the control thread, the way Ribbon
//! used it: a [`ringway_eureka_client`] keeps a copy of the registry; each
//! `type: eureka` cluster gets the UP instances of its VIP as endpoints.
//! Without an `xds` block, names that routes ask for on demand are looked
//! up as VIPs too, and become clusters with default settings.
//!
//! A new registry changes only the clusters whose endpoints differ; the
//! workers swap those endpoint lists in place. When no registry server
//! answers, the last registry keeps serving and `/ready` says so.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use ringway_admin::ControlStat;
use ringway_config::defaults;
use ringway_config::model::{self, Cluster, Endpoint, EurekaVip, Snapshot};
use ringway_eureka::{Registry, ServerUrl, VipIndex};
use ringway_eureka_client::{ClientConfig, EurekaClient, View};
use ringway_worker::DiscoveryRequest;

use crate::publish::{ClusterSource, Publisher};

/// At most this many names answered "no such VIP" are remembered.
const MAX_MISSING: usize = 4096;

/// The client and what ringway built from its registry.
#[derive(Debug)]
pub struct EurekaState {
    pub config: model::Eureka,
    /// Whether names that routes give and the file does not define are
    /// looked up as VIPs (not when a control plane supplies them).
    follows_undefined: bool,
    client: EurekaClient,
    started: Instant,
    /// The registry generation the clusters below were built from.
    built_from: Cell<u64>,
    /// File clusters of `type: eureka`, with their current endpoints.
    resolved: RefCell<BTreeMap<String, Arc<Cluster>>>,
    /// Clusters made for names asked on demand.
    on_demand: RefCell<BTreeMap<String, Arc<Cluster>>>,
    /// Names asked on demand that no instance lists, as of the round after
    /// the question.
    missing: RefCell<BTreeSet<String>>,
    /// Names asked on demand, waiting for the round after this one.
    waiting: RefCell<BTreeMap<String, u64>>,
    /// The VIP indexes of the registry generation they were built from.
    indexes: RefCell<Option<(u64, Rc<Indexes>)>>,
}

impl EurekaState {
    /// Starts the client (on the current tokio runtime); with
    /// `follows_undefined`, names that routes give and the file does not
    /// define are followed as VIPs.
    pub fn start(config: model::Eureka, follows_undefined: bool) -> Self {
        let urls = config
            .urls
            .iter()
            .filter_map(|u| ServerUrl::parse(u).ok())
            .collect();
        let client = ringway_eureka_client::spawn(ClientConfig {
            urls,
            fetch_interval: config.fetch_interval,
            request_timeout: ClientConfig::default_request_timeout(config.fetch_interval),
        });
        Self {
            config,
            follows_undefined,
            client,
            started: Instant::now(),
            built_from: Cell::new(0),
            resolved: RefCell::new(BTreeMap::new()),
            on_demand: RefCell::new(BTreeMap::new()),
            missing: RefCell::new(BTreeSet::new()),
            waiting: RefCell::new(BTreeMap::new()),
            indexes: RefCell::new(None),
        }
    }

    /// The VIP indexes of `view`'s registry, built once per generation.
    fn indexes(&self, view: &View) -> Rc<Indexes> {
        let mut cached = self.indexes.borrow_mut();
        match &*cached {
            Some((generation, index)) if *generation == view.generation => index.clone(),
            _ => {
                let index = Rc::new(Indexes::new(&view.registry));
                *cached = Some((view.generation, index.clone()));
                index
            }
        }
    }

    /// Whether `/ready` may say LIVE: a registry was fetched, or the
    /// initial wait has passed.
    pub fn ready(&self) -> bool {
        self.client.view().fetched || self.started.elapsed() >= defaults::XDS_INITIAL_FETCH_TIMEOUT
    }

    /// Lines for `/ready`.
    pub fn detail(&self) -> Vec<String> {
        let view = self.client.view();
        let Some(since) = view.stale_since else {
            return Vec::new();
        };
        let what = if view.fetched {
            "serving the last known instances"
        } else {
            "no registry fetched yet"
        };
        vec![format!(
            "eureka: no registry server answers (for {:.1}s; last error: {}); {what}",
            since.elapsed().as_secs_f64(),
            view.last_error.as_deref().unwrap_or("none"),
        )]
    }

    pub fn stats(&self) -> Vec<ControlStat> {
        let view = self.client.view();
        let s = view.stats;
        vec![
            stat(
                "eureka.fetch_full",
                s.full_fetches,
                false,
                "Full registry fetches (GET apps/) that succeeded.",
            ),
            stat(
                "eureka.fetch_delta",
                s.delta_fetches,
                false,
                "Delta fetches (GET apps/delta) that succeeded.",
            ),
            stat(
                "eureka.fetch_failed",
                s.failed_requests,
                false,
                "Registry requests that failed (each server tried counts).",
            ),
            stat(
                "eureka.hashcode_mismatch",
                s.hashcode_mismatches,
                false,
                "Deltas dropped because the registry's hashcode did not match; each led to a full fetch.",
            ),
            stat(
                "eureka.stale",
                u64::from(view.stale_since.is_some()),
                true,
                "1 while no registry server answers and the last registry keeps serving.",
            ),
            stat(
                "eureka.instances",
                view.registry.len() as u64,
                true,
                "Instances in the local copy of the registry.",
            ),
            stat(
                "eureka.on_demand_clusters",
                self.on_demand.borrow().len() as u64,
                true,
                "Clusters made for VIPs that routes asked for by name.",
            ),
        ]
    }

    /// The version `/config_dump` gives a cluster made on demand from the
    /// registry (the registry's generation); `None` for other names.
    pub fn cluster_version(&self, name: &str) -> Option<String> {
        self.on_demand
            .borrow()
            .contains_key(name)
            .then(|| format!("eureka-{}", self.client.view().generation))
    }

    pub fn info(&self) -> serde_json::Value {
        let view = self.client.view();
        serde_json::json!({
            "urls": self.config.urls,
            "fetch_interval_ms": self.config.fetch_interval.as_millis() as u64,
            "server": view.server,
            "fetched": view.fetched,
            "stale": view.stale_since.is_some(),
            "instances": view.registry.len(),
            "last_error": view.last_error,
        })
    }
}

impl ClusterSource for EurekaState {
    /// Always: the file's `type: eureka` clusters take their endpoints
    /// from here.
    fn contributes(&self) -> bool {
        true
    }

    /// Fills in the endpoints of each `type: eureka` cluster of the file,
    /// and adds the clusters made on demand.
    fn merge_into(&self, snapshot: &mut Snapshot) {
        let resolved = self.resolved.borrow();
        for (name, cluster) in snapshot.clusters.iter_mut() {
            if cluster.eureka.is_some()
                && let Some(r) = resolved.get(name).filter(|r| r.same_settings(cluster))
            {
                *cluster = r.clone();
            }
        }
        for (name, cluster) in self.on_demand.borrow().iter() {
            snapshot
                .clusters
                .entry(name.clone())
                .or_insert_with(|| cluster.clone());
        }
    }
}

fn stat(name: &'static str, value: u64, gauge: bool, help: &'static str) -> ControlStat {
    ControlStat {
        name,
        value: i64::try_from(value).unwrap_or(i64::MAX),
        gauge,
        help,
    }
}

/// Follows the registry for as long as the process lives; answers the
/// workers' on-demand questions when `discovery` is given.
pub async fn run(
    control: Rc<Publisher>,
    eureka: Rc<EurekaState>,
    discovery: Option<async_channel::Receiver<DiscoveryRequest>>,
) {
    let mut views = eureka.client.watch();
    loop {
        tokio::select! {
            changed = views.changed() => {
                if changed.is_err() {
                    return;
                }
                let view = views.borrow_and_update().clone();
                on_view(&control, &eureka, &view).await;
            }
            asked = recv(&discovery) => match asked {
                Some(asked) => on_discovery(&control, &eureka, asked).await,
                None => return,
            },
        }
    }
}

/// Rebuilds from the registry held now (after a reload changed the
/// file's clusters) and publishes if anything changed.
pub async fn refresh(control: &Publisher, eureka: &EurekaState) {
    let view = eureka.client.view();
    if rebuild(control, eureka, &eureka.indexes(&view)).await {
        control.publish_dynamic().await;
    }
}

async fn recv(
    discovery: &Option<async_channel::Receiver<DiscoveryRequest>>,
) -> Option<DiscoveryRequest> {
    match discovery {
        Some(rx) => rx.recv().await.ok(),
        None => std::future::pending().await,
    }
}

/// Rebuilds what the registry feeds, publishes it if anything changed,
/// and answers the names that waited for this round.
async fn on_view(control: &Publisher, eureka: &EurekaState, view: &View) {
    let answered = view.stale_since.is_none();
    let due: Vec<String> = eureka
        .waiting
        .borrow()
        .iter()
        .filter(|(_, asked_at)| answered && view.rounds > **asked_at)
        .map(|(name, _)| name.clone())
        .collect();
    let new_registry = view.generation != eureka.built_from.get();
    if !new_registry && due.is_empty() {
        return;
    }
    let index = eureka.indexes(view);
    let mut changed = false;
    if new_registry {
        eureka.built_from.set(view.generation);
        changed |= rebuild(control, eureka, &index).await;
    }
    let mut missing = Vec::new();
    for name in due {
        eureka.waiting.borrow_mut().remove(&name);
        match on_demand_cluster(&name, &index).await {
            Some(cluster) => {
                eureka
                    .on_demand
                    .borrow_mut()
                    .insert(name, Arc::new(cluster));
                changed = true;
            }
            None => missing.push(name),
        }
    }
    if changed {
        control.publish_dynamic().await;
    }
    for name in missing {
        tracing::info!(cluster = %name, "eureka: no instance lists this VIP");
        remember_missing(eureka, &name);
        control.missing_everywhere(&name);
    }
}

/// Recomputes the endpoints of every Eureka-fed cluster; whether any
/// changed.
async fn rebuild(control: &Publisher, eureka: &EurekaState, index: &Indexes) -> bool {
    let file = control.file();
    let mut changed = false;
    let mut resolved = BTreeMap::new();
    for (name, cluster) in &file.clusters {
        let Some(vip) = &cluster.eureka else {
            continue;
        };
        let endpoints = endpoints(index, vip).await;
        let previous = eureka.resolved.borrow().get(name).cloned();
        let next = match previous {
            Some(p) if p.same_settings(cluster) && p.endpoints == endpoints => p,
            _ => {
                changed = true;
                log_change(name, vip, &endpoints);
                Arc::new(Cluster {
                    endpoints,
                    ..(**cluster).clone()
                })
            }
        };
        resolved.insert(name.clone(), next);
    }
    changed |= resolved.len() != eureka.resolved.borrow().len();
    *eureka.resolved.borrow_mut() = resolved;

    let names: Vec<(String, Arc<Cluster>)> = eureka
        .on_demand
        .borrow()
        .iter()
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    for (name, cluster) in names {
        let Some(vip) = &cluster.eureka else {
            continue;
        };
        let endpoints = endpoints(index, vip).await;
        if endpoints != cluster.endpoints {
            log_change(&name, vip, &endpoints);
            let next = Arc::new(Cluster {
                endpoints,
                ..(*cluster).clone()
            });
            eureka.on_demand.borrow_mut().insert(name, next);
            changed = true;
        }
    }
    // Names routes give that the file does not define are VIPs to follow
    // (unless a control plane supplies them).
    if !eureka.follows_undefined {
        return changed;
    }
    for name in file.undefined_route_clusters() {
        if eureka.on_demand.borrow().contains_key(&name) {
            continue;
        }
        if let Some(cluster) = on_demand_cluster(&name, index).await {
            eureka
                .on_demand
                .borrow_mut()
                .insert(name, Arc::new(cluster));
            changed = true;
        }
    }
    // A name missing before may be registered now: forget it, so the next
    // question looks again.
    let mut missing = eureka.missing.borrow_mut();
    missing.retain(|name| !index.plain.knows(name));
    changed
}

fn log_change(name: &str, vip: &EurekaVip, endpoints: &[Endpoint]) {
    tracing::info!(
        cluster = %name,
        vip = %vip.name,
        secure = vip.secure,
        endpoints = endpoints.len(),
        "eureka: endpoints changed"
    );
}

/// A worker waits for a cluster it does not have.
async fn on_discovery(control: &Publisher, eureka: &EurekaState, asked: DiscoveryRequest) {
    let name = asked.cluster;
    if eureka.on_demand.borrow().contains_key(&name) {
        return; // published already; the worker's snapshot has it
    }
    if eureka.missing.borrow().contains(&name) {
        control.missing_for(asked.worker, name);
        return;
    }
    let view = eureka.client.view();
    if view.fetched
        && let Some(cluster) = on_demand_cluster(&name, &eureka.indexes(&view)).await
    {
        tracing::info!(cluster = %name, endpoints = cluster.endpoints.len(), "eureka: on-demand cluster from the registry");
        eureka
            .on_demand
            .borrow_mut()
            .insert(name, Arc::new(cluster));
        control.publish_dynamic().await;
        return;
    }
    // Not in the copy we hold: fetch now, and answer after that round.
    tracing::debug!(cluster = %name, "eureka: unknown VIP; fetching the registry");
    eureka
        .waiting
        .borrow_mut()
        .entry(name)
        .or_insert(view.rounds);
    eureka.client.fetch_now();
}

fn remember_missing(eureka: &EurekaState, name: &str) {
    let mut missing = eureka.missing.borrow_mut();
    if missing.len() >= MAX_MISSING {
        missing.pop_first();
    }
    missing.insert(name.to_owned());
}

/// A cluster with default settings for VIP `name`, if any instance (in
/// any status) lists it.
async fn on_demand_cluster(name: &str, index: &Indexes) -> Option<Cluster> {
    if !index.plain.knows(name) {
        return None;
    }
    let vip = EurekaVip {
        name: name.to_owned(),
        secure: false,
    };
    let endpoints = endpoints(index, &vip).await;
    Some(Cluster {
        eureka: Some(vip),
        ..Cluster::with_defaults(name, endpoints)
    })
}

/// A registry's VIPs and secure VIPs, each indexed in one pass.
#[derive(Debug)]
struct Indexes {
    plain: VipIndex,
    secure: VipIndex,
}

impl Indexes {
    fn new(registry: &Registry) -> Self {
        Self {
            plain: registry.vip_index(false),
            secure: registry.vip_index(true),
        }
    }
}

/// The UP instances of a VIP as endpoints.
async fn endpoints(index: &Indexes, vip: &EurekaVip) -> Vec<Endpoint> {
    let found = if vip.secure {
        index.secure.resolve(&vip.name)
    } else {
        index.plain.resolve(&vip.name)
    };
    ringway_eureka_client::endpoints(found).await
}
