//! Good configs load into the snapshot the docs promise: defaults filled
//! in, values normalised, host names resolved, JSON read like YAML.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

mod common;
use common::MINIMAL;
use ringway_config::model::{
    AccessLogFormat, DomainPattern, Endpoint, HeaderValueMatch, IoDriver, LbPolicy, Limits,
    PathMatch, Redirect, RedirectPath, RouteAction, Snapshot, StringMatch, StringMatchKind,
    WeightedCluster,
};
use ringway_config::{SystemResolver, load_str};

fn load(source: &str, text: &str) -> Snapshot {
    load_str(source, text, &SystemResolver).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn minimal_config_with_defaults() {
    let s = load("minimal.yaml", MINIMAL);
    assert_eq!(s.source, "minimal.yaml");
    assert_eq!(s.admin.address, Some("127.0.0.1:9901".parse().unwrap()));
    assert_eq!(s.workers.count, Some(2));
    assert_eq!(s.workers.cpu_set, Some(vec![0, 1]));
    assert_eq!(s.workers.io_driver, Some(IoDriver::Auto));
    let listener = &s.listeners[0];
    assert_eq!(listener.limits, Limits::default());
    assert_eq!(listener.stat_prefix, listener.name);
    assert_eq!(
        listener.limits.stream_idle_timeout,
        Some(Duration::from_secs(300))
    );
    assert_eq!(listener.limits.request_timeout, None);
    assert_eq!(listener.limits.max_request_head_bytes, 65536);
    assert_eq!(
        listener.limits.request_head_timeout,
        Duration::from_secs(10)
    );
    assert_eq!(listener.access_logs, []);
    let vhost = &listener.virtual_hosts[0];
    assert_eq!(vhost.domains, [DomainPattern::Any]);
    let route = &vhost.routes[0];
    assert_eq!(route.matcher.path, PathMatch::Prefix("/".into()));
    assert_eq!(route.action, RouteAction::Cluster("backend".into()));
    assert_eq!(route.timeout, Duration::from_secs(15));
    let cluster = &s.clusters["backend"];
    assert_eq!(cluster.lb_policy, LbPolicy::RoundRobin);
    assert_eq!(cluster.endpoints.len(), 2);
    assert_eq!(cluster.endpoints[1].weight, 1);
    assert_eq!(cluster.connect_timeout, Duration::from_secs(5));
    assert_eq!(cluster.max_idle_per_endpoint, 64);
    assert_eq!(cluster.idle_timeout, Duration::from_secs(60));
}

#[test]
fn optional_sections_may_be_left_out() {
    let text = "listeners: [{ name: l, address: \"[::1]:0\", virtual_hosts: [{ name: v, domains: [\"*\"], routes: [{ match: { prefix: \"/\" }, direct_response: { status: 204 } }] }] }]";
    let s = load("tiny.yaml", text);
    assert_eq!(s.admin.address, None);
    assert_eq!(s.workers, Default::default());
    assert!(s.clusters.is_empty());
    let route = &s.listeners[0].virtual_hosts[0].routes[0];
    assert_eq!(
        route.action,
        RouteAction::DirectResponse {
            status: 204,
            body: String::new()
        }
    );
}

#[test]
fn json_reads_like_yaml() {
    let json = r#"{
      "listeners": [{ "name": "main", "address": "127.0.0.1:10000",
        "virtual_hosts": [{ "name": "all", "domains": ["*"],
          "routes": [{ "match": { "prefix": "/" }, "cluster": "backend" }] }] }],
      "clusters": [{ "name": "backend", "endpoints": ["127.0.0.1:8080", "127.0.0.1:8081"] }],
      "admin": { "address": "127.0.0.1:9901" },
      "workers": { "count": 2, "cpu_set": [0, 1], "io_driver": "auto" }
    }"#;
    let mut from_json = load("config.json", json);
    let from_yaml = load("config.yaml", MINIMAL);
    from_json.source = from_yaml.source.clone();
    assert_eq!(from_json, from_yaml);
    // The YAML reader takes JSON too, whatever the file is called.
    assert!(load_str("config.yaml", json, &SystemResolver).is_ok());
}

