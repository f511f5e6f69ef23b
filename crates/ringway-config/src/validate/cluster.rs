//! Clusters and their endpoints, with host names resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use super::value::{self, EndpointAddress};
use super::{Ctx, http2};
use crate::defaults;
use crate::model::{Cluster, Endpoint, EurekaVip, LbPolicy, UpstreamProtocol};
use crate::resolve::Resolve;
use crate::wire;

/// At most this many cluster names are listed in an "unknown cluster" error.
const LIST_KNOWN_UP_TO: usize = 10;

/// The cluster names a route may refer to: every name written, valid or
/// not, so that one bad cluster does not also fail each route using it.
pub(super) struct Known<'a> {
    names: BTreeSet<&'a str>,
    /// With a control plane, other names are asked of it.
    dynamic: bool,
}

impl<'a> Known<'a> {
    pub(super) fn new(clusters: &'a [wire::Cluster], dynamic: bool) -> Self {
        Self {
            names: clusters.iter().map(|c| c.name.as_str()).collect(),
            dynamic,
        }
    }

    /// Whether the config has a control plane to ask for clusters.
    pub(super) fn dynamic(&self) -> bool {
        self.dynamic
    }

    /// Whether `name` is a cluster (or may come from the control plane);
    /// if not, says so against `field`.
    pub(super) fn check(&self, ctx: &mut Ctx<'_>, field: &str, name: &str) -> bool {
        if self.names.contains(name) {
            return true;
        }
        if self.dynamic {
            return ctx.check(field, value::name(name)).is_some();
        }
        let reason = match self.names.len() {
            0 => format!(
                "unknown cluster `{name}`: no clusters are defined (add one under `clusters:`)"
            ),
            n if n <= LIST_KNOWN_UP_TO => {
                let names: Vec<&str> = self.names.iter().copied().collect();
                format!("unknown cluster `{name}` (defined: {})", names.join(", "))
            }
            n => format!("unknown cluster `{name}` (none of the {n} clusters has that name)"),
        };
        ctx.error(field, reason);
        false
    }
}

/// All clusters, with unique names.
pub(super) fn clusters(
    ctx: &mut Ctx<'_>,
    clusters: &[wire::Cluster],
    resolver: &dyn Resolve,
) -> Option<Vec<Cluster>> {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Some(Vec::with_capacity(clusters.len()));
    for (i, wire) in clusters.iter().enumerate() {
        if let Some(first) = names.get(wire.name.as_str()) {
            ctx.error(
                format!("clusters[{i}].name"),
                format!("`{}` is already the name of clusters[{first}]", wire.name),
            );
            out = None;
        } else {
            names.insert(&wire.name, i);
        }
        match (
            cluster(ctx, &format!("clusters[{i}]"), wire, resolver),
            &mut out,
        ) {
            (Some(c), Some(all)) => all.push(c),
            _ => out = None,
        }
    }
    out
}

fn cluster(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::Cluster,
    resolver: &dyn Resolve,
) -> Option<Cluster> {
    let name = ctx.check(format!("{field}.name"), value::name(&wire.name));
    let lb_policy = match wire.lb_policy {
        None | Some(wire::LbPolicy::RoundRobin) => LbPolicy::RoundRobin,
        Some(wire::LbPolicy::LeastRequest) => LbPolicy::LeastRequest,
        Some(wire::LbPolicy::Random) => LbPolicy::Random,
    };
    let (endpoints, eureka) = match wire.kind {
        Some(wire::ClusterType::Eureka) => (Some(Vec::new()), eureka_vip(ctx, field, wire)),
        None | Some(wire::ClusterType::Static) => {
            for (key, given) in [("vip", wire.vip.is_some()), ("svip", wire.svip.is_some())] {
                if given {
                    ctx.error(
                        format!("{field}.{key}"),
                        "only applies to a cluster with `type: eureka`",
                    );
                }
            }
            (endpoints(ctx, field, &wire.endpoints, resolver), Some(None))
        }
    };
    let mut duration = |name: &str, v: &Option<wire::DurationText>, default| match v {
        Some(v) => ctx.check(format!("{field}.{name}"), value::positive_duration(v)),
        None => Some(default),
    };
    let connect_timeout = duration(
        "connect_timeout",
        &wire.connect_timeout,
        defaults::CONNECT_TIMEOUT,
    );
    let idle_timeout = duration(
        "idle_timeout",
        &wire.idle_timeout,
        defaults::CLUSTER_IDLE_TIMEOUT,
    );
    let protocol = match wire.protocol {
        None | Some(wire::UpstreamProtocol::Http1) => UpstreamProtocol::Http1,
        Some(wire::UpstreamProtocol::Http2) => UpstreamProtocol::Http2,
    };
    let http2 = http2::settings(ctx, &format!("{field}.http2"), wire.http2.as_ref());
    name?;
    Some(Cluster {
        name: wire.name.clone(),
        lb_policy,
        endpoints: endpoints?,
        connect_timeout: connect_timeout?,
        max_idle_per_endpoint: wire
            .max_idle_per_endpoint
            .unwrap_or(defaults::MAX_IDLE_PER_ENDPOINT),
        idle_timeout: idle_timeout?,
        protocol,
        http2: http2?,
        eureka: eureka?,
    })
}

