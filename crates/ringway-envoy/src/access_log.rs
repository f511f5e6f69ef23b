//! `access_log` of an `http_connection_manager` → ringway's access logs:
//! file, stdout and stderr loggers, their format (Envoy's default line, a
//! format string, a format dictionary) and their filter.

use std::path::PathBuf;

use envoy_types::pb::envoy::config::accesslog::v3::access_log::ConfigType;
use envoy_types::pb::envoy::config::accesslog::v3::access_log_filter::FilterSpecifier;
use envoy_types::pb::envoy::config::accesslog::v3::comparison_filter::Op;
use envoy_types::pb::envoy::config::accesslog::v3::{
    AccessLog as EnvoyAccessLog, AccessLogFilter, ComparisonFilter,
};
use envoy_types::pb::envoy::config::core::v3::SubstitutionFormatString;
use envoy_types::pb::envoy::config::core::v3::data_source::Specifier as DataSpecifier;
use envoy_types::pb::envoy::config::core::v3::substitution_format_string::Format;
use envoy_types::pb::envoy::extensions::access_loggers::file::v3::{
    FileAccessLog, file_access_log,
};
use envoy_types::pb::envoy::extensions::access_loggers::stream::v3::{
    StderrAccessLog, StdoutAccessLog, stderr_access_log, stdout_access_log,
};
use envoy_types::pb::google::protobuf::{Struct, Value, value::Kind};
use prost::Message;
use ringway_config::model::log_format::LogFormat;
use ringway_config::model::{
    AccessLog, AccessLogFormat, Comparison, ComparisonOp, ENVOY_RESPONSE_FLAGS, JsonFormat,
    LogFilter, TextFormat,
};

type Refused = (String, String);

pub(crate) const FILE_LOG_TYPE: &str = "envoy.extensions.access_loggers.file.v3.FileAccessLog";
pub(crate) const STDOUT_LOG_TYPE: &str =
    "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
pub(crate) const STDERR_LOG_TYPE: &str =
    "envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

/// Every access log of a connection manager; `field` names its list.
pub(crate) fn access_logs(logs: &[EnvoyAccessLog], field: &str) -> Result<Vec<AccessLog>, Refused> {
    logs.iter()
        .enumerate()
        .map(|(i, log)| access_log(log, &format!("{field}[{i}]")))
        .collect()
}

fn access_log(log: &EnvoyAccessLog, field: &str) -> Result<AccessLog, Refused> {
    let filter = log
        .filter
        .as_ref()
        .map(|f| filter(f, &format!("{field}.filter")))
        .transpose()?;
    let field = format!("{field}.typed_config");
    let Some(ConfigType::TypedConfig(any)) = &log.config_type else {
        return Err((field, "required".into()));
    };
    let decode_error = |e: prost::DecodeError| (field.clone(), format!("cannot decode: {e}"));
    let type_name = any.type_url.rsplit('/').next().unwrap_or_default();
    let (path, format) = match type_name {
        FILE_LOG_TYPE => {
            let file = FileAccessLog::decode(any.value.as_slice()).map_err(decode_error)?;
            if file.path.is_empty() {
                return Err((format!("{field}.path"), "required".into()));
            }
            let format = file_format(file.access_log_format.as_ref(), &field)?;
            (PathBuf::from(file.path), format)
        }
        STDOUT_LOG_TYPE => {
            let log = StdoutAccessLog::decode(any.value.as_slice()).map_err(decode_error)?;
            let stdout_access_log::AccessLogFormat::LogFormat(f) =
                log.access_log_format
                    .unwrap_or(stdout_access_log::AccessLogFormat::LogFormat(
                        SubstitutionFormatString::default(),
                    ));
            (
                PathBuf::from("/dev/stdout"),
                substitution(&f, &format!("{field}.log_format"))?,
            )
        }
        STDERR_LOG_TYPE => {
            let log = StderrAccessLog::decode(any.value.as_slice()).map_err(decode_error)?;
            let stderr_access_log::AccessLogFormat::LogFormat(f) =
                log.access_log_format
                    .unwrap_or(stderr_access_log::AccessLogFormat::LogFormat(
                        SubstitutionFormatString::default(),
                    ));
            (
                PathBuf::from("/dev/stderr"),
                substitution(&f, &format!("{field}.log_format"))?,
            )
        }
        other => {
            return Err((field, format!("the access logger {other} is not supported")));
        }
    };
    Ok(AccessLog {
        path,
        format,
        filter,
    })
}

#[allow(deprecated)]
fn file_format(
    format: Option<&file_access_log::AccessLogFormat>,
    field: &str,
) -> Result<AccessLogFormat, Refused> {
    use file_access_log::AccessLogFormat as F;
    match format {
        None => Ok(AccessLogFormat::Text),
        Some(F::Format(text)) if text.is_empty() => Ok(AccessLogFormat::Text),
        Some(F::Format(text)) => text_format(text, false, &format!("{field}.format")),
        Some(F::JsonFormat(s)) => json_format(s, false, false, &format!("{field}.json_format")),
        Some(F::TypedJsonFormat(s)) => {
            json_format(s, true, false, &format!("{field}.typed_json_format"))
        }
        Some(F::LogFormat(f)) => substitution(f, &format!("{field}.log_format")),
    }
}

