//! The client side of the delta (incremental) xDS exchange, without I/O:
//! which names are subscribed per type, which version of each resource is
//! held, and the requests that subscribe, ACK, NACK and resume a stream.
//!
//! The transport (a gRPC stream on the control thread) feeds responses in
//! with [`DeltaClient::receive`], validates the resources of the returned
//! [`Update`] and answers with [`DeltaClient::ack`] or
//! [`DeltaClient::nack`]; after a reconnect [`DeltaClient::resume`] gives
//! the first requests of the new stream.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::core::v3::{Locality, Node};
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, Resource,
};
use envoy_types::pb::google::rpc::Status;

/// `google.rpc.Code.INVALID_ARGUMENT`, the code of a NACK's error detail.
const INVALID_ARGUMENT: i32 = 3;

/// Subscriptions and held versions for every resource type.
#[derive(Debug)]
pub struct DeltaClient {
    node: Node,
    /// Whether the current stream has carried `node` yet.
    node_sent: bool,
    types: BTreeMap<String, TypeState>,
}

#[derive(Debug, Default)]
struct TypeState {
    /// A request of this type went out on the current stream. Until one
    /// has, a request that subscribes to no name would be read as the
    /// legacy wildcard (for Cluster and Listener), so none is sent.
    opened: bool,
    subscribed: BTreeSet<String>,
    /// Changes not yet sent on the stream.
    to_subscribe: BTreeSet<String>,
    to_unsubscribe: BTreeSet<String>,
    /// Name → version of each resource held (ACKed).
    versions: BTreeMap<String, String>,
}

/// One response, for the caller to validate before ACK or NACK.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub type_url: String,
    pub nonce: String,
    /// Added or changed resources.
    pub resources: Vec<Resource>,
    /// Deleted, or subscribed and found not to exist.
    pub removed: Vec<String>,
}

impl DeltaClient {
    pub fn new(node_id: &str, node_cluster: &str) -> Self {
        Self {
            node: Node {
                id: node_id.to_owned(),
                cluster: node_cluster.to_owned(),
                user_agent_name: "ringway".to_owned(),
                ..Default::default()
            },
            node_sent: false,
            types: BTreeMap::new(),
        }
    }

    /// Sets `node.locality.zone` (left unset when empty).
    pub fn with_zone(mut self, zone: &str) -> Self {
        self.node.locality = (!zone.is_empty()).then(|| Locality {
            zone: zone.to_owned(),
            ..Default::default()
        });
        self
    }

