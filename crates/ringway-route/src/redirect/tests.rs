//! Redirect locations against Envoy's rules (`Http::Utility::newUri`).

use ringway_config::model::RouteAction;
use ringway_config::{SystemResolver, load_str};

use super::*;

/// The route and redirect of a one-route listener whose route is
/// `{ match: MATCH, redirect: REDIRECT }` (flow-style YAML).
fn redirect_route(matcher: &str, redirect: &str) -> Route {
    let text = format!(
        "listeners:\n  - name: test\n    address: \"127.0.0.1:0\"\n    virtual_hosts:\n      - {{ name: v, domains: [\"*\"], routes: [{{ match: {matcher}, redirect: {redirect} }}] }}\n"
    );
    match load_str("test.yaml", &text, &SystemResolver) {
        Ok(snapshot) => snapshot.listeners[0].virtual_hosts[0].routes[0].clone(),
        Err(e) => panic!("test config does not load:\n{e}"),
    }
}

fn location(route: &Route, host: &str, target: &str) -> String {
    let RouteAction::Redirect(redirect) = &route.action else {
        panic!("not a redirect: {route:?}");
    };
    redirect_location(route, redirect, host.as_bytes(), target.as_bytes())
}

#[test]
fn envoy_redirect_rules() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // match, redirect, host, target, location
        ("{ prefix: / }", "{ scheme: https }", "a.example", "/x?y=1", "https://a.example/x?y=1"),
        // The old scheme's default port goes with it; another port stays.
        ("{ prefix: / }", "{ scheme: https }", "a.example:80", "/x", "https://a.example/x"),
        ("{ prefix: / }", "{ scheme: https }", "a.example:8080", "/x", "https://a.example:8080/x"),
        ("{ prefix: / }", "{ scheme: https }", "[::1]:80", "/x", "https://[::1]/x"),
        // A new port replaces the request's.
        ("{ prefix: / }", "{ port: 8443 }", "a.example:8080", "/x", "http://a.example:8443/x"),
        ("{ prefix: / }", "{ host: b.example, port: 8443 }", "a.example", "/x", "http://b.example:8443/x"),
        ("{ prefix: / }", "{ host: b.example }", "a.example:8080", "/x?q", "http://b.example/x?q"),
        // A whole new path: ringway's `path` drops the query unless told.
        ("{ prefix: / }", "{ path: /new }", "a", "/x?q=1", "http://a/new"),
        ("{ prefix: / }", "{ path: /new, strip_query: false }", "a", "/x?q=1", "http://a/new?q=1"),
        ("{ prefix: / }", "{ path: \"/new?z=2\", strip_query: false }", "a", "/x?q=1", "http://a/new?z=2"),
        // The matched prefix replaced, query kept or stripped.
        ("{ prefix: /old }", "{ prefix_rewrite: /new }", "a", "/old/x?q=1", "http://a/new/x?q=1"),
        ("{ prefix: /old }", "{ prefix_rewrite: /new, strip_query: true }", "a", "/old/x?q=1", "http://a/new/x"),
        ("{ prefix: /Old, case_sensitive: false }", "{ prefix_rewrite: / }", "a", "/old/x", "http://a/x"),
        // An exact match: the whole path, query kept.
        ("{ path: /old }", "{ prefix_rewrite: /new }", "a", "/old?q", "http://a/new?q"),
        ("{ prefix: / }", "{ host: b.example }", "a", "http://a/abs?q", "http://b.example/abs?q"),
    ];
    for (matcher, redirect, host, target, expected) in cases {
        let route = redirect_route(matcher, redirect);
        assert_eq!(
            location(&route, host, target),
            *expected,
            "{matcher} {redirect} on {host}{target}"
        );
    }
}

#[test]
fn redirect_settings_are_checked() {
    for (redirect, error) in [
        ("{ path: /a, prefix_rewrite: /b }", "choose one"),
        ("{ port: 0 }", "from 1 to 65535"),
        ("{ status: 301 }", "changes nothing"),
    ] {
        let text = format!(
            "listeners:\n  - name: test\n    address: \"127.0.0.1:0\"\n    virtual_hosts:\n      - {{ name: v, domains: [\"*\"], routes: [{{ match: {{ prefix: / }}, redirect: {redirect} }}] }}\n"
        );
        let err = load_str("test.yaml", &text, &SystemResolver)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(error), "{redirect}: {err}");
    }
}
