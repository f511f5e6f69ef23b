//! The route and header settings named after Envoy's fields: query
//! parameter and string matches, `case_sensitive`, `regex_rewrite`,
//! `auto_host_rewrite`, and the listener's `use_remote_address`,
//! `xff_num_trusted_hops`, `internal_address_config` and
//! `suppress_envoy_headers`: good ones load into the model, bad ones are
//! refused naming the file, the field and the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{MINIMAL, assert_has, errors};
use ringway_config::model::{
    CidrRange, HeaderValueMatch, QueryParameterValueMatch, Snapshot, StringMatch, StringMatchKind,
};
use ringway_config::{SystemResolver, load_str};

const ROUTE: &str = "listeners[0].virtual_hosts[0].routes[0]";

fn load(text: &str) -> Snapshot {
    load_str("good.yaml", text, &SystemResolver).unwrap_or_else(|e| panic!("{e}"))
}

/// `MINIMAL` with its route's match and listener settings replaced.
fn with(route: &str, listener: &str) -> String {
    let text = MINIMAL.replacen(
        "          - match: { prefix: \"/\" }\n            cluster: backend\n",
        route,
        1,
    );
    text.replacen(
        "    address: \"127.0.0.1:10000\"\n",
        &format!("    address: \"127.0.0.1:10000\"\n{listener}"),
        1,
    )
}

#[test]
fn matches_and_rewrites_load() {
    let text = with(
        r#"          - match:
              prefix: "/API"
              case_sensitive: false
              query_parameters:
                - { name: debug }
                - { name: v, string_match: { prefix: "2", ignore_case: true } }
                - { name: off, present_match: false }
              headers:
                - { name: x-a, suffix: ".eu" }
                - { name: x-b, contains: mid }
                - { name: x-c, string_match: { safe_regex: { regex: "[a-z]+" } }, invert_match: true, treat_missing_header_as_empty: true }
                - { name: x-d, present_match: false }
            cluster: backend
            regex_rewrite: { pattern: { regex: "^/api/(v[0-9])/(.*)$" }, substitution: "/\\2?ver=\\1" }
          - match: { prefix: "/" }
            cluster: backend
            auto_host_rewrite: true
"#,
        "    use_remote_address: false\n    xff_num_trusted_hops: 2\n    suppress_envoy_headers: true\n    internal_address_config: { cidr_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }, { address_prefix: \"::1\", prefix_len: 128 }] }\n",
    );
    let s = load(&text);
    let listener = &s.listeners[0];
    assert!(!listener.use_remote_address && listener.suppress_envoy_headers);
    assert_eq!(listener.xff_num_trusted_hops, 2);
    let internal = listener.internal_address_config.as_ref().unwrap();
    assert_eq!(
        internal.cidr_ranges[0],
        CidrRange {
            address_prefix: "10.0.0.0".parse().unwrap(),
            prefix_len: 8
        }
    );
    assert!(internal.is_internal("::1".parse().unwrap()));
    let route = &listener.virtual_hosts[0].routes[0];
    let m = &route.matcher;
    assert!(!m.case_sensitive);
    assert_eq!(
        m.query_parameters[0].value,
        QueryParameterValueMatch::Present(true)
    );
    assert_eq!(
        m.query_parameters[1].value,
        QueryParameterValueMatch::String(StringMatch {
            kind: StringMatchKind::Prefix("2".into()),
            ignore_case: true
        })
    );
    assert_eq!(
        m.query_parameters[2].value,
        QueryParameterValueMatch::Present(false)
    );
    assert!(matches!(
        &m.headers[0].value,
        HeaderValueMatch::String(StringMatch { kind: StringMatchKind::Suffix(s), ignore_case: false }) if s == ".eu"
    ));
    assert!(matches!(
        &m.headers[1].value,
        HeaderValueMatch::String(StringMatch { kind: StringMatchKind::Contains(s), .. }) if s == "mid"
    ));
    assert!(m.headers[2].invert_match && m.headers[2].treat_missing_header_as_empty);
    assert_eq!(m.headers[3].value, HeaderValueMatch::Present(false));
    let rewrite = route.regex_rewrite.as_ref().unwrap();
    let mut out = Vec::new();
    rewrite.rewrite_into(b"/api/v2/users", &mut out);
    assert_eq!(out, b"/users?ver=v2");
    assert!(!route.auto_host_rewrite);
    assert!(listener.virtual_hosts[0].routes[1].auto_host_rewrite);
}

