//! Bad configs are refused with errors that name the file, the field path
//! and the reason, and every problem in a file is reported at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::net::SocketAddr;

mod common;
use common::{MINIMAL, assert_has, errors};
use ringway_config::{ConfigError, ConfigErrors, SystemResolver, load_file, load_str};

const ROUTE: &str = "listeners[0].virtual_hosts[0].routes[0]";

/// `MINIMAL` with `from` replaced by `to`, which must not load.
fn errors_with(from: &str, to: &str) -> Vec<ConfigError> {
    assert!(
        MINIMAL.contains(from),
        "{from:?} is not in the minimal config"
    );
    errors(&MINIMAL.replacen(from, to, 1))
}

#[test]
fn the_minimal_config_loads() {
    assert!(load_str("ok.yaml", MINIMAL, &SystemResolver).is_ok());
}

#[test]
fn unknown_field() {
    let errors = errors_with("lb_policy:", "lb_polcy:");
    assert_has(
        &errors,
        "clusters[0].lb_polcy",
        &["unknown field `lb_polcy`", "lb_policy", "line 15"],
    );
    let errors = errors_with(
        "cluster: backend",
        "cluster: backend\n            retries: 3",
    );
    assert_has(
        &errors,
        &format!("{ROUTE}.retries"),
        &["unknown field `retries`"],
    );
    let errors = errors_with(
        "\"127.0.0.1:8081\"",
        "{ address: \"127.0.0.1:8081\", wieght: 2 }",
    );
    assert_has(
        &errors,
        "clusters[0].endpoints[1].wieght",
        &["unknown field"],
    );
}

#[test]
fn wrong_types_and_bad_yaml() {
    assert_has(
        &errors_with("count: 2", "count: two"),
        "workers.count",
        &["invalid type", "line 3"],
    );
    assert_has(
        &errors_with("io_driver: auto", "io_driver: turbo"),
        "workers.io_driver",
        &["turbo", "epoll"],
    );
    assert_has(
        &errors_with("\"127.0.0.1:8081\"", "8081"),
        "clusters[0].endpoints[1]",
        &["invalid type", "IP:port"],
    );
    let syntax = errors_with("routes:", "routes: [");
    assert!(syntax[0].reason.contains("line 11"), "{}", syntax[0]);
    assert_has(
        &errors_with("    address: \"127.0.0.1:10000\"\n", ""),
        "listeners[0].address",
        &["required"],
    );
    assert_has(&errors("- just a list\n"), "-", &["invalid type"]);
    assert_has(&errors(""), "-", &["empty"]);
}

#[test]
fn bad_addresses() {
    let field = "listeners[0].address";
    assert_has(
        &errors_with("127.0.0.1:10000", "127.0.0.1"),
        field,
        &["`127.0.0.1`", "no port"],
    );
    assert_has(
        &errors_with("127.0.0.1:10000", "localhost:10000"),
        field,
        &["IP address"],
    );
    assert_has(
        &errors_with("127.0.0.1:10000", "127.0.0.1:70000"),
        field,
        &["not an IP:port"],
    );
    assert_has(
        &errors_with("127.0.0.1:9901", "127.0.0.1:99x"),
        "admin.address",
        &["not an IP:port"],
    );
    assert_has(
        &errors_with("127.0.0.1:8081", "10.0.0.1:0"),
        "clusters[0].endpoints[1]",
        &["port 0"],
    );
    assert_has(
        &errors_with("127.0.0.1:8081", "::1:8081"),
        "clusters[0].endpoints[1]",
        &["brackets"],
    );
    assert_has(
        &errors_with("127.0.0.1:8081", "127.0.0.1:8080"),
        "clusters[0].endpoints[1]",
        &["already endpoints[0]"],
    );
    assert_has(
        &errors_with("127.0.0.1:9901", "127.0.0.1:10000"),
        "admin.address",
        &["overlaps listener `main`"],
    );
}

