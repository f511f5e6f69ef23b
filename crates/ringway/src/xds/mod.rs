//! The xDS-lite stream to the control plane (see `docs/xds-lite.md`), on
//! the control thread.
//!
//! One delta ADS stream at a time. Each response is checked whole
//! ([`clusters::DynamicClusters`]); a good one is published to every
//! worker as a new snapshot and then ACKed, a bad one is NACKed and
//! changes nothing. When the stream fails, ringway keeps serving what it
//! has (stale but available) and reconnects with jittered backoff,
//! resuming with the versions it holds. Workers' on-demand questions
//! arrive on a channel and become subscriptions.

mod clusters;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse,
};
use ringway_admin::ControlStat;
use ringway_config::model::{RouteAction, Snapshot, Xds};
use ringway_worker::{Command, DiscoveryRequest};
use ringway_xds::{CLUSTER_TYPE, DeltaClient, ENDPOINTS_TYPE};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

pub use clusters::DynamicClusters;

use crate::control::ControlState;

const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response accepted (10,000 clusters fit many times over).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// The stream's state, shared with the admin API.
#[derive(Debug)]
pub struct XdsState {
    pub config: Xds,
    client: RefCell<DeltaClient>,
    pub clusters: RefCell<DynamicClusters>,
    /// Where to send requests while a stream is up.
    outbound: RefCell<Option<mpsc::UnboundedSender<DeltaDiscoveryRequest>>>,
    started: Instant,
    connected: Cell<bool>,
    /// When the last stream ended (for "stale since").
    lost_at: Cell<Option<Instant>>,
    /// The initial names have all been answered once.
    initialized: Cell<bool>,
    initial_names: RefCell<Vec<String>>,
    /// A Cluster response has been applied (what `all_clusters` waits for).
    clusters_answered: Cell<bool>,
    updates_ok: Cell<u64>,
    updates_rejected: Cell<u64>,
    streams: Cell<u64>,
    last_nack: RefCell<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("cannot reach the control plane: {0}")]
    Connect(#[from] tonic::transport::Error),
    #[error("stream failed: {0}")]
    Status(#[from] tonic::Status),
    #[error("the control plane closed the stream")]
    Closed,
    #[error("bad control plane address: {0}")]
    Address(String),
}

impl XdsState {
    pub fn new(config: Xds) -> Self {
        let client = DeltaClient::new(&config.node_id, &config.node_cluster);
        Self {
            config,
            client: RefCell::new(client),
            clusters: RefCell::new(DynamicClusters::default()),
            outbound: RefCell::new(None),
            started: Instant::now(),
            connected: Cell::new(false),
            lost_at: Cell::new(None),
            initialized: Cell::new(false),
            initial_names: RefCell::new(Vec::new()),
            clusters_answered: Cell::new(false),
            updates_ok: Cell::new(0),
            updates_rejected: Cell::new(0),
            streams: Cell::new(0),
            last_nack: RefCell::new(None),
        }
    }

    /// Subscribes to the clusters the file's routes name but do not
    /// define; called at start and after each reload.
    pub fn follow_file(&self, file: &Snapshot) {
        self.clusters
            .borrow_mut()
            .set_file_names(file.clusters.keys().cloned());
        let mut wanted = Vec::new();
        for listener in &file.listeners {
            for vhost in &listener.virtual_hosts {
                for route in &vhost.routes {
                    match &route.action {
                        RouteAction::Cluster(name) => wanted.push(name.clone()),
                        RouteAction::WeightedClusters(list) => {
                            wanted.extend(list.iter().map(|c| c.name.clone()));
                        }
                        _ => {}
                    }
                }
            }
        }
        wanted.retain(|n| !file.clusters.contains_key(n));
        wanted.sort();
        wanted.dedup();
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
            self.config.address
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
                name: "cluster_manager.warming_clusters",
                value: clusters.warming() as i64,
                gauge: true,
                help: "Clusters from the control plane waiting for their endpoints.",
            },
        ]
    }

    pub fn info(&self) -> serde_json::Value {
        serde_json::json!({
            "address": self.config.address,
            "node": { "id": self.config.node_id, "cluster": self.config.node_cluster },
            "connected": self.connected.get(),
            "updates": { "ok": self.updates_ok.get(), "rejected": self.updates_rejected.get() },
            "last_nack": *self.last_nack.borrow(),
        })
    }

    /// Sends subscription changes, if a stream is up.
    fn flush(&self) {
        let requests = self.client.borrow_mut().pending_requests();
        self.send(requests);
    }

    fn send(&self, requests: Vec<DeltaDiscoveryRequest>) {
        if let Some(tx) = &*self.outbound.borrow() {
            for r in requests {
                let _ = tx.send(r);
            }
        }
    }

    fn check_initialized(&self) {
        if self.initialized.get() || !self.connected.get() {
            return;
        }
        let clusters = self.clusters.borrow();
        if self.config.all_clusters && (!self.clusters_answered.get() || clusters.warming() > 0) {
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

/// Runs the stream for as long as the process lives.
pub async fn run(
    control: Rc<ControlState>,
    xds: Rc<XdsState>,
    discovery: async_channel::Receiver<DiscoveryRequest>,
) {
    let mut failures: u32 = 0;
    loop {
        let result = stream(&control, &xds, &discovery, &mut failures).await;
        xds.outbound.borrow_mut().take();
        if xds.connected.replace(false) {
            xds.lost_at.set(Some(Instant::now()));
        }
        let wait = backoff(failures);
        failures = failures.saturating_add(1);
        match result {
            Ok(()) => return,
            Err(err) => tracing::warn!(
                address = %xds.config.address, %err, retry_in = ?wait,
                "xds: stream down; serving the last good configuration"
            ),
        }
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                asked = discovery.recv() => match asked {
                    Ok(asked) => on_discovery(&control, &xds, asked),
                    Err(_) => return,
                },
            }
        }
    }
}