    /// Adds names to the subscription of `type_url` (sent by
    /// [`Self::pending_requests`]).
    pub fn subscribe<'a>(&mut self, type_url: &str, names: impl IntoIterator<Item = &'a str>) {
        let state = self.types.entry(type_url.to_owned()).or_default();
        for name in names {
            if state.subscribed.insert(name.to_owned()) {
                state.to_unsubscribe.remove(name);
                state.to_subscribe.insert(name.to_owned());
            }
        }
    }

    /// Removes names from the subscription of `type_url`, and forgets the
    /// resources held under them.
    pub fn unsubscribe<'a>(&mut self, type_url: &str, names: impl IntoIterator<Item = &'a str>) {
        let Some(state) = self.types.get_mut(type_url) else {
            return;
        };
        for name in names {
            if state.subscribed.remove(name) {
                state.to_subscribe.remove(name);
                state.to_unsubscribe.insert(name.to_owned());
                if name == crate::WILDCARD {
                    // What only the wildcard brought is forgotten.
                    let TypeState {
                        subscribed,
                        versions,
                        ..
                    } = &mut *state;
                    versions.retain(|n, _| subscribed.contains(n));
                } else if !state.subscribed.contains(crate::WILDCARD) {
                    // Under a wildcard the resource stays held (Envoy's
                    // "ambiguous" resources keep their version too).
                    state.versions.remove(name);
                }
            }
        }
    }

    /// Whether `name` of `type_url` is subscribed.
    pub fn is_subscribed(&self, type_url: &str, name: &str) -> bool {
        self.types
            .get(type_url)
            .is_some_and(|s| s.subscribed.contains(name))
    }

    /// The version held of a resource, if any.
    pub fn version(&self, type_url: &str, name: &str) -> Option<&str> {
        self.types
            .get(type_url)?
            .versions
            .get(name)
            .map(String::as_str)
    }

    /// Requests carrying subscription changes not sent yet, one per type.
    pub fn pending_requests(&mut self) -> Vec<DeltaDiscoveryRequest> {
        let mut out = Vec::new();
        let types: Vec<String> = self
            .types
            .iter()
            .filter(|(_, s)| !s.to_subscribe.is_empty() || !s.to_unsubscribe.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        for type_url in types {
            let Some(state) = self.types.get_mut(&type_url) else {
                continue;
            };
            let subscribe: Vec<String> = std::mem::take(&mut state.to_subscribe)
                .into_iter()
                .collect();
            let unsubscribe: Vec<String> = std::mem::take(&mut state.to_unsubscribe)
                .into_iter()
                .collect();
            if !state.opened && subscribe.is_empty() {
                // Names subscribed and dropped again before any request of
                // the type went out: the server knows none of them, and a
                // first request naming nothing would mean "everything".
                continue;
            }
            state.opened = true;
            let mut request = self.request(&type_url);
            request.resource_names_subscribe = subscribe;
            request.resource_names_unsubscribe = unsubscribe;
            out.push(request);
        }
        out
    }

    /// The first requests of a new stream: every type's whole subscription,
    /// with the versions held so the server sends only what changed. A
    /// wildcard subscription is sent as an explicit `*` (never as the
    /// legacy empty list, which a server could not tell from "nothing" if
    /// it predates the legacy rule), and `initial_resource_versions` then
    /// carries what the wildcard brought too; names the server said do
    /// not exist carry no version. Types subscribed to nothing send no
    /// request at all (an empty first request would be the legacy
    /// wildcard).
    pub fn resume(&mut self) -> Vec<DeltaDiscoveryRequest> {
        self.node_sent = false;
        for state in self.types.values_mut() {
            state.opened = !state.subscribed.is_empty();
        }
        let types: Vec<String> = self
            .types
            .iter()
            .filter(|(_, s)| !s.subscribed.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        let mut out = Vec::with_capacity(types.len());
        for type_url in types {
            let mut request = self.request(&type_url);
            if let Some(state) = self.types.get_mut(&type_url) {
                state.to_subscribe.clear();
                state.to_unsubscribe.clear();
                request.resource_names_subscribe = state.subscribed.iter().cloned().collect();
                request.initial_resource_versions = state
                    .versions
                    .iter()
                    .map(|(n, v)| (n.clone(), v.clone()))
                    .collect();
            }
            out.push(request);
        }
        out
    }

    /// Takes a response apart for validation. Resources of names not
    /// subscribed are dropped (a server may send them after an
    /// unsubscribe crossed its response).
    pub fn receive(&self, response: DeltaDiscoveryResponse) -> Update {
        let subscribed = self.types.get(&response.type_url).map(|s| &s.subscribed);
        let wanted = |name: &str| {
            subscribed.is_some_and(|s| s.contains(name) || s.contains(crate::WILDCARD))
        };
        Update {
            resources: response
                .resources
                .into_iter()
                .filter(|r| wanted(&r.name))
                .collect(),
            removed: response
                .removed_resources
                .into_iter()
                .filter(|n| wanted(n))
                .collect(),
            type_url: response.type_url,
            nonce: response.nonce,
        }
    }

    /// The update was applied: records its versions; returns the ACK.
    pub fn ack(&mut self, update: &Update) -> DeltaDiscoveryRequest {
        let state = self.types.entry(update.type_url.clone()).or_default();
        for resource in &update.resources {
            state
                .versions
                .insert(resource.name.clone(), resource.version.clone());
        }
        for name in &update.removed {
            state.versions.remove(name);
        }
        let mut request = self.request(&update.type_url);
        request.response_nonce = update.nonce.clone();
        request
    }

    /// The update was refused whole: nothing is recorded; returns the NACK
    /// with `message` (which should name each resource, field and reason).
    pub fn nack(&mut self, update: &Update, message: &str) -> DeltaDiscoveryRequest {
        let mut request = self.request(&update.type_url);
        request.response_nonce = update.nonce.clone();
        request.error_detail = Some(Status {
            code: INVALID_ARGUMENT,
            message: message.to_owned(),
            details: Vec::new(),
        });
        request
    }

    /// A request of `type_url`, carrying `node` if it is the stream's first.
    fn request(&mut self, type_url: &str) -> DeltaDiscoveryRequest {
        let node = (!self.node_sent).then(|| self.node.clone());
        self.node_sent = true;
        DeltaDiscoveryRequest {
            node,
            type_url: type_url.to_owned(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{CLUSTER_TYPE, ENDPOINTS_TYPE};

    fn response(
        type_url: &str,
        nonce: &str,
        resources: &[(&str, &str)],
        removed: &[&str],
    ) -> DeltaDiscoveryResponse {
        DeltaDiscoveryResponse {
            type_url: type_url.into(),
            nonce: nonce.into(),
            resources: resources
                .iter()
                .map(|(name, version)| Resource {
                    name: (*name).into(),
                    version: (*version).into(),
                    ..Default::default()
                })
                .collect(),
            removed_resources: removed.iter().map(|s| (*s).into()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn subscribe_ack_nack_resume() {
        let mut client = DeltaClient::new("sidecar-1", "orders");
        client.subscribe(CLUSTER_TYPE, ["a", "b"]);
        client.subscribe(CLUSTER_TYPE, ["a"]);
        let first = client.pending_requests();
        assert_eq!(first.len(), 1);
        assert_eq!(
            first[0].node.as_ref().map(|n| n.id.as_str()),
            Some("sidecar-1")
        );
        assert_eq!(first[0].resource_names_subscribe, ["a", "b"]);
        assert!(
            client.pending_requests().is_empty(),
            "changes are sent once"
        );

        // `b` does not exist; `z` was never asked for.
        let update = client.receive(response(
            CLUSTER_TYPE,
            "n1",
            &[("a", "v1"), ("z", "v1")],
            &["b"],
        ));
        assert_eq!(update.resources.len(), 1);
        assert_eq!(update.removed, ["b"]);
        let ack = client.ack(&update);
        assert!(ack.node.is_none(), "node goes on the first request only");
        assert_eq!(ack.response_nonce, "n1");
        assert!(ack.error_detail.is_none());
        assert_eq!(client.version(CLUSTER_TYPE, "a"), Some("v1"));

        let update = client.receive(response(CLUSTER_TYPE, "n2", &[("a", "v2")], &[]));
        let nack = client.nack(&update, "Cluster `a`: outlier_detection: not supported");
        assert_eq!(nack.response_nonce, "n2");
        assert_eq!(nack.error_detail.as_ref().map(|s| s.code), Some(3));
        assert_eq!(
            client.version(CLUSTER_TYPE, "a"),
            Some("v1"),
            "a NACK keeps the old version"
        );

        client.subscribe(ENDPOINTS_TYPE, ["a"]);
        client.unsubscribe(CLUSTER_TYPE, ["b"]);
        let resumed = client.resume();
        assert_eq!(resumed.len(), 2);
        let clusters = resumed.iter().find(|r| r.type_url == CLUSTER_TYPE).unwrap();
        assert_eq!(clusters.resource_names_subscribe, ["a"]);
        assert_eq!(
            clusters
                .initial_resource_versions
                .get("a")
                .map(String::as_str),
            Some("v1")
        );
        assert!(resumed[0].node.is_some(), "a new stream starts with node");
        assert!(
            client.pending_requests().is_empty(),
            "resume carried every change"
        );
    }

    #[test]
    fn unsubscribe_forgets_versions() {
        let mut client = DeltaClient::new("n", "c");
        client.subscribe(ENDPOINTS_TYPE, ["a"]);
        let _ = client.pending_requests();
        let update = client.receive(response(ENDPOINTS_TYPE, "n1", &[("a", "7")], &[]));
        let _ = client.ack(&update);
        client.unsubscribe(ENDPOINTS_TYPE, ["a"]);
        assert_eq!(client.version(ENDPOINTS_TYPE, "a"), None);
        let sent = client.pending_requests();
        assert_eq!(sent[0].resource_names_unsubscribe, ["a"]);
        assert!(!client.is_subscribed(ENDPOINTS_TYPE, "a"));
        // A response that crossed the unsubscribe is ignored.
        let late = client.receive(response(ENDPOINTS_TYPE, "n2", &[("a", "8")], &[]));
        assert!(late.resources.is_empty());
    }

    #[test]
    fn no_first_request_names_nothing() {
        // Subscribed and dropped before anything went out: no request, as
        // an empty first Cluster request would be the legacy wildcard.
        let mut client = DeltaClient::new("n", "c");
        client.subscribe(CLUSTER_TYPE, ["a"]);
        client.unsubscribe(CLUSTER_TYPE, ["a"]);
        assert!(client.pending_requests().is_empty());
        // Once a request went out, an unsubscribe-only request is fine.
        client.subscribe(CLUSTER_TYPE, ["b"]);
        assert_eq!(client.pending_requests()[0].resource_names_subscribe, ["b"]);
        client.unsubscribe(CLUSTER_TYPE, ["b"]);
        let sent = client.pending_requests();
        assert_eq!(sent[0].resource_names_unsubscribe, ["b"]);
        // A new stream with nothing subscribed sends nothing, and a change
        // that cancels out on it neither.
        assert!(client.resume().is_empty());
        client.subscribe(CLUSTER_TYPE, ["c"]);
        client.unsubscribe(CLUSTER_TYPE, ["c"]);
        assert!(client.pending_requests().is_empty());
    }

    #[test]
    fn wildcard_subscription_and_resume() {
        let mut client = DeltaClient::new("n", "c").with_zone("z1");
        client.subscribe(CLUSTER_TYPE, [crate::WILDCARD, "named"]);
        let first = client.pending_requests();
        assert_eq!(
            first[0].resource_names_subscribe,
            ["*", "named"],
            "explicit `*`"
        );
        assert_eq!(
            first[0]
                .node
                .as_ref()
                .and_then(|n| n.locality.as_ref())
                .map(|l| l.zone.as_str()),
            Some("z1")
        );
        let update = client.receive(response(
            CLUSTER_TYPE,
            "n1",
            &[("a", "1"), ("named", "2")],
            &[],
        ));
        assert_eq!(update.resources.len(), 2, "the wildcard brings a");
        let _ = client.ack(&update);
        // Removed under the wildcard: forgotten.
        let update = client.receive(response(CLUSTER_TYPE, "n2", &[("b", "1")], &["a"]));
        let _ = client.ack(&update);
        // Unsubscribing a name the wildcard also brings keeps its version.
        client.unsubscribe(CLUSTER_TYPE, ["named"]);
        assert_eq!(client.version(CLUSTER_TYPE, "named"), Some("2"));
        let resumed = client.resume();
        assert_eq!(resumed[0].resource_names_subscribe, ["*"]);
        let mut versions: Vec<(&str, &str)> = resumed[0]
            .initial_resource_versions
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        versions.sort();
        assert_eq!(
            versions,
            [("b", "1"), ("named", "2")],
            "what the wildcard brought too"
        );
        // Dropping `*` forgets what only it brought.
        client.subscribe(CLUSTER_TYPE, ["b"]);
        client.unsubscribe(CLUSTER_TYPE, [crate::WILDCARD]);
        assert_eq!(client.version(CLUSTER_TYPE, "named"), None);
        assert_eq!(client.version(CLUSTER_TYPE, "b"), Some("1"));
    }
}
