//! Route files in ringway's shape: detected, checked, rendered, served
//! like an Envoy file, refused whole when bad.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use envoy_types::pb::envoy::config::route::v3::RouteConfiguration as EnvoyRoutes;
use prost::Message;
use serde_json::json;

use super::*;
use crate::source::test_dir::TempDir;
use crate::source::{EnvoyFolder, Kind};

const SHOP: &str = r#"
route_configurations:
  - name: shop
    virtual_hosts:
      - name: orders
        domains: ["orders"]
        routes:
          - match: { prefix: "/" }
            weighted_clusters: [{ name: orders, weight: 90 }, { name: orders-v2, weight: 10 }]
            timeout: 2s
"#;

/// The same route configuration as an Envoy file.
const SHOP_ENVOY: &str = r#"
name: shop
virtual_hosts:
- name: orders
  domains: ["orders"]
  routes:
  - match: { prefix: "/" }
    route:
      timeout: 2s
      weighted_clusters:
        clusters:
        - { name: orders, weight: 90 }
        - { name: orders-v2, weight: 10 }
"#;

#[test]
fn the_shape_is_told_by_its_top_level_key() {
    assert!(is_ringway_shape(
        &json!({"route_configurations": [{"name": "r"}]})
    ));
    assert!(!is_ringway_shape(
        &json!({"name": "r", "virtual_hosts": []})
    ));
    assert!(!is_ringway_shape(&json!([{"name": "r"}])));
    assert!(!is_ringway_shape(&json!(null)));
}

#[test]
fn a_ringway_file_is_served_as_its_envoy_rendering() {
    let dir = TempDir::new();
    dir.write("shop.yaml", SHOP);
    let mut folder = EnvoyFolder::new(Kind::Routes, dir.path());
    let served = folder.scan().resources.unwrap();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].name, "shop");
    assert_eq!(served[0].summary["virtual_hosts"], json!(["orders"]));
    let config = EnvoyRoutes::decode(served[0].resource.value.as_slice()).unwrap();
    let hosts = ringway_envoy::virtual_hosts(&config).unwrap();
    assert_eq!(
        hosts[0].routes[0].timeout,
        std::time::Duration::from_secs(2)
    );

    // The same content written as Envoy YAML hashes the same.
    let other = TempDir::new();
    other.write("shop.yaml", SHOP_ENVOY);
    let envoy = EnvoyFolder::new(Kind::Routes, other.path())
        .scan()
        .resources
        .unwrap();
    let version = |s: &Served| {
        let mut set = ringway_xds::ResourceSet::default();
        set.upsert_canonical(
            ringway_xds::ROUTE_TYPE,
            &s.name,
            s.resource.clone(),
            &s.canonical,
        );
        set.version(ringway_xds::ROUTE_TYPE, &s.name)
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        version(&served[0]),
        version(&envoy[0]),
        "the same route configuration, whichever shape it was written in"
    );
    // Read again (another replica): the same bytes.
    let again = EnvoyFolder::new(Kind::Routes, dir.path()).scan().resources;
    assert_eq!(again.unwrap()[0].canonical, served[0].canonical);
}

#[test]
fn a_bad_file_is_refused_naming_the_field_and_the_last_good_stays() {
    let dir = TempDir::new();
    dir.write("shop.yaml", SHOP);
    dir.write(
        "web.yaml",
        SHOP_ENVOY.replace("name: shop", "name: web").as_str(),
    );
    let mut folder = EnvoyFolder::new(Kind::Routes, dir.path());
    let first = folder.scan().resources.unwrap();
    assert_eq!(first.len(), 2);

    dir.write("shop.yaml", &SHOP.replace("timeout: 2s", "timeout: 2"));
    let err = load(
        &dir.path().join("shop.yaml"),
        &SHOP.replace("timeout: 2s", "timeout: 2"),
    )
    .unwrap_err();
    assert_eq!(
        err.field,
        "route_configurations[0].virtual_hosts[0].routes[0].timeout"
    );
    assert!(err.reason.contains("unit"), "{}", err.reason);
    let refresh = folder.scan();
    assert_eq!(refresh.failed, 1);
    assert_eq!(refresh.resources, None, "the last good resources stay");

    let unknown = SHOP.replace("timeout: 2s", "timeout: 2s\n            retries: 3");
    let err = load(Path::new("r.yaml"), &unknown).unwrap_err();
    assert_eq!(
        err.field,
        "route_configurations[0].virtual_hosts[0].routes[0].retries"
    );
    assert!(err.reason.contains("unknown field"), "{}", err.reason);
}

#[test]
fn settings_xds_cannot_carry_are_refused() {
    let text = SHOP.replace(
        "timeout: 2s",
        "timeout: 2s\n            max_request_body_bytes: 10",
    );
    let err = load(Path::new("r.yaml"), &text).unwrap_err();
    assert_eq!(
        err.field,
        "route_configurations[0].virtual_hosts[0].routes[0].max_request_body_bytes"
    );
    let text = SHOP.replace(
        "weighted_clusters: [{ name: orders, weight: 90 }, { name: orders-v2, weight: 10 }]",
        "cluster: orders\n            on_demand: { timeout: 1s }",
    );
    let err = load(Path::new("r.yaml"), &text).unwrap_err();
    assert!(err.field.ends_with("routes[0].on_demand"), "{}", err.field);
}

#[test]
fn several_problems_are_reported_together() {
    let text = SHOP
        .replace("timeout: 2s", "timeout: soon")
        .replace("domains: [\"orders\"]", "domains: [\"orders:80\"]");
    let err = load(Path::new("r.yaml"), &text).unwrap_err();
    assert!(err.reason.contains("; also "), "{}", err.reason);
}