#[test]
fn unknown_cluster() {
    let errors = errors_with("cluster: backend", "cluster: backnd");
    assert_has(
        &errors,
        &format!("{ROUTE}.cluster"),
        &["unknown cluster `backnd`", "defined: backend"],
    );
    let weighted = "weighted_clusters: [{ name: backend, weight: 1 }, { name: canary, weight: 0 }]";
    let errors = errors_with("cluster: backend", weighted);
    assert_has(
        &errors,
        &format!("{ROUTE}.weighted_clusters[1].name"),
        &["unknown cluster `canary`"],
    );
    assert_has(
        &errors,
        &format!("{ROUTE}.weighted_clusters[1].weight"),
        &["at least 1"],
    );
}

#[test]
fn bad_durations() {
    let timeout = |value: &str| {
        errors_with(
            "cluster: backend",
            &format!("cluster: backend\n            timeout: {value}"),
        )
    };
    let field = format!("{ROUTE}.timeout");
    assert_has(&timeout("5"), &field, &["`5` has no unit", "\"5s\""]);
    assert_has(&timeout("1.5"), &field, &["no unit"]);
    assert_has(&timeout("\"30\""), &field, &["no unit"]);
    assert_has(&timeout("5 parsecs"), &field, &["not a duration"]);
    let errors = errors_with("lb_policy: round_robin", "connect_timeout: 0s");
    assert_has(
        &errors,
        "clusters[0].connect_timeout",
        &["greater than zero"],
    );
    let errors = errors_with("lb_policy: round_robin", "connect_timeout: soon");
    assert_has(
        &errors,
        "clusters[0].connect_timeout",
        &["`soon` is not a duration"],
    );
}

#[test]
fn duplicate_names() {
    let second = MINIMAL.replacen(
        "clusters:",
        "  - name: main\n    address: \"127.0.0.1:10001\"\n    virtual_hosts: [{ name: v, domains: [\"*\"], routes: [{ match: { prefix: \"/\" }, cluster: backend }] }]\nclusters:",
        1,
    );
    assert_has(
        &errors(&second),
        "listeners[1].name",
        &["`main`", "listeners[0]"],
    );
    let clash = second.replacen(
        "name: main\n    address: \"127.0.0.1:10001\"",
        "name: other\n    address: \"0.0.0.0:10000\"",
        1,
    );
    assert_has(
        &errors(&clash),
        "listeners[1].address",
        &["overlaps", "`main`"],
    );
    let cluster = MINIMAL.to_owned() + "  - name: backend\n    endpoints: [\"127.0.0.1:9000\"]\n";
    assert_has(
        &errors(&cluster),
        "clusters[1].name",
        &["already the name of clusters[0]"],
    );
    let names = errors_with("name: main", "name: \"main listener\"");
    assert_has(&names, "listeners[0].name", &["letters, digits"]);
}

#[test]
fn bad_regex() {
    let errors = errors_with("prefix: \"/\"", "regex: \"/items/([0-9]+\"");
    assert_has(
        &errors,
        &format!("{ROUTE}.match.regex"),
        &["not a valid regex", "unclosed group"],
    );
    assert!(errors.iter().all(|e| !e.reason.contains('\n')));
    let header = "prefix: \"/\", headers: [{ name: x-id, regex: \"[\" }]";
    assert_has(
        &errors_with("prefix: \"/\"", header),
        &format!("{ROUTE}.match.headers[0].regex"),
        &["not a valid regex"],
    );
}

