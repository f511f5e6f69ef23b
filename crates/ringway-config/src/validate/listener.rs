//! Listeners, their limits and access logs, and their virtual hosts.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::access_log::access_log;
use super::cluster::Known;
use super::{Ctx, http2, route, value};
use crate::model::{
    Admin, CidrRange, InternalAddressConfig, Limits, Listener, ListenerProtocol, VirtualHost,
};
use crate::wire;

/// All listeners, with names and addresses checked across them.
pub(super) fn listeners(
    ctx: &mut Ctx<'_>,
    listeners: &[wire::Listener],
    clusters: &Known<'_>,
    dynamic_listeners: bool,
) -> Option<Vec<Listener>> {
    // With `xds.all_listeners`, the control plane may supply every one.
    if listeners.is_empty() && !dynamic_listeners {
        ctx.error(
            "listeners",
            "a config needs at least one listener (see configs/quickstart.yaml), or xds.all_listeners",
        );
        return None;
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Some(Vec::with_capacity(listeners.len()));
    for (i, wire) in listeners.iter().enumerate() {
        if let Some(first) = names.get(wire.name.as_str()) {
            ctx.error(
                format!("listeners[{i}].name"),
                format!("`{}` is already the name of listeners[{first}]", wire.name),
            );
        } else {
            names.insert(&wire.name, i);
        }
        let listener = listener(ctx, &format!("listeners[{i}]"), wire, clusters);
        match (listener, &mut out) {
            (Some(l), Some(all)) => all.push(l),
            _ => out = None,
        }
    }
    check_addresses(ctx, listeners);
    out
}

/// The admin server may not take a listener's address.
pub(super) fn check_admin_address(ctx: &mut Ctx<'_>, admin: &Admin, listeners: &[Listener]) {
    let Some(address) = admin.address else {
        return;
    };
    if let Some(l) = listeners.iter().find(|l| overlap(l.address, address)) {
        ctx.error(
            "admin.address",
            format!("{address} overlaps listener `{}` ({})", l.name, l.address),
        );
    }
}

fn listener(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::Listener,
    clusters: &Known<'_>,
) -> Option<Listener> {
    let name = ctx.check(format!("{field}.name"), value::name(&wire.name));
    let address = ctx.check(
        format!("{field}.address"),
        value::listen_address(&wire.address),
    );
    let limits = match &wire.limits {
        Some(limits) => self::limits(ctx, &format!("{field}.limits"), limits),
        None => Some(Limits::default()),
    };
    let access_logs = match &wire.access_log {
        Some(log) => access_log(ctx, &format!("{field}.access_log"), log).map(|l| vec![l]),
        None => Some(Vec::new()),
    };
    let virtual_hosts = virtual_hosts(ctx, field, &wire.virtual_hosts, clusters);
    let protocol = match wire.protocol {
        None | Some(wire::ListenerProtocol::Auto) => ListenerProtocol::Auto,
        Some(wire::ListenerProtocol::Http1) => ListenerProtocol::Http1,
        Some(wire::ListenerProtocol::Http2) => ListenerProtocol::Http2,
    };
    let http2 = http2::settings(ctx, &format!("{field}.http2"), wire.http2.as_ref());
    let internal_address_config = match &wire.internal_address_config {
        Some(config) => {
            internal_addresses(ctx, &format!("{field}.internal_address_config"), config).map(Some)
        }
        None => Some(None),
    };
    name?;
    let stat_prefix = match &wire.stat_prefix {
        Some(p) if p.is_empty() => {
            ctx.error(format!("{field}.stat_prefix"), "must not be empty");
            None
        }
        Some(p) => Some(p.clone()),
        None => Some(wire.name.clone()),
    };
    Some(Listener {
        name: wire.name.clone(),
        address: address?,
        stat_prefix: stat_prefix?,
        virtual_hosts: virtual_hosts?,
        rds: None,
        limits: limits?,
        access_logs: access_logs?,
        protocol,
        http2: http2?,
        // ringway has always appended the peer to `x-forwarded-for`.
        use_remote_address: wire.use_remote_address.unwrap_or(true),
        xff_num_trusted_hops: wire.xff_num_trusted_hops.unwrap_or(0),
        internal_address_config: internal_address_config?,
        suppress_envoy_headers: wire.suppress_envoy_headers.unwrap_or(false),
        generate_request_id: wire.generate_request_id.unwrap_or(true),
    })
}

fn internal_addresses(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::InternalAddressConfig,
) -> Option<InternalAddressConfig> {
    let mut ok = true;
    let mut cidr_ranges = Vec::with_capacity(wire.cidr_ranges.len());
    for (i, range) in wire.cidr_ranges.iter().enumerate() {
        let at = format!("{field}.cidr_ranges[{i}]");
        let Ok(address_prefix) = range.address_prefix.parse::<std::net::IpAddr>() else {
            ctx.error(
                format!("{at}.address_prefix"),
                format!("`{}` is not an IP address", range.address_prefix),
            );
            ok = false;
            continue;
        };
        let max = if address_prefix.is_ipv4() { 32 } else { 128 };
        let prefix_len = range.prefix_len.unwrap_or(0);
        if prefix_len > max {
            ctx.error(
                format!("{at}.prefix_len"),
                format!("{prefix_len} is longer than the address ({max} bits)"),
            );
            ok = false;
            continue;
        }
        cidr_ranges.push(CidrRange {
            address_prefix,
            prefix_len: prefix_len as u8,
        });
    }
    ok.then_some(InternalAddressConfig { cidr_ranges })
}

fn limits(ctx: &mut Ctx<'_>, field: &str, wire: &wire::Limits) -> Option<Limits> {
    let d = Limits::default();
    let mut count = |name: &str, v: Option<usize>, default: usize| match v {
        Some(0) => {
            ctx.error(format!("{field}.{name}"), "must be at least 1");
            None
        }
        v => Some(v.unwrap_or(default)),
    };
    let max_request_head_bytes = count(
        "max_request_head_bytes",
        wire.max_request_head_bytes,
        d.max_request_head_bytes,
    );
    let max_request_headers = count(
        "max_request_headers",
        wire.max_request_headers,
        d.max_request_headers,
    );
    let max_uri_bytes = count("max_uri_bytes", wire.max_uri_bytes, d.max_uri_bytes);
    let max_connections_per_worker = count(
        "max_connections_per_worker",
        wire.max_connections_per_worker,
        d.max_connections_per_worker,
    );
    let mut duration = |name: &str, v: &Option<wire::DurationText>, default| match v {
        Some(v) => ctx.check(format!("{field}.{name}"), value::positive_duration(v)),
        None => Some(default),
    };
    let request_head_timeout = duration(
        "request_head_timeout",
        &wire.request_head_timeout,
        d.request_head_timeout,
    );
    let idle_timeout = duration("idle_timeout", &wire.idle_timeout, d.idle_timeout);
    // `0s` turns these off, as in Envoy.
    let mut optional = |name: &str, v: &Option<wire::DurationText>, default| match v {
        Some(v) => ctx
            .check(format!("{field}.{name}"), value::duration(v))
            .map(|d| Some(d).filter(|d| !d.is_zero())),
        None => Some(default),
    };
    let stream_idle_timeout = optional(
        "stream_idle_timeout",
        &wire.stream_idle_timeout,
        d.stream_idle_timeout,
    );
    let request_timeout = optional("request_timeout", &wire.request_timeout, d.request_timeout);
    Some(Limits {
        max_request_head_bytes: max_request_head_bytes?,
        max_request_headers: max_request_headers?,
        max_uri_bytes: max_uri_bytes?,
        request_head_timeout: request_head_timeout?,
        idle_timeout: idle_timeout?,
        stream_idle_timeout: stream_idle_timeout?,
        request_timeout: request_timeout?,
        max_connections_per_worker: max_connections_per_worker?,
        max_request_body_bytes: wire.max_request_body_bytes,
    })
}

/// The virtual hosts of one listener (or route configuration: `listener`
/// is its field path); a domain may appear only once in it.
pub(super) fn virtual_hosts(
    ctx: &mut Ctx<'_>,
    listener: &str,
    hosts: &[wire::VirtualHost],
    clusters: &Known<'_>,
) -> Option<Vec<VirtualHost>> {
    if hosts.is_empty() {
        ctx.error(
            format!("{listener}.virtual_hosts"),
            "a listener needs at least one virtual host",
        );
        return None;
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    // Keyed by the lower-cased text, which is what the pattern was made from.
    let mut domains: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut out = Some(Vec::with_capacity(hosts.len()));
    for (i, wire) in hosts.iter().enumerate() {
        let field = format!("{listener}.virtual_hosts[{i}]");
        let name = ctx.check(format!("{field}.name"), value::name(&wire.name));
        if let Some(first) = names.get(wire.name.as_str()) {
            ctx.error(
                format!("{field}.name"),
                format!(
                    "`{}` is already the name of virtual_hosts[{first}]",
                    wire.name
                ),
            );
        } else {
            names.insert(&wire.name, i);
        }
        let mut patterns = Some(Vec::with_capacity(wire.domains.len()));
        if wire.domains.is_empty() {
            ctx.error(
                format!("{field}.domains"),
                "needs at least one domain (\"*\" matches any host)",
            );
            patterns = None;
        }
        for (j, text) in wire.domains.iter().enumerate() {
            let at = format!("{field}.domains[{j}]");
            let Some(pattern) = ctx.check(&at, value::domain(text)) else {
                patterns = None;
                continue;
            };
            let key = text.to_ascii_lowercase();
            if let Some((h, d)) = domains.get(&key) {
                ctx.error(
                    at,
                    format!("`{text}` is already listed at {listener}.virtual_hosts[{h}].domains[{d}]; a domain may appear only once per listener"),
                );
                patterns = None;
                continue;
            }
            domains.insert(key, (i, j));
            if let Some(p) = &mut patterns {
                p.push(pattern);
            }
        }
        let vhost_retry = wire
            .retry_policy
            .as_ref()
            .map(|p| super::retry::retry_policy(ctx, &format!("{field}.retry_policy"), p));
        let routes = route::routes(
            ctx,
            &field,
            &wire.routes,
            clusters,
            vhost_retry.as_ref().and_then(Option::as_ref),
        );
        let routes = routes.filter(|_| !matches!(vhost_retry, Some(None)));
        match (name, patterns, routes, &mut out) {
            (Some(()), Some(domains), Some(routes), Some(all)) => all.push(VirtualHost {
                name: wire.name.clone(),
                domains,
                routes,
            }),
            _ => out = None,
        }
    }
    out
}

/// Two listeners may not bind overlapping addresses (port 0 never clashes).
fn check_addresses(ctx: &mut Ctx<'_>, listeners: &[wire::Listener]) {
    let parsed: Vec<Option<SocketAddr>> = listeners
        .iter()
        .map(|l| value::listen_address(&l.address).ok())
        .collect();
    for (j, b) in parsed.iter().enumerate() {
        let Some(b) = *b else { continue };
        let clash = parsed[..j]
            .iter()
            .position(|a| a.is_some_and(|a| overlap(a, b)));
        if let Some(i) = clash {
            ctx.error(
                format!("listeners[{j}].address"),
                format!(
                    "{b} overlaps the address of listener `{}` ({})",
                    listeners[i].name, listeners[i].address
                ),
            );
        }
    }
}

/// Whether binding both addresses would clash: same port (not 0), same
/// family, and the same IP or either one unspecified.
fn overlap(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && a.is_ipv4() == b.is_ipv4()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}
