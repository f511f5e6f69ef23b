//! Checks and conversions of single values: addresses, durations, names,
//! domains, CPU lists, regexes.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::model::{DomainPattern, Pattern};
use crate::wire::{CpuSetText, DurationText};

/// The highest CPU number accepted (Linux's own limit is 8192 CPUs).
const MAX_CPU: u64 = 8191;

/// Why a single value is wrong. The text is quoted back to the user.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("`{0}` has no unit: write it like \"{0}s\" or \"{0}ms\"")]
    DurationUnit(String),
    #[error("`{text}` is not a duration like \"5s\", \"250ms\" or \"1m\" ({reason})")]
    Duration {
        text: String,
        reason: humantime::DurationError,
    },
    #[error("must be greater than zero")]
    Zero,
    #[error("must not be empty")]
    Empty,
    #[error("`{0}` is not an IP:port address like 127.0.0.1:10000 or [::1]:10000")]
    ListenAddress(String),
    #[error("`{0}` has no port: write it like 127.0.0.1:10000")]
    MissingPort(String),
    #[error(
        "`{0}` names a host; listening addresses must be IP addresses (like 127.0.0.1:10000 or 0.0.0.0:10000)"
    )]
    ListenHostname(String),
    #[error("`{text}` is not a CPU list like \"0-3,6\": {reason}")]
    CpuList { text: String, reason: &'static str },
    #[error("CPU {0} is listed more than once")]
    CpuTwice(u64),
    #[error("CPU {0} is beyond any Linux CPU number (at most {MAX_CPU})")]
    CpuTooLarge(u64),
    #[error("must list at least one CPU")]
    NoCpus,
    #[error("`{0}` may only use letters, digits, `_`, `.` and `-`")]
    NameChars(String),
    #[error("`{0}`: {1}")]
    Domain(String, &'static str),
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
    #[error("`{0}` is not a valid HTTP method name")]
    Method(String),
    #[error("`{0}` must start with `/`")]
    PathStart(String),
    #[error("`{0}` must not contain spaces or control characters")]
    PathChars(String),
    #[error("`{0}` is not a host or host:port like example.com or example.com:8080")]
    Authority(String),
    #[error("`{0}` is not an endpoint like 10.0.0.1:8080, [::1]:8080 or backend.local:8080")]
    Endpoint(String),
    #[error("`{0}` has no port: write it like 10.0.0.1:8080")]
    EndpointPort(String),
    #[error("`{0}`: port 0 cannot be connected to")]
    PortZero(String),
    #[error("`{0}`: the unspecified address (0.0.0.0 or [::]) cannot be connected to")]
    Unspecified(String),
    #[error("`{0}`: an IPv6 address needs brackets and a port, like [::1]:8080")]
    Ipv6Brackets(String),
    #[error("`{text}` is not a valid regex: {reason}")]
    Regex { text: String, reason: String },
}

/// An endpoint as written: an address, or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndpointAddress {
    Ip(SocketAddr),
    /// Lower-cased host name and port.
    Host(String, u16),
}

/// A duration greater than zero.
pub(crate) fn positive_duration(text: &DurationText) -> Result<Duration, ValueError> {
    let duration = duration(text)?;
    if duration.is_zero() {
        return Err(ValueError::Zero);
    }
    Ok(duration)
}

/// A duration, zero allowed.
pub(crate) fn duration(text: &DurationText) -> Result<Duration, ValueError> {
    let text = match text {
        DurationText::Bare(number) => return Err(ValueError::DurationUnit(number.clone())),
        DurationText::Text(text) => text.trim(),
    };
    if text.parse::<f64>().is_ok() {
        return Err(ValueError::DurationUnit(text.to_owned()));
    }
    humantime::parse_duration(text).map_err(|reason| ValueError::Duration {
        text: text.to_owned(),
        reason,
    })
}

/// An address to listen on: an IP literal and a port (0 picks a free one).
pub(crate) fn listen_address(text: &str) -> Result<SocketAddr, ValueError> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    if text.parse::<Ipv6Addr>().is_ok() {
        return Err(ValueError::Ipv6Brackets(text.to_owned()));
    }
    if text.parse::<IpAddr>().is_ok() || !text.contains(':') {
        return Err(ValueError::MissingPort(text.to_owned()));
    }
    match text.rsplit_once(':') {
        Some((host, _))
            if !host.is_empty() && is_host_name(host) && host.parse::<IpAddr>().is_err() =>
        {
            Err(ValueError::ListenHostname(text.to_owned()))
        }
        _ => Err(ValueError::ListenAddress(text.to_owned())),
    }
}

/// An upstream address: `IP:port`, `[v6]:port` or `host:port`.
pub(crate) fn endpoint_address(text: &str) -> Result<EndpointAddress, ValueError> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        if address.port() == 0 {
            return Err(ValueError::PortZero(text.to_owned()));
        }
        if address.ip().is_unspecified() {
            return Err(ValueError::Unspecified(text.to_owned()));
        }
        return Ok(EndpointAddress::Ip(address));
    }
    if text.parse::<Ipv6Addr>().is_ok() {
        return Err(ValueError::Ipv6Brackets(text.to_owned()));
    }
    if text.parse::<IpAddr>().is_ok() {
        return Err(ValueError::EndpointPort(text.to_owned()));
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(ValueError::EndpointPort(text.to_owned()));
    };
    if host.contains(':') && !host.starts_with('[') {
        return Err(ValueError::Ipv6Brackets(text.to_owned()));
    }
    let port = port
        .parse::<u16>()
        .map_err(|_| ValueError::Endpoint(text.to_owned()))?;
    if host.is_empty() || !is_host_name(host) || host.parse::<IpAddr>().is_ok() {
        return Err(ValueError::Endpoint(text.to_owned()));
    }
    if port == 0 {
        return Err(ValueError::PortZero(text.to_owned()));
    }
    Ok(EndpointAddress::Host(host.to_ascii_lowercase(), port))
}

