//! An Envoy v3 bootstrap file → ringway's snapshot.
//!
//! The text (YAML or JSON) is read as Envoy's `Bootstrap` message through
//! proto3's JSON mapping, `--config-yaml` is merged over it as Envoy merges
//! it (protobuf merge: scalars replaced, messages merged, lists appended),
//! every field set is checked against the field table, and the result is
//! converted: `static_resources` to listeners and clusters, `admin` to the
//! admin address, `dynamic_resources.ads_config` to the control plane.

use std::collections::BTreeMap;
use std::sync::Arc;

use envoy_types::pb::envoy::config::bootstrap::v3::Bootstrap;
use envoy_types::pb::envoy::config::core::v3::ApiVersion;
use envoy_types::pb::envoy::config::core::v3::api_config_source::ApiType;
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::grpc_service::TargetSpecifier;
use prost::Message;
use prost_reflect::DynamicMessage;
use ringway_config::model::{self, Admin, Snapshot, Workers, Xds};
use ringway_config::{ConfigError, ConfigErrors, Resolve, defaults};

use crate::cluster::{EndpointSource, Names, cluster_spec};
use crate::listener::{listener, socket_address};
use crate::text::{self, Format, TextError};
use crate::{Rejected, duration, fields};

const BOOTSTRAP: &str = "envoy.config.bootstrap.v3.Bootstrap";

/// Top-level keys only an Envoy bootstrap has (ringway's own format has
/// `listeners`, `clusters`, `workers`, `xds`, `eureka` and `admin`).
const BOOTSTRAP_KEYS: &[&str] = &[
    "node",
    "static_resources",
    "dynamic_resources",
    "cluster_manager",
    "layered_runtime",
    "stats_sinks",
    "stats_config",
    "stats_flush_interval",
    "overload_manager",
    "watchdogs",
    "tracing",
    "hds_config",
    "flags_path",
    "node_context_params",
];

/// A bootstrap read and checked: the snapshot and what `/config_dump` and
/// `/server_info` show of it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub snapshot: Snapshot,
    /// The bootstrap as Envoy's JSON (for `/config_dump`).
    pub bootstrap_json: serde_json::Value,
}

/// Whether `document` is an Envoy bootstrap rather than ringway's own
/// format: it has a key only a bootstrap has, or an `admin.address` that is
/// an object (`socket_address`) rather than ringway's `"ip:port"`.
pub fn is_bootstrap(document: &serde_json::Value) -> bool {
    let Some(top) = document.as_object() else {
        return false;
    };
    BOOTSTRAP_KEYS.iter().any(|k| top.contains_key(*k))
        || top
            .get("admin")
            .and_then(|a| a.get("address"))
            .is_some_and(serde_json::Value::is_object)
}

/// Reads a bootstrap: `text` from `source` (a file name, for errors and
/// the format), then `config_yaml` merged over it. Host names in DNS
/// clusters are resolved through `resolver`.
pub fn load(
    source: &str,
    text: Option<&str>,
    config_yaml: Option<&str>,
    resolver: &dyn Resolve,
) -> Result<Loaded, ConfigErrors> {
    let error =
        |file: &str, e: TextError| ConfigErrors::from(ConfigError::new(file, e.field, e.reason));
    let mut message = match text {
        Some(text) => {
            let doc = text::document(text, Format::of(source)).map_err(|e| error(source, e))?;
            text::message(BOOTSTRAP, &doc).map_err(|e| error(source, e))?
        }
        None => empty_bootstrap(),
    };
    if let Some(yaml) = config_yaml {
        let doc = text::document(yaml, Format::Yaml).map_err(|e| error("--config-yaml", e))?;
        let overlay = text::message(BOOTSTRAP, &doc).map_err(|e| error("--config-yaml", e))?;
        message
            .merge(overlay.encode_to_vec().as_slice())
            .map_err(|e| {
                error(
                    "--config-yaml",
                    TextError {
                        field: "-".into(),
                        reason: e.to_string(),
                    },
                )
            })?;
    }
    fields::check(&message, "")
        .map_err(|r| ConfigErrors::from(ConfigError::new(source, r.field, r.reason)))?;
    let bootstrap = Bootstrap::decode(message.encode_to_vec().as_slice()).map_err(|e| {
        ConfigErrors::from(ConfigError::new(
            source,
            ConfigError::WHOLE_FILE,
            e.to_string(),
        ))
    })?;
    let snapshot = convert(source, &bootstrap, resolver)?;
    Ok(Loaded {
        snapshot,
        bootstrap_json: text::to_json(&message),
    })
}

