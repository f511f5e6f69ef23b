#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::Registry;

fn err(result: Result<impl std::fmt::Debug, ParseError>) -> (String, String) {
    let e = result.unwrap_err();
    (e.path, e.reason)
}

/// The shapes of old (Jettison/XStream JSON) servers: one application and
/// one instance as objects, numbers as strings, lowercase overriddenstatus.
#[test]
fn old_server_shapes() {
    let body = br#"{"applications":{"versions__delta":7,"apps__hashcode":"UP_1_",
      "application":{"name":"Svc","instance":{"hostName":"h1","app":"Svc","ipAddr":"10.0.0.9",
        "status":"UP","overriddenstatus":"OUT_OF_SERVICE",
        "port":{"@enabled":"true","$":"7101"},"securePort":{"@enabled":"false","$":"7102"},
        "countryId":"1","leaseInfo":{"renewalIntervalInSecs":"30","renewalTimestamp":5},
        "vipAddress":"[]","isCoordinatingDiscoveryServer":false,
        "lastUpdatedTimestamp":1402450388774,"lastDirtyTimestamp":"1402450388775",
        "actionType":"MODIFIED","someFutureField":{"x":[1,2]}}}}}"#;
    let doc = parse_applications(body).unwrap();
    assert_eq!(
        (doc.versions_delta, doc.hashcode()),
        (7, doc.apps_hashcode.clone())
    );
    let i = &doc.applications[0].instances[0];
    assert_eq!((i.app.as_str(), i.id()), ("Svc", "h1"));
    assert_eq!(i.overridden_status, Status::OutOfService);
    assert_eq!(
        i.port,
        Port {
            number: 7101,
            enabled: true
        }
    );
    assert_eq!(
        i.secure_port,
        Port {
            number: 7102,
            enabled: false
        }
    );
    assert_eq!(i.lease_info.unwrap().last_renewal_timestamp, 5);
    assert_eq!(i.lease_info.unwrap().duration_secs, 90);
    assert_eq!(i.vip_address.as_deref(), Some("[]"));
    assert_eq!(
        (i.last_updated_timestamp, i.last_dirty_timestamp),
        (1402450388774, 1402450388775)
    );
    assert_eq!(i.action_type, Some(ActionType::Modified));
    assert_eq!(i.data_center_info, DataCenterInfo::my_own());
}

#[test]
fn applications_mixing_arrays_and_objects() {
    let body = br#"{"applications":{"versions__delta":"1","application":[
      {"name":"A","instance":{"hostName":"a1"}},
      {"name":"B","instance":[{"hostName":"b1"},{"hostName":"b2"}]},
      {"name":"C","instance":[]}]}}"#;
    let doc = parse_applications(body).unwrap();
    let counts: Vec<_> = doc.applications.iter().map(|a| a.instances.len()).collect();
    assert_eq!(counts, [1, 2, 0]);
    let empty = br#"{"applications":{"versions__delta":"1","apps__hashcode":"","application":[]}}"#;
    assert!(parse_applications(empty).unwrap().applications.is_empty());
}

