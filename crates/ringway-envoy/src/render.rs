//! ringway's listener and route model → Envoy v3 resources, as the admin
//! API's `/config_dump` shows them: a Listener holding one
//! `http_connection_manager` with its routes inline, and that
//! RouteConfiguration on its own. The inverse of [`crate::listener`] and
//! [`crate::virtual_hosts`] for what the model holds; a static cluster
//! (endpoints inline) completes [`crate::envoy_cluster`].
//!
//! Not carried, because the Envoy conversion does not read them (they keep
//! ringway's defaults when a bootstrap is read): a listener's
//! `max_request_head_bytes`, `max_request_headers`, `max_uri_bytes`,
//! `max_connections_per_worker` and `max_request_body_bytes`, ringway's own
//! fixed JSON access-log format (shown as Envoy's default line), HTTP/2 `max_frame_size` and `max_header_list_size`, and a
//! route's `max_request_body_bytes` and `on_demand`. A route taking its
//! cluster from the authority is shown as `cluster_header: ":authority"`.

mod access_log;

use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::cluster::v3::cluster::{ClusterDiscoveryType, DiscoveryType};
use envoy_types::pb::envoy::config::core::v3::{
    Address, DataSource, HttpProtocolOptions,
    SocketAddress, address, data_source, socket_address,
};
use envoy_types::pb::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use envoy_types::pb::envoy::config::route::v3::header_matcher::HeaderMatchSpecifier;
use envoy_types::pb::envoy::config::route::v3::redirect_action::{
    PathRewriteSpecifier, RedirectResponseCode, SchemeRewriteSpecifier,
};
use envoy_types::pb::envoy::config::route::v3::route::Action;
use envoy_types::pb::envoy::config::route::v3::route_action::{
    ClusterSpecifier, HostRewriteSpecifier,
};
use envoy_types::pb::envoy::config::route::v3::route_match::PathSpecifier;
use envoy_types::pb::envoy::config::route::v3::weighted_cluster::ClusterWeight;
use envoy_types::pb::envoy::config::route::v3::query_parameter_matcher::QueryParameterMatchSpecifier as QuerySpecifier;
use envoy_types::pb::envoy::config::route::v3::{
    DirectResponseAction, HeaderMatcher, QueryParameterMatcher, RedirectAction, Route,
    RouteAction, RouteConfiguration, RouteMatch, VirtualHost, WeightedCluster,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::{
    CodecType, RouteSpecifier, StripPortMode,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_filter::ConfigType as HttpFilterConfig;
use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::{AggregatedConfigSource, CidrRange, ConfigSource};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::InternalAddressConfig;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds,
};
use envoy_types::pb::envoy::r#type::matcher::v3::string_matcher::MatchPattern;
use envoy_types::pb::envoy::r#type::matcher::v3::{
    RegexMatchAndSubstitute, RegexMatcher, StringMatcher,
};
use envoy_types::pb::google::protobuf::{Any, BoolValue, UInt32Value};
use prost::{Message, Name};
use ringway_config::defaults;
use ringway_config::model::{
    self, ClusterSource, DomainPattern, HeaderValueMatch, ListenerProtocol, PathMatch,
    QueryParameterValueMatch, StringMatch, StringMatchKind,
};

use crate::resources::{http2, proto_duration};

/// The Listener Envoy would hold for `listener`: its address and one
/// filter chain with an `http_connection_manager` whose routes are inline
/// (or, with `rds`, taken by name over ADS).
pub fn envoy_listener(listener: &model::Listener) -> Listener {
    with_hcm(listener, hcm(listener))
}

/// [`envoy_listener`] for a control plane to serve to ringway and Envoy
/// alike: the connection manager also sets `strip_any_host_port`, so an
/// Envoy matches `domains` as ringway does, against the host without its
/// port (`http://orders:8080/` finds the virtual host `orders`).
pub fn served_listener(listener: &model::Listener) -> Listener {
    let hcm = HttpConnectionManager {
        strip_port_mode: Some(StripPortMode::StripAnyHostPort(true)),
        ..hcm(listener)
    };
    with_hcm(listener, hcm)
}

