//! On-demand cluster discovery on one core.
//!
//! A request whose route names a cluster this worker does not have waits
//! here while the control thread asks the control plane for it. Requests
//! for the same name share one wait and one question to the control
//! thread (which in turn shares one subscription among all workers). The
//! wait ends when a snapshot with the cluster is applied (found), when the
//! control thread says the control plane has no such cluster (missing), or
//! when the request's own timeout passes.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use ringway_config::model::{ClusterSource, Route, RouteAction};
use ringway_route::HeaderLookup;

use crate::signal::Signal;
use crate::state::{ActiveConfig, ClusterState, ListenerState, ProxyState};

/// Names waited for at once on one core, at most: beyond this, requests
/// for further unknown names are refused at once (bounds the state a
/// client sending random names can create).
const MAX_WAITING_NAMES: usize = 10_000;

/// Longest cluster name taken from a request.
const MAX_NAME_LEN: usize = 255;

/// A worker's question to the control thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryRequest {
    pub worker: usize,
    pub cluster: String,
}

/// How a wait for a cluster ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discovered {
    /// The current snapshot now has it.
    Found,
    /// The control plane says it does not exist.
    Missing,
    TimedOut,
    /// There is no control plane to ask, or too many names are pending.
    Unavailable,
}

/// The waits of one core.
#[derive(Debug, Default)]
pub struct Discovery {
    outbox: Option<async_channel::Sender<DiscoveryRequest>>,
    waiting: RefCell<HashMap<String, Rc<Pending>>>,
}

#[derive(Debug, Default)]
struct Pending {
    done: Signal,
    found: Cell<bool>,
}

impl Discovery {
    /// `outbox` reaches the control thread; `None` when there is no
    /// control plane.
    pub fn new(outbox: Option<async_channel::Sender<DiscoveryRequest>>) -> Self {
        Self {
            outbox,
            waiting: RefCell::new(HashMap::new()),
        }
    }

    /// Waits up to `timeout` for `name` to be discovered.
    pub(crate) async fn wait_for(
        &self,
        worker: usize,
        name: &str,
        timeout: Duration,
    ) -> Discovered {
        let Some(outbox) = &self.outbox else {
            return Discovered::Unavailable;
        };
        let existing = self.waiting.borrow().get(name).cloned();
        let pending = match existing {
            Some(p) => p,
            None => {
                if self.waiting.borrow().len() >= MAX_WAITING_NAMES {
                    return Discovered::Unavailable;
                }
                let request = DiscoveryRequest {
                    worker,
                    cluster: name.to_owned(),
                };
                if outbox.try_send(request).is_err() {
                    return Discovered::Unavailable;
                }
                let p = Rc::new(Pending::default());
                self.waiting.borrow_mut().insert(name.to_owned(), p.clone());
                p
            }
        };
        match monoio::time::timeout(timeout, pending.done.wait()).await {
            Ok(()) if pending.found.get() => Discovered::Found,
            Ok(()) => Discovered::Missing,
            Err(_) => Discovered::TimedOut,
        }
    }

    /// A snapshot was applied: wakes the waits whose cluster it has.
    pub(crate) fn found_in(&self, has: impl Fn(&str) -> bool) {
        let mut waiting = self.waiting.borrow_mut();
        if waiting.is_empty() {
            return;
        }
        waiting.retain(|name, pending| {
            if has(name) {
                pending.found.set(true);
                pending.done.fire();
                false
            } else {
                true
            }
        });
    }

    /// The control plane says `name` does not exist: ends its waits.
    pub fn missing(&self, name: &str) {
        if let Some(pending) = self.waiting.borrow_mut().remove(name) {
            pending.done.fire();
        }
    }
}

/// Why a forwarding route has no cluster for a request: a 503 `NC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoCluster {
    /// A `cluster_from` route, and the request names no (valid) cluster.
    NotNamed,
    /// Not in the config, and the route does not discover on demand.
    Unknown,
    /// The control plane says it does not exist.
    Missing,
    TimedOut,
}

impl NoCluster {
    /// The reply's body: one line, ending in a newline.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::NotNamed => "the request names no cluster\n",
            Self::Unknown => "unknown cluster\n",
            Self::Missing => "cluster not found\n",
            Self::TimedOut => "cluster discovery timed out\n",
        }
    }
}

