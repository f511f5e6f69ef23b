//! `/clusters`: Envoy's text form (`cluster::field::value` and
//! `cluster::host:port::field::value` lines) and `?format=json`
//! (`envoy.admin.v3.Clusters`), with each endpoint's stats summed over the
//! workers.
//!
//! ringway has no circuit breakers, priorities, localities, canaries,
//! health checks or outlier detection yet: thresholds show Envoy's
//! defaults (1024 connections, pending and active requests, 3 retries),
//! every host is healthy at priority 0 in no locality, and success rates
//! are -1 (not computed) in the text and absent in JSON, as in Envoy
//! without outlier detection.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use envoy_types::pb::envoy::admin::v3::{
    ClusterStatus, Clusters, HostHealthStatus, HostStatus, SimpleMetric, simple_metric,
};
use envoy_types::pb::envoy::config::cluster::v3::CircuitBreakers;
use envoy_types::pb::envoy::config::cluster::v3::circuit_breakers::Thresholds;
use envoy_types::pb::envoy::config::core::v3::{HealthStatus, RoutingPriority};
use envoy_types::pb::google::protobuf::UInt32Value;
use ringway_config::model::Snapshot;
use ringway_stats::HostSnapshot;
use ringway_worker::WorkerReport;

/// Envoy's default circuit breaker thresholds: connections, pending
/// requests, requests, retries.
const THRESHOLDS: [(&str, u32); 4] = [
    ("max_connections", 1024),
    ("max_pending_requests", 1024),
    ("max_requests", 1024),
    ("max_retries", 3),
];

/// Each endpoint's stats by cluster and address, summed over the workers.
pub(crate) type Hosts = BTreeMap<String, BTreeMap<SocketAddr, HostSnapshot>>;

/// Sums the workers' per-endpoint stats.
pub(crate) fn merge_hosts(reports: &[WorkerReport]) -> Hosts {
    let mut hosts = Hosts::new();
    for report in reports {
        for (cluster, list) in &report.hosts {
            let per_cluster = hosts.entry(cluster.clone()).or_default();
            for (address, snapshot) in list {
                per_cluster.entry(*address).or_default().merge(snapshot);
            }
        }
    }
    hosts
}

/// Envoy's `/clusters` text. `added_via_api` says whether a cluster came
/// from the control plane or registry rather than the file.
pub(crate) fn text(
    snapshot: &Snapshot,
    hosts: &Hosts,
    added_via_api: &dyn Fn(&str) -> bool,
) -> String {
    let mut out = String::new();
    for (name, cluster) in &snapshot.clusters {
        let _ = writeln!(out, "{name}::observability_name::{name}");
        for priority in ["default", "high"] {
            for (field, value) in THRESHOLDS {
                let _ = writeln!(out, "{name}::{priority}_priority::{field}::{value}");
            }
        }
        let _ = writeln!(out, "{name}::added_via_api::{}", added_via_api(name));
        for e in &cluster.endpoints {
            let a = e.address;
            let stats = host_stats(hosts, name, a);
            let mut all: Vec<(&str, i64)> = stats
                .counters()
                .iter()
                .map(|&(n, v)| (n, i64::try_from(v).unwrap_or(i64::MAX)))
                .chain(stats.gauges())
                .collect();
            all.sort();
            for (stat, value) in all {
                let _ = writeln!(out, "{name}::{a}::{stat}::{value}");
            }
            let hostname = e.hostname.as_deref().unwrap_or_default();
            let _ = writeln!(out, "{name}::{a}::hostname::{hostname}");
            let _ = writeln!(out, "{name}::{a}::health_flags::healthy");
            let _ = writeln!(out, "{name}::{a}::weight::{}", e.weight);
            for field in ["region", "zone", "sub_zone"] {
                let _ = writeln!(out, "{name}::{a}::{field}::");
            }
            let _ = writeln!(out, "{name}::{a}::canary::false");
            let _ = writeln!(out, "{name}::{a}::priority::0");
            let _ = writeln!(out, "{name}::{a}::success_rate::-1");
            let _ = writeln!(out, "{name}::{a}::local_origin_success_rate::-1");
        }
    }
    out
}

/// Envoy's `/clusters?format=json`: an `envoy.admin.v3.Clusters`.
pub(crate) fn json(
    snapshot: &Snapshot,
    hosts: &Hosts,
    added_via_api: &dyn Fn(&str) -> bool,
) -> serde_json::Value {
    let cluster_statuses = snapshot
        .clusters
        .iter()
        .map(|(name, cluster)| ClusterStatus {
            name: name.clone(),
            observability_name: name.clone(),
            added_via_api: added_via_api(name),
            circuit_breakers: Some(CircuitBreakers {
                thresholds: [RoutingPriority::Default, RoutingPriority::High]
                    .into_iter()
                    .map(|priority| thresholds(priority as i32))
                    .collect(),
                ..Default::default()
            }),
            host_statuses: cluster
                .endpoints
                .iter()
                .map(|e| {
                    let stats = host_stats(hosts, name, e.address);
                    let counters = stats.counters().into_iter().map(|(n, v)| SimpleMetric {
                        r#type: simple_metric::Type::Counter as i32,
                        value: v,
                        name: n.to_owned(),
                    });
                    let gauges = stats.gauges().into_iter().map(|(n, v)| SimpleMetric {
                        r#type: simple_metric::Type::Gauge as i32,
                        value: u64::try_from(v).unwrap_or(0),
                        name: n.to_owned(),
                    });
                    HostStatus {
                        address: Some(ringway_envoy::socket(e.address)),
                        stats: counters.chain(gauges).collect(),
                        health_status: Some(HostHealthStatus {
                            eds_health_status: HealthStatus::Healthy as i32,
                            ..Default::default()
                        }),
                        weight: e.weight,
                        hostname: e.hostname.clone().unwrap_or_default(),
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ringway_envoy::text::render(&Clusters { cluster_statuses }, false)
}

fn thresholds(priority: i32) -> Thresholds {
    let value = |v: u32| Some(UInt32Value { value: v });
    Thresholds {
        priority,
        max_connections: value(THRESHOLDS[0].1),
        max_pending_requests: value(THRESHOLDS[1].1),
        max_requests: value(THRESHOLDS[2].1),
        max_retries: value(THRESHOLDS[3].1),
        ..Default::default()
    }
}

fn host_stats(hosts: &Hosts, cluster: &str, address: SocketAddr) -> HostSnapshot {
    hosts
        .get(cluster)
        .and_then(|h| h.get(&address))
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
