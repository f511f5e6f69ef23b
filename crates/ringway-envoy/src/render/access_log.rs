//! ringway's access logs rendered back as Envoy `AccessLog` messages.

use envoy_types::pb::envoy::config::accesslog::v3::access_log_filter::FilterSpecifier;
use envoy_types::pb::envoy::config::accesslog::v3::comparison_filter::Op;
use envoy_types::pb::envoy::config::accesslog::v3::{
    AccessLog, AccessLogFilter, AndFilter, ComparisonFilter, DurationFilter, NotHealthCheckFilter,
    OrFilter, ResponseFlagFilter, StatusCodeFilter, access_log,
};
use envoy_types::pb::envoy::config::core::v3::data_source::Specifier as DataSpecifier;
use envoy_types::pb::envoy::config::core::v3::substitution_format_string::Format;
use envoy_types::pb::envoy::config::core::v3::{
    DataSource, RuntimeUInt32, SubstitutionFormatString,
};
use envoy_types::pb::envoy::extensions::access_loggers::file::v3::{
    FileAccessLog, file_access_log,
};
use envoy_types::pb::envoy::extensions::access_loggers::stream::v3::{
    StderrAccessLog, StdoutAccessLog, stderr_access_log, stdout_access_log,
};
use envoy_types::pb::google::protobuf::{ListValue, Struct, Value, value::Kind};
use ringway_config::model::{self, AccessLogFormat, ComparisonOp, JsonValue, LogFilter};

use super::pack;

pub(super) fn access_log(log: &model::AccessLog) -> AccessLog {
    let format = log_format(&log.format);
    let (name, config) = match log.path.to_str() {
        Some("/dev/stdout") => (
            "envoy.access_loggers.stdout",
            pack(&StdoutAccessLog {
                access_log_format: format.map(stdout_access_log::AccessLogFormat::LogFormat),
            }),
        ),
        Some("/dev/stderr") => (
            "envoy.access_loggers.stderr",
            pack(&StderrAccessLog {
                access_log_format: format.map(stderr_access_log::AccessLogFormat::LogFormat),
            }),
        ),
        _ => (
            "envoy.access_loggers.file",
            pack(&FileAccessLog {
                path: log.path.display().to_string(),
                access_log_format: file_format(&log.format, format),
            }),
        ),
    };
    AccessLog {
        name: name.into(),
        filter: log.filter.as_ref().map(filter),
        config_type: Some(access_log::ConfigType::TypedConfig(config)),
    }
}

/// A file logger's format: the deprecated `json_format` for an untyped
/// dictionary (the only place it can be said), else `log_format`.
#[allow(deprecated)]
fn file_format(
    format: &AccessLogFormat,
    rendered: Option<SubstitutionFormatString>,
) -> Option<file_access_log::AccessLogFormat> {
    match format {
        AccessLogFormat::JsonFormat(j) if !j.typed => Some(
            file_access_log::AccessLogFormat::JsonFormat(json_struct(&j.fields)),
        ),
        _ => rendered.map(file_access_log::AccessLogFormat::LogFormat),
    }
}

/// `None` for Envoy's default line (and ringway's fixed JSON, which Envoy
/// has no form of).
fn log_format(format: &AccessLogFormat) -> Option<SubstitutionFormatString> {
    let (format, omit) = match format {
        AccessLogFormat::Text | AccessLogFormat::Json => return None,
        AccessLogFormat::TextFormat(t) => (
            Format::TextFormatSource(DataSource {
                specifier: Some(DataSpecifier::InlineString(t.format.source().to_owned())),
                ..Default::default()
            }),
            t.omit_empty_values,
        ),
        AccessLogFormat::JsonFormat(j) => (
            Format::JsonFormat(json_struct(&j.fields)),
            j.omit_empty_values,
        ),
    };
    Some(SubstitutionFormatString {
        format: Some(format),
        omit_empty_values: omit,
        ..Default::default()
    })
}

fn json_struct(fields: &[(String, JsonValue)]) -> Struct {
    let value = |v: &JsonValue| match v {
        JsonValue::Format(f) => Kind::StringValue(f.source().to_owned()),
        JsonValue::Object(inner) => Kind::StructValue(json_struct(inner)),
        JsonValue::Constant(c) => constant(c),
    };
    Struct {
        fields: fields
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value {
                        kind: Some(value(v)),
                    },
                )
            })
            .collect(),
    }
}

fn constant(c: &serde_json::Value) -> Kind {
    match c {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(ListValue {
            values: items
                .iter()
                .map(|i| Value {
                    kind: Some(constant(i)),
                })
                .collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(Struct {
            fields: map
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value {
                            kind: Some(constant(v)),
                        },
                    )
                })
                .collect(),
        }),
    }
}

fn filter(f: &LogFilter) -> AccessLogFilter {
    let comparison = |c: &model::Comparison| {
        Some(ComparisonFilter {
            op: match c.op {
                ComparisonOp::Ge => Op::Ge,
                ComparisonOp::Eq => Op::Eq,
                ComparisonOp::Le => Op::Le,
            } as i32,
            value: Some(RuntimeUInt32 {
                default_value: u32::try_from(c.value).unwrap_or(u32::MAX),
                ..Default::default()
            }),
        })
    };
    let specifier = match f {
        LogFilter::StatusCode(c) => FilterSpecifier::StatusCodeFilter(StatusCodeFilter {
            comparison: comparison(c),
        }),
        LogFilter::Duration(c) => FilterSpecifier::DurationFilter(DurationFilter {
            comparison: comparison(c),
        }),
        LogFilter::NotHealthCheck => FilterSpecifier::NotHealthCheckFilter(NotHealthCheckFilter {}),
        LogFilter::ResponseFlags(flags) => {
            FilterSpecifier::ResponseFlagFilter(ResponseFlagFilter {
                flags: flags.clone(),
            })
        }
        LogFilter::And(all) => FilterSpecifier::AndFilter(AndFilter {
            filters: all.iter().map(filter).collect(),
        }),
        LogFilter::Or(any) => FilterSpecifier::OrFilter(OrFilter {
            filters: any.iter().map(filter).collect(),
        }),
    };
    AccessLogFilter {
        filter_specifier: Some(specifier),
    }
}