/// The cluster a forwarding route sends this request to: the route's own,
/// one picked by weight, or the one the request names (`authority`,
/// `headers`). An unknown cluster is waited for when the route discovers
/// on demand.
pub(crate) async fn route_cluster(
    state: &ProxyState,
    config: &ActiveConfig,
    listener: &ListenerState,
    route: &Route,
    authority: &[u8],
    headers: &dyn HeaderLookup,
) -> Result<Rc<ClusterState>, NoCluster> {
    let stats = &listener.stats;
    let from_request = matches!(route.action, RouteAction::ClusterFrom(_));
    let name = match &route.action {
        RouteAction::Cluster(name) => Some(Cow::Borrowed(name.as_str())),
        RouteAction::ClusterFrom(source) => requested_name(source, authority, headers),
        RouteAction::WeightedClusters(choices) => state
            .weighted
            .borrow_mut()
            .pick(choices.iter().map(|c| c.weight))
            .and_then(|i| choices.get(i))
            .map(|c| Cow::Borrowed(c.name.as_str())),
        RouteAction::DirectResponse { .. } | RouteAction::Redirect(_) => None,
    };
    let Some(name) = name else {
        stats.on_demand_cluster_missing.inc();
        return Err(NoCluster::NotNamed);
    };
    if let Some(cluster) = config.clusters.get(&*name) {
        if from_request {
            stats.on_demand_cluster_hit.inc();
        }
        return Ok(cluster.clone());
    }
    let Some(timeout) = route.on_demand else {
        return Err(NoCluster::Unknown);
    };
    stats.on_demand_cluster_discovery.inc();
    let discovered = state
        .discovery
        .wait_for(state.worker_id, &name, timeout)
        .await;
    let found = match discovered {
        Discovered::Found => state.current().clusters.get(&*name).cloned(),
        Discovered::Missing | Discovered::Unavailable => None,
        Discovered::TimedOut => {
            stats.on_demand_cluster_timeout.inc();
            return Err(NoCluster::TimedOut);
        }
    };
    match found {
        Some(cluster) => {
            stats.on_demand_cluster_success.inc();
            Ok(cluster)
        }
        None => {
            stats.on_demand_cluster_missing.inc();
            Err(NoCluster::Missing)
        }
    }
}

/// The cluster name a request gives for a `cluster_from` route.
fn requested_name<'a>(
    source: &ClusterSource,
    authority: &'a [u8],
    headers: &'a dyn HeaderLookup,
) -> Option<Cow<'a, str>> {
    match source {
        ClusterSource::Authority => cluster_name(authority),
        ClusterSource::Header(header) => cluster_name(headers.find(header)?),
    }
}

/// The cluster name a request gives in its authority or a header: without
/// a port, lower-cased. `None` when it is empty, too long or not a name.
fn cluster_name(raw: &[u8]) -> Option<Cow<'_, str>> {
    let raw = raw.trim_ascii();
    let host = match raw.iter().rposition(|&b| b == b':') {
        // `[v6]:port`, `name:port`; a bare IPv6 address has no brackets
        // and several colons, and is kept whole.
        Some(i) if raw.starts_with(b"[") || !raw[..i].contains(&b':') => &raw[..i],
        _ => raw,
    };
    if host.is_empty() || host.len() > MAX_NAME_LEN {
        return None;
    }
    if !host
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'[' | b']' | b':'))
    {
        return None;
    }
    let text = std::str::from_utf8(host).ok()?;
    if host.iter().any(u8::is_ascii_uppercase) {
        Some(Cow::Owned(text.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_port_and_case() {
        let name = |s: &str| cluster_name(s.as_bytes()).map(|c| c.into_owned());
        assert_eq!(name("orders").as_deref(), Some("orders"));
        assert_eq!(name("Orders:8080").as_deref(), Some("orders"));
        assert_eq!(name(" orders.svc "), Some("orders.svc".into()));
        assert_eq!(name("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(name("::1").as_deref(), Some("::1"));
        assert_eq!(name(""), None);
        assert_eq!(name(":80"), None);
        assert_eq!(name("a b"), None);
        assert_eq!(name("a/b"), None);
        assert_eq!(name(&"x".repeat(256)), None);
    }
}
