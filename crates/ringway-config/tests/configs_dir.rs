//! Every example config in `configs/` loads as it is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ringway_config::{SystemResolver, load_file};

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
}

#[test]
fn every_example_config_loads() {
    let dir = configs_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}")))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        if let Err(errors) = load_file(path, &SystemResolver) {
            failures.push(errors.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "example configs failed to load:\n{}",
        failures.join("\n")
    );
    for name in ["quickstart.yaml", "sidecar.yaml", "edge.yaml"] {
        assert!(
            paths.iter().any(|p| p.ends_with(name)),
            "configs/{name} is missing"
        );
    }
}

#[test]
fn quickstart_has_what_the_quickstart_script_expects() {
    use ringway_config::model::{PathMatch, RouteAction};

    let snapshot = load_file(&configs_dir().join("quickstart.yaml"), &SystemResolver)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(snapshot.admin.address, "127.0.0.1:9901".parse().ok());
    let listener = &snapshot.listeners[0];
    assert_eq!(listener.address.to_string(), "127.0.0.1:10000");
    let routes = &listener.virtual_hosts[0].routes;
    let demo = routes
        .iter()
        .find(|r| r.matcher.path == PathMatch::Prefix("/demo".into()))
        .unwrap_or_else(|| panic!("no /demo route"));
    assert_eq!(demo.action, RouteAction::Cluster("demo".into()));
    assert_eq!(demo.prefix_rewrite.as_deref(), Some("/"));
    let root = routes
        .iter()
        .find(|r| matches!(&r.action, RouteAction::DirectResponse { body, .. } if body.contains("ringway is running")))
        .unwrap_or_else(|| panic!("no direct response saying ringway is running"));
    assert_eq!(root.matcher.path, PathMatch::Exact("/".into()));
    let demo_cluster = &snapshot.clusters["demo"];
    assert_eq!(
        demo_cluster.endpoints[0].address.to_string(),
        "127.0.0.1:8080"
    );
}