/// A `SubstitutionFormatString`; none set is Envoy's default line.
#[allow(deprecated)]
fn substitution(f: &SubstitutionFormatString, field: &str) -> Result<AccessLogFormat, Refused> {
    if !f.formatters.is_empty() {
        return Err((
            format!("{field}.formatters"),
            "formatter extensions are not supported".into(),
        ));
    }
    let omit = f.omit_empty_values;
    match &f.format {
        None => Ok(AccessLogFormat::Text),
        Some(Format::TextFormat(text)) => text_format(text, omit, &format!("{field}.text_format")),
        Some(Format::JsonFormat(s)) => json_format(s, true, omit, &format!("{field}.json_format")),
        Some(Format::TextFormatSource(source)) => {
            let field = format!("{field}.text_format_source");
            let text = match &source.specifier {
                Some(DataSpecifier::InlineString(s)) => s.clone(),
                Some(DataSpecifier::InlineBytes(b)) => String::from_utf8(b.clone())
                    .map_err(|_| (format!("{field}.inline_bytes"), "must be UTF-8".to_owned()))?,
                Some(DataSpecifier::Filename(path)) => {
                    std::fs::read_to_string(path).map_err(|e| {
                        (
                            format!("{field}.filename"),
                            format!("cannot read `{path}`: {e}"),
                        )
                    })?
                }
                _ => {
                    return Err((
                        field,
                        "only inline_string, inline_bytes and filename".into(),
                    ));
                }
            };
            text_format(&text, omit, &field)
        }
    }
}

fn text_format(text: &str, omit: bool, field: &str) -> Result<AccessLogFormat, Refused> {
    let format = LogFormat::parse(text).map_err(|e| (field.to_owned(), e.to_string()))?;
    Ok(AccessLogFormat::TextFormat(TextFormat {
        format,
        omit_empty_values: omit,
    }))
}

fn json_format(
    s: &Struct,
    typed: bool,
    omit: bool,
    field: &str,
) -> Result<AccessLogFormat, Refused> {
    let object = struct_json(s);
    let fields =
        JsonFormat::compile_fields(&object).map_err(|(key, e)| (format!("{field}.{key}"), e))?;
    Ok(AccessLogFormat::JsonFormat(JsonFormat {
        fields,
        typed,
        omit_empty_values: omit,
    }))
}

/// A protobuf `Struct` as a JSON object (keys sorted: a `Struct` has no
/// order).
pub(crate) fn struct_json(s: &Struct) -> serde_json::Map<String, serde_json::Value> {
    s.fields
        .iter()
        .map(|(k, v)| (k.clone(), value_json(v)))
        .collect()
}

fn value_json(v: &Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::StructValue(s)) => serde_json::Value::Object(struct_json(s)),
        Some(Kind::ListValue(l)) => {
            serde_json::Value::Array(l.values.iter().map(value_json).collect())
        }
    }
}

fn filter(f: &AccessLogFilter, field: &str) -> Result<LogFilter, Refused> {
    let list = |filters: &[AccessLogFilter], name: &str| {
        filters
            .iter()
            .enumerate()
            .map(|(i, f)| filter(f, &format!("{field}.{name}.filters[{i}]")))
            .collect::<Result<Vec<_>, _>>()
    };
    match &f.filter_specifier {
        Some(FilterSpecifier::StatusCodeFilter(s)) => comparison(
            s.comparison.as_ref(),
            &format!("{field}.status_code_filter.comparison"),
        )
        .map(LogFilter::StatusCode),
        Some(FilterSpecifier::DurationFilter(d)) => comparison(
            d.comparison.as_ref(),
            &format!("{field}.duration_filter.comparison"),
        )
        .map(LogFilter::Duration),
        Some(FilterSpecifier::NotHealthCheckFilter(_)) => Ok(LogFilter::NotHealthCheck),
        Some(FilterSpecifier::ResponseFlagFilter(r)) => {
            if let Some((i, bad)) = (r.flags.iter().enumerate())
                .find(|(_, f)| !ENVOY_RESPONSE_FLAGS.contains(&f.as_str()))
            {
                return Err((
                    format!("{field}.response_flag_filter.flags[{i}]"),
                    format!("`{bad}` is not a response flag"),
                ));
            }
            Ok(LogFilter::ResponseFlags(r.flags.clone()))
        }
        Some(FilterSpecifier::AndFilter(a)) => list(&a.filters, "and_filter").map(LogFilter::And),
        Some(FilterSpecifier::OrFilter(o)) => list(&o.filters, "or_filter").map(LogFilter::Or),
        None => Err((field.to_owned(), "a filter is required".into())),
        Some(_) => Err((
            field.to_owned(),
            "only status_code_filter, duration_filter, not_health_check_filter, \
             response_flag_filter, and_filter and or_filter are supported"
                .into(),
        )),
    }
}

fn comparison(c: Option<&ComparisonFilter>, field: &str) -> Result<Comparison, Refused> {
    let Some(c) = c else {
        return Err((field.to_owned(), "required".into()));
    };
    let op = match Op::try_from(c.op) {
        Ok(Op::Ge) => ComparisonOp::Ge,
        Ok(Op::Eq) => ComparisonOp::Eq,
        Ok(Op::Le) => ComparisonOp::Le,
        _ => {
            return Err((
                format!("{field}.op"),
                "only GE, EQ and LE are supported".into(),
            ));
        }
    };
    let value = c.value.as_ref().map_or(0, |v| v.default_value);
    Ok(Comparison {
        op,
        value: u64::from(value),
    })
}

#[cfg(test)]
mod tests;