#[test]
fn everything_set() {
    let text = r#"
workers: { cpu_set: [3, 1] }
listeners:
  - name: edge.v2
    address: "0.0.0.0:0"
    stat_prefix: edge
    limits: { max_request_head_bytes: 1024, max_request_headers: 10, max_uri_bytes: 512, request_head_timeout: 250ms, idle_timeout: 1m, stream_idle_timeout: 0s, request_timeout: 30s, max_connections_per_worker: 8, max_request_body_bytes: 0 }
    access_log: { format: json }
    virtual_hosts:
      - name: site
        domains: ["WWW.Example.com", "*.Example.com", "api.*"]
        routes:
          - match: { path: "/exact", methods: [get, Post], headers: [{ name: X-Canary, exact: "1", invert: true }, { name: x-p, prefix: ab }, { name: x-r, regex: "[0-9]+" }, { name: x-present }] }
            weighted_clusters: [{ name: a, weight: 9 }, { name: b, weight: 1 }]
            timeout: 2s
            idle_timeout: 45s
            host_rewrite: internal.local:8080
            max_request_body_bytes: 100
          - match: { prefix: "/old" }
            redirect: { scheme: HTTPS, host: "example.com", path: "/new" }
          - match: { prefix: "/api" }
            cluster: a
            prefix_rewrite: "/v1"
clusters:
  - name: a
    lb_policy: least_request
    endpoints: [{ address: "[::1]:80", weight: 3 }, "10.0.0.1:80"]
    connect_timeout: 100ms
    max_idle_per_endpoint: 0
    idle_timeout: 2h
  - { name: b, lb_policy: random, endpoints: ["10.0.0.2:80"] }
"#;
    let s = load("all.yaml", text);
    assert_eq!(s.workers.cpu_set, Some(vec![3, 1]));
    let listener = &s.listeners[0];
    assert_eq!(listener.stat_prefix, "edge");
    assert_eq!(
        listener.limits.request_head_timeout,
        Duration::from_millis(250)
    );
    assert_eq!(listener.limits.max_request_body_bytes, Some(0));
    // `0s` turns the stream idle timeout off.
    assert_eq!(listener.limits.stream_idle_timeout, None);
    assert_eq!(
        listener.limits.request_timeout,
        Some(Duration::from_secs(30))
    );
    let log = &listener.access_logs[0];
    assert_eq!(
        (log.path.to_str(), &log.format),
        (Some("/dev/stdout"), &AccessLogFormat::Json)
    );
    let vhost = &listener.virtual_hosts[0];
    assert_eq!(
        vhost.domains,
        [
            DomainPattern::Exact("www.example.com".into()),
            DomainPattern::Suffix(".example.com".into()),
            DomainPattern::Prefix("api.".into()),
        ]
    );
    let first = &vhost.routes[0];
    assert_eq!(first.matcher.methods, ["GET", "POST"]);
    assert_eq!(first.idle_timeout, Some(Duration::from_secs(45)));
    assert_eq!(vhost.routes[2].idle_timeout, None);
    let headers = &first.matcher.headers;
    // ringway's `invert` also matches a missing header: Envoy's
    // `invert_match` with the header judged empty when missing.
    assert_eq!(
        (
            headers[0].name.as_str(),
            headers[0].invert_match,
            headers[0].treat_missing_header_as_empty
        ),
        ("x-canary", true, true)
    );
    assert_eq!(
        headers[1].value,
        HeaderValueMatch::String(StringMatch {
            kind: StringMatchKind::Prefix("ab".into()),
            ignore_case: false
        })
    );
    assert!(matches!(
        &headers[2].value,
        HeaderValueMatch::String(StringMatch { kind: StringMatchKind::SafeRegex(p), .. })
            if p.is_match(b"42") && !p.is_match(b"42a")
    ));
    assert_eq!(headers[3].value, HeaderValueMatch::Present(true));
    assert!(!headers[3].invert_match && !headers[3].treat_missing_header_as_empty);
    assert!(first.matcher.case_sensitive && first.matcher.query_parameters.is_empty());
    assert!(listener.use_remote_address && !listener.suppress_envoy_headers);
    assert_eq!(listener.xff_num_trusted_hops, 0);
    assert_eq!(listener.internal_address_config, None);
    let weights = vec![
        WeightedCluster {
            name: "a".into(),
            weight: 9,
        },
        WeightedCluster {
            name: "b".into(),
            weight: 1,
        },
    ];
    assert_eq!(first.action, RouteAction::WeightedClusters(weights));
    assert_eq!(first.host_rewrite.as_deref(), Some("internal.local:8080"));
    assert_eq!(first.max_request_body_bytes, Some(100));
    let redirect = Redirect {
        status: 301,
        scheme: Some("https".into()),
        host: Some("example.com".into()),
        port: None,
        path: Some(RedirectPath::Replace("/new".into())),
        strip_query: true,
    };
    assert_eq!(vhost.routes[1].action, RouteAction::Redirect(redirect));
    assert_eq!(vhost.routes[2].prefix_rewrite.as_deref(), Some("/v1"));
    let a = &s.clusters["a"];
    assert_eq!(
        a.endpoints[0],
        Endpoint {
            address: "[::1]:80".parse().unwrap(),
            weight: 3,
            hostname: None
        }
    );
    assert_eq!(
        (a.max_idle_per_endpoint, a.idle_timeout),
        (0, Duration::from_secs(7200))
    );
    assert_eq!(s.clusters["b"].lb_policy, LbPolicy::Random);
}

