//! `/config_dump` in Envoy's shape: an `envoy.admin.v3.ConfigDump` whose
//! `configs` are, in Envoy's order, the bootstrap, clusters, (endpoints
//! with `?include_eds`), listeners, routes, scoped routes and secrets
//! dumps, each with its `@type`, rendered through ringway-envoy.
//!
//! `?resource=` (a repeated field of one dump), `?mask=` (a field mask,
//! applied to each dump, or with `resource` to each element, reaching into
//! its `Any` as Envoy does), `?name_regex=` (whole-name match on the
//! resources' names) and `?include_eds` behave as in Envoy.

use std::time::{SystemTime, UNIX_EPOCH};

use envoy_types::pb::envoy::admin::v3::{
    BootstrapConfigDump, ClustersConfigDump, ConfigDump, EndpointsConfigDump, ListenersConfigDump,
    RoutesConfigDump, ScopedRoutesConfigDump, SecretsConfigDump, clusters_config_dump,
    endpoints_config_dump, listeners_config_dump, routes_config_dump,
};
use envoy_types::pb::envoy::config::bootstrap::v3::{Admin, Bootstrap, bootstrap};
use envoy_types::pb::envoy::config::core::v3::{Locality, Node};
use envoy_types::pb::google::protobuf::{Any, Timestamp};
use prost::Message;
use ringway_envoy::{
    envoy_cluster, envoy_listener, load_assignment, pack, route_configuration, static_cluster,
};
use serde_json::{Map, Value, json};

use crate::control::ConfigView;

const TYPE_PREFIX: &str = "type.googleapis.com/";
const BOOTSTRAP: &str = "envoy.config.bootstrap.v3.Bootstrap";

/// The query parameters `/config_dump` takes.
#[derive(Debug, Default)]
pub(crate) struct DumpQuery {
    pub resource: Option<String>,
    pub mask: Option<String>,
    pub name_regex: Option<regex::Regex>,
    pub include_eds: bool,
}

/// A refusal: status and text, as Envoy words it.
pub(crate) type Refused = (u16, String);

