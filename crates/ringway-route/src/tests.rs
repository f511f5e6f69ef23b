//! Table-driven tests of virtual host and route selection and rewriting.

use ringway_config::model::{Listener, Route, RouteAction, VirtualHost};
use ringway_config::{SystemResolver, load_str};

use super::*;

/// One listener from a YAML `virtual_hosts` list (indented by 6 spaces).
fn listener(virtual_hosts: &str) -> Listener {
    let text = format!(
        "listeners:\n  - name: test\n    address: \"127.0.0.1:0\"\n    virtual_hosts:\n{virtual_hosts}\nclusters:\n  - name: backend\n    endpoints: [\"127.0.0.1:8080\"]\n"
    );
    match load_str("test.yaml", &text, &SystemResolver) {
        Ok(snapshot) => (*snapshot.listeners[0]).clone(),
        Err(e) => panic!("test config does not load:\n{e}"),
    }
}

/// The label of a route: the body of its direct response.
fn label(route: Option<&Route>) -> Option<&str> {
    match &route?.action {
        RouteAction::DirectResponse { body, .. } => Some(body),
        _ => Some("(not a direct response)"),
    }
}

fn request<'a>(
    method: &'a str,
    host: &'a str,
    target: &'a str,
    headers: &'a HeaderPairs<'a>,
) -> RequestView<'a> {
    RequestView {
        method: method.as_bytes(),
        host: host.as_bytes(),
        target: target.as_bytes(),
        headers,
    }
}

