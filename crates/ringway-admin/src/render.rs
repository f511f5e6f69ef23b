//! Rendering admin responses.

use crate::server::ControlStat;
use std::net::SocketAddr;

use ringway_config::model::Snapshot;
use ringway_stats::StatsSnapshot;
use ringway_worker::WorkerReport;
use serde_json::{Value, json};

pub(crate) const INDEX: &str = "\
ringway admin
  GET  /ready               LIVE (200), or DRAINING / HEALTHCHECK_FAILED (503)
  GET  /stats               counters, gauges and histograms (?format=json|prometheus, ?filter=REGEX)
  GET  /stats/prometheus    Prometheus text exposition
  GET  /clusters            clusters and their endpoints (?format=json)
  GET  /listeners           listeners and the addresses they accept on (?format=json)
  GET  /workers             per worker: CPU, I/O driver, connections, requests
  GET  /config_dump         the live configuration snapshot as JSON
  GET  /server_info         version, state, uptime, options
  POST /healthcheck/fail    make /ready answer 503
  POST /healthcheck/ok      undo /healthcheck/fail
  POST /drain_listeners     stop accepting new connections
  POST /quitquitquit        drain and exit
";

pub(crate) fn merge(reports: &[WorkerReport]) -> StatsSnapshot {
    StatsSnapshot::merged(reports.iter().map(|r| &r.stats))
}

/// Envoy's `/stats` text, optionally keeping only lines whose stat name
/// matches `filter` (a regular expression, as in Envoy).
pub(crate) fn stats_text(merged: &StatsSnapshot, filter: Option<&str>) -> String {
    let mut out = String::new();
    merged.render_text(&mut out);
    filter_lines(out, filter)
}

/// Keeps the lines whose stat name matches `filter` (a regular expression).
pub(crate) fn filter_lines(out: String, filter: Option<&str>) -> String {
    match filter.filter(|f| !f.is_empty()).map(regex::Regex::new) {
        Some(Ok(re)) => out
            .lines()
            .filter(|line| re.is_match(line.split(':').next().unwrap_or("")))
            .map(|line| format!("{line}\n"))
            .collect(),
        Some(Err(err)) => format!("invalid filter: {err}\n"),
        None => out,
    }
}

/// The control thread's stats as `/stats` text lines.
pub(crate) fn control_stats_text(stats: &[ControlStat]) -> String {
    stats
        .iter()
        .map(|s| format!("{}: {}\n", s.name, s.value))
        .collect()
}

/// The control thread's stats in Prometheus text, as `envoy_<name>`.
pub(crate) fn control_stats_prometheus(stats: &[ControlStat]) -> String {
    let mut out = String::new();
    for s in stats {
        let name = format!("envoy_{}", s.name.replace('.', "_"));
        let kind = if s.gauge { "gauge" } else { "counter" };
        out.push_str(&format!(
            "# HELP {name} {}\n# TYPE {name} {kind}\n{name} {}\n",
            s.help, s.value
        ));
    }
    out
}

pub(crate) fn stats_json(merged: &StatsSnapshot, filter: Option<&str>) -> Value {
    let all = merged.to_json();
    let Some(Ok(re)) = filter.filter(|f| !f.is_empty()).map(regex::Regex::new) else {
        return all;
    };
    match all {
        Value::Object(mut map) => {
            if let Some(Value::Array(stats)) = map.get_mut("stats") {
                stats.retain(|s| {
                    s.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| re.is_match(n))
                });
            }
            Value::Object(map)
        }
        other => other,
    }
}

/// Envoy-style `/clusters` lines: `name::address::field::value`.
pub(crate) fn clusters_text(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    for (name, cluster) in &snapshot.clusters {
        out.push_str(&format!(
            "{name}::default_priority::lb_policy::{:?}\n",
            cluster.lb_policy
        ));
        for e in &cluster.endpoints {
            let a = e.address;
            out.push_str(&format!("{name}::{a}::weight::{}\n", e.weight));
            out.push_str(&format!("{name}::{a}::health_flags::healthy\n"));
            if let Some(host) = &e.hostname {
                out.push_str(&format!("{name}::{a}::hostname::{host}\n"));
            }
        }
    }
    out
}

pub(crate) fn clusters_json(snapshot: &Snapshot) -> Value {
    let clusters: Vec<Value> = snapshot
        .clusters
        .values()
        .map(|c| {
            json!({
                "name": c.name,
                "lb_policy": c.lb_policy,
                "host_statuses": c.endpoints.iter().map(|e| json!({
                    "address": e.address.to_string(),
                    "weight": e.weight,
                    "hostname": e.hostname,
                    "health_status": "HEALTHY",
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "cluster_statuses": clusters })
}

pub(crate) fn listeners_text(listeners: &[(String, SocketAddr)]) -> String {
    listeners
        .iter()
        .map(|(name, addr)| format!("{name}::{addr}\n"))
        .collect()
}

pub(crate) fn listeners_json(listeners: &[(String, SocketAddr)]) -> Value {
    let list: Vec<Value> = listeners
        .iter()
        .map(|(name, addr)| json!({ "name": name, "local_address": addr.to_string() }))
        .collect();
    json!({ "listener_statuses": list })
}

pub(crate) fn workers_json(reports: &[WorkerReport]) -> Value {
    let workers: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "cpu": r.cpu,
                "io_driver": r.driver.to_string(),
                "connections_active": r.connections_active,
                "requests_total": r.requests_total,
                "requests_active": r.requests_active,
            })
        })
        .collect();
    json!({ "workers": workers })
}
