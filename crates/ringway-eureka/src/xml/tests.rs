#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn err(result: Result<impl std::fmt::Debug, ParseError>) -> (String, String) {
    let e = result.unwrap_err();
    (e.path, e.reason)
}

#[test]
fn declaration_attributes_and_alternate_spellings() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<applications><versions__delta> 3 </versions__delta><apps__hashcode>UP_1_</apps__hashcode>
  <application><name>Svc</name><instance>
    <hostName>h1</hostName><app>Svc</app><ipAddr>10.0.0.9</ipAddr><status>up</status>
    <overriddenStatus>DOWN</overriddenStatus>
    <port>8080</port><securePort>8443</securePort>
    <dataCenterInfo><name>Amazon</name><metadata><instance-id>i-9</instance-id></metadata></dataCenterInfo>
    <leaseInfo><renewalTimestamp>12</renewalTimestamp></leaseInfo>
    <metadata class="java.util.Collections$EmptyMap"/>
    <isCoordinatingDiscoveryServer>true</isCoordinatingDiscoveryServer>
    <unknownElement><deep/></unknownElement><!-- a comment -->
  </instance></application>
</applications>"#;
    let doc = parse_applications(body).unwrap();
    assert_eq!(
        (doc.versions_delta, doc.hashcode()),
        (3, doc.apps_hashcode.clone())
    );
    let i = &doc.applications[0].instances[0];
    assert_eq!(
        (i.id(), i.status, i.overridden_status),
        ("i-9", Status::Up, Status::Down)
    );
    assert_eq!(
        i.port,
        Port {
            number: 8080,
            enabled: true
        }
    );
    assert_eq!(
        i.secure_port,
        Port {
            number: 8443,
            enabled: false
        }
    );
    assert_eq!(i.data_center_info.class, DataCenterInfo::AMAZON_CLASS);
    assert_eq!(i.lease_info.unwrap().last_renewal_timestamp, 12);
    assert!(i.metadata.is_empty() && i.is_coordinating_discovery_server);
}

#[test]
fn metadata_keys_use_xstream_name_coding() {
    let body =
        b"<instance><metadata><a__b>1</a__b><c_-d>2</c_-d><e_f>3</e_f></metadata></instance>";
    let i = parse_instance(body).unwrap();
    let keys: Vec<_> = i.metadata.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a_b", "c$d", "e_f"]);
    let written = String::from_utf8(write_instance(&i)).unwrap();
    assert!(
        written.contains("<a__b>1</a__b>\n    <c_-d>2</c_-d>\n    <e__f>3</e__f>"),
        "{written}"
    );
    assert_eq!(parse_instance(written.as_bytes()).unwrap(), i);
}

#[test]
fn text_is_escaped_and_kept_as_is() {
    let mut i = Instance::new("orders", "10.0.0.1", 8080);
    i.home_page_url = Some(" <a href=\"x\">&'b'</a>\r\n\ttab ".into());
    i.metadata = vec![
        ("ok".into(), "bell\u{7}".into()),
        ("1bad".into(), "x".into()),
        ("has space".into(), "x".into()),
        ("ns:key".into(), "x".into()),
    ];
    i.data_center_info.class = "odd\tclass\n\"x\"".into();
    let written = write_instance(&i);
    let text = String::from_utf8(written.clone()).unwrap();
    assert!(text.contains("<homePageUrl> &lt;a href=&quot;x&quot;&gt;&amp;&apos;b&apos;&lt;/a&gt;&#xd;\n\ttab </homePageUrl>"), "{text}");
    assert!(
        text.contains("<ok>bell\u{FFFD}</ok>") && !text.contains("bad"),
        "{text}"
    );
    let back = parse_instance(&written).unwrap();
    assert_eq!(back.home_page_url, i.home_page_url);
    assert_eq!(back.data_center_info.class, i.data_center_info.class);
    assert_eq!(back.metadata, [("ok".into(), "bell\u{FFFD}".into())]);
}

#[test]
fn empty_values_and_documents() {
    let doc = Applications::default();
    let written = String::from_utf8(write_applications(&doc)).unwrap();
    assert_eq!(
        written,
        "<applications>\n  <versions__delta>0</versions__delta>\n  <apps__hashcode></apps__hashcode>\n</applications>"
    );
    assert_eq!(parse_applications(written.as_bytes()).unwrap(), doc);
    let app = Application {
        name: "A".into(),
        instances: Vec::new(),
    };
    assert_eq!(parse_application(&write_application(&app)).unwrap(), app);
    let mut i = Instance::new("a", "h", 1);
    i.instance_id = Some(String::new());
    i.data_center_info.name = "Amazon".into();
    let written = String::from_utf8(write_instance(&i)).unwrap();
    assert!(written.contains("<instanceId></instanceId>"), "{written}");
    assert!(
        written.contains(
            "<name>Amazon</name>\n    <metadata class=\"java.util.Collections$EmptyMap\"/>"
        ),
        "{written}"
    );
    assert_eq!(parse_instance(written.as_bytes()).unwrap(), i);
    assert_eq!(
        parse_instance(b"<instance><hostName/></instance>")
            .unwrap()
            .host_name,
        ""
    );
}

#[test]
fn malformed_bodies_are_errors_with_a_path() {
    let at = |path: &str, body: &[u8]| assert_eq!(err(parse_applications(body)).0, path);
    at("", b"");
    at("", b"<applications><application>");
    at("", b"<application/>");
    at("", b"\xff<applications/>");
    at("", b"{\"applications\":{}}");
    at(
        "",
        b"<!DOCTYPE a [<!ENTITY e \"x\">]><applications>&e;</applications>",
    );
    at(
        "applications.versions__delta",
        b"<applications><versions__delta>x</versions__delta></applications>",
    );
    at(
        "applications.versions__delta",
        b"<applications><versions__delta>99999999999999999999</versions__delta></applications>",
    );
    let nested = b"<applications><application/><application><instance><port enabled=\"true\">70000</port></instance></application></applications>";
    let (path, reason) = err(parse_applications(nested));
    assert_eq!(path, "applications.application[1].instance[0].port");
    assert!(reason.contains("70000"), "{reason}");
    let inst = |body: &[u8]| err(parse_instance(body)).0;
    assert_eq!(
        inst(b"<instance><countryId></countryId></instance>"),
        "instance.countryId"
    );
    assert_eq!(
        inst(b"<instance><securePort>-1</securePort></instance>"),
        "instance.securePort"
    );
    assert_eq!(
        inst(b"<instance><leaseInfo><durationInSecs>1.5</durationInSecs></leaseInfo></instance>"),
        "instance.leaseInfo.durationInSecs"
    );
    assert_eq!(
        inst(b"<instance><lastDirtyTimestamp>now</lastDirtyTimestamp></instance>"),
        "instance.lastDirtyTimestamp"
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = format!(
        "<instance>{}{}</instance>",
        "<x>".repeat(100_000),
        "</x>".repeat(100_000)
    );
    let _ = parse_instance(deep.as_bytes());
}
