//! Which cluster a forwarding request goes to: the route's own, one picked
//! by weight, or the one the request names (`cluster_from`), waiting for
//! on-demand discovery when it is unknown and the route allows it.

use std::borrow::Cow;
use std::rc::Rc;

use ringway_config::model::{ClusterSource, Route, RouteAction};
use ringway_route::HeaderLookup;

use super::context::RequestContext;
use super::reply::NoCluster;
use crate::discovery::{Discovered, MAX_NAME_LEN};
use crate::state::ClusterState;

/// The cluster a forwarding route sends this request to: the route's own,
/// one picked by weight, or the one the request names (`authority`,
/// `headers`). An unknown cluster is waited for when the route discovers
/// on demand.
pub(crate) async fn route_cluster(
    ctx: &RequestContext<'_>,
    route: &Route,
    authority: &[u8],
    headers: &dyn HeaderLookup,
) -> Result<Rc<ClusterState>, NoCluster> {
    let RequestContext {
        state,
        config,
        listener,
        ..
    } = *ctx;
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
