//! The sidecar template (`--sidecar-listener`): one Listener served to
//! every wildcard LDS subscriber, whose connection manager takes its routes
//! by RDS from a generated RouteConfiguration holding one virtual host per
//! cluster ringway-control knows (folder and Eureka alike). The virtual
//! host of cluster `orders` has the domain `orders` and one route, `/` to
//! `orders`, with the template's settings (`--sidecar-template`), so an
//! application calls `http://orders/...` or `http://orders:8080/...`
//! through the sidecar: ringway matches domains against the host without
//! its port, and the Listener sets `strip_any_host_port` so Envoy does too.
//!
//! Both are rendered by ringway-envoy, checked as a proxy would check them,
//! and versioned by content like any file's resources, so replicas agree.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;

use ringway_config::model::{
    self, DomainPattern, Limits, ListenerProtocol, PathMatch, Route, RouteAction, RouteMatch,
    RouteTemplate, VirtualHost,
};

use crate::source::{FileError, Served, listener_served, route_served};

/// What the summaries in the admin API name as the resources' origin.
const ORIGIN: &str = "(generated: --sidecar-listener)";

/// The sidecar template's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidecar {
    /// The Listener's name (`--sidecar-listener-name`).
    pub listener: String,
    pub address: SocketAddr,
    /// The generated RouteConfiguration's name (`--sidecar-route-name`).
    pub routes: String,
    /// What every generated route gets (`--sidecar-template`).
    pub template: RouteTemplate,
}

impl Sidecar {
    /// The Listener: `address`, routes by RDS from [`Self::routes`].
    pub fn listener(&self) -> Result<Served, FileError> {
        let listener = model::Listener {
            name: self.listener.clone(),
            address: self.address,
            stat_prefix: self.listener.clone(),
            virtual_hosts: Vec::new(),
            rds: Some(self.routes.clone()),
            limits: Limits::default(),
            access_logs: Vec::new(),
            protocol: ListenerProtocol::Auto,
            http2: model::Http2Settings::default(),
            // Envoy's default: the application's own `x-forwarded-for` is kept.
            use_remote_address: false,
            xff_num_trusted_hops: 0,
            internal_address_config: None,
            suppress_envoy_headers: false,
            generate_request_id: true,
        };
        let rendered = ringway_envoy::served_listener(&listener);
        listener_served(rendered.clone(), canonical(&rendered), Path::new(ORIGIN))
    }

    /// The RouteConfiguration for these clusters: one virtual host each,
    /// in name order. A name whose lower-cased form an earlier one already
    /// took as a domain is left out (domains match without case).
    pub fn route_configuration<'a>(
        &self,
        clusters: impl IntoIterator<Item = &'a str>,
    ) -> Result<Served, FileError> {
        let mut taken = BTreeSet::new();
        let mut hosts = Vec::new();
        for name in clusters {
            let domain = name.to_ascii_lowercase();
            if !taken.insert(domain.clone()) {
                tracing::warn!(
                    cluster = name,
                    "sidecar: another cluster already has this name in another case; no virtual host for it"
                );
                continue;
            }
            hosts.push(self.virtual_host(name, domain));
        }
        let rendered = ringway_envoy::route_configuration(&self.routes, &hosts);
        route_served(rendered.clone(), canonical(&rendered), Path::new(ORIGIN))
    }

    fn virtual_host(&self, cluster: &str, domain: String) -> VirtualHost {
        VirtualHost {
            name: cluster.to_owned(),
            domains: vec![DomainPattern::Exact(domain)],
            routes: vec![Route {
                timeout: self.template.timeout,
                ..Route::new(
                    RouteMatch::path(PathMatch::Prefix("/".into())),
                    RouteAction::Cluster(cluster.to_owned()),
                )
            }],
        }
    }
}

/// What a generated resource's version hashes: its JSON with sorted keys,
/// as for a file's.
fn canonical<M: prost::Message + prost::Name>(message: &M) -> Vec<u8> {
    ringway_envoy::text::render(message, false)
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests;
