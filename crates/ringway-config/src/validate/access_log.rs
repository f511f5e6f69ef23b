//! A listener's `access_log`: its file, its format (Envoy's default line,
//! ringway's JSON, or an Envoy format string or dictionary) and filter.

use std::path::PathBuf;

use super::Ctx;
use crate::defaults;
use crate::model::log_format::LogFormat;
use crate::model::{
    AccessLog, AccessLogFormat, Comparison, ComparisonOp, ENVOY_RESPONSE_FLAGS, JsonFormat,
    LogFilter, TextFormat,
};
use crate::wire;

pub(super) fn access_log(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::AccessLog,
) -> Option<AccessLog> {
    let path = wire.path.as_deref().unwrap_or(defaults::ACCESS_LOG_PATH);
    if path.trim().is_empty() {
        ctx.error(
            format!("{field}.path"),
            "must not be empty (leave it out for /dev/stdout)",
        );
        return None;
    }
    let format = format(ctx, field, wire)?;
    let filter = match &wire.filter {
        Some(f) => Some(filter(ctx, &format!("{field}.filter"), f)?),
        None => None,
    };
    Some(AccessLog {
        path: PathBuf::from(path),
        format,
        filter,
    })
}

fn format(ctx: &mut Ctx<'_>, field: &str, wire: &wire::AccessLog) -> Option<AccessLogFormat> {
    let omit_empty_values = wire.omit_empty_values.unwrap_or(false);
    match (wire.format, &wire.text_format, &wire.json_format) {
        (_, Some(_), Some(_)) => {
            ctx.error(
                format!("{field}.json_format"),
                "only one of text_format and json_format may be given",
            );
            None
        }
        (Some(wire::AccessLogFormat::Json), Some(_), None) => {
            ctx.error(
                format!("{field}.text_format"),
                "is a text format; it cannot be given with `format: json`",
            );
            None
        }
        (Some(wire::AccessLogFormat::Text), None, Some(_)) => {
            ctx.error(
                format!("{field}.json_format"),
                "is a JSON format; it cannot be given with `format: text`",
            );
            None
        }
        (_, Some(text), None) => {
            let format = ctx.check(format!("{field}.text_format"), LogFormat::parse(text))?;
            Some(AccessLogFormat::TextFormat(TextFormat {
                format,
                omit_empty_values,
            }))
        }
        (_, None, Some(object)) => match JsonFormat::compile_fields(object) {
            Ok(fields) => Some(AccessLogFormat::JsonFormat(JsonFormat {
                fields,
                typed: true,
                omit_empty_values,
            })),
            Err((key, reason)) => {
                ctx.error(format!("{field}.json_format.{key}"), reason);
                None
            }
        },
        (None | Some(wire::AccessLogFormat::Text), None, None) => Some(AccessLogFormat::Text),
        (Some(wire::AccessLogFormat::Json), None, None) => Some(AccessLogFormat::Json),
    }
}

fn filter(ctx: &mut Ctx<'_>, field: &str, wire: &wire::AccessLogFilter) -> Option<LogFilter> {
    let comparison = |c: &wire::Comparison| Comparison {
        op: match c.op {
            wire::ComparisonOp::Ge => ComparisonOp::Ge,
            wire::ComparisonOp::Eq => ComparisonOp::Eq,
            wire::ComparisonOp::Le => ComparisonOp::Le,
        },
        value: c.value,
    };
    let mut all = Vec::new();
    if let Some(c) = &wire.status_code {
        all.push(LogFilter::StatusCode(comparison(c)));
    }
    if let Some(c) = &wire.duration_ms {
        all.push(LogFilter::Duration(comparison(c)));
    }
    if let Some(flags) = &wire.response_flags {
        if let Some((i, bad)) =
            (flags.iter().enumerate()).find(|(_, f)| !ENVOY_RESPONSE_FLAGS.contains(&f.as_str()))
        {
            ctx.error(
                format!("{field}.response_flags[{i}]"),
                format!("`{bad}` is not one of Envoy's response flags"),
            );
            return None;
        }
        all.push(LogFilter::ResponseFlags(flags.clone()));
    }
    Some(match all.len() {
        1 => all.remove(0),
        _ => LogFilter::And(all),
    })
}
