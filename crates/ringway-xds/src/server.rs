//! The server side of the delta exchange, without I/O: one versioned
//! resource set, and per connected proxy what it subscribed to and which
//! version of each resource it was sent, so that each proxy gets only what
//! changed among what it asked for.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, Resource,
};
use envoy_types::pb::google::protobuf::Any;

/// The subscription to every resource of a type (Envoy's wildcard).
pub const WILDCARD: &str = "*";

/// Whether a type has a wildcard subscription, and with it the legacy
/// form: a stream's first request of the type that subscribes to no name
/// (`resource_names_subscribe` empty) subscribes to `*` (xDS protocol,
/// "How the client specifies what resources to return"). Envoy's first
/// CDS and LDS requests are that.
pub fn wildcard_capable(type_url: &str) -> bool {
    type_url == crate::CLUSTER_TYPE || type_url == crate::LISTENER_TYPE
}

/// Every resource the control plane serves, by type and name, each with
/// the version it last changed at.
#[derive(Debug, Default)]
pub struct ResourceSet {
    types: BTreeMap<String, BTreeMap<String, Versioned>>,
    /// Bumped at every change (the responses' `system_version_info`).
    generation: u64,
    /// Names being looked up (by type): not reported as missing yet.
    looking_up: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Versioned {
    version: String,
    resource: Any,
}

/// One proxy's stream.
#[derive(Debug, Default)]
pub struct ProxyStream {
    node: Option<Node>,
    types: BTreeMap<String, StreamType>,
    nonces: u64,
}

#[derive(Debug, Default)]
struct StreamType {
    /// A request of the type has arrived on this stream.
    requested: bool,
    subscribed: BTreeSet<String>,
    /// Name → version the proxy holds (as sent, or as it said on resume).
    sent: BTreeMap<String, String>,
    /// Subscribed names already reported as not existing.
    told_missing: BTreeSet<String>,
    /// The last response not yet answered.
    pending_nonce: Option<String>,
    /// Versions of the last response the proxy ACKed.
    acked: BTreeMap<String, String>,
    in_flight: BTreeMap<String, String>,
    last_nack: Option<String>,
}

/// What one proxy has asked for and accepted, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub type_url: String,
    pub subscribed: Vec<String>,
    pub acked: BTreeMap<String, String>,
    pub last_nack: Option<String>,
}

impl ResourceSet {
    /// Adds or replaces a resource; returns whether it changed.
    pub fn upsert(&mut self, type_url: &str, name: &str, resource: Any) -> bool {
        let resources = self.types.entry(type_url.to_owned()).or_default();
        if resources.get(name).is_some_and(|v| v.resource == resource) {
            return false;
        }
        self.generation += 1;
        resources.insert(
            name.to_owned(),
            Versioned {
                version: content_version(&resource),
                resource,
            },
        );
        true
    }

    /// Adds or replaces a resource whose encoding may vary for the same
    /// content (protobuf maps are encoded in no fixed order): its version
    /// is the hash of `content`, a canonical form of it (like its JSON
    /// with sorted keys), so replicas give it the same version. Returns
    /// whether it changed.
    pub fn upsert_canonical(
        &mut self,
        type_url: &str,
        name: &str,
        resource: Any,
        content: &[u8],
    ) -> bool {
        let version = hash_version(type_url, content);
        let resources = self.types.entry(type_url.to_owned()).or_default();
        if resources.get(name).is_some_and(|v| v.version == version) {
            return false;
        }
        self.generation += 1;
        resources.insert(name.to_owned(), Versioned { version, resource });
        true
    }

    /// Removes a resource; returns whether it was there.
    pub fn remove(&mut self, type_url: &str, name: &str) -> bool {
        let removed = self
            .types
            .get_mut(type_url)
            .is_some_and(|r| r.remove(name).is_some());
        if removed {
            self.generation += 1;
        }
        removed
    }

    /// The names of every resource of a type.
    pub fn names(&self, type_url: &str) -> impl Iterator<Item = &str> {
        self.types
            .get(type_url)
            .into_iter()
            .flat_map(|r| r.keys().map(String::as_str))
    }

