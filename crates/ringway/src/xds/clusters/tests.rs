//! DynamicClusters: whole-update checks, warming, make-before-break,
//! removal and "does not exist".

use std::time::Duration;

use envoy_types::pb::envoy::service::discovery::v3::Resource;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use ringway_config::model::{Cluster, Endpoint, Http2Settings, LbPolicy, UpstreamProtocol};
use ringway_xds::{CLUSTER_TYPE, ENDPOINTS_TYPE, Update};

use super::*;

fn model(name: &str, ports: &[u16]) -> Cluster {
    Cluster {
        name: name.into(),
        lb_policy: LbPolicy::RoundRobin,
        endpoints: ports
            .iter()
            .map(|p| Endpoint {
                address: format!("127.0.0.1:{p}").parse().unwrap(),
                weight: 1,
                hostname: None,
            })
            .collect(),
        connect_timeout: Duration::from_secs(5),
        max_idle_per_endpoint: ringway_config::defaults::MAX_IDLE_PER_ENDPOINT,
        idle_timeout: ringway_config::defaults::CLUSTER_IDLE_TIMEOUT,
        protocol: UpstreamProtocol::Http1,
        http2: Http2Settings::default(),
        eureka: None,
    }
}

fn resource(name: &str, any: Any) -> Resource {
    Resource {
        name: name.into(),
        version: "1".into(),
        resource: Some(any),
        ..Default::default()
    }
}

fn clusters(list: &[&Cluster], removed: &[&str]) -> Update {
    Update {
        type_url: CLUSTER_TYPE.into(),
        nonce: "n".into(),
        resources: list
            .iter()
            .map(|c| resource(&c.name, ringway_envoy::cluster_resources(c).0))
            .collect(),
        removed: removed.iter().map(|s| s.to_string()).collect(),
    }
}

