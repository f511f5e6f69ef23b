//! Rendering the smaller admin responses: stats (through ringway-stats),
//! listeners, workers, and the endpoint list.

use std::net::SocketAddr;

use ringway_stats::{Select, StatsSnapshot};
use ringway_worker::WorkerReport;
use serde_json::{Value, json};

use crate::control::ControlStat;

/// One admin endpoint: path, whether it needs POST (as in Envoy), help.
pub(crate) struct Endpoint {
    pub path: &'static str,
    pub post: bool,
    pub help: &'static str,
}

/// Every endpoint, sorted by path (what `/help` lists).
pub(crate) const ENDPOINTS: &[Endpoint] = &[
    ep("/", false, "this list"),
    ep(
        "/certs",
        false,
        "TLS certificates (none: ringway has no TLS yet)",
    ),
    ep(
        "/clusters",
        false,
        "upstream clusters, their endpoints and per-endpoint stats (?format=json)",
    ),
    ep(
        "/config_dump",
        false,
        "the configuration as Envoy's ConfigDump (?resource=, ?mask=, ?name_regex=, ?include_eds)",
    ),
    ep("/drain_listeners", true, "stop accepting new connections"),
    ep("/healthcheck/fail", true, "make /ready answer 503"),
    ep("/healthcheck/ok", true, "undo /healthcheck/fail"),
    ep("/help", false, "this list"),
    ep(
        "/hot_restart_version",
        false,
        "the hot restart version (disabled)",
    ),
    ep(
        "/listeners",
        false,
        "listeners and the addresses they accept on (?format=json)",
    ),
    ep(
        "/logging",
        true,
        "list loggers; change levels (?level=, ?paths=name:level,..., ?name=level)",
    ),
    ep("/memory", false, "process memory, as Envoy's Memory"),
    ep("/quitquitquit", true, "drain and exit"),
    ep("/ready", false, "LIVE (200), else the state (503)"),
    ep(
        "/reset_counters",
        true,
        "zero every counter on every worker",
    ),
    ep(
        "/ringway/config",
        false,
        "the live configuration snapshot in ringway's own model",
    ),
    ep("/runtime", false, "runtime layers and values"),
    ep(
        "/runtime_modify",
        true,
        "set runtime values in the admin layer (?key=value, empty removes)",
    ),
    ep(
        "/server_info",
        false,
        "version, state, uptime, command line options, node",
    ),
    ep(
        "/stats",
        false,
        "counters, gauges and histograms (?format=json|prometheus, ?filter=REGEX, ?usedonly)",
    ),
    ep(
        "/stats/prometheus",
        false,
        "Prometheus text exposition (?filter=REGEX, ?usedonly)",
    ),
    ep(
        "/workers",
        false,
        "per worker: CPU, I/O driver, connections, requests",
    ),
];

const fn ep(path: &'static str, post: bool, help: &'static str) -> Endpoint {
    Endpoint { path, post, help }
}

/// `/help`, in Envoy's layout.
pub(crate) fn help() -> String {
    let mut out = String::from("admin commands are:\n");
    for e in ENDPOINTS {
        let post = if e.post { " (POST)" } else { "" };
        out.push_str(&format!("  {}{post}: {}\n", e.path, e.help));
    }
    out
}

pub(crate) fn merge(reports: &[WorkerReport]) -> StatsSnapshot {
    StatsSnapshot::merged(reports.iter().map(|r| &r.stats))
}

fn kept<'a>(
    stats: &'a [ControlStat],
    select: &'a Select<'_>,
) -> impl Iterator<Item = &'a ControlStat> {
    stats
        .iter()
        .filter(|s| (!select.used_only || s.value != 0) && select.name.is_none_or(|f| f(s.name)))
}

/// `/stats` text: the control thread's stats, then the workers' merged.
pub(crate) fn stats_text(
    merged: &StatsSnapshot,
    control: &[ControlStat],
    select: &Select<'_>,
) -> String {
    let mut out: String = kept(control, select)
        .map(|s| format!("{}: {}\n", s.name, s.value))
        .collect();
    merged.render_text_selected(&mut out, select);
    out
}

/// `/stats?format=json`: Envoy's `{"stats": [...]}`.
pub(crate) fn stats_json(
    merged: &StatsSnapshot,
    control: &[ControlStat],
    select: &Select<'_>,
) -> Value {
    let mut all = merged.to_json_selected(select);
    if let Some(Value::Array(stats)) = all.get_mut("stats") {
        let first: Vec<Value> = kept(control, select)
            .map(|s| json!({ "name": s.name, "value": s.value }))
            .collect();
        stats.splice(0..0, first);
    }
    all
}

/// Prometheus text: the control thread's stats as `envoy_<name>`, then
/// the workers'.
pub(crate) fn stats_prometheus(
    merged: &StatsSnapshot,
    control: &[ControlStat],
    select: &Select<'_>,
) -> String {
    let mut out = String::new();
    for s in kept(control, select) {
        let name = format!("envoy_{}", s.name.replace('.', "_"));
        let kind = if s.gauge { "gauge" } else { "counter" };
        out.push_str(&format!(
            "# HELP {name} {}\n# TYPE {name} {kind}\n{name} {}\n",
            s.help, s.value
        ));
    }
    merged.render_prometheus_selected(&mut out, select);
    out
}

/// `/listeners`: `name::address` lines.
pub(crate) fn listeners_text(listeners: &[(String, SocketAddr)]) -> String {
    listeners
        .iter()
        .map(|(name, addr)| format!("{name}::{addr}\n"))
        .collect()
}

/// `/listeners?format=json`: Envoy's `envoy.admin.v3.Listeners`.
pub(crate) fn listeners_json(listeners: &[(String, SocketAddr)]) -> Value {
    // Envoy's `Listeners` message, written directly: going through the
    // descriptor pool would cost its ~17 MiB of RSS for this one read,
    // which benchmarks and health checkers make at start-up.
    let listener_statuses: Vec<Value> = listeners
        .iter()
        .map(|(name, addr)| {
            json!({
                "name": name,
                "local_address": { "socket_address": {
                    "address": addr.ip().to_string(),
                    "port_value": addr.port(),
                } },
            })
        })
        .collect();
    json!({ "listener_statuses": listener_statuses })
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
