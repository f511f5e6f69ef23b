//! Eureka as a source of clusters: the registry ringway-control serves
//! itself (`--eureka-registry-address`), external Eureka servers read by a
//! client (`--eureka-url`), or both. Every VIP that an instance lists
//! becomes a cluster of that name (lower-cased; `name:port` entries give
//! `name`) whose endpoints are the VIP's UP instances, with default
//! settings. A proxy asking for a name nobody has makes the client fetch
//! at once; the proxy hears "does not exist" only after that fetch.

use std::collections::BTreeSet;
use std::time::Duration;

use ringway_config::model::Cluster;
use ringway_eureka::Registry;
use ringway_eureka::model::vip_name;
use ringway_eureka_client::EurekaClient;

use super::{ClusterSource, Refresh};
use crate::registry::EurekaRegistry;

/// A refresh waits at most this long for the fetch a question caused.
const FETCH_WAIT_CAP: Duration = Duration::from_secs(10);

/// The registries followed and what was last published from them.
#[derive(Debug)]
pub struct EurekaSource {
    registry: Option<EurekaRegistry>,
    client: Option<EurekaClient>,
    fetch_wait: Duration,
    /// A proxy asked for a name since the last refresh.
    asked: bool,
    /// (built-in registry change count, client registry generation) the
    /// last refresh built from.
    built_from: Option<(u64, u64)>,
    published: Option<Vec<Cluster>>,
    /// Client rounds already counted in `loaded` / `failed`.
    rounds_seen: u64,
}

impl EurekaSource {
    /// Follows the built-in registry, an external one, or both (the
    /// built-in registry's instance wins when both hold the same id).
    pub fn new(
        registry: Option<EurekaRegistry>,
        client: Option<EurekaClient>,
        request_timeout: Duration,
    ) -> Self {
        Self {
            registry,
            client,
            fetch_wait: (request_timeout * 2).min(FETCH_WAIT_CAP),
            asked: false,
            built_from: None,
            published: None,
            rounds_seen: 0,
        }
    }

    /// Waits (bounded) for the client's next round after asking for one.
    async fn fetch_now(&self) {
        let Some(client) = &self.client else {
            return;
        };
        let mut views = client.watch();
        let before = views.borrow_and_update().rounds;
        client.fetch_now();
        let _ = tokio::time::timeout(self.fetch_wait, views.wait_for(|view| view.rounds > before))
            .await;
    }
}

impl ClusterSource for EurekaSource {
    fn kind(&self) -> &'static str {
        "eureka"
    }

    fn looks_up(&self) -> bool {
        true
    }

    fn wanted(&mut self, name: &str) {
        tracing::debug!(cluster = %name, "eureka: a proxy asked for a name nobody has");
        self.asked = true;
    }

    async fn refresh(&mut self) -> Refresh {
        if std::mem::take(&mut self.asked) {
            self.fetch_now().await;
        }
        let mut refresh = Refresh::default();
        let view = self.client.as_ref().map(|c| c.view());
        if let Some(view) = &view
            && view.rounds > self.rounds_seen
        {
            self.rounds_seen = view.rounds;
            match view.stale_since {
                None => refresh.loaded += 1,
                Some(_) => refresh.failed += 1,
            }
        }
        let stamp = (
            self.registry.as_ref().map_or(0, |r| *r.changes().borrow()),
            view.as_ref().map_or(0, |v| v.generation),
        );
        if self.built_from == Some(stamp) {
            return refresh;
        }
        self.built_from = Some(stamp);
        let mut merged = view.map(|v| (*v.registry).clone()).unwrap_or_default();
        if let Some(registry) = &self.registry {
            for instance in registry.snapshot().instances() {
                merged.upsert(instance.clone());
            }
        }
        let clusters = clusters(&merged).await;
        if self.published.as_ref() != Some(&clusters) {
            tracing::info!(
                clusters = clusters.len(),
                instances = merged.len(),
                "eureka: VIPs changed"
            );
            self.published = Some(clusters.clone());
            refresh.clusters = Some(clusters);
        }
        refresh
    }
}

/// One cluster per VIP name listed by any instance (`name:port` entries
/// give `name`).
async fn clusters(registry: &Registry) -> Vec<Cluster> {
    let index = registry.vip_index(false);
    let names: BTreeSet<&str> = index.names().map(vip_name).collect();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let endpoints = ringway_eureka_client::endpoints(index.resolve(name)).await;
        out.push(Cluster::with_defaults(name, endpoints));
    }
    out
}
