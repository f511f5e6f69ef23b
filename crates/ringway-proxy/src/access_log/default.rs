//! The two fixed formats: Envoy's default line and ringway's JSON object,
//! written directly (no format string is interpreted for them).

use std::fmt::Write as _;
use std::time::SystemTime;

use super::Entry;

/// Envoy's default format:
/// `[START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS RX TX DURATION UPSTREAM_TIME "XFF" "UA" "ID" "AUTHORITY" "UPSTREAM_HOST"`
pub(super) fn format_text(out: &mut String, e: &Entry<'_>) {
    out.push('[');
    push_time(out, e.start);
    let _ = write!(
        out,
        "] \"{} {} {}\" {} {} {} {} {} ",
        e.line.method,
        e.line.path,
        e.line.protocol,
        e.status,
        e.flags,
        e.bytes_received,
        e.bytes_sent,
        e.duration.as_millis()
    );
    match e.upstream_service_time {
        Some(t) => {
            let _ = write!(out, "{}", t.as_millis());
        }
        None => out.push('-'),
    }
    let _ = writeln!(
        out,
        " \"{}\" \"{}\" \"{}\" \"{}\" \"{}\"",
        e.line.forwarded_for,
        e.line.user_agent,
        e.line.request_id,
        e.line.authority,
        e.upstream_host
    );
}

pub(super) fn format_json(out: &mut String, e: &Entry<'_>) {
    out.push_str("{\"start_time\":\"");
    push_time(out, e.start);
    out.push('"');
    for (key, value) in [
        ("method", e.line.method),
        ("path", e.line.path),
        ("protocol", e.line.protocol),
        ("response_flags", e.flags),
        ("x_forwarded_for", e.line.forwarded_for),
        ("user_agent", e.line.user_agent),
        ("request_id", e.line.request_id),
        ("authority", e.line.authority),
        ("upstream_host", e.upstream_host),
    ] {
        let _ = write!(out, ",\"{key}\":");
        push_json_string(out, value);
    }
    let _ = write!(
        out,
        ",\"response_code\":{},\"bytes_received\":{},\"bytes_sent\":{},\"duration\":{}",
        e.status,
        e.bytes_received,
        e.bytes_sent,
        e.duration.as_millis()
    );
    if let Some(t) = e.upstream_service_time {
        let _ = write!(out, ",\"upstream_service_time\":{}", t.as_millis());
    }
    out.push_str("}\n");
}

pub(super) fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T16:07:18.123Z`.
fn push_time(out: &mut String, t: SystemTime) {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        since.subsec_millis()
    );
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's published algorithm).
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry<'static> {
        crate::access_log::example_entry()
    }

    #[test]
    fn text_line_has_envoy_shape() {
        let mut out = String::new();
        format_text(&mut out, &entry());
        assert_eq!(
            out,
            "[2026-11-22T16:07:18.123Z] \"GET /a\"b HTTP/1.1\" 503 UF 0 19 3 - \"-\" \"curl/8\" \"abc\" \"x\" \"127.0.0.1:1\"\n"
        );
    }

    #[test]
    fn json_line_escapes() {
        let mut out = String::new();
        format_json(&mut out, &entry());
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_default();
        assert_eq!(v["path"], "/a\"b");
        assert_eq!(v["response_code"], 503);
        assert_eq!(v["start_time"], "2026-11-22T16:07:18.123Z");
    }

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
