//! The folder source against a real temporary folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::source::test_dir::TempDir;

fn names(clusters: &[Cluster]) -> Vec<&str> {
    clusters.iter().map(|c| c.name.as_str()).collect()
}

fn ports(clusters: &[Cluster], name: &str) -> Vec<u16> {
    let cluster = clusters.iter().find(|c| c.name == name).unwrap();
    cluster.endpoints.iter().map(|e| e.address.port()).collect()
}

const ORDERS: &str = r#"
- name: orders
  lb_policy: least_request
  endpoints: ["127.0.0.1:8081", "127.0.0.1:8082"]
- name: users
  protocol: http2
  endpoints: [{ address: "127.0.0.1:9000", weight: 3 }]
"#;

#[test]
fn files_added_changed_and_removed() {
    let dir = TempDir::new();
    let mut source = DirectorySource::new(dir.path());
    let first = source.scan();
    assert_eq!(
        first.clusters,
        Some(vec![]),
        "the first scan always reports"
    );
    assert!(source.scan().clusters.is_none(), "nothing changed");

    dir.write("a.yaml", ORDERS);
    dir.write(
        "b.json",
        r#"[{"name": "billing", "endpoints": ["127.0.0.1:7000"]}]"#,
    );
    dir.write(
        "notes.txt",
        "- name: ignored\n  endpoints: [\"127.0.0.1:1\"]\n",
    );
    let refresh = source.scan();
    assert_eq!((refresh.loaded, refresh.failed), (2, 0));
    let clusters = refresh.clusters.unwrap();
    assert_eq!(names(&clusters), ["billing", "orders", "users"]);
    assert_eq!(ports(&clusters, "orders"), [8081, 8082]);

    dir.write("a.yaml", &ORDERS.replace("8082", "8083"));
    let clusters = source.scan().clusters.unwrap();
    assert_eq!(ports(&clusters, "orders"), [8081, 8083]);

    dir.remove("b.json");
    let clusters = source.scan().clusters.unwrap();
    assert_eq!(names(&clusters), ["orders", "users"]);
}

#[test]
fn a_bad_file_keeps_its_last_good_clusters() {
    let dir = TempDir::new();
    let mut source = DirectorySource::new(dir.path());
    dir.write("a.yaml", ORDERS);
    dir.write("never.yml", "- name: broken\n  endpoints: []\n");
    let refresh = source.scan();
    assert_eq!((refresh.loaded, refresh.failed), (1, 1));
    assert_eq!(names(&refresh.clusters.unwrap()), ["orders", "users"]);

    dir.write(
        "a.yaml",
        "- name: orders\n  lb_policy: fastest\n  endpoints: [\"127.0.0.1:1\"]\n",
    );
    let refresh = source.scan();
    assert_eq!((refresh.loaded, refresh.failed), (0, 1));
    assert!(refresh.clusters.is_none(), "the last good clusters stay");
    let refresh = source.scan();
    assert_eq!(
        refresh,
        Refresh::default(),
        "an unchanged bad file is not re-read"
    );

    dir.write("a.yaml", "- name: orders\n  endpoints: [\"127.0.0.1:9\"]\n");
    let clusters = source.scan().clusters.unwrap();
    assert_eq!(names(&clusters), ["orders"]);
    assert_eq!(ports(&clusters, "orders"), [9]);
}

#[test]
fn a_name_in_two_files_comes_from_the_first() {
    let dir = TempDir::new();
    let mut source = DirectorySource::new(dir.path());
    dir.write("b.yaml", "- name: orders\n  endpoints: [\"127.0.0.1:2\"]\n");
    dir.write("a.yaml", "- name: orders\n  endpoints: [\"127.0.0.1:1\"]\n");
    let clusters = source.scan().clusters.unwrap();
    assert_eq!(ports(&clusters, "orders"), [1]);

    dir.remove("a.yaml");
    let clusters = source.scan().clusters.unwrap();
    assert_eq!(
        ports(&clusters, "orders"),
        [2],
        "the other file's takes over"
    );
}

#[test]
fn a_missing_folder_fails_and_keeps_what_it_had() {
    let dir = TempDir::new();
    let mut source = DirectorySource::new(dir.path());
    dir.write("a.yaml", ORDERS);
    assert!(source.scan().clusters.is_some());
    std::fs::remove_dir_all(dir.path()).unwrap();
    let refresh = source.scan();
    assert_eq!((refresh.failed, refresh.clusters), (1, None));
}