fn assignments(list: &[&Cluster], removed: &[&str]) -> Update {
    Update {
        type_url: ENDPOINTS_TYPE.into(),
        nonce: "n".into(),
        resources: list
            .iter()
            .map(|c| resource(&c.name, ringway_envoy::cluster_resources(c).1))
            .collect(),
        removed: removed.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_cluster_warms_until_its_endpoints_arrive() {
    let mut dc = DynamicClusters::default();
    let orders = model("orders", &[8081, 8082]);
    let applied = dc.apply(&clusters(&[&orders], &[])).unwrap();
    assert!(!applied.changed);
    assert_eq!(applied.subscribe_endpoints, ["orders"]);
    assert_eq!(dc.warming(), 1);
    assert!(dc.serving().is_empty());

    let applied = dc.apply(&assignments(&[&orders], &[])).unwrap();
    assert!(applied.changed);
    assert_eq!(dc.warming(), 0);
    assert_eq!(*dc.serving()["orders"], orders);
}

#[test]
fn an_endpoint_change_changes_only_endpoints() {
    let mut dc = DynamicClusters::default();
    let v1 = model("orders", &[8081]);
    dc.apply(&clusters(&[&v1], &[])).unwrap();
    dc.apply(&assignments(&[&v1], &[])).unwrap();
    let v2 = model("orders", &[8081, 8083]);
    let applied = dc.apply(&assignments(&[&v2], &[])).unwrap();
    assert!(applied.changed);
    assert_eq!(*dc.serving()["orders"], v2);
    assert!(dc.serving()["orders"].same_settings(&v1));
    // The same endpoints again change nothing.
    assert!(!dc.apply(&assignments(&[&v2], &[])).unwrap().changed);
}

#[test]
fn a_changed_cluster_serves_at_once_with_the_endpoints_it_has() {
    let mut dc = DynamicClusters::default();
    let v1 = model("orders", &[8081]);
    dc.apply(&clusters(&[&v1], &[])).unwrap();
    dc.apply(&assignments(&[&v1], &[])).unwrap();
    let mut v2 = v1.clone();
    v2.lb_policy = LbPolicy::LeastRequest;
    let applied = dc.apply(&clusters(&[&v2], &[])).unwrap();
    assert!(applied.changed);
    assert_eq!(dc.serving()["orders"].lb_policy, LbPolicy::LeastRequest);
    assert!(applied.unsubscribe_endpoints.is_empty());
}

#[test]
fn a_bad_update_changes_nothing_and_names_the_field() {
    let mut dc = DynamicClusters::default();
    let good = model("orders", &[8081]);
    dc.apply(&clusters(&[&good], &[])).unwrap();
    dc.apply(&assignments(&[&good], &[])).unwrap();

    let mut bad = ringway_envoy::envoy_cluster(&model("users", &[9000]));
    bad.outlier_detection = Some(Default::default());
    let mut update = clusters(&[&model("orders", &[8081, 8082])], &[]);
    update.resources.push(resource(
        "users",
        Any {
            type_url: CLUSTER_TYPE.into(),
            value: bad.encode_to_vec(),
        },
    ));
    let err = dc.apply(&update).unwrap_err();
    assert!(err.contains("Cluster `users`"), "{err}");
    assert!(err.contains("outlier_detection"), "{err}");
    assert_eq!(*dc.serving()["orders"], good);
    assert!(!dc.serving().contains_key("users"));
}

#[test]
fn the_file_keeps_its_own_clusters() {
    let mut dc = DynamicClusters::default();
    dc.set_file_names(["local".to_string()]);
    let err = dc
        .apply(&clusters(&[&model("local", &[1])], &[]))
        .unwrap_err();
    assert!(err.contains("the config file already defines"), "{err}");
}

#[test]
fn removal_and_absence_are_both_missing() {
    let mut dc = DynamicClusters::default();
    let orders = model("orders", &[8081]);
    dc.apply(&clusters(&[&orders], &[])).unwrap();
    dc.apply(&assignments(&[&orders], &[])).unwrap();

    let applied = dc.apply(&clusters(&[], &["orders", "ghost"])).unwrap();
    assert!(applied.changed);
    assert_eq!(applied.missing, ["orders", "ghost"]);
    assert_eq!(applied.unsubscribe_endpoints, ["orders"]);
    assert!(dc.serving().is_empty());
    assert!(dc.is_missing("ghost"));

    // It comes back: no longer missing.
    dc.apply(&clusters(&[&orders], &[])).unwrap();
    assert!(!dc.is_missing("orders"));
}

#[test]
fn a_removed_assignment_leaves_the_cluster_without_endpoints() {
    let mut dc = DynamicClusters::default();
    let orders = model("orders", &[8081]);
    dc.apply(&clusters(&[&orders], &[])).unwrap();
    dc.apply(&assignments(&[&orders], &[])).unwrap();
    let applied = dc.apply(&assignments(&[], &["orders"])).unwrap();
    assert!(applied.changed);
    assert!(dc.serving()["orders"].endpoints.is_empty());
}

#[test]
fn missing_names_are_bounded() {
    let mut dc = DynamicClusters::default();
    let names: Vec<String> = (0..MAX_MISSING + 3).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let applied = dc.apply(&clusters(&[], &refs)).unwrap();
    assert_eq!(applied.unsubscribe_clusters, ["n0", "n1", "n2"]);
    assert!(!dc.is_missing("n0"));
    assert!(dc.is_missing("n3"));
}

#[test]
fn resources_that_do_not_decode_are_refused() {
    let mut dc = DynamicClusters::default();
    let update = Update {
        type_url: CLUSTER_TYPE.into(),
        nonce: "n".into(),
        resources: vec![resource(
            "x",
            Any {
                type_url: ENDPOINTS_TYPE.into(),
                value: vec![],
            },
        )],
        removed: vec![],
    };
    let err = dc.apply(&update).unwrap_err();
    assert!(err.contains("type_url"), "{err}");
}
