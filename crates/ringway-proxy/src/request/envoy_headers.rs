//! Envoy's rules for the `x-forwarded-*` and `x-envoy-*` request headers,
//! as pure decisions both codecs apply (sans-IO).
//!
//! From Envoy's connection manager (`conn_manager_utility.cc`,
//! `mutateRequestHeaders`): with `use_remote_address`, the peer is
//! appended to `x-forwarded-for`, the client address is the peer (or,
//! with `xff_num_trusted_hops` N > 0, the Nth address from the right of
//! the `x-forwarded-for` received, when valid), and a request is internal
//! when it came without `x-forwarded-for` from an internal address.
//! Without it, nothing is appended and a request is internal when its
//! `x-forwarded-for` (with no trusted hop to skip) holds a single, internal
//! address. `x-envoy-internal` is always dropped, then set to `true` for an
//! internal request; every other request loses the `x-envoy-*` controls
//! (`cleanInternalHeaders`), and an edge one (external, with
//! `use_remote_address`) gets `x-envoy-external-address`.
//!
//! From Envoy's router (`router.cc`, `finalTimeout`): a
//! `x-envoy-upstream-rq-timeout-ms` left after that is honoured (`0`: no
//! timeout) and removed, and unless `suppress_envoy_headers` the upstream
//! is told `x-envoy-expected-rq-timeout-ms` (the global timeout: ringway
//! has no per-try timeout) when there is one.

use std::net::IpAddr;
use std::time::Duration;

use ringway_config::defaults::ROUTE_TIMEOUT_OFF;
use ringway_config::model::Listener;

/// Who sent a request, as Envoy's connection manager decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trust {
    /// Sent `x-envoy-internal: true`; its `x-envoy-*` controls are kept.
    pub internal: bool,
    /// An external request on a listener that uses the remote address.
    pub edge: bool,
    /// `x-envoy-external-address`, for edge requests.
    pub external_address: Option<IpAddr>,
    /// `external_address` is the peer's.
    pub external_is_peer: bool,
}

/// The request headers Envoy has a rule for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvoyField {
    /// `x-envoy-internal`: always replaced.
    Internal,
    /// `x-envoy-upstream-rq-timeout-ms`: consumed.
    UpstreamRqTimeout,
    /// `x-envoy-upstream-rq-per-try-timeout-ms`: consumed.
    UpstreamRqPerTryTimeout,
    /// `x-envoy-expected-rq-timeout-ms`: replaced unless suppressed.
    ExpectedRqTimeout,
    /// `x-envoy-external-address`: replaced on edge requests.
    ExternalAddress,
    /// `x-envoy-original-path`: replaced when a rewrite applies.
    OriginalPath,
    /// Stripped from edge requests only.
    EdgeOnly,
    /// Kept on internal requests only.
    InternalOnly,
}

/// What happens to one request field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldAction {
    Keep,
    Drop,
    /// Dropped, its value read as the request's timeout.
    Timeout,
}

/// The `x-envoy-*` edits of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EnvoyEdits {
    pub trust: Trust,
    /// The listener's `suppress_envoy_headers`.
    pub suppress: bool,
    /// `x-envoy-original-path` goes up (a rewrite applied, not suppressed).
    pub original_path: bool,
}

const FIELDS: &[(&str, EnvoyField)] = &[
    ("internal", EnvoyField::Internal),
    ("upstream-rq-timeout-ms", EnvoyField::UpstreamRqTimeout),
    (
        "upstream-rq-per-try-timeout-ms",
        EnvoyField::UpstreamRqPerTryTimeout,
    ),
    ("expected-rq-timeout-ms", EnvoyField::ExpectedRqTimeout),
    ("external-address", EnvoyField::ExternalAddress),
    ("original-path", EnvoyField::OriginalPath),
    ("decorator-operation", EnvoyField::EdgeOnly),
    ("downstream-service-cluster", EnvoyField::EdgeOnly),
    ("downstream-service-node", EnvoyField::EdgeOnly),
    ("retriable-status-codes", EnvoyField::InternalOnly),
    ("retriable-header-names", EnvoyField::InternalOnly),
    ("retry-on", EnvoyField::InternalOnly),
    ("retry-grpc-on", EnvoyField::InternalOnly),
    ("max-retries", EnvoyField::InternalOnly),
    ("upstream-alt-stat-name", EnvoyField::InternalOnly),
    ("upstream-rq-timeout-alt-response", EnvoyField::InternalOnly),
    ("force-trace", EnvoyField::InternalOnly),
    ("ip-tags", EnvoyField::InternalOnly),
    ("original-url", EnvoyField::InternalOnly),
    ("hedge-on-per-try-timeout", EnvoyField::InternalOnly),
];

/// Whether [`trust`] reads `x-forwarded-for` on this listener: not in
/// ringway's default setup (remote address, no trusted hop, no internal
/// address), which then costs nothing.
pub(crate) fn needs_forwarded_for(listener: &Listener) -> bool {
    !listener.use_remote_address
        || listener.xff_num_trusted_hops > 0
        || listener.internal_address_config.is_some()
}