fn with_hcm(listener: &model::Listener, hcm: HttpConnectionManager) -> Listener {
    Listener {
        name: listener.name.clone(),
        address: Some(socket(listener.address)),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".into(),
                config_type: Some(filter::ConfigType::TypedConfig(pack(&hcm))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn hcm(listener: &model::Listener) -> HttpConnectionManager {
    HttpConnectionManager {
        stat_prefix: listener.stat_prefix.clone(),
        codec_type: match listener.protocol {
            ListenerProtocol::Auto => CodecType::Auto,
            ListenerProtocol::Http1 => CodecType::Http1,
            ListenerProtocol::Http2 => CodecType::Http2,
        } as i32,
        route_specifier: Some(match &listener.rds {
            Some(name) => RouteSpecifier::Rds(Rds {
                route_config_name: name.clone(),
                config_source: Some(ConfigSource {
                    config_source_specifier: Some(ConfigSourceSpecifier::Ads(
                        AggregatedConfigSource {},
                    )),
                    ..Default::default()
                }),
            }),
            None => RouteSpecifier::RouteConfig(route_configuration(
                &listener.name,
                &listener.virtual_hosts,
            )),
        }),
        use_remote_address: listener
            .use_remote_address
            .then_some(BoolValue { value: true }),
        xff_num_trusted_hops: listener.xff_num_trusted_hops,
        generate_request_id: (!listener.generate_request_id).then_some(BoolValue { value: false }),
        internal_address_config: listener.internal_address_config.as_ref().map(|c| {
            InternalAddressConfig {
                cidr_ranges: c
                    .cidr_ranges
                    .iter()
                    .map(|r| CidrRange {
                        address_prefix: r.address_prefix.to_string(),
                        prefix_len: Some(UInt32Value {
                            value: u32::from(r.prefix_len),
                        }),
                    })
                    .collect(),
                ..Default::default()
            }
        }),
        http_filters: vec![HttpFilter {
            name: "envoy.filters.http.router".into(),
            config_type: Some(HttpFilterConfig::TypedConfig(pack(&Router {
                suppress_envoy_headers: listener.suppress_envoy_headers,
                ..Default::default()
            }))),
            ..Default::default()
        }],
        common_http_protocol_options: Some(HttpProtocolOptions {
            idle_timeout: Some(timeout(listener.limits.idle_timeout)),
            ..Default::default()
        }),
        request_headers_timeout: Some(proto_duration(listener.limits.request_head_timeout)),
        max_request_headers_kb: Some(UInt32Value {
            value: u32::try_from(listener.limits.max_request_head_bytes / 1024)
                .unwrap_or(u32::MAX)
                .max(1),
        }),
        // Off is 0 in Envoy's terms.
        stream_idle_timeout: Some(proto_duration(
            listener.limits.stream_idle_timeout.unwrap_or_default(),
        )),
        request_timeout: listener.limits.request_timeout.map(proto_duration),
        http2_protocol_options: (listener.http2 != model::Http2Settings::default())
            .then(|| http2(&listener.http2)),
        access_log: listener
            .access_logs
            .iter()
            .map(access_log::access_log)
            .collect(),
        ..Default::default()
    }
}

/// The RouteConfiguration named `name` holding `virtual_hosts`.
pub fn route_configuration(name: &str, virtual_hosts: &[model::VirtualHost]) -> RouteConfiguration {
    RouteConfiguration {
        name: name.to_owned(),
        virtual_hosts: virtual_hosts.iter().map(virtual_host).collect(),
        ..Default::default()
    }
}

/// A cluster with its endpoints inline (`STATIC`, `load_assignment`), as a
/// bootstrap's static cluster is shown; the other settings as
/// [`crate::envoy_cluster`] renders them.
pub fn static_cluster(cluster: &model::Cluster) -> Cluster {
    Cluster {
        cluster_discovery_type: Some(ClusterDiscoveryType::Type(DiscoveryType::Static as i32)),
        eds_cluster_config: None,
        load_assignment: Some(crate::load_assignment(cluster)),
        ..crate::envoy_cluster(cluster)
    }
}

/// An `Address` holding `address` as a `socket_address`.
pub fn socket(address: std::net::SocketAddr) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: address.ip().to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(
                address.port(),
            ))),
            ..Default::default()
        })),
    }
}

