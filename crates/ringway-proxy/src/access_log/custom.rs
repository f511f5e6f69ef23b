//! Envoy format strings and dictionaries, interpreted from their compiled
//! pieces for each entry. Absent values are `-` (or nothing with
//! `omit_empty_values`); in typed JSON a value that is exactly one
//! numeric operator is a number, and an absent one is `null`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use ringway_config::model::log_format::{HeaderRef, LogFormat, Operator, Piece, TimeFormat};
use ringway_config::model::{HeaderSource, JsonFormat, JsonValue, TextFormat};

use super::capture::{Needs, REQUEST_FIXED};
use super::default::push_json_string;
use super::{Entry, time};

/// One operator's value for one entry.
enum Value<'a> {
    Absent,
    Str(&'a str),
    Num(u64),
    Addr(SocketAddr),
    Ip(IpAddr),
    Time(&'a TimeFormat),
}

thread_local! {
    /// A JSON value's text before it is escaped; reused.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(super) fn text(out: &mut String, t: &TextFormat, e: &Entry<'_>, needs: &Needs) {
    render(out, &t.format, e, needs, t.omit_empty_values);
}

pub(super) fn json(out: &mut String, j: &JsonFormat, e: &Entry<'_>, needs: &Needs) {
    SCRATCH.with_borrow_mut(|scratch| object(out, &j.fields, j, e, needs, scratch));
    out.push('\n');
}

fn object(
    out: &mut String,
    fields: &[(String, JsonValue)],
    j: &JsonFormat,
    e: &Entry<'_>,
    needs: &Needs,
    scratch: &mut String,
) {
    out.push('{');
    let mut first = true;
    for (key, value) in fields {
        let mark = out.len();
        if !first {
            out.push(',');
        }
        push_json_string(out, key);
        out.push(':');
        let written = match value {
            JsonValue::Constant(v) => {
                let _ = write!(out, "{v}");
                true
            }
            JsonValue::Object(inner) => {
                object(out, inner, j, e, needs, scratch);
                true
            }
            JsonValue::Format(f) => json_value(out, f, j, e, needs, scratch),
        };
        if written {
            first = false;
        } else {
            out.truncate(mark);
        }
    }
    out.push('}');
}

/// Writes one format's value; `false` when it is left out (empty, with
/// `omit_empty_values`).
fn json_value(
    out: &mut String,
    f: &LogFormat,
    j: &JsonFormat,
    e: &Entry<'_>,
    needs: &Needs,
    scratch: &mut String,
) -> bool {
    scratch.clear();
    if j.typed
        && let Some(op) = f.single_operator()
    {
        match value(op, e, needs) {
            Value::Absent if j.omit_empty_values => return false,
            Value::Absent => out.push_str("null"),
            Value::Num(n) if op.is_numeric() => {
                let _ = write!(out, "{n}");
            }
            v => {
                write_value(scratch, v, e);
                push_json_string(out, scratch);
            }
        }
        return true;
    }
    render(scratch, f, e, needs, j.omit_empty_values);
    if scratch.is_empty() && j.omit_empty_values {
        return false;
    }
    push_json_string(out, scratch);
    true
}

fn render(out: &mut String, f: &LogFormat, e: &Entry<'_>, needs: &Needs, omit_empty: bool) {
    for piece in f.pieces() {
        match piece {
            Piece::Text(s) => out.push_str(s),
            Piece::Op { op, max_len } => {
                let start = out.len();
                match value(op, e, needs) {
                    Value::Absent if omit_empty => {}
                    Value::Absent => out.push('-'),
                    v => write_value(out, v, e),
                }
                if let Some(max) = max_len {
                    truncate(out, start + max);
                }
            }
        }
    }
}

fn write_value(out: &mut String, v: Value<'_>, e: &Entry<'_>) {
    let _ = match v {
        Value::Absent => Ok(()),
        Value::Str(s) => {
            out.push_str(s);
            Ok(())
        }
        Value::Num(n) => write!(out, "{n}"),
        Value::Addr(a) => write!(out, "{a}"),
        Value::Ip(ip) => write!(out, "{ip}"),
        Value::Time(format) => {
            time::write(out, format, e.start);
            Ok(())
        }
    };
}

/// Cuts `out` to `len` bytes, on a character boundary.
fn truncate(out: &mut String, mut len: usize) {
    if len >= out.len() {
        return;
    }
    while !out.is_char_boundary(len) {
        len -= 1;
    }
    out.truncate(len);
}

fn value<'a>(op: &'a Operator, e: &Entry<'a>, needs: &'a Needs) -> Value<'a> {
    let ms = |d: Duration| Value::Num(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let local = e.line.conn.and_then(|c| c.local);
    match op {
        Operator::StartTime(format) => Value::Time(format),
        Operator::RequestHeader(h) => header(e, needs, HeaderSource::Request, h),
        Operator::ResponseHeader(h) => header(e, needs, HeaderSource::Response, h),
        Operator::Protocol => present(e.line.protocol),
        Operator::ResponseCode => Value::Num(u64::from(e.status)),
        Operator::ResponseFlags => present(e.flags),
        Operator::ResponseFlagsLong => present(long_flag(e.flags)),
        Operator::BytesReceived => Value::Num(e.bytes_received),
        Operator::BytesSent => Value::Num(e.bytes_sent),
        Operator::Duration => ms(e.duration),
        Operator::UpstreamHost => present(e.upstream_host),
        Operator::UpstreamCluster => present(e.line.cluster),
        // No TLS upstream yet: no transport failure; no SNI downstream.
        Operator::UpstreamTransportFailureReason
        | Operator::RequestedServerName
        | Operator::RouteName => Value::Absent,
        Operator::DownstreamRemoteAddress | Operator::DownstreamDirectRemoteAddress => {
            e.line.conn.map_or(Value::Absent, |c| Value::Addr(c.peer))
        }
        Operator::DownstreamRemoteAddressWithoutPort
        | Operator::DownstreamDirectRemoteAddressWithoutPort => e
            .line
            .conn
            .map_or(Value::Absent, |c| Value::Ip(c.peer.ip())),
        Operator::DownstreamLocalAddress => local.map_or(Value::Absent, Value::Addr),
        Operator::DownstreamLocalAddressWithoutPort => {
            local.map_or(Value::Absent, |a| Value::Ip(a.ip()))
        }
        Operator::Hostname => present(hostname()),
        Operator::ConnectionId => e.line.conn.map_or(Value::Absent, |c| Value::Num(c.id)),
    }
}