/// How a request from `peer` carrying `forwarded_for` (all its
/// `x-forwarded-for` values joined by `,`; only read when
/// [`needs_forwarded_for`]) is trusted.
pub(crate) fn trust(listener: &Listener, peer: IpAddr, forwarded_for: Option<&[u8]>) -> Trust {
    let is_internal = |ip| {
        listener
            .internal_address_config
            .as_ref()
            .is_some_and(|c| c.is_internal(ip))
    };
    let hops = listener.xff_num_trusted_hops;
    if listener.use_remote_address {
        let from_xff = match (hops, forwarded_for) {
            (1.., Some(xff)) => last_forwarded_address(xff, hops - 1).map(|(ip, _)| ip),
            _ => None,
        };
        let client = from_xff.unwrap_or(peer);
        let internal = forwarded_for.is_none() && is_internal(client);
        Trust {
            internal,
            edge: !internal,
            external_address: (!internal).then_some(client),
            external_is_peer: !internal && from_xff.is_none(),
        }
    } else {
        let found = forwarded_for.and_then(|xff| last_forwarded_address(xff, hops));
        Trust {
            internal: found.is_some_and(|(ip, single)| single && is_internal(ip)),
            edge: false,
            external_address: None,
            external_is_peer: false,
        }
    }
}

/// The address `skip` entries from the right of an `x-forwarded-for`
/// value, and whether it is the value's only entry; `None` when there are
/// too few entries or that one is not an IP address.
pub(crate) fn last_forwarded_address(xff: &[u8], skip: u32) -> Option<(IpAddr, bool)> {
    let mut rest = xff;
    for _ in 0..skip {
        rest = &rest[..rest.iter().rposition(|&b| b == b',')?];
    }
    let (entry, single) = match rest.iter().rposition(|&b| b == b',') {
        Some(comma) => (&rest[comma + 1..], false),
        None => (rest, skip == 0),
    };
    let ip = std::str::from_utf8(entry.trim_ascii()).ok()?.parse().ok()?;
    Some((ip, single))
}

/// The rule for a request field called `name`, if Envoy has one.
pub(crate) fn envoy_field(name: &[u8]) -> Option<EnvoyField> {
    const PREFIX: &[u8] = b"x-envoy-";
    if name.len() <= PREFIX.len() || !name[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let rest = &name[PREFIX.len()..];
    FIELDS
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(rest))
        .map(|(_, f)| *f)
}

/// The request's timeout: the route's, or a honoured
/// `x-envoy-upstream-rq-timeout-ms` (`0`: none; not a number: ignored).
pub(crate) fn upstream_timeout(route: Duration, header: Option<&[u8]>) -> Duration {
    let Some(ms) = header.and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok())
    else {
        return route;
    };
    if ms == 0 {
        ROUTE_TIMEOUT_OFF
    } else {
        Duration::from_millis(ms).min(ROUTE_TIMEOUT_OFF)
    }
}

/// `x-envoy-expected-rq-timeout-ms` for `timeout`: none when it is off
/// (or under a millisecond, which Envoy would write as 0, "no timeout").
pub(crate) fn expected_timeout_ms(timeout: Duration) -> Option<u64> {
    let ms = u64::try_from(timeout.as_millis()).ok()?;
    (timeout < ROUTE_TIMEOUT_OFF && ms > 0).then_some(ms)
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

// === impl EnvoyEdits ===

impl EnvoyEdits {
    /// What happens to a request field Envoy has a rule for.
    pub(crate) fn action(&self, field: EnvoyField) -> FieldAction {
        let Trust { internal, edge, .. } = self.trust;
        let keep_if = |keep: bool| {
            if keep {
                FieldAction::Keep
            } else {
                FieldAction::Drop
            }
        };
        match field {
            EnvoyField::Internal | EnvoyField::UpstreamRqPerTryTimeout => FieldAction::Drop,
            EnvoyField::UpstreamRqTimeout if internal => FieldAction::Timeout,
            EnvoyField::UpstreamRqTimeout => FieldAction::Drop,
            EnvoyField::ExpectedRqTimeout => keep_if(internal && self.suppress),
            EnvoyField::ExternalAddress => keep_if(!edge),
            EnvoyField::OriginalPath => keep_if(!self.original_path),
            EnvoyField::EdgeOnly => keep_if(!edge),
            EnvoyField::InternalOnly => keep_if(internal),
        }
    }

    /// `x-envoy-expected-rq-timeout-ms` for a request whose timeout is
    /// `timeout`, unless suppressed.
    pub(crate) fn expected_timeout_ms(&self, timeout: Duration) -> Option<u64> {
        if self.suppress {
            return None;
        }
        expected_timeout_ms(timeout)
    }
}

#[cfg(test)]
mod tests;
