//! The `eureka` block and `type: eureka` clusters: what loads, and the
//! errors for what does not (each naming the field and why).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringway_config::model::EurekaVip;
use ringway_config::{SystemResolver, load_str};

mod common;
use common::{assert_has, errors};

/// A config with an `eureka` block and one cluster of each kind; `extra`
/// goes into the eureka cluster.
fn config(eureka: &str, extra: &str) -> String {
    format!(
        r#"
{eureka}
listeners:
  - name: main
    address: "127.0.0.1:10000"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/orders" }}
            cluster: orders
          - match: {{ prefix: "/" }}
            cluster: backend
clusters:
  - name: backend
    endpoints: ["127.0.0.1:8080"]
  - name: orders
    type: eureka
    lb_policy: least_request
{extra}
"#
    )
}

const BLOCK: &str = "eureka:\n  urls: [\"http://127.0.0.1:8761/eureka\", \"http://10.0.0.2:8080/eureka/v2/\"]\n  fetch_interval: 2s";

#[test]
fn a_eureka_cluster_loads_with_its_vip_and_no_endpoints() {
    let snapshot = load_str(
        "ok.yaml",
        &config(BLOCK, "    vip: orders"),
        &SystemResolver,
    )
    .unwrap();
    let eureka = snapshot.eureka.as_ref().unwrap();
    assert_eq!(
        eureka.urls,
        [
            "http://127.0.0.1:8761/eureka/",
            "http://10.0.0.2:8080/eureka/v2/"
        ]
    );
    assert_eq!(eureka.fetch_interval, Duration::from_secs(2));
    let orders = &snapshot.clusters["orders"];
    assert!(orders.endpoints.is_empty());
    assert_eq!(
        orders.eureka,
        Some(EurekaVip {
            name: "orders".into(),
            secure: false
        })
    );
    assert_eq!(snapshot.clusters["backend"].eureka, None);

    let snapshot = load_str(
        "ok.yaml",
        &config(
            "eureka: { urls: [\"http://r:8761/eureka/\"] }",
            "    svip: orders-secure",
        ),
        &SystemResolver,
    )
    .unwrap();
    assert_eq!(
        snapshot.eureka.unwrap().fetch_interval,
        Duration::from_secs(30)
    );
    assert_eq!(
        snapshot.clusters["orders"].eureka,
        Some(EurekaVip {
            name: "orders-secure".into(),
            secure: true
        })
    );
}

#[test]
fn bad_eureka_settings_are_named() {
    let e = errors(&config("", "    vip: orders"));
    assert_has(&e, "clusters[1].type", &["eureka:", "urls"]);

    let e = errors(&config(BLOCK, ""));
    assert_has(&e, "clusters[1]", &["needs `vip`"]);

    let e = errors(&config(BLOCK, "    vip: a\n    svip: b"));
    assert_has(&e, "clusters[1]", &["not both"]);

    let e = errors(&config(BLOCK, "    vip: \"a, b\""));
    assert_has(&e, "clusters[1].vip", &["not a VIP"]);

    let e = errors(&config(
        BLOCK,
        "    vip: orders\n    endpoints: [\"127.0.0.1:1\"]",
    ));
    assert_has(&e, "clusters[1].endpoints", &["from the registry"]);

    let e = errors(&config(
        "eureka: { urls: [\"https://r/eureka/\", \"http://r:0/\"], fetch_interval: 0s }",
        "    vip: orders",
    ));
    assert_has(&e, "eureka.urls[0]", &["https:// is not"]);
    assert_has(&e, "eureka.urls[1]", &["port"]);
    assert_has(&e, "eureka.fetch_interval", &[]);

    let e = errors(&config("eureka: { urls: [] }", "    vip: orders"));
    assert_has(&e, "eureka.urls", &["at least one"]);

    let e = errors(&config(BLOCK, "    vip: orders\n    vipp: x"));
    assert_has(&e, "clusters[1].vipp", &["unknown field"]);

    let static_with_vip = config(BLOCK, "    vip: orders").replace(
        "    endpoints: [\"127.0.0.1:8080\"]",
        "    endpoints: [\"127.0.0.1:8080\"]\n    vip: nope",
    );
    assert_has(
        &errors(&static_with_vip),
        "clusters[0].vip",
        &["type: eureka"],
    );
}

#[test]
fn with_a_eureka_block_routes_may_name_vips_the_file_does_not_define() {
    let text = config(BLOCK, "    vip: orders").replace("cluster: backend", "cluster: payments");
    assert!(load_str("ok.yaml", &text, &SystemResolver).is_ok());
    let without = text
        .replace(BLOCK, "")
        .replace("    type: eureka\n", "")
        .replace("    vip: orders\n", "    endpoints: [\"127.0.0.1:1\"]\n");
    let e = errors(&without);
    assert_has(
        &e,
        "listeners[0].virtual_hosts[0].routes[1].cluster",
        &["unknown cluster `payments`"],
    );
}
