//! The gRPC `AggregatedDiscoveryService`: delta streams only. Each stream
//! gets a task that applies the proxy's requests and the set's changes to
//! its [`ringway_xds::ProxyStream`] (in the hub) and sends what is due.

use std::net::SocketAddr;
use std::sync::Arc;

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::AggregatedDiscoveryService;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::hub::Hub;

/// Responses queued per stream: at most one per type is in flight.
const QUEUE: usize = 16;

/// The service, over the shared hub.
#[derive(Debug, Clone)]
pub struct Ads {
    hub: Arc<Hub>,
}

impl Ads {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

#[tonic::async_trait]
impl AggregatedDiscoveryService for Ads {
    type StreamAggregatedResourcesStream = ReceiverStream<Result<DiscoveryResponse, Status>>;
    type DeltaAggregatedResourcesStream = ReceiverStream<Result<DeltaDiscoveryResponse, Status>>;

    async fn stream_aggregated_resources(
        &self,
        _request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamAggregatedResourcesStream>, Status> {
        Err(Status::unimplemented(
            "ringway-control speaks delta xDS only: use DeltaAggregatedResources",
        ))
    }

    async fn delta_aggregated_resources(
        &self,
        request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaAggregatedResourcesStream>, Status> {
        let peer = request.remote_addr();
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(QUEUE);
        let hub = self.hub.clone();
        tokio::spawn(serve_stream(hub, peer, inbound, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

type Outbound = mpsc::Sender<Result<DeltaDiscoveryResponse, Status>>;

/// One proxy's stream, until it ends, fails or the server stops.
async fn serve_stream(
    hub: Arc<Hub>,
    peer: Option<SocketAddr>,
    mut inbound: Streaming<DeltaDiscoveryRequest>,
    tx: Outbound,
) {
    let id = hub.connect(peer);
    let mut changed = hub.watch();
    changed.borrow_and_update();
    let peer_text = peer.map(|p| p.to_string()).unwrap_or_default();
    tracing::info!(stream = id, peer = %peer_text, "proxy connected");
    loop {
        let responses = tokio::select! {
            request = inbound.next() => match request {
                Some(Ok(request)) => hub.on_request(id, request),
                Some(Err(status)) => {
                    tracing::info!(stream = id, %status, "stream failed");
                    break;
                }
                None => break,
            },
            result = changed.changed() => {
                if result.is_err() || hub.closing() {
                    break;
                }
                hub.pending(id)
            }
        };
        if !send_all(&tx, responses).await {
            break;
        }
    }
    hub.disconnect(id);
    tracing::info!(stream = id, peer = %peer_text, "proxy disconnected");
}

/// Sends in order; false once the proxy has gone.
async fn send_all(tx: &Outbound, responses: Vec<DeltaDiscoveryResponse>) -> bool {
    for response in responses {
        tracing::debug!(type_url = %response.type_url, nonce = %response.nonce, resources = response.resources.len(), removed = response.removed_resources.len(), "sending");
        if tx.send(Ok(response)).await.is_err() {
            return false;
        }
    }
    true
}
