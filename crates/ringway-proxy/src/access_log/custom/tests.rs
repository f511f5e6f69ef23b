#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use ringway_config::model::log_format::LogFormat;
use ringway_config::model::{AccessLogFormat, JsonFormat, TextFormat};

use super::super::{Captured, ConnInfo, Needs, example_entry};
use super::*;

fn needs_of(format: &AccessLogFormat) -> Needs {
    Needs::new(std::iter::once(format))
}

fn text_line(source: &str, captured: Option<&Captured>) -> String {
    let t = TextFormat {
        format: LogFormat::parse(source).expect("parses"),
        omit_empty_values: false,
    };
    let format = AccessLogFormat::TextFormat(t.clone());
    let needs = needs_of(&format);
    let conn = ConnInfo {
        peer: "10.0.0.7:4242".parse::<SocketAddr>().expect("addr"),
        local: Some("127.0.0.1:10000".parse().expect("addr")),
        id: 9,
    };
    let mut entry = example_entry();
    entry.line.conn = Some(&conn);
    entry.line.captured = captured;
    let mut out = String::new();
    text(&mut out, &t, &entry, &needs);
    out
}

#[test]
fn the_default_format_as_a_string_matches_the_fixed_line() {
    let source = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" \
        %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% \
        %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \
        \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";
    let mut fixed = String::new();
    super::super::default::format_text(&mut fixed, &example_entry());
    assert_eq!(text_line(source, None), fixed);
}

#[test]
fn operators_and_truncation() {
    assert_eq!(
        text_line(
            "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% \
             %DOWNSTREAM_LOCAL_ADDRESS% %CONNECTION_ID% %UPSTREAM_CLUSTER% \
             %REQUESTED_SERVER_NAME% %RESPONSE_FLAGS_LONG% %REQ(USER-AGENT):4% %REQ(x-none)%",
            None
        ),
        "10.0.0.7:4242 10.0.0.7 127.0.0.1:10000 9 backend - UpstreamConnectionFailure curl -"
    );
    assert_eq!(
        text_line("%START_TIME(%Y/%m/%d %H:%M:%S.%6f %s %j %a %b)%", None),
        "2026/11/22 16:07:18.123000 1795363638 326 Sun Nov"
    );
    assert_eq!(text_line("%START_TIME(%s.%3f)%", None), "1795363638.123");
}

#[test]
fn captured_headers_are_looked_up_by_name() {
    let format = AccessLogFormat::TextFormat(TextFormat {
        format: LogFormat::parse("%REQ(X-A?X-B)% %RESP(content-type)% %REQ(x-c)%").expect("parses"),
        omit_empty_values: false,
    });
    let needs = needs_of(&format);
    assert_eq!(needs.request, ["x-a", "x-b", "x-c"]);
    assert_eq!(needs.response, ["content-type"]);
    let mut captured = Captured::default();
    captured.request(&needs, |n| (n == "x-b").then_some(&b"bee"[..]));
    captured.response(&needs, |n| {
        (n == "content-type").then_some(&b"text/plain"[..])
    });
    assert_eq!(
        text_line(
            "%REQ(X-A?X-B)% %RESP(content-type)% %REQ(x-c)%",
            Some(&captured)
        ),
        "bee text/plain -"
    );
}

fn json_line(fields: serde_json::Value, typed: bool, omit: bool) -> serde_json::Value {
    let object = fields.as_object().cloned().unwrap_or_default();
    let j = JsonFormat {
        fields: JsonFormat::compile_fields(&object).expect("compiles"),
        typed,
        omit_empty_values: omit,
    };
    let needs = Needs::default();
    let mut out = String::new();
    json(&mut out, &j, &example_entry(), &needs);
    assert!(out.ends_with('\n'));
    serde_json::from_str(&out).expect("one JSON object")
}

#[test]
fn json_keeps_types_when_typed() {
    let fields = serde_json::json!({
        "code": "%RESPONSE_CODE%",
        "code_text": "code %RESPONSE_CODE%",
        "up": { "host": "%UPSTREAM_HOST%", "sni": "%REQUESTED_SERVER_NAME%" },
        "path": "%REQ(:PATH)%",
        "v": 1,
    });
    let typed = json_line(fields.clone(), true, false);
    assert_eq!(typed["code"], 503);
    assert_eq!(typed["code_text"], "code 503");
    assert_eq!(typed["up"]["host"], "127.0.0.1:1");
    assert_eq!(typed["up"]["sni"], serde_json::Value::Null);
    assert_eq!(typed["path"], "/a\"b");
    assert_eq!(typed["v"], 1);
    let strings = json_line(fields.clone(), false, false);
    assert_eq!(strings["code"], "503");
    assert_eq!(strings["up"]["sni"], "-");
    let omitted = json_line(fields, true, true);
    assert!(omitted["up"].get("sni").is_none(), "{omitted}");
}
