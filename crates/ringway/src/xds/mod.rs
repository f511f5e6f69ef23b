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
mod listeners;
mod state;

use std::rc::Rc;
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::service::discovery::v3::DeltaDiscoveryResponse;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use ringway_envoy::ROUTE_TYPE;
use ringway_worker::DiscoveryRequest;
use ringway_xds::{CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

pub use clusters::DynamicClusters;
pub use listeners::DynamicListeners;
pub use state::XdsState;

use crate::publish::Publisher;

const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response accepted (10,000 clusters fit many times over).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

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

/// Runs the stream for as long as the process lives. The stream stays on
/// one control plane address while it works; when it fails, the next
/// address is tried at once (every address a name resolves to counts), and
/// only once every address has failed in a row does ringway back off. A new
/// stream resumes with the versions ringway holds, so a replica serving the
/// same resources (content-hashed versions) sends nothing again.
pub async fn run(
    control: Rc<Publisher>,
    xds: Rc<XdsState>,
    discovery: async_channel::Receiver<DiscoveryRequest>,
) {
    let mut failures: u32 = 0;
    let mut turn: usize = 0;
    loop {
        let candidates = candidates(&xds.config.addresses).await;
        let target = candidates[turn % candidates.len()].clone();
        *xds.current.borrow_mut() = target.clone();
        let result = stream(&control, &xds, &discovery, &mut failures, &target).await;
        xds.outbound.borrow_mut().take();
        if xds.connected.replace(false) {
            xds.lost_at.set(Some(Instant::now()));
        }
        failures = failures.saturating_add(1);
        turn = turn.wrapping_add(1);
        // Every address failed in a row: back off before the next round.
        let rounds = failures / u32::try_from(candidates.len()).unwrap_or(u32::MAX).max(1);
        let wait = if (failures as usize).is_multiple_of(candidates.len()) {
            backoff(rounds.saturating_sub(1))
        } else {
            Duration::ZERO
        };
        match result {
            Ok(()) => return,
            Err(err) => tracing::warn!(
                address = %target, %err, retry_in = ?wait,
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

/// Every address to try, in order: each configured `host:port`, a name
/// expanded to all it resolves to (a name that does not resolve is kept,
/// so the connect attempt reports why).
async fn candidates(configured: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for address in configured {
        match tokio::net::lookup_host(address.as_str()).await {
            Ok(found) => {
                let before = out.len();
                for a in found {
                    let text = a.to_string();
                    if !out.contains(&text) {
                        out.push(text);
                    }
                }
                if out.len() == before {
                    out.push(address.clone());
                }
            }
            Err(_) => out.push(address.clone()),
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
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
    control: &Publisher,
    xds: &Rc<XdsState>,
    discovery: &async_channel::Receiver<DiscoveryRequest>,
    failures: &mut u32,
    address: &str,
) -> Result<(), StreamError> {
    let uri = format!("http://{address}");
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
    tracing::info!(%address, "xds: stream up");
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
    // The server took the stream: a failure from here on starts a new
    // round of addresses (a replica that has nothing new sends nothing).
    *failures = 0;
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
async fn on_response(control: &Publisher, xds: &Rc<XdsState>, response: DeltaDiscoveryResponse) {
    let update = xds.client.borrow().receive(response);
    let is_listeners = matches!(update.type_url.as_str(), LISTENER_TYPE | ROUTE_TYPE);
    let outcome = if is_listeners {
        xds.listeners
            .borrow_mut()
            .apply(&update)
            .map(Applied::Listeners)
    } else {
        xds.clusters
            .borrow_mut()
            .apply(&update)
            .map(Applied::Clusters)
    };
    let applied = match outcome {
        Ok(applied) => applied,
        Err(message) => {
            xds.updates_rejected.set(xds.updates_rejected.get() + 1);
            tracing::warn!(type_url = %update.type_url, error = %message, "xds: update refused (NACK); the last good configuration keeps serving");
            *xds.last_nack.borrow_mut() = Some(message.clone());
            let nack = xds.client.borrow_mut().nack(&update, &message);
            xds.send(vec![nack]);
            return;
        }
    };
    let changed = match &applied {
        Applied::Clusters(a) => a.changed,
        Applied::Listeners(a) => a.changed,
    };
    if changed {
        control.publish_dynamic().await;
    }
    xds.updates_ok.set(xds.updates_ok.get() + 1);
    match update.type_url.as_str() {
        CLUSTER_TYPE => xds.clusters_answered.set(true),
        LISTENER_TYPE => xds.listeners_answered.set(true),
        _ => {}
    }
    let ack = xds.client.borrow_mut().ack(&update);
    xds.send(vec![ack]);
    let mut missing = Vec::new();
    {
        let mut client = xds.client.borrow_mut();
        match applied {
            Applied::Clusters(applied) => {
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
                missing = applied.missing;
            }
            Applied::Listeners(applied) => {
                let clusters = xds.listeners.borrow().route_clusters();
                let file = control.file();
                client.subscribe(
                    CLUSTER_TYPE,
                    clusters
                        .iter()
                        .filter(|c| !file.clusters.contains_key(*c))
                        .map(String::as_str),
                );
                client.subscribe(
                    ROUTE_TYPE,
                    applied.subscribe_routes.iter().map(String::as_str),
                );
                client.unsubscribe(
                    ROUTE_TYPE,
                    applied.unsubscribe_routes.iter().map(String::as_str),
                );
            }
        }
    }
    xds.flush();
    for name in missing {
        control.missing_everywhere(&name);
    }
    xds.check_initialized();
}

/// What an update changed, by the kind of resource.
enum Applied {
    Clusters(clusters::Applied),
    Listeners(listeners::Applied),
}

/// A worker waits for a cluster it does not have.
fn on_discovery(control: &Publisher, xds: &XdsState, asked: DiscoveryRequest) {
    let name = asked.cluster;
    let missing = xds.clusters.borrow().is_missing(&name);
    if missing {
        control.missing_for(asked.worker, name);
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
