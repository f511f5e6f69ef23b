//! A folder of Envoy resources of one type ([`WatchedFolder`]): each file
//! holds one Envoy v3 `RouteConfiguration` (for `--routes-dir`) or
//! `Listener` (for `--listeners-dir`) in proto3's JSON mapping, or a list
//! of them (route files may also be in ringway's shape). Every resource is
//! read and checked with ringway-envoy's conversion, as a proxy would; a
//! file with any bad resource is refused whole and its last good
//! resources stay.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use ringway_envoy::text::{self, Format};
use serde_json::{Value, json};

use super::folder::{Named, WatchedFolder};
use super::ringway_routes;
use crate::hub::Hub;

/// Which Envoy resource a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Routes,
    Listeners,
}

/// One checked resource, ready to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub name: String,
    /// Encoded once; every stream sends these bytes.
    pub resource: Any,
    /// The resource as JSON with sorted keys: what its version hashes
    /// (its protobuf encoding may order map entries differently).
    pub canonical: Vec<u8>,
    /// What the admin API shows of it.
    pub summary: Value,
    /// A listener's route configuration, when it takes its routes by name.
    pub rds: Option<String>,
    pub file: PathBuf,
}

/// What one look at the folder found.
#[derive(Debug, Default)]
pub struct FolderRefresh {
    /// Every resource the folder holds, when that changed (always on the
    /// first look); `None` when nothing changed.
    pub resources: Option<Vec<Served>>,
    pub loaded: u64,
    pub failed: u64,
}

/// Why a file was refused: the field path (`[1].virtual_hosts[0]...` in
/// a list) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub field: String,
    pub reason: String,
}

/// The watched folder of one kind of Envoy resource.
#[derive(Debug)]
pub struct EnvoyFolder {
    kind: Kind,
    folder: WatchedFolder<Served>,
    /// Names ringway-control generates itself (the sidecar's): a file
    /// defining one is refused.
    reserved: Vec<(String, &'static str)>,
}

impl Named for Served {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Kind {
    /// The `type_url` the resources are served under.
    pub fn type_url(self) -> &'static str {
        match self {
            Self::Routes => ringway_xds::ROUTE_TYPE,
            Self::Listeners => ringway_xds::LISTENER_TYPE,
        }
    }

    /// A short name for logs, the hub and the stats.
    pub fn label(self) -> &'static str {
        match self {
            Self::Routes => "routes",
            Self::Listeners => "listeners",
        }
    }

    fn message_name(self) -> &'static str {
        match self {
            Self::Routes => "envoy.config.route.v3.RouteConfiguration",
            Self::Listeners => "envoy.config.listener.v3.Listener",
        }
    }
}

impl EnvoyFolder {
    pub fn new(kind: Kind, dir: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            folder: WatchedFolder::new(dir.into(), kind.label()),
            reserved: Vec::new(),
        }
    }

    /// Refuses files that define `name`, which `by` generates.
    pub fn reserving(mut self, name: &str, by: &'static str) -> Self {
        self.reserved.push((name.to_owned(), by));
        self
    }

    /// Looks at the folder once (blocking: reads files).
    pub fn scan(&mut self) -> FolderRefresh {
        let Self {
            kind,
            folder,
            reserved,
        } = self;
        let label = kind.label();
        let scan = folder.scan(|path| {
            match load(*kind, path).and_then(|r| check_reserved(reserved, &r).map(|()| r)) {
                Ok(resources) => {
                    tracing::info!(file = %path.display(), resources = resources.len(), "{label} file loaded");
                    Some(resources)
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), field = %e.field, reason = %e.reason, "{label} file refused; its last good resources stay");
                    None
                }
            }
        });
        FolderRefresh {
            resources: scan.items,
            loaded: scan.loaded,
            failed: scan.failed,
        }
    }
}

