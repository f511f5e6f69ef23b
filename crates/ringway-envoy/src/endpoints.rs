//! ClusterLoadAssignment → the endpoints of one cluster.
//!
//! Priorities: traffic goes to the lowest priority that has an endpoint in
//! rotation, which is where Envoy sends all of it while that priority is
//! healthy (without health checking, every endpoint in rotation is).
//! Locality weights, with `locality_weighted_lb_config`, become endpoint
//! weights that give each locality its share.

use std::net::{IpAddr, SocketAddr};

use envoy_types::pb::envoy::config::cluster::v3::cluster::DnsLookupFamily;
use envoy_types::pb::envoy::config::core::v3::{HealthStatus, address, socket_address};
use envoy_types::pb::envoy::config::endpoint::v3::{ClusterLoadAssignment, lb_endpoint};
use ringway_config::defaults;
use ringway_config::model::Endpoint;

use crate::Rejected;
use crate::cluster::Names;

const KIND: &str = "ClusterLoadAssignment";

/// The weight a locality with all the traffic gives its endpoints; shares
/// are scaled to this, so splits are exact to 1/10,000.
const LOCALITY_SCALE: f64 = 10_000.0;

/// How an assignment's endpoints are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EndpointOptions<'a> {
    pub locality_weighted: bool,
    pub names: Names<'a>,
    pub family: DnsLookupFamily,
    /// `LOGICAL_DNS`: a name stands for its first address only.
    pub first_address_only: bool,
}

/// The endpoints an assignment received over xDS lists (IP addresses
/// only), without those whose health status takes them out of rotation
/// (`UNHEALTHY`, `DRAINING`, `TIMEOUT`). An address may appear once.
pub fn endpoints(
    cla: &ClusterLoadAssignment,
    locality_weighted: bool,
) -> Result<Vec<Endpoint>, Rejected> {
    Rejected::check(KIND, &cla.cluster_name, cla)?;
    endpoints_with(
        cla,
        &EndpointOptions {
            locality_weighted,
            names: Names::Refuse,
            family: DnsLookupFamily::Auto,
            first_address_only: false,
        },
    )
}

/// An assignment received over xDS, read both ways: a cluster picks the
/// one its `locality_weighted_lb_config` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Endpoint weights as listed.
    pub plain: Vec<Endpoint>,
    /// Endpoint weights scaled by their locality's share.
    pub locality_weighted: Vec<Endpoint>,
}

impl Assignment {
    /// The endpoints for a cluster that does (or does not) weigh localities.
    pub fn endpoints(&self, locality_weighted: bool) -> &[Endpoint] {
        if locality_weighted {
            &self.locality_weighted
        } else {
            &self.plain
        }
    }
}

/// Reads an assignment received over xDS (see [`endpoints`]).
pub fn assignment(cla: &ClusterLoadAssignment) -> Result<Assignment, Rejected> {
    Ok(Assignment {
        plain: endpoints(cla, false)?,
        locality_weighted: endpoints(cla, true)?,
    })
}

/// One endpoint in rotation, before priorities and localities are applied.
struct Candidate {
    priority: u32,
    group: usize,
    endpoint: Endpoint,
}

