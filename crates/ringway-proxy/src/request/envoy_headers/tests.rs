#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn listener(settings: &str) -> Listener {
    let text = format!(
        "listeners:\n  - name: l\n    address: \"127.0.0.1:0\"\n{settings}    virtual_hosts: [{{ name: v, domains: [\"*\"], routes: [{{ match: {{ prefix: / }}, direct_response: {{ status: 200 }} }}] }}]\n"
    );
    let snapshot = ringway_config::load_str("t.yaml", &text, &ringway_config::SystemResolver)
        .unwrap_or_else(|e| panic!("{e}"));
    (*snapshot.listeners[0]).clone()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const INTERNAL_LOOPBACK: &str = "    internal_address_config: { cidr_ranges: [{ address_prefix: 127.0.0.1, prefix_len: 32 }, { address_prefix: 10.0.0.0, prefix_len: 8 }] }\n";

#[test]
fn forwarded_for_entries() {
    /// The header, entries to skip, and the address found (and whether
    /// it was the only entry).
    type Case<'a> = (&'a str, u32, Option<(&'a str, bool)>);
    let cases: &[Case<'_>] = &[
        ("1.2.3.4", 0, Some(("1.2.3.4", true))),
        (" 1.2.3.4 ", 0, Some(("1.2.3.4", true))),
        ("1.2.3.4, 5.6.7.8", 0, Some(("5.6.7.8", false))),
        ("1.2.3.4, 5.6.7.8", 1, Some(("1.2.3.4", false))),
        ("1.2.3.4,5.6.7.8,::1", 2, Some(("1.2.3.4", false))),
        ("1.2.3.4", 1, None),
        ("junk", 0, None),
        ("1.2.3.4,", 0, None),
        ("", 0, None),
    ];
    for (xff, skip, expected) in cases {
        let got = last_forwarded_address(xff.as_bytes(), *skip);
        assert_eq!(
            got,
            expected.map(|(a, s)| (ip(a), s)),
            "{xff:?} skipping {skip}"
        );
    }
}

#[test]
fn trust_with_the_remote_address() {
    // ringway's defaults: remote address used, nothing internal.
    let plain = listener("");
    assert!(!needs_forwarded_for(&plain));
    let t = trust(&plain, ip("127.0.0.1"), None);
    assert_eq!(
        t,
        Trust {
            internal: false,
            edge: true,
            external_address: Some(ip("127.0.0.1")),
            external_is_peer: true
        }
    );

    let l = listener(INTERNAL_LOOPBACK);
    assert!(needs_forwarded_for(&l));
    assert_eq!(
        trust(&l, ip("127.0.0.1"), None),
        Trust {
            internal: true,
            edge: false,
            external_address: None,
            external_is_peer: false
        }
    );
    // Any x-forwarded-for makes it external, and the peer is the client.
    assert_eq!(
        trust(&l, ip("127.0.0.1"), Some(b"10.0.0.1")),
        Trust {
            internal: false,
            edge: true,
            external_address: Some(ip("127.0.0.1")),
            external_is_peer: true
        }
    );
    assert!(!trust(&l, ip("8.8.8.8"), None).internal);

    // One trusted hop: the client is the last x-forwarded-for entry.
    let hop = listener(&format!("    xff_num_trusted_hops: 1\n{INTERNAL_LOOPBACK}"));
    assert_eq!(
        trust(&hop, ip("10.0.0.9"), Some(b"9.9.9.9, 1.2.3.4")),
        Trust {
            internal: false,
            edge: true,
            external_address: Some(ip("1.2.3.4")),
            external_is_peer: false
        }
    );
    assert_eq!(
        trust(&hop, ip("10.0.0.9"), Some(b"bad")).external_address,
        Some(ip("10.0.0.9"))
    );
}

#[test]
fn trust_from_forwarded_for() {
    let l = listener(&format!(
        "    use_remote_address: false\n{INTERNAL_LOOPBACK}"
    ));
    assert!(needs_forwarded_for(&l));
    let internal = |xff: Option<&[u8]>| trust(&l, ip("127.0.0.1"), xff);
    assert_eq!(
        internal(Some(b"10.1.1.1")),
        Trust {
            internal: true,
            edge: false,
            external_address: None,
            external_is_peer: false
        }
    );
    // Without x-forwarded-for even an internal peer is external.
    assert!(!internal(None).internal);
    assert!(!internal(Some(b"8.8.8.8")).internal);
    assert!(!internal(Some(b"10.1.1.1, 10.2.2.2")).internal);
    assert!(!internal(None).edge);
    let hop = listener(&format!(
        "    use_remote_address: false\n    xff_num_trusted_hops: 1\n{INTERNAL_LOOPBACK}"
    ));
    assert!(!trust(&hop, ip("127.0.0.1"), Some(b"10.1.1.1, 10.2.2.2")).internal);
}

#[test]
fn field_rules() {
    assert_eq!(envoy_field(b"X-Envoy-Internal"), Some(EnvoyField::Internal));
    assert_eq!(
        envoy_field(b"x-envoy-retry-on"),
        Some(EnvoyField::InternalOnly)
    );
    assert_eq!(
        envoy_field(b"x-envoy-upstream-rq-timeout-ms"),
        Some(EnvoyField::UpstreamRqTimeout)
    );
    assert_eq!(
        envoy_field(b"x-envoy-decorator-operation"),
        Some(EnvoyField::EdgeOnly)
    );
    assert_eq!(envoy_field(b"x-envoy-something-else"), None);
    assert_eq!(envoy_field(b"x-envoy-"), None);
    assert_eq!(envoy_field(b"x-forwarded-for"), None);

    let edits = |internal, edge, suppress, original_path| EnvoyEdits {
        trust: Trust {
            internal,
            edge,
            external_address: None,
            external_is_peer: false,
        },
        suppress,
        original_path,
    };
    use EnvoyField::*;
    use FieldAction::*;
    let internal = edits(true, false, false, false);
    let edge = edits(false, true, false, true);
    let external = edits(false, false, true, false);
    let table = [
        (Internal, [Drop, Drop, Drop]),
        (UpstreamRqTimeout, [Timeout, Drop, Drop]),
        (UpstreamRqPerTryTimeout, [Drop, Drop, Drop]),
        (ExpectedRqTimeout, [Drop, Drop, Drop]),
        (ExternalAddress, [Keep, Drop, Keep]),
        (OriginalPath, [Keep, Drop, Keep]),
        (EdgeOnly, [Keep, Drop, Keep]),
        (InternalOnly, [Keep, Drop, Drop]),
    ];
    for (field, expected) in table {
        let got = [
            internal.action(field),
            edge.action(field),
            external.action(field),
        ];
        assert_eq!(got, expected, "{field:?}");
    }
    // Suppressed headers from an internal client go through.
    assert_eq!(
        edits(true, false, true, false).action(ExpectedRqTimeout),
        Keep
    );
}

#[test]
fn timeouts() {
    let route = Duration::from_secs(15);
    assert_eq!(upstream_timeout(route, None), route);
    assert_eq!(
        upstream_timeout(route, Some(b"250")),
        Duration::from_millis(250)
    );
    assert_eq!(upstream_timeout(route, Some(b"0")), ROUTE_TIMEOUT_OFF);
    assert_eq!(upstream_timeout(route, Some(b"-5")), route);
    assert_eq!(upstream_timeout(route, Some(b"soon")), route);
    assert_eq!(expected_timeout_ms(route), Some(15_000));
    assert_eq!(expected_timeout_ms(ROUTE_TIMEOUT_OFF), None);
    assert_eq!(expected_timeout_ms(Duration::from_micros(10)), None);
    let edits = EnvoyEdits {
        trust: Trust {
            internal: false,
            edge: true,
            external_address: None,
            external_is_peer: false,
        },
        suppress: true,
        original_path: false,
    };
    assert_eq!(edits.expected_timeout_ms(route), None);
    let mut out = Vec::new();
    for n in [0, 7, 15_000, u64::MAX] {
        out.clear();
        push_decimal(&mut out, n);
        assert_eq!(out, n.to_string().as_bytes());
    }
}
