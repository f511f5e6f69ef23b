//! DynamicListeners: whole-update checks, warming until the routes arrive,
//! route changes reaching file and control-plane listeners, removal.

use envoy_types::pb::envoy::service::discovery::v3::Resource;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use ringway_config::model::{RouteAction, Snapshot};
use ringway_envoy::text::{Format, document, message};
use ringway_envoy::{LISTENER_TYPE, ROUTE_TYPE};
use ringway_xds::Update;

use super::*;

const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

fn any(type_url: &str, full_name: &str, yaml: &str) -> Any {
    let doc = document(yaml, Format::Yaml).unwrap();
    Any {
        type_url: type_url.into(),
        value: message(full_name, &doc).unwrap().encode_to_vec(),
    }
}

fn listener(name: &str, port: u16, routes: &str) -> Resource {
    let yaml = format!(
        r#"
name: {name}
address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }}
filter_chains:
- filters:
  - name: hcm
    typed_config:
      "@type": {HCM}
      stat_prefix: {name}
      rds: {{ route_config_name: {routes}, config_source: {{ ads: {{}} }} }}
      http_filters:
      - name: envoy.filters.http.router
        typed_config: {{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }}
"#
    );
    Resource {
        name: name.into(),
        version: "1".into(),
        resource: Some(any(
            LISTENER_TYPE,
            "envoy.config.listener.v3.Listener",
            &yaml,
        )),
        ..Default::default()
    }
}

fn routes(name: &str, cluster: &str) -> Resource {
    let yaml = format!(
        r#"
name: {name}
virtual_hosts:
- name: all
  domains: ["*"]
  routes:
  - match: {{ prefix: "/" }}
    route: {{ cluster: {cluster} }}
"#
    );
    Resource {
        name: name.into(),
        version: "1".into(),
        resource: Some(any(
            ROUTE_TYPE,
            "envoy.config.route.v3.RouteConfiguration",
            &yaml,
        )),
        ..Default::default()
    }
}

fn update(type_url: &str, resources: Vec<Resource>, removed: &[&str]) -> Update {
    Update {
        type_url: type_url.into(),
        nonce: "n".into(),
        resources,
        removed: removed.iter().map(|s| s.to_string()).collect(),
    }
}

fn empty_file() -> Snapshot {
    ringway_config::load_str(
        "t.yaml",
        "xds: { address: '127.0.0.1:1', node: { id: a }, all_listeners: true }\n",
        &ringway_config::SystemResolver,
    )
    .unwrap()
}

fn merged(state: &DynamicListeners, file: &Snapshot) -> Snapshot {
    let mut s = file.clone();
    state.merge_into(&mut s);
    s
}

fn cluster_of(s: &Snapshot, listener: &str) -> Option<String> {
    let l = s.listeners.iter().find(|l| l.name == listener)?;
    match &l.virtual_hosts.first()?.routes.first()?.action {
        RouteAction::Cluster(c) => Some(c.clone()),
        _ => None,
    }
}

#[test]
fn a_listener_warms_until_its_routes_arrive() {
    let file = empty_file();
    let mut state = DynamicListeners::default();
    state.set_file(&file);
    let applied = state
        .apply(&update(LISTENER_TYPE, vec![listener("edge", 0, "r")], &[]))
        .unwrap();
    assert_eq!(applied.subscribe_routes, ["r"]);
    assert_eq!((state.warming(), state.serving()), (1, 0));
    assert!(merged(&state, &file).listeners.is_empty());
    let applied = state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "a")], &[]))
        .unwrap();
    assert!(applied.changed);
    assert_eq!((state.warming(), state.serving()), (0, 1));
    assert_eq!(
        cluster_of(&merged(&state, &file), "edge").as_deref(),
        Some("a")
    );
    assert_eq!(state.route_clusters(), ["a"]);
    // The same route again changes nothing.
    let again = state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "a")], &[]))
        .unwrap();
    assert!(!again.changed);
    state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "b")], &[]))
        .unwrap();
    assert_eq!(
        cluster_of(&merged(&state, &file), "edge").as_deref(),
        Some("b")
    );
}

#[test]
fn an_update_with_one_bad_resource_changes_nothing() {
    let file = empty_file();
    let mut state = DynamicListeners::default();
    state.set_file(&file);
    state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "a")], &[]))
        .unwrap();
    let mut bad = routes("q", "a");
    bad.name = "other".into();
    let err = state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "b"), bad], &[]))
        .unwrap_err();
    assert!(err.contains("differs from the resource name"), "{err}");
    state
        .apply(&update(LISTENER_TYPE, vec![listener("edge", 0, "r")], &[]))
        .unwrap();
    assert_eq!(
        cluster_of(&merged(&state, &file), "edge").as_deref(),
        Some("a")
    );
    let err = state
        .apply(&update(
            LISTENER_TYPE,
            vec![listener("x", 7000, "r"), listener("y", 7000, "r")],
            &[],
        ))
        .unwrap_err();
    assert!(err.contains("is also the address of `x`"), "{err}");
}

#[test]
fn removal_and_routes_no_listener_wants_are_let_go() {
    let file = empty_file();
    let mut state = DynamicListeners::default();
    state.set_file(&file);
    state
        .apply(&update(LISTENER_TYPE, vec![listener("edge", 0, "r")], &[]))
        .unwrap();
    state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "a")], &[]))
        .unwrap();
    let applied = state
        .apply(&update(LISTENER_TYPE, vec![], &["edge"]))
        .unwrap();
    assert!(applied.changed);
    assert_eq!(applied.unsubscribe_routes, ["r"]);
    assert!(merged(&state, &file).listeners.is_empty());
}

#[test]
fn the_file_s_rds_listeners_take_their_routes_and_keep_their_names() {
    let file = ringway_config::load_str(
        "t.yaml",
        "xds: { address: '127.0.0.1:1', node: { id: a }, all_listeners: true }\n",
        &ringway_config::SystemResolver,
    )
    .unwrap();
    let mut file = file;
    let mut own = ringway_envoy::listener(
        &envoy_types::pb::envoy::config::listener::v3::Listener::decode(
            listener("main", 0, "r").resource.unwrap().value.as_slice(),
        )
        .unwrap(),
        "main",
    )
    .unwrap();
    own.name = "main".into();
    file.listeners.push(std::sync::Arc::new(own));
    let mut state = DynamicListeners::default();
    assert_eq!(state.set_file(&file), ["r"]);
    assert!(!state.file_routes_arrived());
    let err = state
        .apply(&update(LISTENER_TYPE, vec![listener("main", 0, "r")], &[]))
        .unwrap_err();
    assert!(err.contains("already defines this listener"), "{err}");
    state
        .apply(&update(ROUTE_TYPE, vec![routes("r", "a")], &[]))
        .unwrap();
    assert!(state.file_routes_arrived());
    assert_eq!(
        cluster_of(&merged(&state, &file), "main").as_deref(),
        Some("a")
    );
}