#[test]
fn bad_matches() {
    let text = with(
        r#"          - match:
              prefix: "/"
              query_parameters:
                - { name: "" }
                - { name: a, present_match: true, string_match: { exact: x } }
                - { name: b, string_match: { exact: x, prefix: y } }
                - { name: c, string_match: { ignore_case: true } }
                - { name: d, string_match: { contains: "" } }
              headers:
                - { name: x-a, suffix: "" }
                - { name: x-b, exact: "1", invert: true, invert_match: true }
                - { name: x-c, string_match: { safe_regex: { regex: "(" } } }
                - { name: x-d, present: false }
                - { name: x-e, exact: a, string_match: { exact: b } }
            cluster: backend
"#,
        "",
    );
    let errors = errors(&text);
    let q = format!("{ROUTE}.match.query_parameters");
    let h = format!("{ROUTE}.match.headers");
    assert_has(&errors, &format!("{q}[0].name"), &["empty"]);
    assert_has(
        &errors,
        &format!("{q}[1]"),
        &["`string_match` and `present_match`"],
    );
    assert_has(
        &errors,
        &format!("{q}[2].string_match"),
        &["`exact` and `prefix`"],
    );
    assert_has(&errors, &format!("{q}[3].string_match"), &["needs one of"]);
    assert_has(
        &errors,
        &format!("{q}[4].string_match.contains"),
        &["empty"],
    );
    assert_has(&errors, &format!("{h}[0].suffix"), &["empty"]);
    assert_has(
        &errors,
        &format!("{h}[1]"),
        &["`invert` and `invert_match`"],
    );
    assert_has(
        &errors,
        &format!("{h}[2].string_match.safe_regex.regex"),
        &["("],
    );
    assert_has(
        &errors,
        &format!("{h}[3].present"),
        &["present_match: false"],
    );
    assert_has(&errors, &format!("{h}[4]"), &["`exact` and `string_match`"]);
}

#[test]
fn bad_rewrites() {
    let route = |extra: &str| {
        with(
            &format!(
                "          - match: {{ prefix: \"/\" }}\n            cluster: backend\n{extra}"
            ),
            "",
        )
    };
    let at = |field: &str| format!("{ROUTE}.{field}");
    let both = errors(&route(
        "            prefix_rewrite: /x\n            regex_rewrite: { pattern: { regex: a }, substitution: b }\n",
    ));
    assert_has(
        &both,
        &at("regex_rewrite"),
        &["`prefix_rewrite`", "choose one"],
    );
    let group = errors(&route(
        "            regex_rewrite: { pattern: { regex: \"(a)\" }, substitution: \"\\\\2\" }\n",
    ));
    assert_has(
        &group,
        &at("regex_rewrite.substitution"),
        &["\\2", "1 capture group"],
    );
    let pattern = errors(&route(
        "            regex_rewrite: { pattern: { regex: \"[\" }, substitution: x }\n",
    ));
    assert_has(
        &pattern,
        &at("regex_rewrite.pattern.regex"),
        &["regular expression"],
    );
    let space = errors(&route(
        "            regex_rewrite: { pattern: { regex: a }, substitution: \"a b\" }\n",
    ));
    assert_has(&space, &at("regex_rewrite.substitution"), &["spaces"]);
    let hosts = errors(&route(
        "            host_rewrite: a.example\n            auto_host_rewrite: true\n",
    ));
    assert_has(
        &hosts,
        &at("auto_host_rewrite"),
        &["`host_rewrite`", "choose one"],
    );
    let direct = errors(&with(
        "          - match: { prefix: \"/\" }\n            direct_response: { status: 200 }\n            auto_host_rewrite: true\n            regex_rewrite: { pattern: { regex: a }, substitution: b }\n",
        "",
    ));
    assert_has(
        &direct,
        &at("auto_host_rewrite"),
        &["forwards to a cluster"],
    );
    assert_has(&direct, &at("regex_rewrite"), &["forwards to a cluster"]);
}

#[test]
fn bad_listener_settings() {
    let errors = errors(&with(
        "          - match: { prefix: \"/\" }\n            cluster: backend\n",
        "    internal_address_config: { cidr_ranges: [{ address_prefix: ten, prefix_len: 8 }, { address_prefix: 10.0.0.0, prefix_len: 33 }] }\n",
    ));
    let at = "listeners[0].internal_address_config.cidr_ranges";
    assert_has(
        &errors,
        &format!("{at}[0].address_prefix"),
        &["`ten`", "IP address"],
    );
    assert_has(&errors, &format!("{at}[1].prefix_len"), &["33", "32 bits"]);
    let unknown = errors_of("    use_remote_adress: true\n");
    assert_has(
        &unknown,
        "listeners[0].use_remote_adress",
        &["unknown field", "use_remote_address"],
    );
}

fn errors_of(listener: &str) -> Vec<ringway_config::ConfigError> {
    errors(&with(
        "          - match: { prefix: \"/\" }\n            cluster: backend\n",
        listener,
    ))
}
