#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ringway_config::model::{Cluster, Endpoint};

use super::*;

fn snapshot() -> Snapshot {
    let mut s = ringway_config::load_str(
        "t.yaml",
        "listeners:\n  - name: main\n    address: \"127.0.0.1:0\"\n    virtual_hosts:\n      - name: all\n        domains: [\"*\"]\n        routes:\n          - match: { prefix: \"/\" }\n            cluster: backend\nclusters:\n  - name: backend\n    endpoints: [\"127.0.0.1:8080\"]\n",
        &ringway_config::SystemResolver,
    )
    .unwrap();
    s.clusters.insert(
        "orders".into(),
        Arc::new(Cluster::with_defaults(
            "orders",
            vec![Endpoint {
                address: "10.0.0.2:9000".parse().unwrap(),
                weight: 3,
                hostname: Some("orders-1".into()),
            }],
        )),
    );
    s
}

fn hosts() -> Hosts {
    let mut h = Hosts::new();
    let stats = HostSnapshot {
        cx_total: 2,
        cx_active: 1,
        rq_total: 5,
        rq_success: 4,
        rq_error: 1,
        ..HostSnapshot::default()
    };
    h.entry("backend".into())
        .or_default()
        .insert("127.0.0.1:8080".parse().unwrap(), stats);
    h
}

#[test]
fn text_has_envoys_lines() {
    let out = text(&snapshot(), &hosts(), &|n| n == "orders");
    let lines: Vec<&str> = out.lines().collect();
    for line in [
        "backend::observability_name::backend",
        "backend::default_priority::max_connections::1024",
        "backend::high_priority::max_retries::3",
        "backend::added_via_api::false",
        "backend::127.0.0.1:8080::cx_active::1",
        "backend::127.0.0.1:8080::cx_connect_fail::0",
        "backend::127.0.0.1:8080::cx_total::2",
        "backend::127.0.0.1:8080::rq_active::0",
        "backend::127.0.0.1:8080::rq_error::1",
        "backend::127.0.0.1:8080::rq_success::4",
        "backend::127.0.0.1:8080::rq_timeout::0",
        "backend::127.0.0.1:8080::rq_total::5",
        "backend::127.0.0.1:8080::hostname::",
        "backend::127.0.0.1:8080::health_flags::healthy",
        "backend::127.0.0.1:8080::weight::1",
        "backend::127.0.0.1:8080::region::",
        "backend::127.0.0.1:8080::zone::",
        "backend::127.0.0.1:8080::sub_zone::",
        "backend::127.0.0.1:8080::canary::false",
        "backend::127.0.0.1:8080::priority::0",
        "backend::127.0.0.1:8080::success_rate::-1",
        "backend::127.0.0.1:8080::local_origin_success_rate::-1",
        "orders::added_via_api::true",
        "orders::10.0.0.2:9000::hostname::orders-1",
        "orders::10.0.0.2:9000::weight::3",
    ] {
        assert!(lines.contains(&line), "missing {line}:\n{out}");
    }
    // Per-host stats come sorted by name, as Envoy prints them.
    let stats: Vec<&str> = lines
        .iter()
        .filter(|l| {
            l.starts_with("backend::127.0.0.1:8080::")
                && (l.contains("::cx_") || l.contains("::rq_"))
        })
        .copied()
        .collect();
    assert!(stats.windows(2).all(|w| w[0] < w[1]), "{stats:?}");
}

#[test]
fn json_is_envoys_clusters_message() {
    let out = json(&snapshot(), &hosts(), &|n| n == "orders");
    let statuses = out["cluster_statuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 2);
    let backend = &statuses[0];
    assert_eq!(backend["name"], "backend");
    assert!(backend.get("added_via_api").is_none(), "false is left out");
    assert_eq!(statuses[1]["added_via_api"], true);
    let thresholds = &backend["circuit_breakers"]["thresholds"];
    assert_eq!(thresholds[0]["max_connections"], 1024);
    assert_eq!(thresholds[1]["priority"], "HIGH");
    let host = &backend["host_statuses"][0];
    assert_eq!(host["address"]["socket_address"]["address"], "127.0.0.1");
    assert_eq!(host["address"]["socket_address"]["port_value"], 8080);
    assert_eq!(host["health_status"]["eds_health_status"], "HEALTHY");
    assert_eq!(host["weight"], 1);
    let stat = |name: &str| {
        host["stats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(stat("rq_total")["value"], "5");
    // As in Envoy's output, defaults are left out: COUNTER (0) and zeros.
    assert!(stat("rq_total").get("type").is_none());
    assert!(stat("rq_timeout").get("value").is_none());
    assert_eq!(stat("cx_active")["type"], "GAUGE");
    assert_eq!(statuses[1]["host_statuses"][0]["hostname"], "orders-1");
}
