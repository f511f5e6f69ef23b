//! Access logs: where, in which format, and which requests (Envoy's
//! `config.accesslog.v3.AccessLog` with file/stdout/stderr loggers).

use std::path::PathBuf;

use serde::Serialize;

use super::log_format::{HeaderRef, LogFormat, Operator};

/// One access log of a listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessLog {
    /// File to append to; `/dev/stdout` and `/dev/stderr` work.
    pub path: PathBuf,
    pub format: AccessLogFormat,
    /// Which requests are logged; `None`: all.
    pub filter: Option<LogFilter>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLogFormat {
    /// Envoy's default text format.
    Text,
    /// One JSON object per line with the same fields.
    Json,
    /// A format string (Envoy's `text_format_source`).
    TextFormat(TextFormat),
    /// A format dictionary (Envoy's `json_format`).
    JsonFormat(JsonFormat),
}

/// A format string and how it renders empty values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextFormat {
    pub format: LogFormat,
    /// Envoy's `omit_empty_values`: an absent value is written as nothing
    /// instead of `-`.
    pub omit_empty_values: bool,
}

/// A JSON object whose values are format strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonFormat {
    pub fields: Vec<(String, JsonValue)>,
    /// A value that is exactly one numeric operator is a JSON number and
    /// an absent value is `null` (Envoy's `log_format.json_format` and
    /// `typed_json_format`); otherwise every value is a string and absent
    /// ones are `"-"` (the deprecated `json_format`).
    pub typed: bool,
    /// Envoy's `omit_empty_values`: keys with absent values are left out.
    pub omit_empty_values: bool,
}

/// One value of a [`JsonFormat`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonValue {
    Format(LogFormat),
    Object(Vec<(String, JsonValue)>),
    /// A number, boolean or null written as is.
    Constant(serde_json::Value),
}

/// Which requests an access log records (Envoy's `AccessLogFilter`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFilter {
    /// The response code compared with a value (0 when no response).
    StatusCode(Comparison),
    /// The duration in milliseconds compared with a value.
    Duration(Comparison),
    /// Requests that are not health checks: every request (ringway has no
    /// health check filter marking requests).
    NotHealthCheck,
    /// Requests with one of these response flags (short names); empty:
    /// with any flag.
    ResponseFlags(Vec<String>),
    And(Vec<LogFilter>),
    Or(Vec<LogFilter>),
}

/// `value op threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub op: ComparisonOp,
    pub value: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonOp {
    Ge,
    Eq,
    Le,
}

/// Where a header operator reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderSource {
    Request,
    Response,
}

// === impl AccessLogFormat ===

impl AccessLogFormat {
    /// Every format string in it.
    pub fn formats(&self) -> Vec<&LogFormat> {
        fn walk<'a>(fields: &'a [(String, JsonValue)], out: &mut Vec<&'a LogFormat>) {
            for (_, value) in fields {
                match value {
                    JsonValue::Format(f) => out.push(f),
                    JsonValue::Object(inner) => walk(inner, out),
                    JsonValue::Constant(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        match self {
            Self::Text | Self::Json => {}
            Self::TextFormat(t) => out.push(&t.format),
            Self::JsonFormat(j) => walk(&j.fields, &mut out),
        }
        out
    }

    /// The headers its operators read from `source`.
    pub fn headers(&self, source: HeaderSource) -> Vec<&HeaderRef> {
        self.formats()
            .into_iter()
            .flat_map(LogFormat::operators)
            .filter_map(|op| match (op, source) {
                (Operator::RequestHeader(h), HeaderSource::Request)
                | (Operator::ResponseHeader(h), HeaderSource::Response) => Some(h),
                _ => None,
            })
            .collect()
    }
}

// === impl Comparison ===

impl Comparison {
    pub fn matches(&self, actual: u64) -> bool {
        match self.op {
            ComparisonOp::Ge => actual >= self.value,
            ComparisonOp::Eq => actual == self.value,
            ComparisonOp::Le => actual <= self.value,
        }
    }
}

// === impl LogFilter ===

impl LogFilter {
    /// Whether a request with this status, duration and response flag is
    /// logged.
    pub fn matches(&self, status: u16, duration_ms: u64, flag: Option<&str>) -> bool {
        match self {
            Self::StatusCode(c) => c.matches(u64::from(status)),
            Self::Duration(c) => c.matches(duration_ms),
            Self::NotHealthCheck => true,
            Self::ResponseFlags(flags) => {
                flag.is_some_and(|f| flags.is_empty() || flags.iter().any(|x| x == f))
            }
            Self::And(all) => all.iter().all(|f| f.matches(status, duration_ms, flag)),
            Self::Or(any) => any.iter().any(|f| f.matches(status, duration_ms, flag)),
        }
    }
}

// === impl JsonFormat ===

impl JsonFormat {
    /// Compiles a JSON object whose string values are format strings
    /// (nested objects allowed; numbers, booleans and null are written as
    /// they are). The error names the key (`a.b` for nested keys) and why.
    pub fn compile_fields(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<(String, JsonValue)>, (String, String)> {
        let mut fields = Vec::with_capacity(object.len());
        for (key, value) in object {
            let compiled = match value {
                serde_json::Value::String(s) => LogFormat::parse(s)
                    .map(JsonValue::Format)
                    .map_err(|e| (key.clone(), e.to_string()))?,
                serde_json::Value::Object(inner) => Self::compile_fields(inner)
                    .map(JsonValue::Object)
                    .map_err(|(k, e)| (format!("{key}.{k}"), e))?,
                serde_json::Value::Array(_) => {
                    return Err((key.clone(), "lists are not supported".into()));
                }
                other => JsonValue::Constant(other.clone()),
            };
            fields.push((key.clone(), compiled));
        }
        Ok(fields)
    }
}

/// Envoy's response flags by short name (for `response_flag_filter`).
pub const ENVOY_RESPONSE_FLAGS: &[&str] = &[
    "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC",
    "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DR",
];
