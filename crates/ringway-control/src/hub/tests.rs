//! The hub: clusters in, responses out, per proxy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringway_xds::DeltaClient;

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
