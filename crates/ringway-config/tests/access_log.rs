//! `access_log` in ringway's file: Envoy format strings and dictionaries,
//! filters, and their refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{MINIMAL, assert_has, errors};
use ringway_config::model::log_format::Operator;
use ringway_config::model::{AccessLogFormat, ComparisonOp, JsonValue, LogFilter};
use ringway_config::{SystemResolver, load_str};

fn with_log(log: &str) -> String {
    MINIMAL.replace(
        "    address: \"127.0.0.1:10000\"",
        &format!("    address: \"127.0.0.1:10000\"\n    access_log: {log}"),
    )
}

#[test]
fn text_format_and_filter() {
    let text = with_log(
        r#"{ path: /tmp/x.log, text_format: "%REQ(:METHOD)% %RESP(content-type):5%\n", filter: { status_code: { op: ge, value: 400 } } }"#,
    );
    let s = load_str("ok.yaml", &text, &SystemResolver).expect("loads");
    let log = &s.listeners[0].access_logs[0];
    let AccessLogFormat::TextFormat(t) = &log.format else {
        panic!("a text format: {:?}", log.format);
    };
    assert_eq!(t.format.source(), "%REQ(:METHOD)% %RESP(content-type):5%\n");
    assert!(!t.omit_empty_values);
    let Some(LogFilter::StatusCode(c)) = &log.filter else {
        panic!("a status filter");
    };
    assert_eq!((c.op, c.value), (ComparisonOp::Ge, 400));
}

#[test]
fn json_format_nests_and_keeps_constants() {
    let text = with_log(
        r#"{ json_format: { code: "%RESPONSE_CODE%", up: { host: "%UPSTREAM_HOST%" }, v: 2 }, omit_empty_values: true }"#,
    );
    let s = load_str("ok.yaml", &text, &SystemResolver).expect("loads");
    let AccessLogFormat::JsonFormat(j) = &s.listeners[0].access_logs[0].format else {
        panic!("a JSON format");
    };
    assert!(j.typed && j.omit_empty_values);
    let code = j.fields.iter().find(|(k, _)| k == "code").map(|(_, v)| v);
    assert!(matches!(code, Some(JsonValue::Format(f))
        if f.single_operator() == Some(&Operator::ResponseCode)));
    assert!(
        j.fields
            .iter()
            .any(|(k, v)| k == "up" && matches!(v, JsonValue::Object(_)))
    );
    assert!(
        j.fields
            .iter()
            .any(|(k, v)| k == "v" && *v == JsonValue::Constant(2.into()))
    );
}

#[test]
fn refusals_name_the_field() {
    let errs = errors(&with_log(r#"{ text_format: "%NOPE%" }"#));
    assert_has(
        &errs,
        "listeners[0].access_log.text_format",
        &["unknown command operator `%NOPE%`"],
    );
    let errs = errors(&with_log(
        r#"{ json_format: { a: { b: "%START_TIME(%Q)%" } } }"#,
    ));
    assert_has(&errs, "listeners[0].access_log.json_format.a.b", &["%Q"]);
    let errs = errors(&with_log(r#"{ text_format: "x", json_format: {} }"#));
    assert_has(&errs, "listeners[0].access_log.json_format", &["only one"]);
    let errs = errors(&with_log(r#"{ format: json, text_format: "x" }"#));
    assert_has(
        &errs,
        "listeners[0].access_log.text_format",
        &["format: json"],
    );
    let errs = errors(&with_log(r#"{ text_format: "50%" }"#));
    assert_has(
        &errs,
        "listeners[0].access_log.text_format",
        &["byte 2", "`%%`"],
    );
    let errs = errors(&with_log(r#"{ filter: { response_flags: [UF, XX] } }"#));
    assert_has(
        &errs,
        "listeners[0].access_log.filter.response_flags[1]",
        &["`XX`"],
    );
    let errs = errors(&with_log(r#"{ filter: { status: 1 } }"#));
    assert_has(
        &errs,
        "listeners[0].access_log.filter.status",
        &["unknown field `status`"],
    );
}
