//! Every fixture parses, with the values it holds; the constructed ones
//! are written back byte for byte, and JSON and XML forms agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringway_eureka::{Applications, DataCenterInfo, Format, Instance, Port, Registry, Status};
use ringway_eureka::{json, xml};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The files end with a newline; the server writes none.
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

fn apps(name: &str) -> Applications {
    let body = fixture(name);
    ringway_eureka::parse_applications(&body, Format::sniff(&body)).unwrap()
}

fn port(number: u16, enabled: bool) -> Port {
    Port { number, enabled }
}

#[test]
fn full_fetch_holds_two_apps_and_a_consistent_hashcode() {
    let doc = apps("constructed-full-fetch.json");
    assert_eq!(doc.versions_delta, 1);
    assert_eq!(doc.apps_hashcode, "DOWN_1_UP_2_");
    assert_eq!(doc.hashcode(), doc.apps_hashcode);
    let names: Vec<_> = doc.applications.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ORDERS", "PAYMENTS"]);

    let orders = &doc.applications[0].instances[0];
    assert_eq!(orders.id(), "10.0.1.11:orders:8080");
    assert_eq!(
        (orders.status, orders.overridden_status),
        (Status::Up, Status::Unknown)
    );
    assert_eq!(
        (orders.port, orders.secure_port),
        (port(8080, true), port(8443, true))
    );
    assert_eq!(orders.vip_address.as_deref(), Some("orders,orders-v2"));
    assert_eq!(orders.secure_vip_address.as_deref(), Some("orders-secure"));
    assert_eq!(orders.metadata("zone"), Some("zone-a"));
    assert_eq!(
        orders.lease_info.unwrap().registration_timestamp,
        1_717_000_000_000
    );
    assert_eq!(orders.last_dirty_timestamp, 1_716_999_999_488);

    let payments = &doc.applications[1].instances[0];
    assert_eq!(payments.id(), "i-0a1b2c3d4e5f60718");
    assert_eq!(payments.status, Status::Down);
    assert_eq!(payments.secure_port, port(7002, false));
    assert_eq!(
        payments.data_center_info.class,
        DataCenterInfo::AMAZON_CLASS
    );
    assert_eq!(
        payments.data_center_info.get("availability-zone"),
        Some("us-east-1c")
    );
    assert!(payments.metadata.is_empty());
    assert_eq!(payments.secure_vip_address, None);
    assert_eq!(payments.asg_name.as_deref(), Some("payments-v042"));

    let registry = Registry::from_full(doc);
    assert_eq!(registry.resolve("orders-v2", false).len(), 2);
    assert_eq!(registry.resolve("ORDERS-SECURE", true)[0].port, 8443);
}

#[test]
fn json_and_xml_forms_read_the_same() {
    for name in ["full-fetch", "delta", "empty"] {
        let from_json = apps(&format!("constructed-{name}.json"));
        assert_eq!(
            from_json,
            apps(&format!("constructed-{name}.xml")),
            "{name}"
        );
    }
    let application = |f| {
        let body = fixture(&format!("constructed-application.{f}"));
        ringway_eureka::parse_application(&body, Format::sniff(&body)).unwrap()
    };
    assert_eq!(application("json"), application("xml"));
    assert_eq!(application("json").instances.len(), 2);
    let instance = json::parse_instance(&fixture("constructed-instance.json")).unwrap();
    assert_eq!(
        instance,
        xml::parse_instance(&fixture("constructed-instance.xml")).unwrap()
    );
    assert_eq!(instance, application("json").instances[0]);
}

#[test]
fn constructed_json_is_written_back_byte_for_byte() {
    for name in [
        "full-fetch",
        "full-fetch-after-delta",
        "delta",
        "empty",
        "vip-orders-v2",
    ] {
        let body = fixture(&format!("constructed-{name}.json"));
        let written = json::write_applications(&json::parse_applications(&body).unwrap());
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(body).unwrap()
        );
    }
    let body = fixture("constructed-application.json");
    let written = json::write_application(&json::parse_application(&body).unwrap());
    assert_eq!(written, body);
    for name in [
        "instance",
        "instance-amazon",
        "register-request-java-client",
    ] {
        let body = fixture(&format!("constructed-{name}.json"));
        let written = json::write_instance(&json::parse_instance(&body).unwrap());
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(body).unwrap()
        );
    }
}

#[test]
fn constructed_xml_is_written_back_byte_for_byte() {
    for name in ["full-fetch", "delta", "empty"] {
        let body = fixture(&format!("constructed-{name}.xml"));
        let written = xml::write_applications(&xml::parse_applications(&body).unwrap());
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(body).unwrap()
        );
    }
    let body = fixture("constructed-application.xml");
    let written = xml::write_application(&xml::parse_application(&body).unwrap());
    assert_eq!(
        String::from_utf8(written).unwrap(),
        String::from_utf8(body).unwrap()
    );
    let body = fixture("constructed-instance.xml");
    let written = xml::write_instance(&xml::parse_instance(&body).unwrap());
    assert_eq!(
        String::from_utf8(written).unwrap(),
        String::from_utf8(body).unwrap()
    );
}

