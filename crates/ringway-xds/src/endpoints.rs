//! ClusterLoadAssignment → the endpoints of one cluster.

use std::net::{IpAddr, SocketAddr};

use envoy_types::pb::envoy::config::core::v3::{HealthStatus, address, socket_address};
use envoy_types::pb::envoy::config::endpoint::v3::{ClusterLoadAssignment, lb_endpoint};
use ringway_config::defaults;
use ringway_config::model::Endpoint;

use crate::Rejected;

const KIND: &str = "ClusterLoadAssignment";

/// The endpoints an assignment lists, without those whose health status
/// takes them out of rotation (`UNHEALTHY`, `DRAINING`, `TIMEOUT`). An
/// address may appear once.
pub fn endpoints(cla: &ClusterLoadAssignment) -> Result<Vec<Endpoint>, Rejected> {
    let name = cla.cluster_name.as_str();
    let reject = |field: String, reason: &str| Err(Rejected::new(KIND, name, field, reason));
    if !cla.named_endpoints.is_empty() {
        return reject("named_endpoints".into(), "not supported");
    }
    if cla.policy.as_ref().is_some_and(|p| {
        p.drop_overloads.len() + usize::from(p.overprovisioning_factor.is_some()) > 0
    }) {
        return reject(
            "policy".into(),
            "drop_overloads and overprovisioning_factor are not supported",
        );
    }
    let mut out: Vec<Endpoint> = Vec::new();
    for (i, group) in cla.endpoints.iter().enumerate() {
        let field = format!("endpoints[{i}]");
        if group.priority != 0 {
            return reject(
                format!("{field}.priority"),
                "only priority 0 is supported (no failover between priorities yet)",
            );
        }
        if group.load_balancing_weight.is_some() {
            return reject(
                format!("{field}.load_balancing_weight"),
                "locality weights are not supported",
            );
        }
        if group.lb_config.is_some() || group.proximity.is_some() {
            return reject(format!("{field}.lb_config"), "not supported");
        }
        for (j, lb) in group.lb_endpoints.iter().enumerate() {
            let field = format!("{field}.lb_endpoints[{j}]");
            let healthy = !matches!(
                HealthStatus::try_from(lb.health_status),
                Ok(HealthStatus::Unhealthy | HealthStatus::Draining | HealthStatus::Timeout)
            );
            let endpoint = match &lb.host_identifier {
                Some(lb_endpoint::HostIdentifier::Endpoint(e)) => e,
                _ => {
                    return reject(
                        format!("{field}.endpoint"),
                        "missing (named endpoints are not supported)",
                    );
                }
            };
            if endpoint.health_check_config.is_some() {
                return reject(
                    format!("{field}.endpoint.health_check_config"),
                    "active health checks are not supported",
                );
            }
            let socket = match endpoint.address.as_ref().and_then(|a| a.address.as_ref()) {
                Some(address::Address::SocketAddress(s)) => s,
                _ => {
                    return reject(
                        format!("{field}.endpoint.address"),
                        "must be a socket_address",
                    );
                }
            };
            let ip: IpAddr = match socket.address.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    return reject(
                        format!("{field}.endpoint.address.socket_address.address"),
                        "must be an IP address (host names are resolved by the control plane)",
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
            let address = SocketAddr::new(ip, port);
            if out.iter().any(|e| e.address == address) {
                return reject(
                    format!("{field}.endpoint.address"),
                    &format!("{address} is listed twice"),
                );
            }
            if healthy {
                out.push(Endpoint {
                    address,
                    weight,
                    hostname: (!endpoint.hostname.is_empty()).then(|| endpoint.hostname.clone()),
                });
            }
        }
    }
    Ok(out)
}
