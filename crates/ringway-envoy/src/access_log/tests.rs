#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringway_config::ConfigErrors;
use ringway_config::model::log_format::Operator;
use ringway_config::model::{AccessLog, AccessLogFormat, ComparisonOp, JsonValue, LogFilter};

use crate::bootstrap::Loaded;
use crate::test_support::load_hcm;

/// A bootstrap whose one listener's connection manager has `logs` as its
/// `access_log` (indented 10 spaces).
fn load(logs: &str) -> Result<Loaded, ConfigErrors> {
    load_hcm(
        &format!("          access_log:\n{logs}"),
        "direct_response: { status: 200 }",
    )
}

fn logs(text: &str) -> Vec<AccessLog> {
    match load(text) {
        Ok(loaded) => loaded.snapshot.listeners[0].access_logs.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn refused(text: &str) -> (String, String) {
    match load(text) {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => (e.errors[0].field.clone(), e.errors[0].reason.clone()),
    }
}

const FILE: &str = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
const STDOUT: &str =
    "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";

#[test]
fn formats_of_every_shape() {
    let text = format!(
        r#"          - name: a
            typed_config:
              "@type": {FILE}
              path: /tmp/a.log
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] %REQ(:METHOD)% %RESP(content-type)%\n"
                content_type: text/plain
          - name: b
            filter: {{ status_code_filter: {{ comparison: {{ op: GE, value: {{ default_value: 400, runtime_key: k }} }} }} }}
            typed_config:
              "@type": {STDOUT}
              log_format:
                json_format: {{ code: "%RESPONSE_CODE%", nested: {{ host: "%UPSTREAM_HOST%" }} }}
                omit_empty_values: true
          - name: c
            filter: {{ and_filter: {{ filters: [{{ not_health_check_filter: {{}} }}, {{ response_flag_filter: {{ flags: [UF, UH] }} }}] }} }}
            typed_config:
              "@type": {FILE}
              path: /tmp/c.log
              format: "%PROTOCOL%\n"
          - name: d
            typed_config:
              "@type": {FILE}
              path: /tmp/d.log
              json_format: {{ code: "%RESPONSE_CODE%" }}"#
    );
    let logs = logs(&text);
    assert_eq!(logs.len(), 4);
    let AccessLogFormat::TextFormat(t) = &logs[0].format else {
        panic!("{:?}", logs[0].format)
    };
    assert_eq!(
        t.format.source(),
        "[%START_TIME%] %REQ(:METHOD)% %RESP(content-type)%\n"
    );
    let AccessLogFormat::JsonFormat(j) = &logs[1].format else {
        panic!("{:?}", logs[1].format)
    };
    assert!(j.typed && j.omit_empty_values);
    assert!(matches!(&j.fields[0], (k, JsonValue::Format(f))
        if k == "code" && f.single_operator() == Some(&Operator::ResponseCode)));
    assert!(matches!(&j.fields[1], (k, JsonValue::Object(_)) if k == "nested"));
    assert_eq!(logs[1].path.to_str(), Some("/dev/stdout"));
    let Some(LogFilter::StatusCode(c)) = &logs[1].filter else {
        panic!("{:?}", logs[1].filter)
    };
    assert_eq!((c.op, c.value), (ComparisonOp::Ge, 400));
    assert!(matches!(&logs[2].filter, Some(LogFilter::And(all)) if all.len() == 2));
    assert!(matches!(&logs[2].format, AccessLogFormat::TextFormat(_)));
    assert!(matches!(&logs[3].format, AccessLogFormat::JsonFormat(j) if !j.typed));
}

#[test]
fn refusals_name_the_field() {
    let hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
    let (field, reason) = refused(&format!(
        r#"          - name: a
            typed_config:
              "@type": {STDOUT}
              log_format: {{ text_format_source: {{ inline_string: "%REQ(:PATH)% %NOPE%" }} }}"#
    ));
    assert!(field.starts_with(hcm), "{field}");
    assert!(
        field.ends_with("access_log[0].typed_config.log_format.text_format_source"),
        "{field}"
    );
    assert_eq!(reason, "unknown command operator `%NOPE%`");
    let (field, reason) = refused(&format!(
        r#"          - name: a
            filter: {{ runtime_filter: {{ runtime_key: x }} }}
            typed_config: {{ "@type": {STDOUT} }}"#
    ));
    assert!(
        field.ends_with("access_log[0].filter.runtime_filter"),
        "{field}"
    );
    assert!(reason.contains("not supported"), "{reason}");
    let (field, _) = refused(&format!(
        r#"          - name: a
            filter: {{ response_flag_filter: {{ flags: [XX] }} }}
            typed_config: {{ "@type": {STDOUT} }}"#
    ));
    assert!(field.ends_with("response_flag_filter.flags[0]"), "{field}");
    let (field, _) = refused(&format!(
        r#"          - name: a
            typed_config:
              "@type": {STDOUT}
              log_format:
                text_format: x
                formatters: [{{ name: f, typed_config: {{ "@type": type.googleapis.com/google.protobuf.Empty }} }}]"#
    ));
    assert!(field.contains("log_format.formatters"), "{field}");
}