fn empty_bootstrap() -> DynamicMessage {
    match text::pool().get_message_by_name(BOOTSTRAP) {
        Some(d) => DynamicMessage::new(d),
        None => panic!("the descriptors lack {BOOTSTRAP}"),
    }
}

fn convert(source: &str, b: &Bootstrap, resolver: &dyn Resolve) -> Result<Snapshot, ConfigErrors> {
    let mut errors = Vec::new();
    let mut push =
        |field: String, reason: String| errors.push(ConfigError::new(source, field, reason));
    let statics = b.static_resources.clone().unwrap_or_default();

    let mut clusters = BTreeMap::new();
    for (i, c) in statics.clusters.iter().enumerate() {
        let field = format!("static_resources.clusters[{i}]");
        match cluster_spec(c, Names::Resolve(resolver)) {
            Ok(spec) => {
                let EndpointSource::Static(endpoints) = &spec.endpoints else {
                    push(
                        format!("{field}.type"),
                        "a static EDS cluster is not supported: let CDS over ADS deliver the cluster".into(),
                    );
                    continue;
                };
                if clusters.contains_key(&spec.name) {
                    push(
                        format!("{field}.name"),
                        format!("`{}` is defined twice", spec.name),
                    );
                    continue;
                }
                clusters.insert(
                    spec.name.clone(),
                    Arc::new(spec.with_endpoints(endpoints.clone())),
                );
            }
            Err(r) => push(at(&field, &r), r.reason),
        }
    }

    let mut listeners: Vec<Arc<model::Listener>> = Vec::new();
    for (i, l) in statics.listeners.iter().enumerate() {
        let field = format!("static_resources.listeners[{i}]");
        match listener(l, &format!("listener_{i}")) {
            Ok(converted) => {
                if listeners.iter().any(|other| other.name == converted.name) {
                    push(
                        format!("{field}.name"),
                        format!("`{}` is used twice", converted.name),
                    );
                } else if let Some(other) = listeners
                    .iter()
                    .find(|o| o.address.port() != 0 && o.address == converted.address)
                {
                    push(
                        format!("{field}.address"),
                        format!(
                            "{} is also the address of `{}`",
                            converted.address, other.name
                        ),
                    );
                } else {
                    listeners.push(Arc::new(converted));
                }
            }
            Err(r) => push(at(&field, &r), r.reason),
        }
    }

    let admin = match &b.admin {
        Some(a) if a.address.is_some() => match socket_address(a.address.as_ref(), "admin.address")
        {
            Ok(address) => Admin {
                address: Some(address),
            },
            Err((f, reason)) => {
                push(f, reason);
                Admin { address: None }
            }
        },
        _ => Admin { address: None },
    };

    let xds = match xds(b, &clusters) {
        Ok(x) => x,
        Err((f, reason)) => {
            push(f, reason);
            None
        }
    };

    // Routes may name clusters the control plane sends; without one, a
    // cluster a route names must be defined here.
    let snapshot = Snapshot {
        source: source.to_owned(),
        admin,
        workers: Workers::default(),
        listeners,
        clusters,
        xds,
        eureka: None,
    };
    if snapshot.xds.is_none() {
        for l in snapshot.listeners.iter().filter(|l| l.rds.is_some()) {
            push(
                "static_resources.listeners".into(),
                format!(
                    "the listener `{}` takes its routes by rds, which needs dynamic_resources.ads_config",
                    l.name
                ),
            );
        }
        for name in snapshot.undefined_route_clusters() {
            push(
                "static_resources.listeners".into(),
                format!(
                    "a route names the cluster `{name}`, which no static cluster defines (and there is no ads_config to supply it)"
                ),
            );
        }
    }
    if errors.is_empty() {
        Ok(snapshot)
    } else {
        Err(ConfigErrors { errors })
    }
}

