//! ringway's configuration: the file format, its validation, and the
//! immutable [`model::Snapshot`] every worker serves from.
//!
//! A file is read in two steps. Wire types mirror the text (YAML, or
//! JSON) and are filled in by serde, which reports a bad shape with the path
//! of the field and its line. Validation then turns them into the
//! [`model`], checking every value and cross-reference and collecting all
//! the problems, so that one run lists every mistake in the file. Host
//! names of endpoints are resolved once, here, through a [`Resolve`].
//!
//! ```
//! let yaml = r#"
//! listeners:
//!   - name: main
//!     address: "127.0.0.1:10000"
//!     virtual_hosts:
//!       - name: all
//!         domains: ["*"]
//!         routes:
//!           - match: { prefix: "/" }
//!             cluster: backend
//! clusters:
//!   - name: backend
//!     endpoints: ["127.0.0.1:8080"]
//! "#;
//! let snapshot = ringway_config::load_str("inline.yaml", yaml, &ringway_config::SystemResolver)
//!     .map_err(|e| e.to_string())?;
//! assert_eq!(snapshot.listeners[0].name, "main");
//! # Ok::<(), String>(())
//! ```

#![forbid(unsafe_code)]

pub mod defaults;
mod error;
pub mod model;
mod parse;
mod resolve;
mod validate;
mod wire;

use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use resolve::{Resolve, SystemResolver};

/// Checks of single values, shared with the Envoy conversion
/// (`ringway-envoy`) so both config formats accept the same names,
/// domains, headers, paths and patterns.
pub mod values {
    pub use crate::validate::value::{
        ValueError, authority, domain, header_name, name, pattern, url_path,
    };
}

use parse::Format;

/// Reads and validates a config file: JSON when its extension is `.json`,
/// else YAML. Errors name the file by `path` as given.
pub fn load_file(path: &Path, resolver: &dyn Resolve) -> Result<model::Snapshot, ConfigErrors> {
    let (source, text) = read(path)?;
    load(&source, &text, Format::of(&source), resolver)
}

/// Validates config text. `source` names it in errors and in the snapshot
/// (a path, or something like `embedded:quickstart`); the text is read as
/// JSON when `source` ends in `.json`, else as YAML.
pub fn load_str(
    source: &str,
    text: &str,
    resolver: &dyn Resolve,
) -> Result<model::Snapshot, ConfigErrors> {
    load(source, text, Format::of(source), resolver)
}

/// Reads and validates a file that holds only a list of clusters, in the
/// shape of a config's `clusters:` entries (as `ringway-control`'s
/// cluster folder has). An empty file is an empty list.
pub fn load_clusters_file(
    path: &Path,
    resolver: &dyn Resolve,
) -> Result<Vec<model::Cluster>, ConfigErrors> {
    let (source, text) = read(path)?;
    let list = parse::parse_clusters(&source, &text, Format::of(&source))?;
    validate::validate_clusters(&source, &list, resolver)
}

/// Validates a file of route configurations on their own, as a control
/// plane's routes folder has them: `route_configurations:`, a list of
/// `{ name, virtual_hosts }` with the virtual hosts written as a listener's.
/// Cluster names are checked as names only (the proxy asks its control
/// plane for them). `source` names the file in errors and picks the format
/// (JSON for `.json`, else YAML).
pub fn load_route_configurations_str(
    source: &str,
    text: &str,
) -> Result<Vec<model::RouteConfiguration>, ConfigErrors> {
    let file = parse::parse_routes(source, text, Format::of(source))?;
    validate::validate_route_configurations(source, &file)
}

/// Validates a route template: `route: { timeout: 2s }`, what every route
/// a control plane generates gets (left out: ringway's defaults).
pub fn load_route_template_str(
    source: &str,
    text: &str,
) -> Result<model::RouteTemplate, ConfigErrors> {
    let file = parse::parse_route_template(source, text, Format::of(source))?;
    validate::validate_route_template(source, &file)
}

/// The file's text, and its name as given for errors.
fn read(path: &Path) -> Result<(String, String), ConfigError> {
    let source = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((source, text)),
        Err(e) => Err(ConfigError::new(
            &source,
            ConfigError::WHOLE_FILE,
            format!("cannot read the file: {e}"),
        )),
    }
}

fn load(
    source: &str,
    text: &str,
    format: Format,
    resolver: &dyn Resolve,
) -> Result<model::Snapshot, ConfigErrors> {
    let file = parse::parse(source, text, format)?;
    validate::validate(source, &file, resolver)
}
