//! Requests as real clients send them, through the codecs and the state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyper::{Method, StatusCode};
use ringway_eureka::{ActionType, Format, Status};

use super::*;
use crate::registry::route::query_pairs;

const T0: i64 = 1_800_000_000_000;

/// What py-eureka-client 0.13.3 sent (captured).
const PY_REGISTER: &str = r#"{"instance": {"instanceId": "127.0.0.1:py-svc:9001", "hostName": "127.0.0.1", "app": "PY-SVC", "ipAddr": "127.0.0.1", "port": {"$": 9001, "@enabled": "true"}, "securePort": {"$": 9443, "@enabled": "false"}, "countryId": 1, "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}, "leaseInfo": {"renewalIntervalInSecs": 2, "durationInSecs": 6, "registrationTimestamp": 0, "lastRenewalTimestamp": 0, "evictionTimestamp": 0, "serviceUpTimestamp": 0}, "metadata": {"management.port": "9001", "zone": "default", "team": "mesh-test"}, "homePageUrl": "http://127.0.0.1:9001/", "statusPageUrl": "http://127.0.0.1:9001/info", "healthCheckUrl": "http://127.0.0.1:9001/health", "secureHealthCheckUrl": "", "vipAddress": "py-svc", "secureVipAddress": "py-svc", "isCoordinatingDiscoveryServer": "false", "status": "UP", "overriddenstatus": "UNKNOWN", "lastUpdatedTimestamp": "1795359738001", "lastDirtyTimestamp": "1795359738001"}}"#;

/// What eureka-js-client 4.5.0 sent (captured): no lease, no timestamps.
const JS_REGISTER: &str = r#"{"instance":{"app":"js-svc","instanceId":"127.0.0.1:js-svc:9002","hostName":"127.0.0.1","ipAddr":"127.0.0.1","statusPageUrl":"http://127.0.0.1:9002/info","healthCheckUrl":"http://127.0.0.1:9002/health","port":{"$":9002,"@enabled":"true"},"vipAddress":"js-svc","secureVipAddress":"js-svc","dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},"metadata":{"team":"mesh-test"},"status":"UP"}}"#;

const XML_REGISTER: &str = r#"<instance><instanceId>10.0.0.7:xml-svc:80</instanceId><hostName>10.0.0.7</hostName><app>XML-SVC</app><ipAddr>10.0.0.7</ipAddr><status>STARTING</status><overriddenstatus>UNKNOWN</overriddenstatus><port enabled="true">80</port><securePort enabled="false">443</securePort><dataCenterInfo class="com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"><name>MyOwn</name></dataCenterInfo><vipAddress>xml-svc</vipAddress></instance>"#;

fn send(state: &mut State, method: Method, path: &str, body: &str, now: i64) -> Reply {
    let (path, query) = path
        .split_once('?')
        .map_or((path, None), |(p, q)| (p, Some(q)));
    let route = Route::parse(path).unwrap_or_else(|| panic!("no route {path}"));
    assert!(route.allowed().contains(&method), "{method} {path}");
    let query = query_pairs(query);
    let call = Call {
        method: &method,
        route: &route,
        query: &query,
        body: body.as_bytes(),
        format: Format::sniff(body.as_bytes()),
    };
    answer(state, &call, now)
}

fn code(reply: &Reply) -> StatusCode {
    reply.status()
}

#[test]
fn real_client_registrations() {
    let mut state = State::new(180_000);
    let py = send(
        &mut state,
        Method::POST,
        "/eureka/apps/PY-SVC",
        PY_REGISTER,
        T0,
    );
    assert_eq!(py, Reply::Empty(StatusCode::NO_CONTENT));
    let js = send(
        &mut state,
        Method::POST,
        "/eureka/apps/js-svc",
        JS_REGISTER,
        T0,
    );
    assert_eq!(js, Reply::Empty(StatusCode::NO_CONTENT));
    let xml = send(
        &mut state,
        Method::POST,
        "/eureka/v2/apps/",
        XML_REGISTER,
        T0,
    );
    assert_eq!(xml, Reply::Empty(StatusCode::NO_CONTENT));

    let py = state.instance("py-svc", "127.0.0.1:py-svc:9001").unwrap();
    let lease = py.lease_info.unwrap();
    assert_eq!((lease.duration_secs, lease.renewal_interval_secs), (6, 2));
    assert_eq!(lease.registration_timestamp, T0);
    assert_eq!(py.last_dirty_timestamp, 1_795_359_738_001);
    assert_eq!(py.metadata("team"), Some("mesh-test"));
    let js = state.instance("JS-SVC", "127.0.0.1:js-svc:9002").unwrap();
    assert_eq!((js.app.as_str(), js.port.number), ("JS-SVC", 9002));
    assert_eq!(js.lease_info.unwrap().duration_secs, 90);
    let xml = state.instance("xml-svc", "10.0.0.7:xml-svc:80").unwrap();
    assert_eq!(
        (xml.status, xml.action_type),
        (Status::Starting, Some(ActionType::Added))
    );

    let Reply::Applications(all) = send(&mut state, Method::GET, "/eureka/apps/", "", T0) else {
        panic!("not a document");
    };
    assert_eq!(all.apps_hashcode, "STARTING_1_UP_2_");
    let Reply::Applications(vip) = send(&mut state, Method::GET, "/eureka/vips/js-svc", "", T0)
    else {
        panic!("not a document");
    };
    assert_eq!(
        vip.instances().map(|i| i.id()).collect::<Vec<_>>(),
        ["127.0.0.1:js-svc:9002"]
    );
}