const VHOSTS: &str = r#"
      - { name: exact, domains: ["example.com", "[::1]", "127.0.0.1"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: suffix-short, domains: ["*.com"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: suffix-long, domains: ["*.Example.com"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: prefix-short, domains: ["api.*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: prefix-long, domains: ["api.internal.*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: any, domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
"#;

#[test]
fn virtual_host_precedence() {
    let listener = listener(VHOSTS);
    let cases = [
        ("example.com", "exact"),
        ("EXAMPLE.com:8080", "exact"),
        ("127.0.0.1:80", "exact"),
        ("127.0.0.1", "exact"),
        ("[::1]:8080", "exact"),
        ("[::1]", "exact"),
        ("a.example.com", "suffix-long"),
        ("a.b.EXAMPLE.COM:443", "suffix-long"),
        ("api.example.com", "suffix-long"),
        ("foo.com", "suffix-short"),
        ("api.internal.local", "prefix-long"),
        ("api.internal.com", "suffix-short"),
        ("api.io", "prefix-short"),
        ("API.io:9000", "prefix-short"),
        ("example.org", "any"),
        (".com", "any"),
        ("api.", "any"),
        ("::1", "any"),
        ("[::2]:80", "any"),
        ("", "any"),
    ];
    for (host, expected) in cases {
        let got = select_virtual_host(&listener, host.as_bytes()).map(|v| v.name.as_str());
        assert_eq!(got, Some(expected), "host {host:?}");
    }
}

#[test]
fn wildcards_need_at_least_one_character() {
    let listener = listener(
        r#"
      - { name: sub, domains: ["*.example.com"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
      - { name: pre, domains: ["www.*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }
"#,
    );
    let cases = [
        ("example.com", None),
        (".example.com", None),
        ("x.example.com", Some("sub")),
        ("www.", None),
        ("www.x", Some("pre")),
        ("", None),
    ];
    for (host, expected) in cases {
        let got =
            select_virtual_host(&listener, host.as_bytes()).map(|v: &VirtualHost| v.name.as_str());
        assert_eq!(got, expected, "host {host:?}");
    }
}

/// Method, target, headers, and the label of the route expected.
type RouteCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a [u8])], &'a str);

const ROUTES: &str = r#"
      - name: all
        domains: ["*"]
        routes:
          - { match: { path: "/exact" }, direct_response: { status: 200, body: exact } }
          - { match: { regex: "/items/[0-9]+" }, direct_response: { status: 200, body: regex } }
          - { match: { prefix: "/api", methods: [post, PUT] }, direct_response: { status: 200, body: api-write } }
          - match: { prefix: "/api", headers: [{ name: X-Canary, exact: "1" }] }
            direct_response: { status: 200, body: api-canary }
          - match: { prefix: "/api", headers: [{ name: x-debug, invert: true }, { name: x-tenant, prefix: "acme-" }] }
            direct_response: { status: 200, body: api-acme }
          - match: { prefix: "/api", headers: [{ name: x-token, regex: "[a-f0-9]{4}" }] }
            direct_response: { status: 200, body: api-token }
          - { match: { prefix: "/api" }, direct_response: { status: 200, body: api } }
          - { match: { prefix: "/search?" }, direct_response: { status: 200, body: search-query } }
          - { match: { prefix: "/" }, direct_response: { status: 200, body: fallback } }
"#;

#[test]
fn route_selection() {
    let listener = listener(ROUTES);
    #[rustfmt::skip]
    let cases: &[RouteCase<'_>] = &[
        ("GET", "/exact", &[], "exact"),
        ("GET", "/exact?x=1", &[], "exact"),
        ("GET", "/exact/", &[], "fallback"),
        ("GET", "/EXACT", &[], "fallback"),
        ("GET", "/items/42", &[], "regex"),
        ("GET", "/items/42?page=2", &[], "regex"),
        ("GET", "/items/42/x", &[], "fallback"),
        ("GET", "/v1/items/42", &[], "fallback"),
        ("POST", "/api/users", &[], "api-write"),
        ("PUT", "/api", &[], "api-write"),
        ("post", "/api", &[], "api"),
        ("GET", "/api/users", &[("x-canary", b"1")], "api-canary"),
        ("GET", "/api/users", &[("X-CANARY", b"1")], "api-canary"),
        ("GET", "/api/users", &[("x-canary", b"10")], "api"),
        ("GET", "/api", &[("x-tenant", b"acme-eu")], "api-acme"),
        ("GET", "/api", &[("x-tenant", b"acme-eu"), ("x-debug", b"")], "api"),
        ("GET", "/api", &[("x-tenant", b"other")], "api"),
        ("GET", "/api", &[("x-token", b"beef")], "api-token"),
        ("GET", "/api", &[("x-token", b"beef0")], "api"),
        ("GET", "/apiary", &[], "api"),
        ("GET", "/search?q=1", &[], "search-query"),
        ("GET", "/search", &[], "fallback"),
        ("GET", "http://example.com/exact", &[], "exact"),
        ("GET", "HTTPS://example.com:8443/items/7?x", &[], "regex"),
        ("GET", "http://example.com", &[], "fallback"),
        ("GET", "http://example.com?q", &[], "fallback"),
    ];
    for (method, target, headers, expected) in cases {
        let headers = HeaderPairs(headers);
        let req = request(method, "example.com", target, &headers);
        assert_eq!(
            label(route(&listener, &req)),
            Some(*expected),
            "{method} {target} {headers:?}"
        );
    }
}

#[test]
fn no_route_and_no_virtual_host() {
    let listener = listener(
        r#"
      - { name: one, domains: ["one.test"], routes: [{ match: { prefix: "/only" }, direct_response: { status: 200, body: only } }] }
"#,
    );
    let headers = &HeaderPairs(&[]);
    assert_eq!(
        label(route(
            &listener,
            &request("GET", "one.test", "/only/x", headers)
        )),
        Some("only")
    );
    assert_eq!(
        route(&listener, &request("GET", "one.test", "/other", headers)),
        None
    );
    assert_eq!(
        route(&listener, &request("GET", "two.test", "/only", headers)),
        None
    );
    assert_eq!(
        route(&listener, &request("OPTIONS", "one.test", "*", headers)),
        None
    );
}

#[test]
fn origin_form_of_targets() {
    let cases: &[(&str, &str)] = &[
        ("/a?b", "/a?b"),
        ("http://h/a?b", "/a?b"),
        ("http://user@h:80/a", "/a"),
        ("http://h", "/"),
        ("http://h?q=1", "?q=1"),
        ("*", "*"),
        ("h:443", "h:443"),
        ("1http://h/a", "1http://h/a"),
        ("", ""),
    ];
    for (target, expected) in cases {
        assert_eq!(
            origin_form(target.as_bytes()),
            expected.as_bytes(),
            "{target:?}"
        );
    }
}

#[test]
fn prefix_rewrites() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        // prefix, prefix_rewrite, target, rewritten
        ("/demo", "/", "/demo", Some("/")),
        ("/demo", "/", "/demo/", Some("/")),
        ("/demo", "/", "/demo/x?y=1", Some("/x?y=1")),
        ("/demo", "/", "/demo?y=1", Some("/?y=1")),
        ("/demo", "/", "/demox", Some("/x")),
        ("/demo/", "/", "/demo/x", Some("/x")),
        ("/demo", "/v2", "/demo/x", Some("/v2/x")),
        ("/demo", "", "/demo/x", Some("/x")),
        ("/demo", "", "/demo", Some("/")),
        ("/demo", "", "/demo?q", Some("/?q")),
        ("/", "/base/", "/x", Some("/base/x")),
        ("/demo", "/", "http://h/demo/x", Some("/x")),
        ("/demo", "/", "/other", None),
    ];
    for (prefix, rewrite, target, expected) in cases {
        let listener = listener(&format!(
            "      - {{ name: v, domains: [\"*\"], routes: [{{ match: {{ prefix: \"{prefix}\" }}, cluster: backend, prefix_rewrite: \"{rewrite}\" }}] }}"
        ));
        let route = &listener.virtual_hosts[0].routes[0];
        let mut out = b"stale".to_vec();
        let done = rewrite_prefix(route, target.as_bytes(), &mut out);
        let got = done.then(|| String::from_utf8_lossy(&out).into_owned());
        assert_eq!(
            got.as_deref(),
            *expected,
            "{prefix} -> {rewrite:?} on {target}"
        );
    }
}

#[test]
fn no_rewrite_without_prefix_rewrite() {
    let listener = listener(
        r#"
      - name: v
        domains: ["*"]
        routes:
          - { match: { prefix: "/a" }, cluster: backend }
          - { match: { path: "/b" }, cluster: backend }
"#,
    );
    let mut out = b"kept".to_vec();
    for route in &listener.virtual_hosts[0].routes {
        assert!(!rewrite_prefix(route, b"/a/b", &mut out));
    }
    assert_eq!(out, b"kept");
}

#[test]
fn absolute_form_authority_cases() {
    use crate::absolute_form_authority as a;
    let cases: [(&[u8], Option<&[u8]>); 7] = [
        (b"/path", None),
        (b"*", None),
        (b"example.com:443", None),
        (b"http://example.com/x?y", Some(b"example.com")),
        (b"http://example.com:8080", Some(b"example.com:8080")),
        (b"https://user:pw@h.test?q", Some(b"h.test")),
        (b"HTTP://[::1]:80/", Some(b"[::1]:80")),
    ];
    for (target, want) in cases {
        assert_eq!(a(target), want, "{}", String::from_utf8_lossy(target));
    }
}

mod envoy;