/// Full jitter over an exponential ceiling.
fn backoff(failures: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(fastrand::f64())
}

/// One stream, until it fails. `Ok` only when the workers are gone.
async fn stream(
    control: &Rc<ControlState>,
    xds: &Rc<XdsState>,
    discovery: &async_channel::Receiver<DiscoveryRequest>,
    failures: &mut u32,
) -> Result<(), StreamError> {
    let uri = format!("http://{}", xds.config.address);
    let endpoint = tonic::transport::Endpoint::from_shared(uri)
        .map_err(|e| StreamError::Address(e.to_string()))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    let channel = endpoint.connect().await?;
    let mut client = AggregatedDiscoveryServiceClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let (tx, rx) = mpsc::unbounded_channel();
    for request in xds.client.borrow_mut().resume() {
        let _ = tx.send(request);
    }
    *xds.outbound.borrow_mut() = Some(tx);
    xds.streams.set(xds.streams.get() + 1);
    xds.connected.set(true);
    tracing::info!(address = %xds.config.address, "xds: stream up");
    xds.check_initialized();
    // Some servers (grpc-go, grpcio) send the response headers only with
    // their first response: keep taking the workers' questions meanwhile,
    // or a proxy that subscribed to nothing yet would never ask anything.
    let call = client.delta_aggregated_resources(UnboundedReceiverStream::new(rx));
    tokio::pin!(call);
    let response = loop {
        tokio::select! {
            response = &mut call => break response?,
            asked = discovery.recv() => match asked {
                Ok(asked) => on_discovery(control, xds, asked),
                Err(_) => return Ok(()),
            },
        }
    };
    let mut inbound = response.into_inner();
    loop {
        tokio::select! {
            message = inbound.message() => match message? {
                Some(response) => {
                    *failures = 0;
                    on_response(control, xds, response).await;
                }
                None => return Err(StreamError::Closed),
            },
            asked = discovery.recv() => match asked {
                Ok(asked) => on_discovery(control, xds, asked),
                Err(_) => return Ok(()),
            },
        }
    }
}

/// Checks, publishes and answers one response.
async fn on_response(
    control: &Rc<ControlState>,
    xds: &Rc<XdsState>,
    response: DeltaDiscoveryResponse,
) {
    let update = xds.client.borrow().receive(response);
    let applied = xds.clusters.borrow_mut().apply(&update);
    match applied {
        Err(message) => {
            xds.updates_rejected.set(xds.updates_rejected.get() + 1);
            tracing::warn!(type_url = %update.type_url, error = %message, "xds: update refused (NACK); the last good configuration keeps serving");
            *xds.last_nack.borrow_mut() = Some(message.clone());
            let nack = xds.client.borrow_mut().nack(&update, &message);
            xds.send(vec![nack]);
        }
        Ok(applied) => {
            if applied.changed {
                let serving = xds.clusters.borrow().serving().clone();
                control.publish_dynamic(serving).await;
            }
            xds.updates_ok.set(xds.updates_ok.get() + 1);
            if update.type_url == CLUSTER_TYPE {
                xds.clusters_answered.set(true);
            }
            let ack = xds.client.borrow_mut().ack(&update);
            xds.send(vec![ack]);
            {
                let mut client = xds.client.borrow_mut();
                client.subscribe(
                    ENDPOINTS_TYPE,
                    applied.subscribe_endpoints.iter().map(String::as_str),
                );
                client.unsubscribe(
                    ENDPOINTS_TYPE,
                    applied.unsubscribe_endpoints.iter().map(String::as_str),
                );
                client.unsubscribe(
                    CLUSTER_TYPE,
                    applied.unsubscribe_clusters.iter().map(String::as_str),
                );
            }
            xds.flush();
            for name in applied.missing {
                control.broadcast(|| Command::ClusterMissing(name.clone()));
            }
            xds.check_initialized();
        }
    }
}

/// A worker waits for a cluster it does not have.
fn on_discovery(control: &ControlState, xds: &XdsState, asked: DiscoveryRequest) {
    let name = asked.cluster;
    let missing = xds.clusters.borrow().is_missing(&name);
    if missing {
        control.send_to(asked.worker, Command::ClusterMissing(name));
        return;
    }
    if xds.client.borrow().is_subscribed(CLUSTER_TYPE, &name) {
        // Asked already: the answer (or a snapshot with it) is on its way.
        return;
    }
    tracing::debug!(cluster = %name, worker = asked.worker, "xds: on-demand discovery");
    xds.client
        .borrow_mut()
        .subscribe(CLUSTER_TYPE, [name.as_str()]);
    xds.flush();
}