pub(crate) fn endpoints_with(
    cla: &ClusterLoadAssignment,
    options: &EndpointOptions<'_>,
) -> Result<Vec<Endpoint>, Rejected> {
    let name = cla.cluster_name.as_str();
    let reject = |field: String, reason: &str| Err(Rejected::new(KIND, name, field, reason));
    let mut seen: Vec<SocketAddr> = Vec::new();
    let mut candidates = Vec::new();
    for (g, group) in cla.endpoints.iter().enumerate() {
        let field = format!("endpoints[{g}]");
        for (j, lb) in group.lb_endpoints.iter().enumerate() {
            let field = format!("{field}.lb_endpoints[{j}]");
            let in_rotation = !matches!(
                HealthStatus::try_from(lb.health_status),
                Ok(HealthStatus::Unhealthy | HealthStatus::Draining | HealthStatus::Timeout)
            );
            let endpoint = match &lb.host_identifier {
                Some(lb_endpoint::HostIdentifier::Endpoint(e)) => e,
                _ => return reject(format!("{field}.endpoint"), "missing"),
            };
            let socket = match endpoint.address.as_ref().and_then(|a| a.address.as_ref()) {
                Some(address::Address::SocketAddress(s)) => s,
                _ => {
                    return reject(
                        format!("{field}.endpoint.address"),
                        "must be a socket_address",
                    );
                }
            };
            let port = match socket.port_specifier {
                Some(socket_address::PortSpecifier::PortValue(p)) if (1..=65535).contains(&p) => {
                    p as u16
                }
                _ => {
                    return reject(
                        format!("{field}.endpoint.address.socket_address.port_value"),
                        "must be a port from 1 to 65535",
                    );
                }
            };
            let weight = match lb.load_balancing_weight.as_ref().map(|w| w.value) {
                None => defaults::ENDPOINT_WEIGHT,
                Some(0) => {
                    return reject(
                        format!("{field}.load_balancing_weight"),
                        "must be at least 1",
                    );
                }
                Some(w) => w,
            };
            let addresses = addresses(&socket.address, port, options).map_err(|reason| {
                Rejected::new(
                    KIND,
                    name,
                    format!("{field}.endpoint.address.socket_address.address"),
                    reason,
                )
            })?;
            let hostname = if !endpoint.hostname.is_empty() {
                Some(endpoint.hostname.clone())
            } else if socket.address.parse::<IpAddr>().is_err() {
                Some(socket.address.clone())
            } else {
                None
            };
            for address in addresses {
                if seen.contains(&address) {
                    return reject(
                        format!("{field}.endpoint.address"),
                        &format!("{address} is listed twice"),
                    );
                }
                seen.push(address);
                if in_rotation {
                    candidates.push(Candidate {
                        priority: group.priority,
                        group: g,
                        endpoint: Endpoint {
                            address,
                            weight,
                            hostname: hostname.clone(),
                        },
                    });
                }
            }
        }
    }
    let Some(priority) = candidates.iter().map(|c| c.priority).min() else {
        return Ok(Vec::new());
    };
    candidates.retain(|c| c.priority == priority);
    if options.locality_weighted {
        apply_locality_weights(cla, &mut candidates);
    }
    Ok(candidates.into_iter().map(|c| c.endpoint).collect())
}

/// Scales endpoint weights so each locality gets its weight's share of the
/// traffic, split within it by endpoint weight. A locality without a
/// weight (or 0) gets none, as in Envoy.
fn apply_locality_weights(cla: &ClusterLoadAssignment, candidates: &mut Vec<Candidate>) {
    let locality_weight = |g: usize| {
        f64::from(
            cla.endpoints[g]
                .load_balancing_weight
                .map_or(0, |w| w.value),
        )
    };
    let mut groups: Vec<usize> = candidates.iter().map(|c| c.group).collect();
    groups.dedup();
    let total: f64 = groups.iter().map(|&g| locality_weight(g)).sum();
    if total == 0.0 {
        return;
    }
    let in_group = |g: usize, candidates: &[Candidate]| -> f64 {
        candidates
            .iter()
            .filter(|c| c.group == g)
            .map(|c| f64::from(c.endpoint.weight))
            .sum()
    };
    let sums: Vec<(usize, f64)> = groups
        .iter()
        .map(|&g| (g, in_group(g, candidates)))
        .collect();
    candidates.retain(|c| locality_weight(c.group) > 0.0);
    for c in candidates.iter_mut() {
        let group_sum = sums
            .iter()
            .find(|(g, _)| *g == c.group)
            .map_or(1.0, |(_, s)| *s);
        let share = locality_weight(c.group) / total * f64::from(c.endpoint.weight) / group_sum;
        c.endpoint.weight = ((share * LOCALITY_SCALE).round() as u32).max(1);
    }
}

/// The addresses one endpoint stands for: its IP, or what its name resolves
/// to (filtered by the lookup family) when names are resolved.
fn addresses(
    host: &str,
    port: u16,
    options: &EndpointOptions<'_>,
) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolver = match options.names {
        Names::Refuse => {
            return Err(
                "must be an IP address (host names need a STRICT_DNS or LOGICAL_DNS cluster in a bootstrap)"
                    .into(),
            );
        }
        Names::Resolve(resolver) => resolver,
    };
    let all = resolver
        .resolve(host, port)
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?;
    let v4: Vec<SocketAddr> = all.iter().copied().filter(SocketAddr::is_ipv4).collect();
    let v6: Vec<SocketAddr> = all.iter().copied().filter(SocketAddr::is_ipv6).collect();
    let mut chosen = match options.family {
        DnsLookupFamily::V4Only => v4,
        DnsLookupFamily::V6Only => v6,
        DnsLookupFamily::Auto if !v6.is_empty() => v6,
        DnsLookupFamily::Auto => v4,
        DnsLookupFamily::V4Preferred if !v4.is_empty() => v4,
        DnsLookupFamily::V4Preferred => v6,
        DnsLookupFamily::All => all,
    };
    chosen.dedup();
    if chosen.is_empty() {
        return Err(format!(
            "`{host}` has no address of the lookup family {}",
            options.family.as_str_name()
        ));
    }
    if options.first_address_only {
        chosen.truncate(1);
    }
    Ok(chosen)
}
