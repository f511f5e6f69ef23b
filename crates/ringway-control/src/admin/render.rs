//! The admin API's bodies, from the hub's state.

use std::fmt::Write;

use ringway_config::model::Cluster;
use ringway_xds::{CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE, ROUTE_TYPE};
use serde_json::{Value, json};

use crate::hub::State;

/// Prometheus text exposition (version 0.0.4).
pub fn prometheus(state: &State) -> String {
    let c = &state.counters;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let proxies = state.proxies.len() as u64;
    metric(
        "ringway_control_xds_connected_proxies",
        "gauge",
        "Proxies with an open delta ADS stream.",
        &[("", proxies)],
    );
    metric(
        "ringway_control_xds_streams_total",
        "counter",
        "Delta ADS streams opened.",
        &[("", c.streams)],
    );
    metric(
        "ringway_control_xds_responses_sent_total",
        "counter",
        "DeltaDiscoveryResponses sent.",
        &[("", c.responses)],
    );
    metric(
        "ringway_control_xds_acks_total",
        "counter",
        "Responses the proxies accepted.",
        &[("", c.acks)],
    );
    metric(
        "ringway_control_xds_nacks_total",
        "counter",
        "Responses the proxies refused.",
        &[("", c.nacks)],
    );
    let count = |type_url| state.set.names(type_url).count() as u64;
    let types = [CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE, ROUTE_TYPE];
    let labels: Vec<String> = types
        .iter()
        .map(|t| format!("{{type_url=\"{t}\"}}"))
        .collect();
    let samples: Vec<(&str, u64)> = labels
        .iter()
        .zip(types)
        .map(|(label, t)| (label.as_str(), count(t)))
        .collect();
    metric(
        "ringway_control_xds_resources",
        "gauge",
        "Resources served, by type.",
        &samples,
    );
    metric(
        "ringway_control_source_reloads_total",
        "counter",
        "Source reads (one per file read), by result.",
        &[
            ("{result=\"ok\"}", c.source_loaded),
            ("{result=\"failed\"}", c.source_failed),
        ],
    );
    metric(
        "ringway_control_resource_set_generation",
        "gauge",
        "Changes made to the resource set since start (resource versions count these).",
        &[("", state.set.generation())],
    );
    out
}

/// Each connected proxy: who it is and, per type, what it asked for, what
/// it ACKed and its last NACK.
pub fn nodes(state: &State) -> Value {
    let nodes: Vec<Value> = state
        .proxies
        .iter()
        .map(|(id, proxy)| {
            let node = proxy.stream.node();
            let types: serde_json::Map<String, Value> = proxy
                .stream
                .status()
                .into_iter()
                .map(|s| {
                    let status = json!({
                        "subscribed": s.subscribed,
                        "acked": s.acked,
                        "last_nack": s.last_nack,
                    });
                    (s.type_url, status)
                })
                .collect();
            json!({
                "stream": id,
                "node_id": node.map(|n| n.id.as_str()),
                "node_cluster": node.map(|n| n.cluster.as_str()),
                "peer": proxy.peer.map(|p| p.to_string()),
                "connected_at": humantime::format_rfc3339_millis(proxy.connected_at).to_string(),
                "types": types,
            })
        })
        .collect();
    Value::Array(nodes)
}

/// Every resource's version by type and name, and a readable summary of
/// each cluster, route configuration and listener.
pub fn resources(state: &State) -> Value {
    let versions = |type_url: &str| -> serde_json::Map<String, Value> {
        state
            .set
            .names(type_url)
            .map(|name| {
                let version = state.set.version(type_url, name).unwrap_or("");
                (name.to_owned(), Value::from(version))
            })
            .collect()
    };
    let clusters: serde_json::Map<String, Value> = state
        .clusters
        .iter()
        .map(|(name, c)| (name.clone(), summary(c)))
        .collect();
    let summaries = |type_url: &str| -> serde_json::Map<String, Value> {
        let files = state.envoy.get(type_url).into_iter().flatten();
        let generated = state.generated.get(type_url).into_iter().flatten();
        files
            .chain(generated)
            .map(|(name, served)| (name.clone(), served.summary.clone()))
            .collect()
    };
    json!({
        "generation": state.set.generation(),
        "versions": {
            CLUSTER_TYPE: versions(CLUSTER_TYPE),
            ENDPOINTS_TYPE: versions(ENDPOINTS_TYPE),
            LISTENER_TYPE: versions(LISTENER_TYPE),
            ROUTE_TYPE: versions(ROUTE_TYPE),
        },
        "clusters": clusters,
        "route_configurations": summaries(ROUTE_TYPE),
        "listeners": summaries(LISTENER_TYPE),
    })
}

fn summary(c: &Cluster) -> Value {
    let endpoints: Vec<Value> = c
        .endpoints
        .iter()
        .map(|e| json!({ "address": e.address.to_string(), "weight": e.weight }))
        .collect();
    json!({
        "lb_policy": c.lb_policy,
        "protocol": c.protocol,
        "connect_timeout": humantime::format_duration(c.connect_timeout).to_string(),
        "endpoints": endpoints,
    })
}