/// A listener, virtual host or cluster name.
pub fn name(text: &str) -> Result<(), ValueError> {
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    let ok = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ValueError::NameChars(text.to_owned()))
    }
}

/// A `domains` entry, lower-cased.
pub fn domain(text: &str) -> Result<DomainPattern, ValueError> {
    let bad = |why| Err(ValueError::Domain(text.to_owned(), why));
    let lower = text.to_ascii_lowercase();
    if lower.is_empty() {
        return Err(ValueError::Empty);
    }
    if lower == "*" {
        return Ok(DomainPattern::Any);
    }
    let (make, rest): (fn(String) -> DomainPattern, &str) =
        if let Some(rest) = lower.strip_prefix('*') {
            (DomainPattern::Suffix, rest)
        } else if let Some(rest) = lower.strip_suffix('*') {
            (DomainPattern::Prefix, rest)
        } else {
            (DomainPattern::Exact, &lower)
        };
    if rest.contains('*') {
        return bad("a wildcard `*` may only be the first or the last character");
    }
    if rest == lower && rest.starts_with('[') {
        let ip = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
        return match ip.map(str::parse::<Ipv6Addr>) {
            Some(Ok(_)) => Ok(DomainPattern::Exact(lower.clone())),
            _ => bad("not a bracketed IPv6 address like [::1] (leave the port out)"),
        };
    }
    if rest.contains(':') {
        return bad("domains match the Host header with its port removed: leave the port out");
    }
    if !rest.is_ascii() {
        return bad("write an international name in its ASCII (xn--) form");
    }
    if !is_host_name(rest) {
        return bad("a domain may only use letters, digits, `-`, `.` and `_`");
    }
    Ok(make(rest.to_owned()))
}

/// A header name, lower-cased.
pub fn header_name(text: &str) -> Result<String, ValueError> {
    if !text.is_empty() && text.bytes().all(is_token_byte) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(ValueError::HeaderName(text.to_owned()))
    }
}

/// A method name, upper-cased.
pub(crate) fn method(text: &str) -> Result<String, ValueError> {
    if !text.is_empty() && text.bytes().all(is_token_byte) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(ValueError::Method(text.to_owned()))
    }
}

/// A path as it appears in a request-target: `/` first, nothing blank.
pub fn url_path(text: &str) -> Result<(), ValueError> {
    if !text.starts_with('/') {
        return Err(ValueError::PathStart(text.to_owned()));
    }
    if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(ValueError::PathChars(text.to_owned()));
    }
    Ok(())
}

/// A `Host` value: a name or bracketed IPv6 address, with an optional port.
pub fn authority(text: &str) -> Result<(), ValueError> {
    let bad = || ValueError::Authority(text.to_owned());
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
        ip.parse::<Ipv6Addr>().map_err(|_| bad())?;
        match after {
            "" => return Ok(()),
            after => (None, after.strip_prefix(':').ok_or_else(bad)?),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (Some(host), port),
            None => (Some(text), "1"),
        }
    };
    let host_ok = host.is_none_or(|h| !h.is_empty() && is_host_name(h));
    if host_ok && port.parse::<u16>().is_ok() {
        Ok(())
    } else {
        Err(bad())
    }
}

/// A regex, anchored to match the whole input.
pub fn pattern(text: &str) -> Result<Pattern, ValueError> {
    Pattern::new(text).map_err(|e| ValueError::Regex {
        text: text.to_owned(),
        reason: regex_reason(&e),
    })
}

/// `cpu_set` as a list of CPU numbers, in the order written.
pub(crate) fn cpu_set(cpus: &CpuSetText) -> Result<Vec<usize>, ValueError> {
    let numbers = match cpus {
        CpuSetText::List(list) => list.clone(),
        CpuSetText::Text(text) => cpu_list(text)?,
    };
    if numbers.is_empty() {
        return Err(ValueError::NoCpus);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(numbers.len());
    for cpu in numbers {
        if cpu > MAX_CPU {
            return Err(ValueError::CpuTooLarge(cpu));
        }
        if !seen.insert(cpu) {
            return Err(ValueError::CpuTwice(cpu));
        }
        out.push(usize::try_from(cpu).map_err(|_| ValueError::CpuTooLarge(cpu))?);
    }
    Ok(out)
}

/// Parses a Linux CPU list like `0-3,6,8-9`.
fn cpu_list(text: &str) -> Result<Vec<u64>, ValueError> {
    let bad = |reason| ValueError::CpuList {
        text: text.to_owned(),
        reason,
    };
    let mut cpus = Vec::new();
    if text.trim().is_empty() {
        return Ok(cpus);
    }
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad("each entry is a CPU number or a range like 2-5"))
        };
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if first > last {
            return Err(bad("a range must go upwards, like 2-5"));
        }
        if last > MAX_CPU {
            return Err(ValueError::CpuTooLarge(last));
        }
        cpus.extend(first..=last);
    }
    Ok(cpus)
}

fn is_host_name(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The one-line gist of a regex error (its full text draws a caret
/// diagram over several lines).
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let gist = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map(str::to_owned);
    gist.unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