#[test]
fn bad_domains_and_matches() {
    let two = "domains: [\"*\"]\n        routes:\n          - match: { prefix: \"/\" }\n            cluster: backend\n      - name: b\n        domains: [\"Example.com\", \"*\"]";
    let errors = errors_with("domains: [\"*\"]", two);
    assert_has(
        &errors,
        "listeners[0].virtual_hosts[1].domains[1]",
        &["already listed at listeners[0].virtual_hosts[0].domains[0]"],
    );
    assert_has(
        &errors_with("[\"*\"]", "[\"example.com:80\"]"),
        "listeners[0].virtual_hosts[0].domains[0]",
        &["port"],
    );
    assert_has(
        &errors_with("[\"*\"]", "[]"),
        "listeners[0].virtual_hosts[0].domains",
        &["at least one"],
    );
    let both = errors_with("prefix: \"/\"", "prefix: \"/\", path: \"/a\"");
    assert_has(&both, &format!("{ROUTE}.match"), &["`prefix` and `path`"]);
    let header = errors_with(
        "prefix: \"/\"",
        "prefix: \"/\", headers: [{ name: a, exact: x, prefix: y }, { name: b, present: false }]",
    );
    assert_has(
        &header,
        &format!("{ROUTE}.match.headers[0]"),
        &["`exact` and `prefix`"],
    );
    assert_has(
        &header,
        &format!("{ROUTE}.match.headers[1].present"),
        &["invert"],
    );
    assert_has(
        &errors_with("prefix: \"/\"", "prefix: \"api\""),
        &format!("{ROUTE}.match.prefix"),
        &["start with `/`"],
    );
}

#[test]
fn bad_actions() {
    let none = errors_with("            cluster: backend\n", "");
    assert_has(&none, ROUTE, &["needs an action"]);
    let two = errors_with(
        "cluster: backend",
        "cluster: backend\n            direct_response: { status: 200 }",
    );
    assert_has(&two, ROUTE, &["`cluster` and `direct_response`"]);
    let status = errors_with("cluster: backend", "direct_response: { status: 700 }");
    assert_has(
        &status,
        &format!("{ROUTE}.direct_response.status"),
        &["700"],
    );
    let redirect = errors_with("cluster: backend", "redirect: { status: 200, scheme: ftp }");
    assert_has(
        &redirect,
        &format!("{ROUTE}.redirect.status"),
        &["301, 302"],
    );
    assert_has(&redirect, &format!("{ROUTE}.redirect.scheme"), &["`ftp`"]);
    let noop = errors_with("cluster: backend", "redirect: { status: 302 }");
    assert_has(&noop, &format!("{ROUTE}.redirect"), &["loop"]);
    let rewrite = errors_with(
        "prefix: \"/\" }\n            cluster: backend",
        "path: \"/a\" }\n            cluster: backend\n            prefix_rewrite: \"/b\"",
    );
    assert_has(&rewrite, &format!("{ROUTE}.prefix_rewrite"), &["`prefix`"]);
}

#[test]
fn empty_lists() {
    assert_has(
        &errors("listeners: []\n"),
        "listeners",
        &["at least one listener"],
    );
    assert_has(
        &errors_with(
            "endpoints: [\"127.0.0.1:8080\", \"127.0.0.1:8081\"]",
            "endpoints: []",
        ),
        "clusters[0].endpoints",
        &["at least one endpoint"],
    );
    let no_routes = errors_with(
        "        routes:\n          - match: { prefix: \"/\" }\n            cluster: backend\n",
        "        routes: []\n",
    );
    assert_has(
        &no_routes,
        "listeners[0].virtual_hosts[0].routes",
        &["at least one route"],
    );
    assert_has(
        &errors_with("count: 2", "count: 0"),
        "workers.count",
        &["at least 1"],
    );
    assert_has(
        &errors_with("\"0-1\"", "\"1-0\""),
        "workers.cpu_set",
        &["upwards"],
    );
}

#[test]
fn failed_resolution() {
    let resolver = |host: &str, _port: u16| -> io::Result<Vec<SocketAddr>> {
        match host {
            "empty.test" => Ok(Vec::new()),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
        }
    };
    let text = MINIMAL.replacen(
        "\"127.0.0.1:8081\"",
        "\"missing.test:80\", { address: \"empty.test:80\" }",
        1,
    );
    let errors = load_str("bad.yaml", &text, &resolver)
        .map(|_| ())
        .unwrap_err()
        .errors;
    assert_has(
        &errors,
        "clusters[0].endpoints[1]",
        &["cannot resolve `missing.test`", "no such host"],
    );
    assert_has(
        &errors,
        "clusters[0].endpoints[2].address",
        &["`empty.test` resolved to no address"],
    );
}