    /// The change counter: bumped by every upsert that changed something
    /// and every removal (`system_version_info` of responses).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks a name as being looked up: until [`Self::looked_up`], a proxy
    /// that asks for it is not told it does not exist (the answer waits).
    pub fn look_up(&mut self, type_url: &str, name: &str) {
        self.looking_up
            .entry(type_url.to_owned())
            .or_default()
            .insert(name.to_owned());
    }

    /// The look-up of a name ended; returns whether it was pending. If the
    /// name still does not exist, proxies that asked are now told so.
    pub fn looked_up(&mut self, type_url: &str, name: &str) -> bool {
        let ended = self
            .looking_up
            .get_mut(type_url)
            .is_some_and(|names| names.remove(name));
        if ended {
            self.generation += 1;
        }
        ended
    }

    fn is_looking_up(&self, type_url: &str, name: &str) -> bool {
        self.looking_up
            .get(type_url)
            .is_some_and(|names| names.contains(name))
    }

    /// The version a resource has, if it exists.
    pub fn version(&self, type_url: &str, name: &str) -> Option<&str> {
        self.types
            .get(type_url)?
            .get(name)
            .map(|v| v.version.as_str())
    }
}

/// A resource's version: a hash of its content, so that a restarted
/// control plane gives unchanged resources the versions proxies already
/// hold (and a changed one never reuses an old version by chance, as a
/// counter starting again at 1 would).
fn content_version(resource: &Any) -> String {
    hash_version(&resource.type_url, &resource.value)
}