/// The dump for `view`; `version` gives a dynamic cluster's version (and
/// says which clusters are dynamic).
pub(crate) fn config_dump(
    view: &ConfigView,
    version: &dyn Fn(&str) -> Option<String>,
    query: &DumpQuery,
) -> Result<Value, Refused> {
    let keep = |name: &str| query.name_regex.as_ref().is_none_or(|r| r.is_match(name));
    let configs = dumps(view, version, &keep, query.include_eds);
    let dump = ringway_envoy::text::render(&ConfigDump { configs }, false);
    let configs: Vec<Value> = dump
        .get("configs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mask = query.mask.as_deref();
    let configs = match &query.resource {
        Some(resource) => resource_elements(&configs, resource, mask)?,
        None => match mask {
            Some(mask) => masked(&configs, mask)?,
            None => configs,
        },
    };
    Ok(json!({ "configs": configs }))
}

/// Every dump, packed, in Envoy's order.
fn dumps(
    view: &ConfigView,
    version: &dyn Fn(&str) -> Option<String>,
    keep: &dyn Fn(&str) -> bool,
    include_eds: bool,
) -> Vec<Any> {
    let file_loaded = Some(timestamp(view.file_loaded));
    let serving_since = Some(timestamp(view.serving_since));
    let mut out = vec![pack(&BootstrapConfigDump {
        bootstrap: Some(bootstrap_of(view)),
        last_updated: file_loaded,
    })];

    let mut clusters = ClustersConfigDump::default();
    let mut endpoints = EndpointsConfigDump::default();
    for (name, cluster) in view.serving.clusters.iter().filter(|(n, _)| keep(n)) {
        match version(name).filter(|_| !view.file.clusters.contains_key(name)) {
            None => {
                clusters
                    .static_clusters
                    .push(clusters_config_dump::StaticCluster {
                        cluster: Some(pack(&static_cluster(cluster))),
                        last_updated: file_loaded,
                    });
                endpoints.static_endpoint_configs.push(
                    endpoints_config_dump::StaticEndpointConfig {
                        endpoint_config: Some(pack(&load_assignment(cluster))),
                        last_updated: file_loaded,
                    },
                );
            }
            Some(version_info) => {
                clusters
                    .dynamic_active_clusters
                    .push(clusters_config_dump::DynamicCluster {
                        version_info: version_info.clone(),
                        cluster: Some(pack(&envoy_cluster(cluster))),
                        last_updated: serving_since,
                        ..Default::default()
                    });
                endpoints.dynamic_endpoint_configs.push(
                    endpoints_config_dump::DynamicEndpointConfig {
                        version_info,
                        endpoint_config: Some(pack(&load_assignment(cluster))),
                        last_updated: serving_since,
                        ..Default::default()
                    },
                );
            }
        }
    }
    out.push(pack(&clusters));
    if include_eds {
        out.push(pack(&endpoints));
    }

    let listeners = view.file.listeners.iter().filter(|l| keep(&l.name));
    out.push(pack(&ListenersConfigDump {
        static_listeners: listeners
            .map(|l| listeners_config_dump::StaticListener {
                listener: Some(pack(&envoy_listener(l))),
                last_updated: file_loaded,
            })
            .collect(),
        ..Default::default()
    }));
    let routes = view.file.listeners.iter().filter(|l| keep(&l.name));
    out.push(pack(&RoutesConfigDump {
        static_route_configs: routes
            .map(|l| routes_config_dump::StaticRouteConfig {
                route_config: Some(pack(&route_configuration(&l.name, &l.virtual_hosts))),
                last_updated: file_loaded,
            })
            .collect(),
        ..Default::default()
    }));
    out.push(pack(&ScopedRoutesConfigDump::default()));
    out.push(pack(&SecretsConfigDump::default()));
    out
}

/// The bootstrap as loaded; for ringway's own format, one made from the
/// file: node, admin address, static listeners and clusters.
fn bootstrap_of(view: &ConfigView) -> Bootstrap {
    let loaded = view.bootstrap.as_deref().and_then(|json| {
        let message = ringway_envoy::text::message(BOOTSTRAP, json).ok()?;
        Bootstrap::decode(message.encode_to_vec().as_slice()).ok()
    });
    if let Some(b) = loaded {
        return b;
    }
    let (id, cluster, zone) = &view.node;
    Bootstrap {
        node: Some(Node {
            id: id.clone(),
            cluster: cluster.clone(),
            locality: (!zone.is_empty()).then(|| Locality {
                zone: zone.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        static_resources: Some(bootstrap::StaticResources {
            listeners: view
                .file
                .listeners
                .iter()
                .map(|l| envoy_listener(l))
                .collect(),
            clusters: view
                .file
                .clusters
                .values()
                .map(|c| static_cluster(view.serving.clusters.get(&c.name).unwrap_or(c)))
                .collect(),
            ..Default::default()
        }),
        admin: Some(Admin {
            address: Some(ringway_envoy::socket(view.admin)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `?resource=`: the elements of the first dump having that repeated
/// field, each with its `@type`, masked by `mask` if given.
fn resource_elements(
    configs: &[Value],
    resource: &str,
    mask: Option<&str>,
) -> Result<Vec<Value>, Refused> {
    for config in configs {
        let Some(field) = ringway_envoy::text::mask_field(type_of(config), resource) else {
            continue;
        };
        let Some(element_type) = field.message.filter(|_| field.repeated) else {
            return Err((
                400,
                format!(
                    "{resource} is not a repeated field. Use ?mask={resource} to get only this field"
                ),
            ));
        };
        let elements = config.get(resource).and_then(Value::as_array);
        return elements
            .into_iter()
            .flatten()
            .map(|element| {
                let mut element = match mask {
                    Some(mask) => mask_element(element, &element_type, mask)?,
                    None => element.clone(),
                };
                if let Value::Object(map) = &mut element {
                    map.insert(
                        "@type".into(),
                        Value::String(format!("{TYPE_PREFIX}{element_type}")),
                    );
                }
                Ok(element)
            })
            .collect();
    }
    Err((404, format!("{resource} not found in config dump")))
}

/// `?mask=` alone: applied to each dump; a dump the mask does not fit is
/// left out, and none fitting is an error.
fn masked(configs: &[Value], mask: &str) -> Result<Vec<Value>, Refused> {
    let paths: Vec<&str> = paths(mask);
    let kept: Vec<Value> = configs
        .iter()
        .filter(|c| {
            paths
                .iter()
                .all(|p| ringway_envoy::text::mask_field(type_of(c), p).is_some())
        })
        .map(|c| trim(c, &split(&paths)))
        .collect();
    if kept.is_empty() {
        return Err((
            400,
            format!("FieldMask {mask} could not be successfully applied to any configs."),
        ));
    }
    Ok(kept)
}

/// The mask applied to one element of a `?resource=`: a path into the
/// element's `Any` field (`cluster.name`) is checked against the type the
/// `Any` holds.
fn mask_element(element: &Value, element_type: &str, mask: &str) -> Result<Value, Refused> {
    let paths = paths(mask);
    let fits = paths.iter().all(|path| {
        let (first, rest) = path.split_once('.').unwrap_or((path, ""));
        match ringway_envoy::text::mask_field(element_type, first) {
            Some(f) if f.message.as_deref() == Some("google.protobuf.Any") && !f.repeated => {
                rest.is_empty()
                    || element.get(first).is_none_or(|inner| {
                        ringway_envoy::text::mask_field(type_of(inner), rest).is_some()
                    })
            }
            Some(_) => ringway_envoy::text::mask_field(element_type, path).is_some(),
            None => false,
        }
    });
    if !fits {
        return Err((
            400,
            format!(
                "FieldMask paths: \"{}\" could not be successfully used.",
                paths.join("\" paths: \"")
            ),
        ));
    }
    Ok(trim(element, &split(&paths)))
}

fn paths(mask: &str) -> Vec<&str> {
    mask.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn split<'a>(paths: &[&'a str]) -> Vec<Vec<&'a str>> {
    paths.iter().map(|p| p.split('.').collect()).collect()
}

/// Keeps the fields the paths name (and an `Any`'s `@type`).
fn trim(value: &Value, paths: &[Vec<&str>]) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    if let Some(t) = map.get("@type") {
        out.insert("@type".into(), t.clone());
    }
    for (key, v) in map {
        let rests: Vec<Vec<&str>> = paths
            .iter()
            .filter(|p| p.first() == Some(&key.as_str()))
            .map(|p| p[1..].to_vec())
            .collect();
        if rests.is_empty() {
            continue;
        }
        let kept = if rests.iter().any(Vec::is_empty) {
            v.clone()
        } else {
            trim(v, &rests)
        };
        out.insert(key.clone(), kept);
    }
    Value::Object(out)
}

/// The message type an `Any`'s JSON holds.
fn type_of(value: &Value) -> &str {
    value
        .get("@type")
        .and_then(Value::as_str)
        .map_or("", |t| t.rsplit('/').next().unwrap_or(t))
}

fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // Below 1e9, so it fits.
        nanos: d.subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests;