/// What users give eureka-js-client, which sends its config verbatim.
#[test]
fn client_port_forms_and_defaults() {
    let port_of = |p: &str| parse_instance(format!(r#"{{"instance":{{"port":{p}}}}}"#).as_bytes());
    let up = |number| Port {
        number,
        enabled: true,
    };
    assert_eq!(
        port_of(r#"{"$":8080,"@enabled":true}"#).unwrap().port,
        up(8080)
    );
    assert_eq!(port_of(r#"{"$":"8080"}"#).unwrap().port, up(8080));
    assert_eq!(port_of("8080").unwrap().port, up(8080));
    assert_eq!(port_of(r#""8080""#).unwrap().port, up(8080));
    assert!(
        !port_of(r#"{"$":8080,"@enabled":"false"}"#)
            .unwrap()
            .port
            .enabled
    );
    let bare = parse_instance(br#"{"instance":{"securePort":{"$":8443}}}"#).unwrap();
    assert_eq!(
        bare.secure_port,
        Port {
            number: 8443,
            enabled: false
        }
    );
    assert_eq!((bare.port, bare.status), (up(7001), Status::Up));
    assert_eq!((bare.app.as_str(), bare.host_name.as_str()), ("", ""));
    let coordinating = br#"{"instance":{"isCoordinatingDiscoveryServer":"true","status":"weird"}}"#;
    let coordinating = parse_instance(coordinating).unwrap();
    assert!(coordinating.is_coordinating_discovery_server);
    assert_eq!(coordinating.status, Status::Unknown);
}

#[test]
fn metadata_and_data_center_forms() {
    let body = br#"{"instance":{"app":"a","hostName":"h",
      "dataCenterInfo":{"name":"Amazon","metadata":{"instance-id":"i-1","@class":"x"}},
      "metadata":{"@class":"java.util.HashMap","z":"1","a":2,"z":"3","n":null}}}"#;
    let i = parse_instance(body).unwrap();
    assert_eq!(i.data_center_info.class, DataCenterInfo::AMAZON_CLASS);
    assert_eq!(
        i.data_center_info.metadata,
        [("instance-id".into(), "i-1".into())]
    );
    assert_eq!(i.id(), "i-1", "the Amazon instance-id, without instanceId");
    assert_eq!(
        i.metadata,
        [("z".into(), "3".into()), ("a".into(), "2".into())]
    );
    let own = br#"{"instance":{"dataCenterInfo":{"@class":"com.netflix.appinfo.AmazonInfo"}}}"#;
    assert_eq!(parse_instance(own).unwrap().data_center_info.name, "Amazon");
    let empty_id = br#"{"instance":{"instanceId":"","hostName":"h"}}"#;
    assert_eq!(parse_instance(empty_id).unwrap().id(), "h");
}

#[test]
fn writes_what_it_reads() {
    let mut i = Instance::new("Orders", "10.0.0.1", 8080);
    i.metadata = vec![("q\"uote".into(), "back\\slash\n\u{1}".into())];
    i.sid = Some("s".into());
    i.app_group_name = Some("g".into());
    i.lease_info = Some(LeaseInfo::default());
    i.data_center_info.name = "Amazon".into();
    i.data_center_info.class = DataCenterInfo::AMAZON_CLASS.into();
    let written = write_instance(&i);
    assert_eq!(parse_instance(&written).unwrap(), i);
    let text = String::from_utf8(written).unwrap();
    assert!(
        text.contains(r#""q\"uote":"back\\slash\n\u0001""#),
        "{text}"
    );
    assert!(
        text.contains(r#""ipAddr":"10.0.0.1","sid":"s","status":"UP""#),
        "{text}"
    );
    assert!(text.contains(r#""name":"Amazon","metadata":{}}"#), "{text}");
    let registry = Registry::default().to_applications(3);
    assert_eq!(
        parse_applications(&write_applications(&registry)).unwrap(),
        registry
    );
}

#[test]
fn malformed_bodies_are_errors_with_a_path() {
    let at = |path: &str, body: &[u8]| assert_eq!(err(parse_applications(body)).0, path);
    at("", b"");
    at("", br#"{"applications":{"versions__delta":"1""#);
    at("", b"[]");
    at("", br#"{"application":{}}"#);
    at("", b"\xff\xfe");
    at("applications", br#"{"applications":[]}"#);
    at(
        "applications.versions__delta",
        br#"{"applications":{"versions__delta":"x"}}"#,
    );
    at(
        "applications.versions__delta",
        br#"{"applications":{"versions__delta":1.5}}"#,
    );
    at(
        "applications.versions__delta",
        br#"{"applications":{"versions__delta":18446744073709551615}}"#,
    );
    at(
        "applications.versions__delta",
        br#"{"applications":{"versions__delta":"99999999999999999999"}}"#,
    );
    at(
        "applications.application",
        br#"{"applications":{"application":"A"}}"#,
    );
    let nested = br#"{"applications":{"application":[{"name":"A"},{"name":"B","instance":[{"port":70000}]}]}}"#;
    let (path, reason) = err(parse_applications(nested));
    assert_eq!(path, "applications.application[1].instance[0].port");
    assert!(reason.contains("70000"), "{reason}");
    let inst = |body: &[u8]| err(parse_instance(body)).0;
    assert_eq!(
        inst(br#"{"instance":{"port":{"@enabled":"true"}}}"#),
        "instance.port"
    );
    assert_eq!(
        inst(br#"{"instance":{"securePort":-1}}"#),
        "instance.securePort"
    );
    assert_eq!(
        inst(br#"{"instance":{"hostName":["h"]}}"#),
        "instance.hostName"
    );
    assert_eq!(
        inst(br#"{"instance":{"metadata":{"k":{}}}}"#),
        "instance.metadata.k"
    );
    assert_eq!(
        inst(br#"{"instance":{"metadata":"k"}}"#),
        "instance.metadata"
    );
    assert_eq!(
        inst(br#"{"instance":{"leaseInfo":{"durationInSecs":-5}}}"#),
        "instance.leaseInfo.durationInSecs"
    );
    assert_eq!(
        inst(br#"{"instance":{"dataCenterInfo":{"name":{}}}}"#),
        "instance.dataCenterInfo.name"
    );
    assert_eq!(
        inst(br#"{"instance":{"isCoordinatingDiscoveryServer":[]}}"#),
        "instance.isCoordinatingDiscoveryServer"
    );
    assert_eq!(inst(br#"{"instance":1}"#), "instance");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!(
        r#"{{"instance":{{"x":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(err(parse_instance(deep.as_bytes())).0, "");
    assert!(
        parse_instance(b"\xEF\xBB\xBF{\"instance\":{}}").is_ok(),
        "a BOM is skipped"
    );
}