/// The VIP of a `type: eureka` cluster: exactly one of `vip` and `svip`,
/// and no `endpoints` (they come from the registry).
fn eureka_vip(ctx: &mut Ctx<'_>, field: &str, wire: &wire::Cluster) -> Option<Option<EurekaVip>> {
    if !wire.endpoints.is_empty() {
        ctx.error(
            format!("{field}.endpoints"),
            "a `type: eureka` cluster takes its endpoints from the registry; remove them",
        );
        return None;
    }
    let (name, secure, key) = match (&wire.vip, &wire.svip) {
        (Some(vip), None) => (vip, false, "vip"),
        (None, Some(svip)) => (svip, true, "svip"),
        (Some(_), Some(_)) => {
            ctx.error(field, "give `vip` or `svip`, not both");
            return None;
        }
        (None, None) => {
            ctx.error(
                field,
                "a `type: eureka` cluster needs `vip` (or `svip`): the VIP whose UP instances it sends to",
            );
            return None;
        }
    };
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.contains(',') || trimmed.contains(char::is_whitespace) {
        ctx.error(
            format!("{field}.{key}"),
            format!("`{name}` is not a VIP: one name, like `orders` or `orders:8080`"),
        );
        return None;
    }
    Some(Some(EurekaVip {
        name: trimmed.to_owned(),
        secure,
    }))
}

/// `type: eureka` clusters need the top-level `eureka` block.
pub(super) fn check_eureka_block(ctx: &mut Ctx<'_>, clusters: &[wire::Cluster], has_block: bool) {
    if has_block {
        return;
    }
    if let Some(i) = clusters
        .iter()
        .position(|c| c.kind == Some(wire::ClusterType::Eureka))
    {
        ctx.error(
            format!("clusters[{i}].type"),
            "`eureka` needs the top-level `eureka:` block with the registry's `urls`",
        );
    }
}

/// The endpoints of one cluster; each address may appear once.
fn endpoints(
    ctx: &mut Ctx<'_>,
    cluster: &str,
    list: &[wire::EndpointText],
    resolver: &dyn Resolve,
) -> Option<Vec<Endpoint>> {
    if list.is_empty() {
        ctx.error(
            format!("{cluster}.endpoints"),
            "a cluster needs at least one endpoint",
        );
        return None;
    }
    let mut seen: BTreeMap<SocketAddr, usize> = BTreeMap::new();
    let mut out = Some(Vec::with_capacity(list.len()));
    for (i, wire) in list.iter().enumerate() {
        let at = format!("{cluster}.endpoints[{i}]");
        let address_field = if wire.mapping {
            format!("{at}.address")
        } else {
            at.clone()
        };
        let weight = match wire.weight {
            Some(0) => {
                ctx.error(format!("{at}.weight"), "must be at least 1");
                None
            }
            weight => Some(weight.unwrap_or(defaults::ENDPOINT_WEIGHT)),
        };
        let resolved = ctx
            .check(&address_field, value::endpoint_address(&wire.address))
            .and_then(|address| resolve(ctx, &address_field, address, resolver));
        let mut unique = resolved.is_some();
        for (address, _) in resolved.iter().flatten() {
            if let Some(first) = seen.get(address) {
                ctx.error(
                    &address_field,
                    format!("{address} is already endpoints[{first}]; give that one a higher weight instead"),
                );
                unique = false;
            } else {
                seen.insert(*address, i);
            }
        }
        match (weight, resolved, &mut out) {
            (Some(weight), Some(resolved), Some(all)) if unique => {
                all.extend(resolved.into_iter().map(|(address, hostname)| Endpoint {
                    address,
                    weight,
                    hostname,
                }));
            }
            _ => out = None,
        }
    }
    out
}

/// The addresses behind one endpoint, each with the name it came from.
fn resolve(
    ctx: &mut Ctx<'_>,
    field: &str,
    address: EndpointAddress,
    resolver: &dyn Resolve,
) -> Option<Vec<(SocketAddr, Option<String>)>> {
    let (host, port) = match address {
        EndpointAddress::Ip(address) => return Some(vec![(address, None)]),
        EndpointAddress::Host(host, port) => (host, port),
    };
    let addresses = match resolver.resolve(&host, port) {
        Ok(addresses) => addresses,
        Err(e) => {
            ctx.error(field, format!("cannot resolve `{host}`: {e}"));
            return None;
        }
    };
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(addresses.len());
    for address in addresses {
        if !unique.contains(&address) {
            unique.push(address);
        }
    }
    if unique.is_empty() {
        ctx.error(field, format!("`{host}` resolved to no address"));
        return None;
    }
    Some(
        unique
            .into_iter()
            .map(|a| (a, Some(host.clone())))
            .collect(),
    )
}
