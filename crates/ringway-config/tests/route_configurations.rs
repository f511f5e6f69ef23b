//! Route configurations on their own (ringway-control's routes folder, in
//! ringway's shape) and the route template: the same checks as a
//! listener's virtual hosts, errors naming the file and the field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringway_config::model::{DomainPattern, RouteAction};
use ringway_config::{
    ConfigError, defaults, load_route_configurations_str, load_route_template_str,
};

const GOOD: &str = r#"
route_configurations:
  - name: shop
    virtual_hosts:
      - name: orders
        domains: ["orders", "*.orders.internal"]
        routes:
          - match: { prefix: "/v2/" }
            weighted_clusters: [{ name: orders-v2, weight: 10 }, { name: orders, weight: 90 }]
          - match: { prefix: "/" }
            cluster: orders
            timeout: 2s
  - name: admin
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { path: "/ping" }
            direct_response: { status: 200, body: pong }
"#;

fn refused(text: &str) -> Vec<ConfigError> {
    match load_route_configurations_str("routes/bad.yaml", text) {
        Ok(c) => panic!("loaded, but should not have: {c:?}"),
        Err(e) => e.errors,
    }
}

#[track_caller]
fn assert_has(errors: &[ConfigError], field: &str, words: &[&str]) {
    let found = errors.iter().any(|e| {
        e.file == "routes/bad.yaml"
            && e.field == field
            && words.iter().all(|w| e.reason.contains(w))
    });
    assert!(
        found,
        "no error for {field} with {words:?}; got {errors:#?}"
    );
}

#[test]
fn a_good_file_loads_with_clusters_left_to_the_control_plane() {
    let configs = load_route_configurations_str("routes/shop.yaml", GOOD).unwrap();
    assert_eq!(configs.len(), 2);
    let shop = &configs[0];
    assert_eq!(shop.name, "shop");
    let orders = &shop.virtual_hosts[0];
    assert_eq!(
        orders.domains,
        vec![
            DomainPattern::Exact("orders".into()),
            DomainPattern::Suffix(".orders.internal".into())
        ]
    );
    assert_eq!(orders.routes[1].timeout, Duration::from_secs(2));
    assert_eq!(
        orders.routes[1].action,
        RouteAction::Cluster("orders".into())
    );
    assert_eq!(orders.routes[0].timeout, defaults::ROUTE_TIMEOUT);
}

#[test]
fn json_reads_too() {
    let json = r#"{"route_configurations": [{"name": "r", "virtual_hosts": [
        {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "cluster": "a"}]}]}]}"#;
    let configs = load_route_configurations_str("r.json", json).unwrap();
    assert_eq!(configs[0].virtual_hosts[0].routes.len(), 1);
}

#[test]
fn errors_name_the_file_the_field_and_the_reason() {
    let errors = refused(&GOOD.replace("timeout: 2s", "timeout: 2"));
    assert_has(
        &errors,
        "route_configurations[0].virtual_hosts[0].routes[1].timeout",
        &["unit"],
    );
    let errors = refused(&GOOD.replace("cluster: orders", "clustr: orders"));
    assert_has(
        &errors,
        "route_configurations[0].virtual_hosts[0].routes[1].clustr",
        &["unknown field `clustr`", "line 11"],
    );
    let errors = refused(&GOOD.replace("\"orders\", \"*.orders", "\"orders:8080\", \"*.orders"));
    assert_has(
        &errors,
        "route_configurations[0].virtual_hosts[0].domains[0]",
        &["leave the port out"],
    );
    let errors = refused(&GOOD.replace("name: admin", "name: shop"));
    assert_has(
        &errors,
        "route_configurations[1].name",
        &["already the name of route_configurations[0]"],
    );
    let errors = refused(&GOOD.replace("cluster: orders", "cluster: \"or ders\""));
    assert_has(
        &errors,
        "route_configurations[0].virtual_hosts[0].routes[1].cluster",
        &["or ders"],
    );
    let errors = refused("route_configurations:\n  - name: empty\n");
    assert_has(
        &errors,
        "route_configurations[0].virtual_hosts",
        &["at least one virtual host"],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = GOOD
        .replace("timeout: 2s", "timeout: soon")
        .replace("status: 200", "status: 99");
    let errors = refused(&text);
    assert!(errors.len() >= 2, "{errors:#?}");
}

#[test]
fn the_route_template() {
    let t = load_route_template_str("t.yaml", "route: { timeout: 3s }").unwrap();
    assert_eq!(t.timeout, Duration::from_secs(3));
    let t = load_route_template_str("t.yaml", "route: { timeout: 0s }").unwrap();
    assert_eq!(t.timeout, defaults::ROUTE_TIMEOUT_OFF);
    let t = load_route_template_str("t.yaml", "route: {}").unwrap();
    assert_eq!(t.timeout, defaults::ROUTE_TIMEOUT);
    let e = load_route_template_str("t.yaml", "route: { timeout: 3s, retries: 2 }").unwrap_err();
    assert_eq!(e.errors[0].field, "route.retries");
    let e = load_route_template_str("t.yaml", "route: { timeout: -1s }").unwrap_err();
    assert_eq!(e.errors[0].field, "route.timeout");
    assert_eq!(e.errors[0].file, "t.yaml");
}