#[test]
fn heartbeats_as_py_eureka_client_sends_them() {
    let mut state = State::new(180_000);
    send(
        &mut state,
        Method::POST,
        "/eureka/apps/PY-SVC",
        PY_REGISTER,
        T0,
    );
    let renew =
        "/eureka/apps/PY-SVC/127.0.0.1%3Apy-svc%3A9001?status=UP&lastDirtyTimestamp=1795359738001";
    assert_eq!(
        code(&send(&mut state, Method::PUT, renew, "", T0 + 2000)),
        StatusCode::OK
    );
    let newer =
        "/eureka/apps/PY-SVC/127.0.0.1%3Apy-svc%3A9001?status=UP&lastDirtyTimestamp=1795359746694";
    assert_eq!(
        code(&send(&mut state, Method::PUT, newer, "", T0 + 4000)),
        StatusCode::NOT_FOUND
    );
    let bad = "/eureka/apps/PY-SVC/127.0.0.1%3Apy-svc%3A9001?lastDirtyTimestamp=soon";
    assert_eq!(
        code(&send(&mut state, Method::PUT, bad, "", T0)),
        StatusCode::BAD_REQUEST
    );
    // The js client sends no parameters.
    let js = "/eureka/apps/py-svc/127.0.0.1:py-svc:9001";
    assert_eq!(
        code(&send(&mut state, Method::PUT, js, "", T0 + 5000)),
        StatusCode::OK
    );
    let lease = state
        .instance("PY-SVC", "127.0.0.1:py-svc:9001")
        .unwrap()
        .lease_info
        .unwrap();
    assert_eq!(lease.last_renewal_timestamp, T0 + 5000);
    assert_eq!(
        code(&send(&mut state, Method::DELETE, js, "", T0 + 6000)),
        StatusCode::OK
    );
    assert_eq!(
        code(&send(&mut state, Method::PUT, js, "", T0 + 7000)),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn bad_bodies_and_unknown_things() {
    let mut state = State::new(180_000);
    for body in ["", "{", "{\"instance\": 3}", "<instance", "[]"] {
        let reply = send(&mut state, Method::POST, "/eureka/apps/X", body, T0);
        assert_eq!(code(&reply), StatusCode::BAD_REQUEST, "{body:?}: {reply:?}");
    }
    let nameless = r#"{"instance":{"hostName":"","app":"","port":{"$":1}}}"#;
    let reply = send(&mut state, Method::POST, "/eureka/apps", nameless, T0);
    assert_eq!(code(&reply), StatusCode::BAD_REQUEST, "{reply:?}");
    for (method, path) in [
        (Method::GET, "/eureka/apps/NOPE"),
        (Method::GET, "/eureka/apps/NOPE/id"),
        (Method::GET, "/eureka/instances/id"),
        (Method::PUT, "/eureka/apps/NOPE/id/metadata?a=b"),
        (Method::PUT, "/eureka/apps/NOPE/id/status?value=UP"),
    ] {
        let reply = send(&mut state, method.clone(), path, "", T0);
        assert_eq!(code(&reply), StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(state.len(), 0);
}

#[test]
fn status_values() {
    let mut state = State::new(180_000);
    send(
        &mut state,
        Method::POST,
        "/eureka/apps/js-svc",
        JS_REGISTER,
        T0,
    );
    let path = "/eureka/apps/JS-SVC/127.0.0.1:js-svc:9002/status";
    for (method, query, want) in [
        (Method::PUT, "", StatusCode::BAD_REQUEST),
        (Method::PUT, "?value=UNKNOWN", StatusCode::BAD_REQUEST),
        (Method::PUT, "?value=sideways", StatusCode::BAD_REQUEST),
        (Method::PUT, "?value=out_of_service", StatusCode::OK),
        (Method::DELETE, "?value=DOWN", StatusCode::OK),
        (Method::DELETE, "", StatusCode::OK),
    ] {
        let reply = send(
            &mut state,
            method.clone(),
            &format!("{path}{query}"),
            "",
            T0,
        );
        assert_eq!(code(&reply), want, "{method} {query}: {reply:?}");
    }
    let js = state.instance("js-svc", "127.0.0.1:js-svc:9002").unwrap();
    assert_eq!(
        (js.status, js.overridden_status),
        (Status::Down, Status::Unknown)
    );
}