/// `-` and empty strings are absent.
fn present(s: &str) -> Value<'_> {
    if s.is_empty() || s == "-" {
        Value::Absent
    } else {
        Value::Str(s)
    }
}

fn header<'a>(e: &Entry<'a>, needs: &'a Needs, source: HeaderSource, h: &HeaderRef) -> Value<'a> {
    match one(e, needs, source, &h.name) {
        Value::Absent => match &h.alternative {
            Some(alt) => one(e, needs, source, alt),
            None => Value::Absent,
        },
        found => found,
    }
}

fn one<'a>(e: &Entry<'a>, needs: &'a Needs, source: HeaderSource, name: &str) -> Value<'a> {
    if source == HeaderSource::Request && REQUEST_FIXED.contains(&name) {
        return present(match name {
            ":method" => e.line.method,
            ":path" => e.line.path,
            ":authority" | "host" => e.line.authority,
            ":scheme" => "http",
            "user-agent" => e.line.user_agent,
            "x-forwarded-for" => e.line.forwarded_for,
            _ => e.line.request_id,
        });
    }
    if source == HeaderSource::Response && name == "x-envoy-upstream-service-time" {
        return e.upstream_service_time.map_or(Value::Absent, |t| {
            Value::Num(u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
        });
    }
    e.line
        .captured
        .and_then(|c| c.get(needs, source, name))
        .map_or(Value::Absent, present)
}

/// Envoy's long names of the response flags ringway sets.
fn long_flag(code: &str) -> &str {
    match code {
        "NR" => "NoRouteFound",
        "UF" => "UpstreamConnectionFailure",
        "UH" => "NoHealthyUpstream",
        "UT" => "UpstreamRequestTimeout",
        "UC" => "UpstreamConnectionTermination",
        "DC" => "DownstreamConnectionTermination",
        "LR" => "LocalReset",
        "UR" => "UpstreamRemoteReset",
        "DR" => "DownstreamRemoteReset",
        "NC" => "NoClusterFound",
        other => other,
    }
}

/// The machine's host name, read once.
fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests;
