//! A folder of cluster files, looked at by polling. Each `*.yaml`, `*.yml`
//! or `*.json` file (names starting with `.` are skipped, as editors and
//! atomic writers use them for temporary files) holds a list of clusters in
//! the shape of ringway's `clusters:`. A file that fails to load keeps the
//! clusters it last loaded; a removed file takes its clusters with it; a
//! name defined in two files is taken from the file that sorts first.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ringway_config::SystemResolver;
use ringway_config::model::Cluster;

use super::{ClusterSource, Refresh};

/// The watched folder and the last good clusters of each file in it.
#[derive(Debug)]
pub struct DirectorySource {
    dir: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
    /// What the last refresh that changed something reported.
    published: Option<Vec<Cluster>>,
}

#[derive(Debug)]
struct FileState {
    stamp: Stamp,
    /// `None` until the file first loads.
    clusters: Option<Vec<Cluster>>,
}

/// What tells that a file changed: a replaced file has a new inode, an
/// edited one a new mtime or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl DirectorySource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            files: BTreeMap::new(),
            published: None,
        }
    }

    /// Looks at the folder once (blocking: reads files, resolves names).
    pub fn scan(&mut self) -> Refresh {
        let mut refresh = Refresh::default();
        let listed = match list(&self.dir) {
            Ok(listed) => listed,
            Err(err) => {
                tracing::error!(dir = %self.dir.display(), %err, "cannot list the clusters folder; keeping what was loaded");
                refresh.failed += 1;
                return refresh;
            }
        };
        let mut changed = self.published.is_none();
        self.files.retain(|path, state| {
            let keep = listed.contains_key(path);
            if !keep {
                tracing::info!(file = %path.display(), "cluster file removed");
                changed |= state.clusters.is_some();
            }
            keep
        });
        for (path, stamp) in listed {
            if self.files.get(&path).is_some_and(|f| f.stamp == stamp) {
                continue; // read before, loaded or refused: unchanged since
            }
            let state = self.files.entry(path.clone()).or_insert(FileState {
                stamp,
                clusters: None,
            });
            state.stamp = stamp;
            match ringway_config::load_clusters_file(&path, &SystemResolver) {
                Ok(clusters) => {
                    refresh.loaded += 1;
                    tracing::info!(file = %path.display(), clusters = clusters.len(), "cluster file loaded");
                    warn_uncarried(&path, &clusters);
                    changed |= state.clusters.as_ref() != Some(&clusters);
                    state.clusters = Some(clusters);
                }
                Err(errors) => {
                    refresh.failed += 1;
                    for e in &errors.errors {
                        tracing::error!(file = %e.file, field = %e.field, reason = %e.reason, "cluster file refused; its last good clusters stay");
                    }
                }
            }
        }
        if changed {
            let merged = self.merge();
            if self.published.as_ref() != Some(&merged) {
                self.published = Some(merged.clone());
                refresh.clusters = Some(merged);
            }
        }
        refresh
    }

    /// Every file's last good clusters; a name already taken by a file
    /// that sorts earlier is left out, with an error naming both files.
    fn merge(&self) -> Vec<Cluster> {
        let mut by_name: BTreeMap<&str, (&Path, &Cluster)> = BTreeMap::new();
        for (path, state) in &self.files {
            for cluster in state.clusters.iter().flatten() {
                if let Some((first, _)) = by_name.get(cluster.name.as_str()) {
                    tracing::error!(cluster = %cluster.name, kept = %first.display(), ignored = %path.display(), "cluster defined in two files; the file that sorts first wins");
                } else {
                    by_name.insert(&cluster.name, (path, cluster));
                }
            }
        }
        by_name.into_values().map(|(_, c)| c.clone()).collect()
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

/// The cluster files in `dir`, with their stamps.
pub(super) fn list(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Stamp>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
        let wanted = [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e));
        if name.starts_with('.') || !wanted {
            continue;
        }
        // Follows symbolic links; a file gone meanwhile is skipped.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() {
            let stamp = Stamp {
                modified: meta.modified().ok(),
                len: meta.len(),
                inode: meta.ino(),
            };
            out.insert(path, stamp);
        }
    }
    Ok(out)
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
