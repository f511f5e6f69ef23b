//! The route and listener folders against a real temporary folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::source::test_dir::TempDir;

const LOCAL_ROUTE: &str = r#"
name: local_route
virtual_hosts:
- name: backend
  domains: ["*"]
  routes:
  - match: { prefix: "/api" }
    route:
      timeout: 2s
      weighted_clusters:
        clusters:
        - { name: orders, weight: 90 }
        - { name: orders-canary, weight: 10 }
  - match: { prefix: "/" }
    route: { cluster: web }
"#;

const RDS_LISTENER: &str = r#"
name: ingress
address:
  socket_address: { address: 127.0.0.1, port_value: 10000 }
filter_chains:
- filters:
  - name: envoy.filters.network.http_connection_manager
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: ingress_http
      rds:
        route_config_name: local_route
        config_source: { ads: {} }
      http_filters:
      - name: envoy.filters.http.router
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
"#;

fn names(resources: &[Served]) -> Vec<&str> {
    resources.iter().map(|s| s.name.as_str()).collect()
}

fn decode(served: &Served) -> RouteConfiguration {
    assert_eq!(served.resource.type_url, ringway_xds::ROUTE_TYPE);
    RouteConfiguration::decode(served.resource.value.as_slice()).unwrap()
}

#[test]
fn route_files_added_changed_and_removed() {
    let dir = TempDir::new();
    let mut folder = EnvoyFolder::new(Kind::Routes, dir.path());
    assert_eq!(
        folder.scan().resources,
        Some(vec![]),
        "the first look reports"
    );

    dir.write("local.yaml", LOCAL_ROUTE);
    dir.write(
        "more.json",
        r#"[{"name": "a", "virtual_hosts": [{"name": "a", "domains": ["a.example"]}]},
            {"name": "b", "virtual_hosts": [{"name": "b", "domains": ["b.example"]}]}]"#,
    );
    let refresh = folder.scan();
    assert_eq!((refresh.loaded, refresh.failed), (2, 0));
    let resources = refresh.resources.unwrap();
    assert_eq!(names(&resources), ["a", "b", "local_route"]);
    let config = decode(&resources[2]);
    let route = &config.virtual_hosts[0].routes[0];
    assert_eq!(config.virtual_hosts[0].domains, ["*"]);
    assert!(format!("{route:?}").contains("orders-canary"));
    assert_eq!(resources[2].summary["routes"], 2);
    assert!(folder.scan().resources.is_none(), "nothing changed");

    dir.write(
        "local.yaml",
        &LOCAL_ROUTE.replace("timeout: 2s", "timeout: 3s"),
    );
    let resources = folder.scan().resources.unwrap();
    assert_ne!(resources[2].canonical, {
        let again = load(Kind::Routes, &dir.path().join("more.json")).unwrap();
        again[0].canonical.clone()
    });

    dir.remove("more.json");
    assert_eq!(names(&folder.scan().resources.unwrap()), ["local_route"]);
}

#[test]
fn a_file_with_one_bad_resource_is_refused_whole() {
    let dir = TempDir::new();
    let mut folder = EnvoyFolder::new(Kind::Routes, dir.path());
    dir.write("local.yaml", LOCAL_ROUTE);
    assert_eq!(names(&folder.scan().resources.unwrap()), ["local_route"]);

    // The second resource of the list sets a field ringway refuses.
    let bad = format!(
        "- {}\n- name: other\n  virtual_hosts:\n  - name: o\n    domains: [\"o\"]\n    rate_limits: [{{ actions: [{{ remote_address: {{}} }}] }}]\n",
        LOCAL_ROUTE.trim().replace('\n', "\n  ")
    );
    dir.write("local.yaml", &bad);
    let err = load(Kind::Routes, &dir.path().join("local.yaml")).unwrap_err();
    assert!(
        err.field.starts_with("[1].virtual_hosts[0].rate_limits"),
        "{err:?}"
    );
    let refresh = folder.scan();
    assert_eq!((refresh.loaded, refresh.failed), (0, 1));
    assert!(refresh.resources.is_none(), "the last good content stays");

    // Unknown fields, duplicates and nameless resources are refused too.
    for (text, field) in [
        ("name: x\nvirtual_hosts: []\ncolour: red\n", "colour"),
        ("virtual_hosts: []\n", "name"),
        ("[{\"name\": \"x\"}, {\"name\": \"x\"}]", "[1].name"),
        (
            "name: x\nvirtual_hosts: [{name: v, domains: []}]\n",
            "virtual_hosts[0].domains",
        ),
    ] {
        dir.write("bad.yaml", text);
        let err = load(Kind::Routes, &dir.path().join("bad.yaml")).unwrap_err();
        assert_eq!(err.field, field, "{text}: {err:?}");
    }
}

#[test]
fn listener_files_are_checked_as_a_proxy_would() {
    let dir = TempDir::new();
    let mut folder = EnvoyFolder::new(Kind::Listeners, dir.path());
    dir.write("ingress.yaml", RDS_LISTENER);
    let resources = folder.scan().resources.unwrap();
    assert_eq!(names(&resources), ["ingress"]);
    assert_eq!(resources[0].resource.type_url, ringway_xds::LISTENER_TYPE);
    assert_eq!(resources[0].summary["rds"], "local_route");
    assert_eq!(resources[0].summary["address"], "127.0.0.1:10000");
    let listener = Listener::decode(resources[0].resource.value.as_slice()).unwrap();
    assert_eq!(listener.name, "ingress");

    // A listener whose routes come from elsewhere than ADS is refused.
    dir.write(
        "ingress.yaml",
        &RDS_LISTENER.replace("config_source: { ads: {} }", "config_source: { path: /x }"),
    );
    let err = load(Kind::Listeners, &dir.path().join("ingress.yaml")).unwrap_err();
    assert!(err.field.contains(".rds.config_source"), "{err:?}");
    assert!(folder.scan().resources.is_none());
}

#[test]
fn versions_hash_content_so_replicas_agree() {
    let dir = TempDir::new();
    // Same content, different key order and format: the same canonical form.
    dir.write("a.yaml", LOCAL_ROUTE);
    let yaml = load(Kind::Routes, &dir.path().join("a.yaml")).unwrap();
    let document = text::document(LOCAL_ROUTE, Format::Yaml).unwrap();
    dir.write("b.json", &serde_json::to_string(&document).unwrap());
    let json = load(Kind::Routes, &dir.path().join("b.json")).unwrap();
    assert_eq!(yaml[0].canonical, json[0].canonical);
}

#[test]
fn a_file_taking_a_generated_name_is_refused() {
    let dir = TempDir::new();
    dir.write(
        "mesh.yaml",
        &LOCAL_ROUTE.replace("name: local_route", "name: mesh"),
    );
    dir.write("local.yaml", LOCAL_ROUTE);
    let mut folder =
        EnvoyFolder::new(Kind::Routes, dir.path()).reserving("mesh", "--sidecar-route-name");
    let refresh = folder.scan();
    assert_eq!(refresh.failed, 1);
    assert_eq!(names(&refresh.resources.unwrap()), ["local_route"]);
}