#[test]
fn all_errors_are_reported_at_once() {
    let text = MINIMAL
        .replacen("count: 2", "count: 0", 1)
        .replacen("127.0.0.1:10000", "localhost:10000", 1)
        .replacen("prefix: \"/\"", "regex: \"(\"", 1)
        .replacen(
            "cluster: backend",
            "cluster: backnd\n            timeout: 5",
            1,
        )
        .replacen("\"127.0.0.1:8081\"", "\"127.0.0.1\"", 1);
    let errors = errors(&text);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    let route = |f: &str| format!("{ROUTE}.{f}");
    assert_eq!(
        fields,
        [
            "workers.count",
            "listeners[0].address",
            &route("match.regex"),
            &route("cluster"),
            &route("timeout"),
            "clusters[0].endpoints[1]",
        ]
    );
    let all = ConfigErrors { errors }.to_string();
    assert_eq!(all.lines().count(), 6, "{all}");
    assert!(all.lines().all(|l| l.starts_with("bad.yaml: ")), "{all}");
}

#[test]
fn errors_name_the_file() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("ringway-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        MINIMAL.replacen("backend\n    lb_policy", "other\n    lb_policy", 1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let result = load_file(&path, &SystemResolver);
    let _ = std::fs::remove_file(&path);
    let errors = result.map(|_| ()).unwrap_err().errors;
    let shown = path.display().to_string();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, shown);
    assert_eq!(
        errors[0].to_string(),
        format!("{shown}: {ROUTE}.cluster: {}", errors[0].reason)
    );

    let missing = dir.join("ringway-no-such-config.yaml");
    let errors = load_file(&missing, &SystemResolver)
        .map(|_| ())
        .unwrap_err()
        .errors;
    assert_eq!(errors[0].field, "-");
    assert!(errors[0].reason.contains("cannot read"), "{}", errors[0]);
    assert_eq!(errors[0].file, missing.display().to_string());
}

#[test]
fn bad_limits_logs_and_rewrites() {
    let limits = "address: \"127.0.0.1:10000\"\n    limits: { max_uri_bytes: 0, idle_timeout: 0ms }\n    access_log: { path: \"\", format: xml }";
    let errors = errors_with("address: \"127.0.0.1:10000\"", limits);
    assert_has(
        &errors,
        "listeners[0].access_log.format",
        &["unknown variant `xml`", "json"],
    );
    let limits = limits.replace(", format: xml", "");
    let errors = errors_with("address: \"127.0.0.1:10000\"", &limits);
    assert_has(
        &errors,
        "listeners[0].limits.max_uri_bytes",
        &["at least 1"],
    );
    assert_has(
        &errors,
        "listeners[0].limits.idle_timeout",
        &["greater than zero"],
    );
    assert_has(&errors, "listeners[0].access_log.path", &["empty"]);
    let direct = "direct_response: { status: 204, body: nope }\n            host_rewrite: a.test\n            prefix_rewrite: /x\n            idle_timeout: 5s";
    let errors = errors_with("cluster: backend", direct);
    assert_has(
        &errors,
        &format!("{ROUTE}.direct_response.body"),
        &["no body"],
    );
    assert_has(
        &errors,
        &format!("{ROUTE}.host_rewrite"),
        &["forwards to a cluster"],
    );
    assert_has(
        &errors,
        &format!("{ROUTE}.prefix_rewrite"),
        &["forwards to a cluster"],
    );
    assert_has(
        &errors,
        &format!("{ROUTE}.idle_timeout"),
        &["forwards to a cluster"],
    );
    let twice = "name: all\n        domains: [\"a.test\"]\n        routes: [{ match: { prefix: \"/\" }, cluster: backend }]\n      - name: all";
    assert_has(
        &errors_with("name: all", twice),
        "listeners[0].virtual_hosts[1].name",
        &["already the name of virtual_hosts[0]"],
    );
}