/// FNV-1a, 64 bits, over the type and the bytes: stable across builds and
/// platforms.
fn hash_version(type_url: &str, bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in type_url.bytes().chain(bytes.iter().copied()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl ProxyStream {
    /// The node the proxy named in its first request.
    pub fn node(&self) -> Option<&Node> {
        self.node.as_ref()
    }

    /// Applies a request: subscription changes, resume versions, ACK or
    /// NACK of the pending response. Returns the NACK's message, if any.
    pub fn on_request(&mut self, request: DeltaDiscoveryRequest) -> Option<String> {
        if request.node.is_some() {
            self.node = request.node;
        }
        let legacy_wildcard = wildcard_capable(&request.type_url);
        let state = self.types.entry(request.type_url).or_default();
        // The legacy wildcard: the stream's first request of the type names
        // nothing. It is a subscription to `*` like any other: later names
        // add to it, and only unsubscribing `*` ends it.
        if legacy_wildcard && !state.requested && request.resource_names_subscribe.is_empty() {
            state.subscribed.insert(WILDCARD.to_owned());
        }
        state.requested = true;
        for name in request.resource_names_subscribe {
            state.told_missing.remove(&name);
            state.subscribed.insert(name);
        }
        for name in request.resource_names_unsubscribe {
            state.subscribed.remove(&name);
            state.told_missing.remove(&name);
            if name == WILDCARD {
                // The proxy drops what only the wildcard brought.
                let StreamType {
                    subscribed,
                    sent,
                    acked,
                    ..
                } = &mut *state;
                sent.retain(|n, _| subscribed.contains(n));
                acked.retain(|n, _| subscribed.contains(n));
            } else if !state.subscribed.contains(WILDCARD) {
                // Under a wildcard the proxy keeps it; otherwise it is gone.
                state.sent.remove(&name);
                state.acked.remove(&name);
            }
        }
        for (name, version) in request.initial_resource_versions {
            state.sent.insert(name.clone(), version.clone());
            state.acked.insert(name, version);
        }
        let answered = !request.response_nonce.is_empty()
            && state.pending_nonce.as_deref() == Some(request.response_nonce.as_str());
        if !answered {
            return None;
        }
        state.pending_nonce = None;
        let in_flight = std::mem::take(&mut state.in_flight);
        match request.error_detail {
            Some(status) => {
                state.last_nack = Some(status.message.clone());
                Some(status.message)
            }
            None => {
                for (name, version) in in_flight {
                    if version.is_empty() {
                        state.acked.remove(&name);
                    } else {
                        state.acked.insert(name, version);
                    }
                }
                None
            }
        }
    }

    /// Whether a response of this type is waiting for its ACK or NACK.
    pub fn awaiting_answer(&self, type_url: &str) -> bool {
        self.types
            .get(type_url)
            .is_some_and(|s| s.pending_nonce.is_some())
    }

    /// The changes to send for one type, if any: resources the proxy
    /// subscribed to whose version it does not hold, and names it holds
    /// (or asked for) that do not exist. Nothing is sent while a response
    /// of the type waits for its answer.
    pub fn next_response(
        &mut self,
        set: &ResourceSet,
        type_url: &str,
    ) -> Option<DeltaDiscoveryResponse> {
        let state = self.types.get_mut(type_url)?;
        if state.pending_nonce.is_some() {
            return None;
        }
        let current = set.types.get(type_url);
        let mut resources = Vec::new();
        let mut removed = Vec::new();
        let wildcard = state.subscribed.contains(WILDCARD);
        let mut names: BTreeSet<&String> =
            state.subscribed.iter().filter(|n| *n != WILDCARD).collect();
        if wildcard {
            names.extend(current.into_iter().flat_map(|r| r.keys()));
            names.extend(state.sent.keys());
        }
        for name in names {
            let explicit = state.subscribed.contains(name);
            match current.and_then(|r| r.get(name)) {
                Some(v) if state.sent.get(name) != Some(&v.version) => {
                    resources.push(Resource {
                        name: name.clone(),
                        version: v.version.clone(),
                        resource: Some(v.resource.clone()),
                        ..Default::default()
                    });
                }
                Some(_) => {}
                None if state.sent.contains_key(name)
                    || (explicit
                        && !state.told_missing.contains(name)
                        && !set.is_looking_up(type_url, name)) =>
                {
                    removed.push(name.clone());
                }
                None => {}
            }
        }
        if resources.is_empty() && removed.is_empty() {
            return None;
        }
        for r in &resources {
            state.sent.insert(r.name.clone(), r.version.clone());
            state.told_missing.remove(&r.name);
            state.in_flight.insert(r.name.clone(), r.version.clone());
        }
        for name in &removed {
            state.sent.remove(name);
            state.told_missing.insert(name.clone());
            state.in_flight.insert(name.clone(), String::new());
        }
        self.nonces += 1;
        let nonce = self.nonces.to_string();
        state.pending_nonce = Some(nonce.clone());
        Some(DeltaDiscoveryResponse {
            system_version_info: set.generation.to_string(),
            resources,
            type_url: type_url.to_owned(),
            removed_resources: removed,
            nonce,
            ..Default::default()
        })
    }

    /// [`Self::next_response`] for every type the proxy has named.
    pub fn next_responses(&mut self, set: &ResourceSet) -> Vec<DeltaDiscoveryResponse> {
        let types: Vec<String> = self.types.keys().cloned().collect();
        types
            .iter()
            .filter_map(|type_url| self.next_response(set, type_url))
            .collect()
    }

    /// Subscriptions, ACKed versions and the last NACK, per type.
    pub fn status(&self) -> Vec<StreamStatus> {
        self.types
            .iter()
            .map(|(type_url, s)| StreamStatus {
                type_url: type_url.clone(),
                subscribed: s.subscribed.iter().cloned().collect(),
                acked: s.acked.clone(),
                last_nack: s.last_nack.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use envoy_types::pb::google::rpc::Status;

    use super::*;
    use crate::{CLUSTER_TYPE, DeltaClient};

    fn any(bytes: &[u8]) -> Any {
        Any {
            type_url: CLUSTER_TYPE.into(),
            value: bytes.to_vec(),
        }
    }

    #[test]
    fn sends_only_what_changed_among_what_was_asked() {
        let mut set = ResourceSet::default();
        assert!(set.upsert(CLUSTER_TYPE, "a", any(b"a1")));
        assert!(set.upsert(CLUSTER_TYPE, "b", any(b"b1")));
        assert!(
            !set.upsert(CLUSTER_TYPE, "a", any(b"a1")),
            "same bytes, same version"
        );

        let mut client = DeltaClient::new("sidecar-1", "orders");
        let mut stream = ProxyStream::default();
        client.subscribe(CLUSTER_TYPE, ["a", "missing"]);
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        assert_eq!(stream.node().map(|n| n.id.as_str()), Some("sidecar-1"));
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        let names: Vec<&str> = response.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a"], "b was not asked for");
        assert_eq!(
            response.removed_resources,
            ["missing"],
            "missing is said not to exist"
        );
        assert!(
            stream.next_response(&set, CLUSTER_TYPE).is_none(),
            "one response in flight"
        );

        let update = client.receive(response);
        stream.on_request(client.ack(&update));
        assert!(
            stream.next_response(&set, CLUSTER_TYPE).is_none(),
            "nothing changed"
        );

        // `b` changes: not subscribed, nothing to send. `a` changes: sent.
        set.upsert(CLUSTER_TYPE, "b", any(b"b2"));
        assert!(stream.next_response(&set, CLUSTER_TYPE).is_none());
        set.upsert(CLUSTER_TYPE, "a", any(b"a2"));
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(response.resources.len(), 1);
        assert!(
            response.removed_resources.is_empty(),
            "missing is not repeated"
        );
        let update = client.receive(response);
        let nack = client.nack(&update, "Cluster `a`: outlier_detection: not supported");
        assert_eq!(
            stream.on_request(nack).as_deref(),
            Some("Cluster `a`: outlier_detection: not supported")
        );
        let status = stream.status();
        assert_eq!(
            status[0].last_nack.as_deref(),
            Some("Cluster `a`: outlier_detection: not supported")
        );
        assert_eq!(
            status[0].acked.get("a").map(String::as_str),
            Some(content_version(&any(b"a1")).as_str()),
            "the ACKed version stays"
        );

        // `missing` appears, `a` goes away.
        set.upsert(CLUSTER_TYPE, "missing", any(b"m1"));
        set.remove(CLUSTER_TYPE, "a");
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(response.resources[0].name, "missing");
        assert_eq!(response.removed_resources, ["a"]);
    }

    #[test]
    fn versions_follow_content_across_restarts() {
        let mut first = ResourceSet::default();
        first.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        let mut restarted = ResourceSet::default();
        restarted.upsert(CLUSTER_TYPE, "x", any(b"x1"));
        restarted.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        assert_eq!(
            first.version(CLUSTER_TYPE, "a"),
            restarted.version(CLUSTER_TYPE, "a")
        );
        restarted.upsert(CLUSTER_TYPE, "a", any(b"a2"));
        assert_ne!(
            first.version(CLUSTER_TYPE, "a"),
            restarted.version(CLUSTER_TYPE, "a")
        );
    }

    #[test]
    fn a_wildcard_gets_everything_and_each_removal() {
        let mut set = ResourceSet::default();
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        set.upsert(CLUSTER_TYPE, "b", any(b"b1"));
        let mut client = DeltaClient::new("n", "c");
        client.subscribe(CLUSTER_TYPE, [WILDCARD, "ghost"]);
        let mut stream = ProxyStream::default();
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        let mut names: Vec<_> = response.resources.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            response.removed_resources,
            ["ghost"],
            "explicit names still get an answer"
        );
        let update = client.receive(response);
        assert_eq!(
            update.resources.len(),
            2,
            "the client takes what the wildcard brings"
        );
        stream.on_request(client.ack(&update));

        set.upsert(CLUSTER_TYPE, "c", any(b"c1"));
        set.remove(CLUSTER_TYPE, "a");
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(response.resources[0].name, "c");
        assert_eq!(response.removed_resources, ["a"]);
        stream.on_request(client.ack(&client.receive(response)));
        assert!(stream.next_response(&set, CLUSTER_TYPE).is_none());
    }

    #[test]
    fn a_canonical_upsert_versions_by_content_not_by_bytes() {
        let mut set = ResourceSet::default();
        let route = |bytes: &[u8]| Any {
            type_url: crate::ROUTE_TYPE.into(),
            value: bytes.to_vec(),
        };
        assert!(set.upsert_canonical(crate::ROUTE_TYPE, "r", route(b"ab"), b"{}"));
        let first = set.version(crate::ROUTE_TYPE, "r").unwrap().to_owned();
        assert!(
            !set.upsert_canonical(crate::ROUTE_TYPE, "r", route(b"ba"), b"{}"),
            "other bytes, same content: unchanged"
        );
        let mut replica = ResourceSet::default();
        replica.upsert_canonical(crate::ROUTE_TYPE, "r", route(b"ba"), b"{}");
        assert_eq!(
            replica.version(crate::ROUTE_TYPE, "r"),
            Some(first.as_str())
        );
        assert!(set.upsert_canonical(crate::ROUTE_TYPE, "r", route(b"ab"), b"{\"x\":1}"));
        assert_ne!(set.version(crate::ROUTE_TYPE, "r"), Some(first.as_str()));
        assert_eq!(set.generation(), 2);
    }

    /// RDS has no wildcard: a route configuration is asked for by name,
    /// and a name that does not exist is answered in `removed_resources`.
    #[test]
    fn route_configurations_are_served_by_name_only() {
        let mut set = ResourceSet::default();
        let route = Any {
            type_url: crate::ROUTE_TYPE.into(),
            value: b"r1".to_vec(),
        };
        set.upsert_canonical(crate::ROUTE_TYPE, "local_route", route.clone(), b"r1");
        set.upsert_canonical(crate::ROUTE_TYPE, "other", route, b"r2");
        let mut stream = ProxyStream::default();
        stream.on_request(request(crate::ROUTE_TYPE, &[], &[]));
        assert!(
            stream.next_response(&set, crate::ROUTE_TYPE).is_none(),
            "an empty first RDS request asks for nothing"
        );
        stream.on_request(request(crate::ROUTE_TYPE, &["local_route", "ghost"], &[]));
        let r = stream.next_response(&set, crate::ROUTE_TYPE).unwrap();
        assert_eq!(names(&r), ["local_route"]);
        assert_eq!(r.removed_resources, ["ghost"]);
        ack(&mut stream, &r);
        set.remove(crate::ROUTE_TYPE, "local_route");
        let r = stream.next_response(&set, crate::ROUTE_TYPE).unwrap();
        assert_eq!(r.removed_resources, ["local_route"]);
    }

    #[test]
    fn next_responses_covers_every_type() {
        let mut set = ResourceSet::default();
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        set.upsert(crate::ENDPOINTS_TYPE, "a", any(b"e1"));
        assert_eq!(set.generation(), 2);
        let mut client = DeltaClient::new("p", "c");
        client.subscribe(CLUSTER_TYPE, ["a"]);
        client.subscribe(crate::ENDPOINTS_TYPE, ["a"]);
        let mut stream = ProxyStream::default();
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        let types: Vec<String> = stream
            .next_responses(&set)
            .into_iter()
            .map(|r| r.type_url)
            .collect();
        assert_eq!(types, [CLUSTER_TYPE, crate::ENDPOINTS_TYPE]);
        assert!(stream.next_responses(&set).is_empty(), "both in flight");
    }

    #[test]
    fn a_resumed_stream_gets_only_what_changed_meanwhile() {
        let mut set = ResourceSet::default();
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        set.upsert(CLUSTER_TYPE, "b", any(b"b1"));
        let mut client = DeltaClient::new("p", "c");
        client.subscribe(CLUSTER_TYPE, ["a", "b"]);
        let mut stream = ProxyStream::default();
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        let update = client.receive(stream.next_response(&set, CLUSTER_TYPE).unwrap());
        stream.on_request(client.ack(&update));

        // The stream breaks; `b` changes while it is down.
        set.upsert(CLUSTER_TYPE, "b", any(b"b2"));
        let mut stream = ProxyStream::default();
        for r in client.resume() {
            stream.on_request(r);
        }
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        let names: Vec<&str> = response.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b"]);
        // A stale answer to an old nonce is ignored.
        let stale = DeltaDiscoveryRequest {
            type_url: CLUSTER_TYPE.into(),
            response_nonce: "999".into(),
            error_detail: Some(Status::default()),
            ..Default::default()
        };
        assert!(stream.on_request(stale).is_none());
        assert!(stream.awaiting_answer(CLUSTER_TYPE));
    }

    #[test]
    fn a_name_being_looked_up_is_not_reported_missing_until_the_look_up_ends() {
        let mut set = ResourceSet::default();
        let mut client = DeltaClient::new("p", "c");
        client.subscribe(CLUSTER_TYPE, ["orders"]);
        let mut stream = ProxyStream::default();
        set.look_up(CLUSTER_TYPE, "orders");
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        assert!(stream.next_response(&set, CLUSTER_TYPE).is_none());
        // Found: sent as a resource.
        set.upsert(CLUSTER_TYPE, "orders", any(b"o1"));
        assert!(set.looked_up(CLUSTER_TYPE, "orders"));
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(response.resources[0].name, "orders");
        stream.on_request(client.ack(&client.receive(response)));

        // Not found: reported missing once the look-up ends.
        client.subscribe(CLUSTER_TYPE, ["nope"]);
        set.look_up(CLUSTER_TYPE, "nope");
        for r in client.pending_requests() {
            stream.on_request(r);
        }
        assert!(stream.next_response(&set, CLUSTER_TYPE).is_none());
        assert!(set.looked_up(CLUSTER_TYPE, "nope"));
        assert!(!set.looked_up(CLUSTER_TYPE, "nope"));
        let response = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(response.removed_resources, ["nope"]);
    }

    fn request(type_url: &str, subscribe: &[&str], unsubscribe: &[&str]) -> DeltaDiscoveryRequest {
        DeltaDiscoveryRequest {
            type_url: type_url.into(),
            resource_names_subscribe: subscribe.iter().map(|s| (*s).into()).collect(),
            resource_names_unsubscribe: unsubscribe.iter().map(|s| (*s).into()).collect(),
            ..Default::default()
        }
    }

    fn names(response: &DeltaDiscoveryResponse) -> Vec<&str> {
        let mut names: Vec<&str> = response.resources.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        names
    }

    fn ack(stream: &mut ProxyStream, response: &DeltaDiscoveryResponse) {
        stream.on_request(DeltaDiscoveryRequest {
            type_url: response.type_url.clone(),
            response_nonce: response.nonce.clone(),
            ..Default::default()
        });
    }

    /// The xDS protocol's incremental example, step by step, for both
    /// wildcard-capable types.
    #[test]
    fn the_legacy_wildcard_follows_the_protocol_example() {
        for type_url in [CLUSTER_TYPE, crate::LISTENER_TYPE] {
            let mut set = ResourceSet::default();
            set.upsert(type_url, "a", any(b"a1"));
            set.upsert(type_url, "b", any(b"b1"));
            let mut stream = ProxyStream::default();
            // 1. Nothing named on the first request: `*`.
            stream.on_request(DeltaDiscoveryRequest {
                node: Some(Node::default()),
                ..request(type_url, &[], &[])
            });
            let r = stream.next_response(&set, type_url).unwrap();
            assert_eq!(names(&r), ["a", "b"], "{type_url}: everything");
            ack(&mut stream, &r);
            // 2. Subscribing to `a` keeps `*`.
            stream.on_request(request(type_url, &["a"], &[]));
            assert!(stream.next_response(&set, type_url).is_none(), "a is held");
            set.upsert(type_url, "c", any(b"c1"));
            let r = stream.next_response(&set, type_url).unwrap();
            assert_eq!(names(&r), ["c"], "still a wildcard");
            ack(&mut stream, &r);
            // 3. Unsubscribing `*` keeps `a` only.
            stream.on_request(request(type_url, &[], &["*"]));
            assert_eq!(stream.status()[0].subscribed, ["a"]);
            set.upsert(type_url, "d", any(b"d1"));
            set.upsert(type_url, "b", any(b"b2"));
            assert!(
                stream.next_response(&set, type_url).is_none(),
                "b, d not asked for"
            );
            set.upsert(type_url, "a", any(b"a2"));
            let r = stream.next_response(&set, type_url).unwrap();
            assert_eq!(names(&r), ["a"]);
            ack(&mut stream, &r);
            // 4. Unsubscribing `a` leaves nothing; an empty request now
            // is not a wildcard.
            stream.on_request(request(type_url, &[], &["a"]));
            stream.on_request(request(type_url, &[], &[]));
            assert!(stream.status()[0].subscribed.is_empty());
            set.upsert(type_url, "e", any(b"e1"));
            assert!(stream.next_response(&set, type_url).is_none());
        }
    }

    #[test]
    fn the_legacy_wildcard_is_for_clusters_and_listeners_only_and_first_requests_only() {
        let mut set = ResourceSet::default();
        set.upsert(crate::ENDPOINTS_TYPE, "a", any(b"e1"));
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        let mut stream = ProxyStream::default();
        stream.on_request(request(crate::ENDPOINTS_TYPE, &[], &[]));
        assert!(stream.next_response(&set, crate::ENDPOINTS_TYPE).is_none());
        // Named first: no wildcard, and none later either.
        stream.on_request(request(CLUSTER_TYPE, &["x"], &[]));
        stream.on_request(request(CLUSTER_TYPE, &[], &["x"]));
        stream.on_request(request(CLUSTER_TYPE, &[], &[]));
        let r = stream.next_response(&set, CLUSTER_TYPE);
        assert!(r.as_ref().is_none_or(|r| r.resources.is_empty()), "{r:?}");
        // An explicit `*` works the same as the legacy form.
        let mut explicit = ProxyStream::default();
        explicit.on_request(request(CLUSTER_TYPE, &["*"], &[]));
        assert_eq!(
            names(&explicit.next_response(&set, CLUSTER_TYPE).unwrap()),
            ["a"]
        );
    }

    #[test]
    fn a_resumed_legacy_wildcard_gets_only_what_changed() {
        let mut set = ResourceSet::default();
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        set.upsert(CLUSTER_TYPE, "b", any(b"b1"));
        let held: std::collections::HashMap<String, String> = ["a", "b"]
            .iter()
            .map(|n| {
                (
                    (*n).to_owned(),
                    set.version(CLUSTER_TYPE, n).unwrap().to_owned(),
                )
            })
            .collect();
        set.upsert(CLUSTER_TYPE, "b", any(b"b2"));
        set.remove(CLUSTER_TYPE, "a");
        set.upsert(CLUSTER_TYPE, "c", any(b"c1"));
        // What Envoy sends when it reconnects with a wildcard only.
        let mut stream = ProxyStream::default();
        stream.on_request(DeltaDiscoveryRequest {
            initial_resource_versions: held,
            ..request(CLUSTER_TYPE, &[], &[])
        });
        let r = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        assert_eq!(names(&r), ["b", "c"]);
        assert_eq!(r.removed_resources, ["a"]);
    }

    #[test]
    fn unsubscribing_a_name_under_the_wildcard_keeps_it_held() {
        let mut set = ResourceSet::default();
        set.upsert(CLUSTER_TYPE, "a", any(b"a1"));
        let mut stream = ProxyStream::default();
        stream.on_request(request(CLUSTER_TYPE, &["*", "a"], &[]));
        let r = stream.next_response(&set, CLUSTER_TYPE).unwrap();
        ack(&mut stream, &r);
        stream.on_request(request(CLUSTER_TYPE, &[], &["a"]));
        assert!(
            stream.next_response(&set, CLUSTER_TYPE).is_none(),
            "the wildcard still brings a, and the proxy has it"
        );
        // Dropping `*` too: the proxy forgets a; asking again re-sends it.
        stream.on_request(request(CLUSTER_TYPE, &[], &["*"]));
        stream.on_request(request(CLUSTER_TYPE, &["a"], &[]));
        assert_eq!(
            names(&stream.next_response(&set, CLUSTER_TYPE).unwrap()),
            ["a"]
        );
    }
}
