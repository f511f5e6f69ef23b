#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::SystemTime;

use ringway_config::model::{Cluster, Endpoint};

use super::*;

const CONFIG: &str = "
listeners:
  - name: main
    address: \"127.0.0.1:10000\"
    virtual_hosts:
      - name: all
        domains: [\"*\"]
        routes:
          - match: { prefix: \"/\" }
            cluster: backend
clusters:
  - name: backend
    endpoints: [\"127.0.0.1:8080\"]
";

fn view(bootstrap: Option<Value>) -> ConfigView {
    let file = ringway_config::load_str("t.yaml", CONFIG, &ringway_config::SystemResolver).unwrap();
    let mut serving = file.clone();
    serving.clusters.insert(
        "orders".into(),
        Arc::new(Cluster::with_defaults(
            "orders",
            vec![Endpoint {
                address: "10.0.0.2:9000".parse().unwrap(),
                weight: 1,
                hostname: None,
            }],
        )),
    );
    ConfigView {
        file: Arc::new(file),
        file_loaded: SystemTime::UNIX_EPOCH,
        serving: Arc::new(serving),
        serving_since: SystemTime::UNIX_EPOCH,
        bootstrap: bootstrap.map(Arc::new),
        node: ("node-1".into(), "edge".into(), String::new()),
        admin: "127.0.0.1:9901".parse().unwrap(),
    }
}

fn dump(query: DumpQuery) -> Result<Value, Refused> {
    let version = |name: &str| (name == "orders").then(|| "v7".to_owned());
    config_dump(&view(None), &version, &query)
}

fn types(dump: &Value) -> Vec<String> {
    dump["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| type_of(c).to_owned())
        .collect()
}

#[test]
fn dumps_come_in_envoys_order_with_their_types() {
    let out = dump(DumpQuery::default()).unwrap();
    assert_eq!(
        types(&out),
        [
            "envoy.admin.v3.BootstrapConfigDump",
            "envoy.admin.v3.ClustersConfigDump",
            "envoy.admin.v3.ListenersConfigDump",
            "envoy.admin.v3.RoutesConfigDump",
            "envoy.admin.v3.ScopedRoutesConfigDump",
            "envoy.admin.v3.SecretsConfigDump",
        ]
    );
    let c = &out["configs"];
    let bootstrap = &c[0]["bootstrap"];
    assert_eq!(bootstrap["node"]["id"], "node-1");
    assert_eq!(
        bootstrap["static_resources"]["listeners"][0]["name"],
        "main"
    );
    assert_eq!(
        bootstrap["admin"]["address"]["socket_address"]["port_value"],
        9901
    );
    assert_eq!(c[0]["last_updated"], "1970-01-01T00:00:00Z");
    let static_cluster = &c[1]["static_clusters"][0]["cluster"];
    assert_eq!(
        static_cluster["@type"],
        "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    );
    assert_eq!(static_cluster["name"], "backend");
    assert_eq!(static_cluster["type"], "STATIC");
    let dynamic = &c[1]["dynamic_active_clusters"][0];
    assert_eq!(dynamic["version_info"], "v7");
    assert_eq!(dynamic["cluster"]["name"], "orders");
    assert_eq!(c[2]["static_listeners"][0]["listener"]["name"], "main");
    assert_eq!(
        c[3]["static_route_configs"][0]["route_config"]["virtual_hosts"][0]["name"],
        "all"
    );
}

#[test]
fn an_envoy_bootstrap_is_shown_as_loaded() {
    let bootstrap = json!({"node": {"id": "from-envoy"}, "stats_flush_interval": "7s"});
    let version = |_: &str| None;
    let out = config_dump(&view(Some(bootstrap)), &version, &DumpQuery::default()).unwrap();
    assert_eq!(out["configs"][0]["bootstrap"]["node"]["id"], "from-envoy");
    assert_eq!(out["configs"][0]["bootstrap"]["stats_flush_interval"], "7s");
}

#[test]
fn resource_and_mask_pick_elements_and_fields() {
    let out = dump(DumpQuery {
        resource: Some("dynamic_active_clusters".into()),
        mask: Some("cluster.name,version_info".into()),
        ..DumpQuery::default()
    })
    .unwrap();
    assert_eq!(
        out,
        json!({"configs": [{
            "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
            "version_info": "v7",
            "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "orders"},
        }]})
    );
    let err = dump(DumpQuery {
        resource: Some("version_info".into()),
        ..DumpQuery::default()
    });
    assert_eq!(err.err().map(|e| e.0), Some(400));
    let err = dump(DumpQuery {
        resource: Some("nothing_like_it".into()),
        ..DumpQuery::default()
    });
    assert_eq!(
        err.err(),
        Some((404, "nothing_like_it not found in config dump".into()))
    );
    let err = dump(DumpQuery {
        resource: Some("static_clusters".into()),
        mask: Some("cluster.no_such_field".into()),
        ..DumpQuery::default()
    });
    assert_eq!(err.err().map(|e| e.0), Some(400));
}

#[test]
fn mask_alone_trims_the_dumps_it_fits() {
    let out = dump(DumpQuery {
        mask: Some("static_listeners".into()),
        ..DumpQuery::default()
    })
    .unwrap();
    assert_eq!(types(&out), ["envoy.admin.v3.ListenersConfigDump"]);
    assert!(out["configs"][0].get("static_listeners").is_some());
    let err = dump(DumpQuery {
        mask: Some("bogus".into()),
        ..DumpQuery::default()
    });
    assert_eq!(err.err().map(|e| e.0), Some(400));
}

#[test]
fn name_regex_and_include_eds() {
    let out = dump(DumpQuery {
        name_regex: Some(regex::Regex::new("^(?:ord.*)$").unwrap()),
        include_eds: true,
        ..DumpQuery::default()
    })
    .unwrap();
    let c = &out["configs"];
    assert_eq!(types(&out)[2], "envoy.admin.v3.EndpointsConfigDump");
    assert!(c[1].get("static_clusters").is_none());
    assert_eq!(
        c[1]["dynamic_active_clusters"][0]["cluster"]["name"],
        "orders"
    );
    let cla = &c[2]["dynamic_endpoint_configs"][0]["endpoint_config"];
    assert_eq!(cla["cluster_name"], "orders");
    assert!(c[3].get("static_listeners").is_none());
}