#[test]
fn http2_settings_out_of_range() {
    let errors = errors_with(
        "    virtual_hosts:",
        "    protocol: http3\n    virtual_hosts:",
    );
    assert_has(
        &errors,
        "listeners[0].protocol",
        &["unknown variant `http3`", "auto", "http1", "http2"],
    );
    let errors = errors_with(
        "    virtual_hosts:",
        "    http2: { max_frame_size: 100, initial_stream_window_size: 4294967295, \
         max_concurrent_streams: 0, keepalive: { interval: 0s } }\n    virtual_hosts:",
    );
    assert_has(
        &errors,
        "listeners[0].http2.max_frame_size",
        &["100 is out of range", "16384 to 16777215"],
    );
    assert_has(
        &errors,
        "listeners[0].http2.initial_stream_window_size",
        &["out of range", "65535 to 2147483647"],
    );
    assert_has(
        &errors,
        "listeners[0].http2.max_concurrent_streams",
        &["0 is out of range"],
    );
    assert_has(&errors, "listeners[0].http2.keepalive.interval", &[]);
    let errors = errors_with(
        "    lb_policy: round_robin",
        "    lb_policy: round_robin\n    protocol: h2c\n    http2: { max_header_list_size: 10 }",
    );
    assert_has(
        &errors,
        "clusters[0].protocol",
        &["unknown variant `h2c`", "http1", "http2"],
    );
}

#[test]
fn http2_cluster_settings_are_checked() {
    let errors = errors_with(
        "    lb_policy: round_robin",
        "    lb_policy: round_robin\n    protocol: http2\n    http2: { max_header_list_size: 10 }",
    );
    assert_has(
        &errors,
        "clusters[0].http2.max_header_list_size",
        &["10 is out of range", "1024"],
    );
}

#[test]
fn a_zero_route_timeout_turns_it_off() {
    let text = MINIMAL.replacen(
        "cluster: backend",
        "cluster: backend\n            timeout: 0s",
        1,
    );
    let snapshot = load_str("ok.yaml", &text, &SystemResolver).expect("loads");
    let route = &snapshot.listeners[0].virtual_hosts[0].routes[0];
    assert_eq!(route.timeout, ringway_config::defaults::ROUTE_TIMEOUT_OFF);
}

#[test]
fn bad_retry_policies_name_the_field() {
    let policy = |p: &str| format!("cluster: backend\n            retry_policy: {p}");
    assert_has(
        &errors_with(
            "cluster: backend",
            &policy("{ retry_on: \"5xx,sometimes\" }"),
        ),
        &format!("{ROUTE}.retry_policy.retry_on"),
        &["unknown retry condition `sometimes`", "gateway-error"],
    );
    assert_has(
        &errors_with("cluster: backend", &policy("{ retry_on: \"\" }")),
        &format!("{ROUTE}.retry_policy.retry_on"),
        &["names no condition"],
    );
    let backoff = "{ retry_on: 5xx, retry_back_off: { base_interval: 100ms, max_interval: 10ms } }";
    assert_has(
        &errors_with("cluster: backend", &policy(backoff)),
        &format!("{ROUTE}.retry_policy.retry_back_off.max_interval"),
        &["less than base_interval"],
    );
    assert_has(
        &errors_with(
            "cluster: backend",
            &policy("{ retry_on: retriable-status-codes, retriable_status_codes: [700] }"),
        ),
        &format!("{ROUTE}.retry_policy.retriable_status_codes[0]"),
        &["HTTP status"],
    );
    assert_has(
        &errors_with(
            "cluster: backend",
            "direct_response: { status: 200 }\n            retry_policy: { retry_on: 5xx }",
        ),
        &format!("{ROUTE}.retry_policy"),
        &["forwards to a cluster"],
    );
    assert_has(
        &errors_with(
            "domains: [\"*\"]",
            "domains: [\"*\"]\n        retry_policy: { retry_on: often }",
        ),
        "listeners[0].virtual_hosts[0].retry_policy.retry_on",
        &["unknown retry condition"],
    );
}
