//! The hub: clusters in, responses out, per proxy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringway_xds::DeltaClient;

use crate::source::{FolderRefresh, Kind, Served};

use super::*;

fn cluster(name: &str, port: u16) -> Cluster {
    let dir = std::env::temp_dir().join(format!(
        "ringway-hub-{}-{name}-{port}.yaml",
        std::process::id()
    ));
    let text = format!("- name: {name}\n  endpoints: [\"127.0.0.1:{port}\"]\n");
    std::fs::write(&dir, text).unwrap();
    let mut clusters =
        ringway_config::load_clusters_file(&dir, &ringway_config::SystemResolver).unwrap();
    std::fs::remove_file(&dir).unwrap();
    clusters.remove(0)
}

fn refresh(clusters: Vec<Cluster>) -> Refresh {
    Refresh {
        clusters: Some(clusters),
        loaded: 1,
        failed: 0,
        answered: Vec::new(),
    }
}

#[test]
fn a_proxy_gets_what_it_asked_for_then_only_changes() {
    let hub = Hub::new();
    let mut wanted = hub.add_source("test", false);
    hub.source_refreshed("test", refresh(vec![cluster("a", 1), cluster("b", 2)]));
    assert!(hub.lock().ready);
    let mut watch = hub.watch();
    watch.borrow_and_update();

    let id = hub.connect(None);
    let mut client = DeltaClient::new("p1", "mesh");
    client.subscribe(CLUSTER_TYPE, ["a", "nope"]);
    let mut responses = Vec::new();
    for request in client.pending_requests() {
        responses.extend(hub.on_request(id, request));
    }
    assert_eq!(
        wanted.try_recv().unwrap(),
        "nope",
        "the source hook hears of it"
    );
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].resources[0].name, "a");
    assert_eq!(responses[0].removed_resources, ["nope"]);
    let update = client.receive(responses.remove(0));
    assert!(hub.on_request(id, client.ack(&update)).is_empty());
    assert_eq!(hub.lock().counters.acks, 1);

    // `b` changes (not asked for): nothing; `a` goes: removed.
    hub.source_refreshed("test", refresh(vec![cluster("b", 3)]));
    assert!(watch.has_changed().unwrap());
    let due = hub.pending(id);
    assert_eq!(due.len(), 1);
    assert!(due[0].resources.is_empty());
    assert_eq!(due[0].removed_resources, ["a"]);
    assert_eq!(
        hub.lock().set.names(ENDPOINTS_TYPE).collect::<Vec<_>>(),
        ["b"]
    );

    hub.disconnect(id);
    assert!(hub.lock().proxies.is_empty());
}

fn served(kind: Kind, name: &str, content: &str) -> Served {
    Served {
        name: name.to_owned(),
        resource: envoy_types::pb::google::protobuf::Any {
            type_url: kind.type_url().to_owned(),
            value: content.as_bytes().to_vec(),
        },
        canonical: content.as_bytes().to_vec(),
        summary: serde_json::Value::Null,
        rds: None,
        file: "f.yaml".into(),
    }
}

fn folder(resources: Vec<Served>) -> FolderRefresh {
    FolderRefresh {
        resources: Some(resources),
        loaded: 1,
        failed: 0,
    }
}

#[test]
fn routes_and_listeners_from_folders_are_served_and_removed() {
    let hub = Hub::new();
    let _wanted = hub.add_source("directory", false);
    hub.add_folder(Kind::Routes);
    hub.add_folder(Kind::Listeners);
    hub.source_refreshed("directory", refresh(vec![cluster("c", 5)]));
    hub.folder_refreshed(
        Kind::Listeners,
        folder(vec![served(Kind::Listeners, "l", "l1")]),
    );
    assert!(!hub.lock().ready, "the routes folder is still unread");
    hub.folder_refreshed(
        Kind::Routes,
        folder(vec![
            served(Kind::Routes, "r1", "a"),
            served(Kind::Routes, "r2", "b"),
        ]),
    );
    assert!(hub.lock().ready);

    let id = hub.connect(None);
    let mut client = DeltaClient::new("p1", "mesh");
    client.subscribe(ringway_xds::LISTENER_TYPE, [WILDCARD]);
    client.subscribe(ringway_xds::ROUTE_TYPE, ["r1", "ghost"]);
    let mut responses = Vec::new();
    for request in client.pending_requests() {
        responses.extend(hub.on_request(id, request));
    }
    assert_eq!(responses.len(), 2);
    for response in &responses {
        let names: Vec<&str> = response.resources.iter().map(|r| r.name.as_str()).collect();
        if response.type_url == ringway_xds::LISTENER_TYPE {
            assert_eq!(names, ["l"]);
        } else {
            assert_eq!(names, ["r1"]);
            assert_eq!(response.removed_resources, ["ghost"]);
        }
    }
    for response in responses {
        let update = client.receive(response);
        assert!(hub.on_request(id, client.ack(&update)).is_empty());
    }
    assert_eq!(hub.lock().counters.acks, 2);

    // r1 changes, r2 goes: only r1 is sent; nothing held is removed.
    hub.folder_refreshed(Kind::Routes, folder(vec![served(Kind::Routes, "r1", "c")]));
    let due = hub.pending(id);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].resources[0].name, "r1");
    assert!(due[0].removed_resources.is_empty());
    client.receive(due.into_iter().next().unwrap());
    assert_eq!(
        hub.lock()
            .set
            .names(ringway_xds::ROUTE_TYPE)
            .collect::<Vec<_>>(),
        ["r1"]
    );
    // Unchanged content is no change at all.
    let generation = hub.lock().set.generation();
    hub.folder_refreshed(Kind::Routes, folder(vec![served(Kind::Routes, "r1", "c")]));
    assert_eq!(hub.lock().set.generation(), generation);
}

#[test]
fn the_sidecar_routes_follow_the_clusters() {
    let hub = Hub::new();
    let _wanted = hub.add_source("directory", false);
    let _eureka = hub.add_source("eureka", true);
    hub.set_sidecar(crate::Sidecar {
        listener: "outbound".into(),
        address: "127.0.0.1:15001".parse().unwrap(),
        routes: "mesh".into(),
        template: ringway_config::model::RouteTemplate::default(),
    })
    .unwrap();
    let version = |hub: &Hub| {
        hub.lock()
            .set
            .version(ROUTE_TYPE, "mesh")
            .map(str::to_owned)
    };
    let empty = version(&hub).expect("served before any cluster");
    assert!(hub.lock().set.version(LISTENER_TYPE, "outbound").is_some());

    hub.source_refreshed("directory", refresh(vec![cluster("web", 1)]));
    hub.source_refreshed("eureka", refresh(vec![cluster("orders", 2)]));
    let two = version(&hub).unwrap();
    assert_ne!(two, empty);
    let hosts = |hub: &Hub| {
        let state = hub.lock();
        let served = &state.generated[ROUTE_TYPE]["mesh"];
        served.summary["virtual_hosts"].clone()
    };
    assert_eq!(hosts(&hub), serde_json::json!(["orders", "web"]));

    // An endpoint change alone leaves the routes as they were.
    hub.source_refreshed("eureka", refresh(vec![cluster("orders", 3)]));
    assert_eq!(version(&hub).unwrap(), two);
    // A cluster gone: its virtual host goes.
    hub.source_refreshed("eureka", refresh(vec![]));
    assert_eq!(hosts(&hub), serde_json::json!(["web"]));
    // Back as it was: the same version as before (content hashes).
    hub.source_refreshed("eureka", refresh(vec![cluster("orders", 2)]));
    assert_eq!(version(&hub).unwrap(), two);
}
