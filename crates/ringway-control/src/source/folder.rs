//! What the cluster folder and the Envoy resource folders share: a folder
//! looked at by polling, whose `*.yaml`, `*.yml` and `*.json` files (names
//! starting with `.` skipped, as editors and atomic writers use them for
//! temporary files) each hold a list of named items. A file is read again
//! only when its stamp changes; a file that fails to load keeps the items
//! it last loaded; a removed file takes its items with it; a name defined
//! in two files is taken from the file that sorts first.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// An item a folder file holds, known by its name.
pub(super) trait Named: Clone + PartialEq {
    fn name(&self) -> &str;
}

/// The watched folder and the last good items of each file in it.
#[derive(Debug)]
pub(super) struct WatchedFolder<T> {
    dir: PathBuf,
    /// What the items are, for logs: `cluster`, `routes`, `listeners`.
    label: &'static str,
    files: BTreeMap<PathBuf, FileState<T>>,
    /// What the last scan that changed something reported.
    published: Option<Vec<T>>,
}

#[derive(Debug)]
struct FileState<T> {
    stamp: Stamp,
    /// `None` until the file first loads.
    items: Option<Vec<T>>,
}

/// What tells that a file changed: a replaced file has a new inode, an
/// edited one a new mtime or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// What one look at the folder found.
#[derive(Debug)]
pub(super) struct Scan<T> {
    /// Every item the folder holds, when that changed since the last scan
    /// (always on the first one); `None` when nothing changed.
    pub items: Option<Vec<T>>,
    /// Files read and loaded.
    pub loaded: u64,
    /// Files (or the folder) that could not be read or were refused.
    pub failed: u64,
}

impl<T: Named> WatchedFolder<T> {
    pub(super) fn new(dir: PathBuf, label: &'static str) -> Self {
        Self {
            dir,
            label,
            files: BTreeMap::new(),
            published: None,
        }
    }

    /// Looks at the folder once (blocking: reads files). `load` reads one
    /// changed file: its items, or `None` once it has logged why the file
    /// is refused.
    pub(super) fn scan(&mut self, mut load: impl FnMut(&Path) -> Option<Vec<T>>) -> Scan<T> {
        let label = self.label;
        let mut scan = Scan {
            items: None,
            loaded: 0,
            failed: 0,
        };
        let listed = match list(&self.dir) {
            Ok(listed) => listed,
            Err(err) => {
                tracing::error!(dir = %self.dir.display(), %err, "cannot list the {label} folder; keeping what was loaded");
                scan.failed += 1;
                return scan;
            }
        };
        let mut changed = self.published.is_none();
        self.files.retain(|path, state| {
            let keep = listed.contains_key(path);
            if !keep {
                tracing::info!(file = %path.display(), "{label} file removed");
                changed |= state.items.is_some();
            }
            keep
        });
        for (path, stamp) in listed {
            if self.files.get(&path).is_some_and(|f| f.stamp == stamp) {
                continue; // read before, loaded or refused: unchanged since
            }
            let items = load(&path);
            let state = self
                .files
                .entry(path)
                .or_insert(FileState { stamp, items: None });
            state.stamp = stamp;
            match items {
                Some(items) => {
                    scan.loaded += 1;
                    changed |= state.items.as_ref() != Some(&items);
                    state.items = Some(items);
                }
                None => scan.failed += 1,
            }
        }
        if changed {
            let merged = self.merge();
            if self.published.as_ref() != Some(&merged) {
                self.published = Some(merged.clone());
                scan.items = Some(merged);
            }
        }
        scan
    }

    /// Every file's last good items; a name already taken by a file that
    /// sorts earlier is left out, with an error naming both files.
    fn merge(&self) -> Vec<T> {
        let mut by_name: BTreeMap<&str, (&Path, &T)> = BTreeMap::new();
        for (path, state) in &self.files {
            for item in state.items.iter().flatten() {
                if let Some((first, _)) = by_name.get(item.name()) {
                    tracing::error!(name = %item.name(), kept = %first.display(), ignored = %path.display(), "{} defined in two files; the file that sorts first wins", self.label);
                } else {
                    by_name.insert(item.name(), (path, item));
                }
            }
        }
        by_name
            .into_values()
            .map(|(_, item)| item.clone())
            .collect()
    }
}

/// The wanted files in `dir`, with their stamps.
fn list(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, Stamp>> {
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
