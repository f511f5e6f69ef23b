//! Where clusters come from. A source is anything that can list the
//! clusters it knows ([`ClusterSource::refresh`]); a folder of files is the
//! first ([`DirectorySource`]). A source can also be told that a proxy asked
//! for a name nobody has ([`ClusterSource::wanted`]), for registries that
//! look names up on demand.
//!
//! Routes and listeners come from folders of Envoy resources
//! ([`EnvoyFolder`], one per type), checked as a proxy would check them;
//! a route file may also be in ringway's own shape (`ringway_routes`).

mod directory;
mod envoy_folder;
mod eureka;
mod folder;
mod ringway_routes;
#[cfg(test)]
mod test_dir;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ringway_config::model::Cluster;
use tokio::sync::mpsc;

use crate::hub::Hub;

pub use directory::DirectorySource;
pub use envoy_folder::{EnvoyFolder, FileError, FolderRefresh, Kind, Served, drive_folder};
pub(crate) use envoy_folder::{listener_served, route_served};
pub use eureka::EurekaSource;

/// What one look at a source found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Refresh {
    /// Every cluster the source holds, when that changed since the last
    /// refresh (always on the first one); `None` when nothing changed.
    pub clusters: Option<Vec<Cluster>>,
    /// Reads (files, fetches) that succeeded during this refresh.
    pub loaded: u64,
    /// Reads that failed; the source kept what it had before.
    pub failed: u64,
    /// Names proxies asked for ([`ClusterSource::wanted`]) that this
    /// refresh has looked up, found or not.
    pub answered: Vec<String>,
}

/// A source of clusters.
pub trait ClusterSource: Send + 'static {
    /// A short name for logs and stats, like `directory`.
    fn kind(&self) -> &'static str;

    /// Whether the source looks up names proxies ask for: then a proxy
    /// waits for its next refresh before it hears "does not exist".
    fn looks_up(&self) -> bool {
        false
    }

    /// Looks at the source again.
    fn refresh(&mut self) -> impl Future<Output = Refresh> + Send;

    /// A proxy subscribed to a cluster `name` that no resource has. A
    /// source that can resolve names on demand starts doing so, and reports
    /// the cluster from a later refresh; the default ignores it.
    fn wanted(&mut self, name: &str) {
        let _ = name;
    }
}

/// Runs a source for good: refreshes it every `interval`, and at once after
/// a proxy asks for an unknown name; hands what it finds to the hub.
pub async fn drive<S: ClusterSource>(
    mut source: S,
    hub: Arc<Hub>,
    interval: Duration,
    mut wanted: mpsc::UnboundedReceiver<String>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut asked = Vec::new();
        tokio::select! {
            _ = tick.tick() => {}
            Some(name) = wanted.recv() => asked.push(name),
        }
        while let Ok(name) = wanted.try_recv() {
            asked.push(name);
        }
        for name in &asked {
            source.wanted(name);
        }
        let mut refresh = source.refresh().await;
        if source.looks_up() {
            refresh.answered = asked;
        }
        hub.source_refreshed(source.kind(), refresh);
    }
}
