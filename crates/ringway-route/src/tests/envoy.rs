//! Envoy's match forms: `case_sensitive`, query parameters, the string
//! match forms of headers, and `regex_rewrite`.

use super::*;

const ROUTES: &str = r#"
      - name: all
        domains: ["*"]
        routes:
          - { match: { prefix: "/Case", case_sensitive: false }, direct_response: { status: 200, body: case-prefix } }
          - { match: { path: "/Exact", case_sensitive: false }, direct_response: { status: 200, body: case-exact } }
          - { match: { regex: "/re/[a-z]+", case_sensitive: false }, direct_response: { status: 200, body: case-regex } }
          - match: { prefix: "/q", query_parameters: [{ name: debug }, { name: v, string_match: { exact: "2" } }] }
            direct_response: { status: 200, body: q-both }
          - match: { prefix: "/q", query_parameters: [{ name: off, present_match: false }, { name: tag, string_match: { suffix: "-EU", ignore_case: true } }] }
            direct_response: { status: 200, body: q-tag }
          - match: { prefix: "/h", headers: [{ name: x-a, suffix: ".eu" }] }
            direct_response: { status: 200, body: h-suffix }
          - match: { prefix: "/h", headers: [{ name: x-b, string_match: { contains: MID, ignore_case: true } }] }
            direct_response: { status: 200, body: h-contains }
          - match: { prefix: "/h", headers: [{ name: x-c, present_match: false }, { name: x-d, exact: "1" }] }
            direct_response: { status: 200, body: h-absent }
          - match: { prefix: "/h", headers: [{ name: x-e, exact: "no", invert_match: true }] }
            direct_response: { status: 200, body: h-invert-match }
          - { match: { prefix: "/" }, direct_response: { status: 200, body: fallback } }
"#;

#[test]
fn envoy_match_forms() {
    let listener = listener(ROUTES);
    #[rustfmt::skip]
    /// Target, headers, and the label of the route expected.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a [u8])], &'a str);
    let cases: &[Case<'_>] = &[
        ("/case/x", &[], "case-prefix"),
        ("/CASE", &[], "case-prefix"),
        ("/cas", &[], "fallback"),
        ("/exact", &[], "case-exact"),
        ("/EXACT?x=1", &[], "case-exact"),
        ("/exact/", &[], "fallback"),
        ("/re/abc", &[], "case-regex"),
        ("/re/ABC", &[], "fallback"),
        ("/q?debug&v=2", &[], "q-both"),
        ("/q?v=2&debug=", &[], "q-both"),
        ("/q?v=3&debug", &[], "fallback"),
        ("/q?v=2&v=3&debug", &[], "q-both"),
        ("/q?v=3&v=2&debug", &[], "fallback"),
        ("/q?debugx&v=2", &[], "fallback"),
        ("/q?tag=west-eu", &[], "q-tag"),
        ("/q?tag=west-eu&off", &[], "fallback"),
        ("/q?tag=west%2Deu", &[], "fallback"),
        ("/h", &[("x-a", b"shop.eu")], "h-suffix"),
        ("/h", &[("x-a", b"shop.EU")], "fallback"),
        ("/h", &[("x-b", b"a-mid-b")], "h-contains"),
        ("/h", &[("x-d", b"1")], "h-absent"),
        ("/h", &[("x-d", b"1"), ("x-c", b"")], "fallback"),
        ("/h", &[("x-e", b"yes")], "h-invert-match"),
        ("/h", &[("x-e", b"no")], "fallback"),
        // Envoy: a missing header fails a value condition, even inverted.
        ("/h", &[], "fallback"),
    ];
    for (target, headers, expected) in cases {
        let headers = HeaderPairs(headers);
        let req = request("GET", "example.com", target, &headers);
        assert_eq!(
            label(route(&listener, &req)),
            Some(*expected),
            "{target} {headers:?}"
        );
    }
}

#[test]
fn query_values() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("/p?a=1&b=2", "b", Some("2")),
        ("/p?a", "a", Some("")),
        ("/p?a=", "a", Some("")),
        ("/p?a=1&a=2", "a", Some("1")),
        ("/p?a=x=y", "a", Some("x=y")),
        ("/p?a=1#frag", "a", Some("1")),
        ("/p?A=1", "a", None),
        ("/p", "a", None),
        ("/p?", "a", None),
        ("/p?b=%41", "b", Some("%41")),
    ];
    for (target, name, expected) in cases {
        let got =
            query_value(target.as_bytes(), name).map(|v| String::from_utf8_lossy(v).into_owned());
        assert_eq!(got.as_deref(), *expected, "{name} in {target}");
    }
}

#[test]
fn case_insensitive_prefix_rewrite_and_regex_rewrite() {
    let listener = listener(
        r#"
      - name: v
        domains: ["*"]
        routes:
          - { match: { prefix: "/Old", case_sensitive: false }, cluster: backend, prefix_rewrite: "/new" }
          - match: { prefix: "/svc" }
            cluster: backend
            regex_rewrite: { pattern: { regex: "^/svc/([^/]+)/(.*)$" }, substitution: "/\\2/of/\\1" }
          - match: { prefix: "/gone" }
            cluster: backend
            regex_rewrite: { pattern: { regex: ".*" }, substitution: "" }
"#,
    );
    let routes = &listener.virtual_hosts[0].routes;
    let rewrite = |route: &Route, target: &str| {
        let mut out = Vec::new();
        rewrite_path(route, target.as_bytes(), &mut out)
            .then(|| String::from_utf8_lossy(&out).into_owned())
    };
    assert_eq!(rewrite(&routes[0], "/OLD/x?y").as_deref(), Some("/new/x?y"));
    assert_eq!(
        rewrite(&routes[1], "/svc/a/b/c?x=/svc/q/r").as_deref(),
        Some("/b/c/of/a?x=/svc/q/r")
    );
    // Envoy adds x-envoy-original-path even when nothing matched.
    assert_eq!(rewrite(&routes[1], "/svc").as_deref(), Some("/svc"));
    assert_eq!(
        rewrite(&routes[1], "http://h/svc/a/b").as_deref(),
        Some("/b/of/a")
    );
    assert_eq!(rewrite(&routes[2], "/gone?q").as_deref(), Some("/?q"));
}
