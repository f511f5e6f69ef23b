//! Route files in ringway's own shape, beside Envoy's in `--routes-dir`.
//! A file is in ringway's shape when its top level is a mapping with the
//! key `route_configurations` (no Envoy `RouteConfiguration` has that
//! field); each entry is a `name` and `virtual_hosts` written exactly as a
//! listener's in ringway.yaml, checked by ringway-config, then rendered to
//! an Envoy `RouteConfiguration` (ringway-envoy's `route_configuration`) and
//! served and hashed as an Envoy file would be.
//!
//! Two route settings have no place in an Envoy `RouteConfiguration`, so a
//! file setting them is refused rather than served without them:
//! `on_demand` and `max_request_body_bytes` (they belong in the proxy's own
//! config).

use std::path::Path;

use ringway_config::ConfigErrors;
use ringway_config::model::RouteConfiguration;
use serde_json::Value;

use super::envoy_folder::{FileError, Served, route_served};

/// Whether a route file's document is in ringway's shape.
pub fn is_ringway_shape(document: &Value) -> bool {
    document
        .as_object()
        .is_some_and(|top| top.contains_key("route_configurations"))
}

/// Every route configuration in the file, rendered and checked, or why the
/// file is refused (the first problem, with a count of the others).
pub fn load(path: &Path, text: &str) -> Result<Vec<Served>, FileError> {
    let source = path.display().to_string();
    let configs =
        ringway_config::load_route_configurations_str(&source, text).map_err(|e| file_error(&e))?;
    let mut out = Vec::with_capacity(configs.len());
    for (i, config) in configs.iter().enumerate() {
        let at = format!("route_configurations[{i}]");
        carried(&at, config)?;
        let rendered = ringway_envoy::route_configuration(&config.name, &config.virtual_hosts);
        let canonical = ringway_envoy::text::render(&rendered, false)
            .to_string()
            .into_bytes();
        let served = route_served(rendered, canonical, path).map_err(|e| FileError {
            field: format!("{at}.{}", e.field),
            reason: format!("rendered for xDS: {}", e.reason),
        })?;
        out.push(served);
    }
    Ok(out)
}

/// Refuses the route settings an Envoy `RouteConfiguration` cannot carry.
fn carried(at: &str, config: &RouteConfiguration) -> Result<(), FileError> {
    for (v, vhost) in config.virtual_hosts.iter().enumerate() {
        for (r, route) in vhost.routes.iter().enumerate() {
            let field = |name: &str| format!("{at}.virtual_hosts[{v}].routes[{r}].{name}");
            let uncarried = if route.on_demand.is_some() {
                Some("on_demand")
            } else if route.max_request_body_bytes.is_some() {
                Some("max_request_body_bytes")
            } else {
                None
            };
            if let Some(name) = uncarried {
                return Err(FileError {
                    field: field(name),
                    reason: "not carried by an Envoy RouteConfiguration over xDS: set it in the proxy's own config".into(),
                });
            }
        }
    }
    Ok(())
}

/// ringway-config's errors as one refusal: the first names the field; the
/// others follow in the reason.
fn file_error(errors: &ConfigErrors) -> FileError {
    let mut all = errors.errors.iter();
    let Some(first) = all.next() else {
        return FileError {
            field: "-".into(),
            reason: "invalid route configurations".into(),
        };
    };
    let mut reason = first.reason.clone();
    for other in all {
        reason.push_str(&format!("; also {}: {}", other.field, other.reason));
    }
    FileError {
        field: first.field.clone(),
        reason,
    }
}

#[cfg(test)]
mod tests;