/// `field` inside the resource a rejection names, under the bootstrap path.
fn at(prefix: &str, r: &Rejected) -> String {
    if r.field == "-" {
        prefix.to_owned()
    } else {
        format!("{prefix}.{}", r.field)
    }
}

type Refused = (String, String);

/// The control plane, from `dynamic_resources`.
fn xds(
    b: &Bootstrap,
    clusters: &BTreeMap<String, Arc<model::Cluster>>,
) -> Result<Option<Xds>, Refused> {
    let Some(dynamic) = &b.dynamic_resources else {
        return Ok(None);
    };
    let field = "dynamic_resources";
    let Some(ads) = &dynamic.ads_config else {
        if dynamic.cds_config.is_some() || dynamic.lds_config.is_some() {
            return Err((
                format!("{field}.cds_config"),
                "needs ads_config (ringway takes clusters and listeners over ADS only)".into(),
            ));
        }
        return Ok(None);
    };
    let ads_field = format!("{field}.ads_config");
    match ApiType::try_from(ads.api_type) {
        Ok(ApiType::DeltaGrpc) => {}
        Ok(ApiType::Grpc | ApiType::AggregatedGrpc) => {
            return Err((
                format!("{ads_field}.api_type"),
                "ringway speaks incremental (delta) xDS: set `api_type: DELTA_GRPC`".into(),
            ));
        }
        _ => return Err((format!("{ads_field}.api_type"), "must be DELTA_GRPC".into())),
    }
    if ads.transport_api_version != ApiVersion::V3 as i32 {
        return Err((
            format!("{ads_field}.transport_api_version"),
            "must be V3".into(),
        ));
    }
    let [service] = ads.grpc_services.as_slice() else {
        return Err((
            format!("{ads_field}.grpc_services"),
            "exactly one gRPC service is supported".into(),
        ));
    };
    let cluster_name = match &service.target_specifier {
        Some(TargetSpecifier::EnvoyGrpc(g)) => &g.cluster_name,
        _ => {
            return Err((
                format!("{ads_field}.grpc_services[0]"),
                "needs envoy_grpc naming a static cluster".into(),
            ));
        }
    };
    let cluster = clusters.get(cluster_name).ok_or_else(|| {
        (
            format!("{ads_field}.grpc_services[0].envoy_grpc.cluster_name"),
            format!("no static cluster `{cluster_name}`"),
        )
    })?;
    if cluster.endpoints.is_empty() {
        return Err((
            format!("{ads_field}.grpc_services[0].envoy_grpc.cluster_name"),
            format!("the cluster `{cluster_name}` has no endpoint"),
        ));
    }
    let mut all_clusters = false;
    let mut initial_fetch_timeout = defaults::XDS_INITIAL_FETCH_TIMEOUT;
    if let Some(cds) = &dynamic.cds_config {
        match &cds.config_source_specifier {
            Some(ConfigSourceSpecifier::Ads(_)) => all_clusters = true,
            _ => return Err((format!("{field}.cds_config"), "must be `ads: {}`".into())),
        }
        if let Some(t) = &cds.initial_fetch_timeout {
            // 0 waits for the first answers without a limit, as in Envoy.
            initial_fetch_timeout = match duration(t) {
                Some(d) if !d.is_zero() => d,
                _ => defaults::ROUTE_TIMEOUT_OFF,
            };
        }
    }
    let mut all_listeners = false;
    if let Some(lds) = &dynamic.lds_config {
        match &lds.config_source_specifier {
            Some(ConfigSourceSpecifier::Ads(_)) => all_listeners = true,
            _ => return Err((format!("{field}.lds_config"), "must be `ads: {}`".into())),
        }
    }
    let node = b.node.clone().unwrap_or_default();
    Ok(Some(Xds {
        // Every endpoint is a replica to fail over to, in order.
        addresses: cluster
            .endpoints
            .iter()
            .map(|e| e.address.to_string())
            .collect(),
        node_id: node.id,
        node_cluster: node.cluster,
        node_zone: node.locality.map(|l| l.zone).unwrap_or_default(),
        initial_fetch_timeout,
        all_clusters,
        all_listeners,
    }))
}