#[test]
fn host_names_are_resolved_with_the_given_resolver() {
    let resolver = |host: &str, port: u16| -> io::Result<Vec<SocketAddr>> {
        assert_eq!(host, "backend.test", "only names are resolved");
        let a = SocketAddr::from(([10, 0, 0, 1], port));
        let b = SocketAddr::from(([10, 0, 0, 2], port));
        Ok(vec![a, b, a])
    };
    let text = MINIMAL.replacen(
        "\"127.0.0.1:8081\"",
        "{ address: \"Backend.test:9000\", weight: 4 }",
        1,
    );
    let s = load_str("dns.yaml", &text, &resolver).unwrap_or_else(|e| panic!("{e}"));
    let endpoints = &s.clusters["backend"].endpoints;
    let named: Vec<(String, u32, Option<&str>)> = endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.weight, e.hostname.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            ("127.0.0.1:8080".to_owned(), 1, None),
            ("10.0.0.1:9000".to_owned(), 4, Some("backend.test")),
            ("10.0.0.2:9000".to_owned(), 4, Some("backend.test")),
        ]
    );
}

#[test]
fn yaml_anchors_and_merge_keys() {
    let text = r#"
listeners:
  - name: main
    address: "127.0.0.1:10000"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - &forward { match: { prefix: "/a" }, cluster: backend, timeout: 3s }
          - <<: *forward
            match: { prefix: "/" }
clusters:
  - name: backend
    endpoints: ["127.0.0.1:8080"]
"#;
    let s = load("anchors.yaml", text);
    let routes = &s.listeners[0].virtual_hosts[0].routes;
    assert_eq!(routes[1].timeout, Duration::from_secs(3));
    assert_eq!(routes[1].matcher.path, PathMatch::Prefix("/".into()));
}

#[test]
fn retry_policies_from_the_route_or_its_virtual_host() {
    let text = MINIMAL.replace(
        "        routes:\n          - match: { prefix: \"/\" }\n            cluster: backend\n",
        "        retry_policy: { retry_on: \"5xx, reset\", num_retries: 3 }
        routes:
          - match: { prefix: \"/own\" }
            cluster: backend
            retry_policy: { retry_on: gateway-error, retry_back_off: { base_interval: 10ms } }
          - match: { prefix: \"/local\" }
            direct_response: { status: 204 }
          - match: { prefix: \"/\" }
            cluster: backend
",
    );
    let s = load("retry.yaml", &text);
    let routes = &s.listeners[0].virtual_hosts[0].routes;
    let own = routes[0].retry_policy.as_ref().unwrap();
    assert_eq!(own.retry_on.to_string(), "gateway-error");
    assert_eq!(own.num_retries, 1, "Envoy's default");
    assert_eq!(
        (own.back_off_base, own.back_off_max),
        (Duration::from_millis(10), None)
    );
    assert_eq!(routes[1].retry_policy, None, "a local reply is not retried");
    let inherited = routes[2].retry_policy.as_ref().unwrap();
    assert_eq!(inherited.retry_on.to_string(), "5xx,reset");
    assert_eq!(
        (inherited.num_retries, inherited.back_off_base),
        (3, Duration::from_millis(25))
    );
}