fn virtual_host(vhost: &model::VirtualHost) -> VirtualHost {
    VirtualHost {
        name: vhost.name.clone(),
        domains: vhost
            .domains
            .iter()
            .map(|d| match d {
                DomainPattern::Exact(s) => s.clone(),
                DomainPattern::Suffix(s) => format!("*{s}"),
                DomainPattern::Prefix(s) => format!("{s}*"),
                DomainPattern::Any => "*".to_owned(),
            })
            .collect(),
        routes: vhost.routes.iter().map(route).collect(),
        ..Default::default()
    }
}

fn route(route: &model::Route) -> Route {
    let m = &route.matcher;
    let path_specifier = match &m.path {
        PathMatch::Prefix(p) => PathSpecifier::Prefix(p.clone()),
        PathMatch::Exact(p) => PathSpecifier::Path(p.clone()),
        PathMatch::Regex(p) => PathSpecifier::SafeRegex(regex(&p.source)),
    };
    let methods = m.methods.iter().map(|method| HeaderMatcher {
        name: ":method".into(),
        header_match_specifier: Some(HeaderMatchSpecifier::StringMatch(exact(method))),
        ..Default::default()
    });
    let headers = m.headers.iter().map(|h| HeaderMatcher {
        name: h.name.clone(),
        invert_match: h.invert_match,
        treat_missing_header_as_empty: h.treat_missing_header_as_empty,
        header_match_specifier: Some(match &h.value {
            HeaderValueMatch::Present(p) => HeaderMatchSpecifier::PresentMatch(*p),
            HeaderValueMatch::String(sm) => HeaderMatchSpecifier::StringMatch(string_matcher(sm)),
            HeaderValueMatch::Range { start, end } => {
                HeaderMatchSpecifier::RangeMatch(envoy_types::pb::envoy::r#type::v3::Int64Range {
                    start: *start,
                    end: *end,
                })
            }
        }),
    });
    let query_parameters = m
        .query_parameters
        .iter()
        .map(|q| QueryParameterMatcher {
            name: q.name.clone(),
            query_parameter_match_specifier: Some(match &q.value {
                QueryParameterValueMatch::Present(p) => QuerySpecifier::PresentMatch(*p),
                QueryParameterValueMatch::String(sm) => {
                    QuerySpecifier::StringMatch(string_matcher(sm))
                }
            }),
        })
        .collect();
    let action = match &route.action {
        model::RouteAction::DirectResponse { status, body } => {
            Action::DirectResponse(DirectResponseAction {
                status: u32::from(*status),
                body: (!body.is_empty()).then(|| DataSource {
                    specifier: Some(data_source::Specifier::InlineString(body.clone())),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }
        model::RouteAction::Redirect(r) => Action::Redirect(redirect(r)),
        forwarded => Action::Route(forward(forwarded, route)),
    };
    Route {
        r#match: Some(RouteMatch {
            path_specifier: Some(path_specifier),
            headers: methods.chain(headers).collect(),
            query_parameters,
            case_sensitive: (!m.case_sensitive).then_some(BoolValue { value: false }),
            ..Default::default()
        }),
        action: Some(action),
        ..Default::default()
    }
}

fn forward(action: &model::RouteAction, route: &model::Route) -> RouteAction {
    let cluster_specifier = match action {
        model::RouteAction::Cluster(name) => ClusterSpecifier::Cluster(name.clone()),
        model::RouteAction::ClusterFrom(ClusterSource::Header(h)) => {
            ClusterSpecifier::ClusterHeader(h.clone())
        }
        model::RouteAction::ClusterFrom(ClusterSource::Authority) => {
            ClusterSpecifier::ClusterHeader(":authority".into())
        }
        model::RouteAction::WeightedClusters(list) => {
            ClusterSpecifier::WeightedClusters(WeightedCluster {
                clusters: list
                    .iter()
                    .map(|c| ClusterWeight {
                        name: c.name.clone(),
                        weight: Some(UInt32Value { value: c.weight }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
        }
        // Local replies are rendered by the caller.
        model::RouteAction::DirectResponse { .. } | model::RouteAction::Redirect(_) => {
            ClusterSpecifier::Cluster(String::new())
        }
    };
    RouteAction {
        cluster_specifier: Some(cluster_specifier),
        timeout: Some(timeout(route.timeout)),
        idle_timeout: route.idle_timeout.map(proto_duration),
        retry_policy: route.retry_policy.as_ref().map(crate::retry::render),
        prefix_rewrite: route.prefix_rewrite.clone().unwrap_or_default(),
        host_rewrite_specifier: match (&route.host_rewrite, route.auto_host_rewrite) {
            (Some(h), _) => Some(HostRewriteSpecifier::HostRewriteLiteral(h.clone())),
            (None, true) => Some(HostRewriteSpecifier::AutoHostRewrite(BoolValue {
                value: true,
            })),
            (None, false) => None,
        },
        regex_rewrite: route
            .regex_rewrite
            .as_ref()
            .map(|rr| RegexMatchAndSubstitute {
                pattern: Some(regex(&rr.pattern)),
                substitution: rr.substitution.clone(),
            }),
        ..Default::default()
    }
}

/// A model string matcher as Envoy's.
fn string_matcher(sm: &StringMatch) -> StringMatcher {
    let pattern = match &sm.kind {
        StringMatchKind::Exact(v) => MatchPattern::Exact(v.clone()),
        StringMatchKind::Prefix(v) => MatchPattern::Prefix(v.clone()),
        StringMatchKind::Suffix(v) => MatchPattern::Suffix(v.clone()),
        StringMatchKind::Contains(v) => MatchPattern::Contains(v.clone()),
        StringMatchKind::SafeRegex(p) => MatchPattern::SafeRegex(regex(&p.source)),
    };
    StringMatcher {
        match_pattern: Some(pattern),
        ignore_case: sm.ignore_case,
    }
}

fn redirect(r: &model::Redirect) -> RedirectAction {
    let response_code = match r.status {
        302 => RedirectResponseCode::Found,
        303 => RedirectResponseCode::SeeOther,
        307 => RedirectResponseCode::TemporaryRedirect,
        308 => RedirectResponseCode::PermanentRedirect,
        _ => RedirectResponseCode::MovedPermanently,
    };
    RedirectAction {
        response_code: response_code as i32,
        scheme_rewrite_specifier: r.scheme.clone().map(SchemeRewriteSpecifier::SchemeRedirect),
        host_redirect: r.host.clone().unwrap_or_default(),
        port_redirect: r.port.map_or(0, u32::from),
        strip_query: r.strip_query,
        path_rewrite_specifier: r.path.as_ref().map(|path| match path {
            model::RedirectPath::Replace(p) => PathRewriteSpecifier::PathRedirect(p.clone()),
            model::RedirectPath::Prefix(p) => PathRewriteSpecifier::PrefixRewrite(p.clone()),
        }),
    }
}

fn exact(value: &str) -> StringMatcher {
    StringMatcher {
        match_pattern: Some(MatchPattern::Exact(value.to_owned())),
        ignore_case: false,
    }
}

fn regex(source: &str) -> RegexMatcher {
    RegexMatcher {
        regex: source.to_owned(),
        ..Default::default()
    }
}

/// A timeout as Envoy writes it: `0s` for "off".
fn timeout(d: Duration) -> envoy_types::pb::google::protobuf::Duration {
    if d == defaults::ROUTE_TIMEOUT_OFF {
        proto_duration(Duration::ZERO)
    } else {
        proto_duration(d)
    }
}

/// `message` in an `Any` with its type URL.
pub fn pack<M: Message + Name>(message: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: message.encode_to_vec(),
    }
}

#[cfg(test)]
mod tests;
