//! What the conversion's tests share: a bootstrap with one listener whose
//! connection manager and route they fill in.

use ringway_config::ConfigErrors;

use crate::bootstrap::{self, Loaded};

fn no_dns(_: &str, _: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
    Err(std::io::Error::other("no DNS in tests"))
}

/// Loads a bootstrap whose one connection manager (stat prefix
/// `ingress_http`) has `hcm` added (lines indented 10 spaces) and whose
/// one route, matching `/`, has `action` (for example
/// `route: { cluster: c }`; a static cluster `c` exists).
pub(crate) fn load_hcm(hcm: &str, action: &str) -> Result<Loaded, ConfigErrors> {
    let text = format!(
        r#"
static_resources:
  listeners:
  - name: l
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
{hcm}
          route_config:
            virtual_hosts:
            - {{ name: v, domains: ["*"], routes: [{{ match: {{ prefix: "/" }}, {action} }}] }}
          http_filters:
          - name: router
            typed_config: {{ "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }}
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints: [{{ lb_endpoints: [{{ endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: 1 }} }} }} }}] }}]
"#
    );
    bootstrap::load("envoy.yaml", Some(&text), None, &no_dns)
}
