//! Instances' hosts as socket addresses.

use std::net::{IpAddr, SocketAddr};

use ringway_eureka::model::VipEndpoint;

/// The addresses of `endpoints`, in order and without duplicates, each with
/// the host name it was resolved from (`None` for an IP). An instance
/// whose host has no `ipAddr` is looked up in DNS; one that does not
/// resolve is skipped with a warning.
pub async fn addresses(endpoints: &[VipEndpoint]) -> Vec<(SocketAddr, Option<String>)> {
    let mut out: Vec<(SocketAddr, Option<String>)> = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        let found = match e.host.parse::<IpAddr>() {
            Ok(ip) => Some((SocketAddr::new(ip, e.port), None)),
            Err(_) => match tokio::net::lookup_host((e.host.as_str(), e.port)).await {
                Ok(mut found) => found.next().map(|a| (a, Some(e.host.clone()))),
                Err(err) => {
                    tracing::warn!(host = %e.host, instance = %e.instance_id, %err, "eureka: cannot resolve an instance's host; skipped");
                    None
                }
            },
        };
        if let Some(found) = found
            && !out.iter().any(|(a, _)| *a == found.0)
        {
            out.push(found);
        }
    }
    out
}
