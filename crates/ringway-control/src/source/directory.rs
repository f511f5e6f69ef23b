//! A folder of cluster files ([`WatchedFolder`]): each file holds a list
//! of clusters in the shape of ringway's `clusters:`.

use std::path::{Path, PathBuf};

use ringway_config::SystemResolver;
use ringway_config::model::Cluster;

use super::folder::{Named, WatchedFolder};
use super::{ClusterSource, Refresh};

/// The watched folder of cluster files.
#[derive(Debug)]
pub struct DirectorySource {
    folder: WatchedFolder<Cluster>,
}

impl Named for Cluster {
    fn name(&self) -> &str {
        &self.name
    }
}

impl DirectorySource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            folder: WatchedFolder::new(dir.into(), "cluster"),
        }
    }

    /// Looks at the folder once (blocking: reads files, resolves names).
    pub fn scan(&mut self) -> Refresh {
        let scan = self.folder.scan(load);
        Refresh {
            clusters: scan.items,
            loaded: scan.loaded,
            failed: scan.failed,
            answered: Vec::new(),
        }
    }
}

impl ClusterSource for DirectorySource {
    fn kind(&self) -> &'static str {
        "directory"
    }

    /// Scans in place on a multi-thread runtime's worker (reading files
    /// and resolving host names block); panics on a current-thread one.
    async fn refresh(&mut self) -> Refresh {
        tokio::task::block_in_place(|| self.scan())
    }
}

/// One cluster file's clusters, or `None` once the reasons it is refused
/// are logged.
fn load(path: &Path) -> Option<Vec<Cluster>> {
    match ringway_config::load_clusters_file(path, &SystemResolver) {
        Ok(clusters) => {
            tracing::info!(file = %path.display(), clusters = clusters.len(), "cluster file loaded");
            warn_uncarried(path, &clusters);
            Some(clusters)
        }
        Err(errors) => {
            for e in &errors.errors {
                tracing::error!(file = %e.file, field = %e.field, reason = %e.reason, "cluster file refused; its last good clusters stay");
            }
            None
        }
    }
}

fn warn_uncarried(path: &Path, clusters: &[Cluster]) {
    for cluster in clusters {
        let fields = ringway_envoy::uncarried_fields(cluster);
        if !fields.is_empty() {
            tracing::warn!(file = %path.display(), cluster = %cluster.name, fields = ?fields, "settings xDS cannot carry; proxies use their defaults for them");
        }
    }
}

#[cfg(test)]
mod tests;