/// Why a file's resources may not be served: one takes a name in
/// `reserved`, which ringway-control generates itself.
fn check_reserved(
    reserved: &[(String, &'static str)],
    resources: &[Served],
) -> Result<(), FileError> {
    for (i, served) in resources.iter().enumerate() {
        if let Some((name, by)) = reserved.iter().find(|(n, _)| *n == served.name) {
            return Err(FileError {
                field: format!("name (resource {i} of the file)"),
                reason: format!(
                    "`{name}` is generated by ringway-control ({by}): give this one another name"
                ),
            });
        }
    }
    Ok(())
}

/// Runs a folder for good: looks at it every `interval` and hands what
/// changed to the hub. Needs a multi-thread runtime (reading blocks).
pub async fn drive_folder(mut folder: EnvoyFolder, hub: Arc<Hub>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let refresh = tokio::task::block_in_place(|| folder.scan());
        hub.folder_refreshed(folder.kind, refresh);
    }
}

/// Reads one file: every resource in it, or why the file is refused.
pub fn load(kind: Kind, path: &Path) -> Result<Vec<Served>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        field: "-".into(),
        reason: e.to_string(),
    })?;
    let format = Format::of(&path.to_string_lossy());
    let document = text::document(&text, format).map_err(|e| FileError {
        field: e.field,
        reason: e.reason,
    })?;
    if kind == Kind::Routes && ringway_routes::is_ringway_shape(&document) {
        return ringway_routes::load(path, &text);
    }
    let (documents, listed) = match document {
        Value::Array(items) => (items, true),
        Value::Null => (Vec::new(), false),
        one => (vec![one], false),
    };
    let mut out: Vec<Served> = Vec::with_capacity(documents.len());
    for (i, document) in documents.iter().enumerate() {
        let at = |field: &str| -> String {
            match (listed, field) {
                (false, f) => f.to_owned(),
                (true, "-") => format!("[{i}]"),
                (true, f) => format!("[{i}].{f}"),
            }
        };
        let served = resource(kind, document, path).map_err(|e| FileError {
            field: at(&e.field),
            reason: e.reason,
        })?;
        if out.iter().any(|s| s.name == served.name) {
            return Err(FileError {
                field: at("name"),
                reason: format!("`{}` is defined twice in this file", served.name),
            });
        }
        out.push(served);
    }
    Ok(out)
}

/// One resource from its document: read as the Envoy message, checked
/// with ringway-envoy's conversion, encoded.
fn resource(kind: Kind, document: &Value, path: &Path) -> Result<Served, FileError> {
    let refused = |field: String, reason: String| FileError { field, reason };
    let message =
        text::message(kind.message_name(), document).map_err(|e| refused(e.field, e.reason))?;
    let canonical = text::to_json(&message).to_string().into_bytes();
    let bytes = message.encode_to_vec();
    let decode_error = |e: prost::DecodeError| refused("-".into(), e.to_string());
    match kind {
        Kind::Routes => {
            let config = RouteConfiguration::decode(bytes.as_slice()).map_err(decode_error)?;
            route_served(config, canonical, path)
        }
        Kind::Listeners => {
            let listener = Listener::decode(bytes.as_slice()).map_err(decode_error)?;
            listener_served(listener, canonical, path)
        }
    }
}

/// A Listener checked with ringway-envoy's conversion, as a proxy would,
/// and made ready to serve; `canonical` is what its version hashes (see
/// [`Served::canonical`]).
pub(crate) fn listener_served(
    listener: Listener,
    canonical: Vec<u8>,
    path: &Path,
) -> Result<Served, FileError> {
    named(&listener.name)?;
    let model = ringway_envoy::listener(&listener, "").map_err(|r| FileError {
        field: r.field,
        reason: r.reason,
    })?;
    let summary = json!({
        "file": path.display().to_string(),
        "address": model.address.to_string(),
        "rds": model.rds.as_deref(),
        "virtual_hosts": model.virtual_hosts.len(),
    });
    Ok(Served {
        resource: Any {
            type_url: Kind::Listeners.type_url().to_owned(),
            value: listener.encode_to_vec(),
        },
        name: listener.name,
        canonical,
        summary,
        rds: model.rds,
        file: path.to_owned(),
    })
}

/// A RouteConfiguration checked with ringway-envoy's conversion, as a
/// proxy would, and made ready to serve; `canonical` is what its version
/// hashes (see [`Served::canonical`]).
pub(crate) fn route_served(
    config: RouteConfiguration,
    canonical: Vec<u8>,
    path: &Path,
) -> Result<Served, FileError> {
    named(&config.name)?;
    let hosts = ringway_envoy::virtual_hosts(&config).map_err(|r| FileError {
        field: r.field,
        reason: r.reason,
    })?;
    let domains: usize = config.virtual_hosts.iter().map(|v| v.domains.len()).sum();
    let summary = json!({
        "file": path.display().to_string(),
        "virtual_hosts": hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        "domains": domains,
        "routes": hosts.iter().map(|h| h.routes.len()).sum::<usize>(),
    });
    Ok(Served {
        resource: Any {
            type_url: Kind::Routes.type_url().to_owned(),
            value: config.encode_to_vec(),
        },
        name: config.name,
        canonical,
        summary,
        rds: None,
        file: path.to_owned(),
    })
}

/// A served resource needs a name: proxies ask for it by name.
fn named(name: &str) -> Result<(), FileError> {
    if name.is_empty() {
        return Err(FileError {
            field: "name".into(),
            reason: "required: resources are served by name".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
