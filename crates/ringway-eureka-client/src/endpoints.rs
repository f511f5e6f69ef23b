//! A VIP's instances as ringway endpoints.

use std::net::{IpAddr, SocketAddr};

use ringway_config::defaults;
use ringway_config::model::Endpoint;
use ringway_eureka::model::VipEndpoint;

/// The endpoints of `found`, in order and without duplicate addresses,
/// each with the default weight and the host name it was resolved from
/// (`None` for an IP). An instance whose host has no `ipAddr` is looked up
/// in DNS; one that does not resolve is skipped with a warning.
pub async fn endpoints(found: &[VipEndpoint]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::with_capacity(found.len());
    for e in found {
        let resolved = match e.host.parse::<IpAddr>() {
            Ok(ip) => Some((SocketAddr::new(ip, e.port), None)),
            Err(_) => match tokio::net::lookup_host((e.host.as_str(), e.port)).await {
                Ok(mut addresses) => addresses.next().map(|a| (a, Some(e.host.clone()))),
                Err(err) => {
                    tracing::warn!(host = %e.host, instance = %e.instance_id, %err, "eureka: cannot resolve an instance's host; skipped");
                    None
                }
            },
        };
        if let Some((address, hostname)) = resolved
            && !out.iter().any(|x| x.address == address)
        {
            out.push(Endpoint {
                address,
                weight: defaults::ENDPOINT_WEIGHT,
                hostname,
            });
        }
    }
    out
}