#[test]
fn the_delta_turns_the_full_fetch_into_the_registry_after_it() {
    let delta = apps("constructed-delta.json");
    assert_eq!(delta.versions_delta, 42);
    assert_eq!(delta, apps("constructed-delta.xml"));
    let mut registry = Registry::from_full(apps("constructed-full-fetch.json"));
    registry.apply_delta(&delta);
    let after = apps("constructed-full-fetch-after-delta.json");
    assert_eq!(registry, Registry::from_full(after.clone()));
    assert_eq!(registry.hashcode(), delta.apps_hashcode);
    assert_eq!(registry.hashcode(), "OUT_OF_SERVICE_1_UP_2_");
    assert_eq!(after.hashcode(), after.apps_hashcode);
}

#[test]
fn a_vip_subset_and_an_empty_registry() {
    let vip = apps("constructed-vip-orders-v2.json");
    assert_eq!(
        (vip.versions_delta, vip.apps_hashcode.as_str()),
        (-1, "UP_2_")
    );
    assert_eq!(vip.hashcode(), vip.apps_hashcode);
    let lists = |i: &Instance| {
        let list = i.vip_address.as_deref().unwrap_or("");
        ringway_eureka::model::vip_entries(list).any(|e| e.eq_ignore_ascii_case("orders-v2"))
    };
    assert!(vip.instances().all(lists));
    let empty = apps("constructed-empty.xml");
    assert_eq!(
        (empty.versions_delta, empty.apps_hashcode.as_str()),
        (1, "")
    );
    assert!(empty.applications.is_empty());
}

#[test]
fn amazon_instance_and_java_register_request() {
    let amazon = json::parse_instance(&fixture("constructed-instance-amazon.json")).unwrap();
    assert_eq!(amazon.data_center_info.name, "Amazon");
    assert_eq!(amazon.data_center_info.get("local-ipv4"), Some("10.0.2.21"));
    assert_eq!(amazon.data_center_info.metadata.len(), 9);
    let java =
        json::parse_instance(&fixture("constructed-register-request-java-client.json")).unwrap();
    assert_eq!(
        (java.app.as_str(), java.id()),
        ("ORDERS", "10.0.1.14:orders:8080")
    );
    assert_eq!(
        (java.port, java.secure_port),
        (port(8080, true), port(443, false))
    );
    assert_eq!(java.action_type, None);
    assert_eq!(java.lease_info.unwrap().registration_timestamp, 0);
}

fn check_py(i: &Instance) {
    assert_eq!(
        (i.app.as_str(), i.id()),
        ("PY-SVC", "127.0.0.1:py-svc:9001")
    );
    assert_eq!(
        (i.port, i.secure_port),
        (port(9001, true), port(9443, false))
    );
    assert_eq!(i.overridden_status, Status::Unknown);
    assert_eq!(i.vip_address.as_deref(), Some("py-svc"));
    assert_eq!(i.secure_health_check_url.as_deref(), Some(""));
    assert_eq!(i.metadata("team"), Some("mesh-test"));
    let lease = i.lease_info.unwrap();
    assert_eq!((lease.renewal_interval_secs, lease.duration_secs), (2, 6));
    assert!(!i.is_coordinating_discovery_server);
}

fn check_js(i: &Instance) {
    assert_eq!(
        (i.app.as_str(), i.id()),
        ("js-svc", "127.0.0.1:js-svc:9002")
    );
    assert_eq!(i.port, port(9002, true));
    assert!(!i.secure_port.enabled);
    assert_eq!(i.status, Status::Up);
    assert_eq!(i.vip_address.as_deref(), Some("js-svc"));
    assert_eq!(i.lease_info, None);
    assert_eq!(i.metadata("team"), Some("mesh-test"));
}

#[test]
fn captured_register_bodies_parse() {
    let py = fixture("captured-register-py-eureka-client-0.13.3.json");
    let py = json::parse_instance(&py).unwrap();
    check_py(&py);
    assert_eq!(
        (py.status, py.last_dirty_timestamp),
        (Status::Up, 1_795_359_738_001)
    );
    check_js(
        &json::parse_instance(&fixture("captured-register-eureka-js-client-4.5.0.json")).unwrap(),
    );
}

#[test]
fn every_captured_request_body_parses() {
    let traffic = String::from_utf8(fixture("captured-client-traffic.jsonl")).unwrap();
    let mut statuses = Vec::new();
    for line in traffic.lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(body) = request["request_body"].as_str().filter(|b| !b.is_empty()) else {
            continue;
        };
        let instance =
            ringway_eureka::parse_instance(body.as_bytes(), Format::sniff(body.as_bytes()))
                .unwrap();
        match request["client"].as_str() {
            Some(c) if c.starts_with("py-") => check_py(&instance),
            _ => check_js(&instance),
        }
        statuses.push(instance.status);
    }
    // py-eureka-client registers once more, DOWN, as it stops.
    use Status::{Down, Up};
    assert_eq!(statuses, [Up, Up, Up, Up, Down]);
}
