//! Listener (with its `http_connection_manager`) → ringway's listener.

use std::net::{IpAddr, SocketAddr};

use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::{Address, address, socket_address};
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::listener::v3::filter::ConfigType as FilterConfig;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::{
    CodecType, RouteSpecifier,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_filter::ConfigType as HttpFilterConfig;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use ringway_config::model::{
    self, CidrRange, InternalAddressConfig, Limits, ListenerProtocol,
};
use ringway_config::values;

use crate::cluster::http2_settings;
use crate::{Rejected, duration, route};

const KIND: &str = "Listener";
const HCM_TYPE: &str =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER_TYPE: &str = "envoy.extensions.filters.http.router.v3.Router";

/// Envoy's downstream connection idle timeout when none is set (1 hour).
const ENVOY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

type Refused = (String, String);

/// Checks a Listener against the field table and turns it into ringway's
/// listener. `fallback_name` names a listener that has no name.
pub fn listener(listener: &Listener, fallback_name: &str) -> Result<model::Listener, Rejected> {
    let name = if listener.name.is_empty() {
        fallback_name
    } else {
        &listener.name
    };
    Rejected::check(KIND, name, listener)?;
    convert(listener, name).map_err(|(field, reason)| Rejected::new(KIND, name, field, reason))
}

fn convert(l: &Listener, name: &str) -> Result<model::Listener, Refused> {
    values::name(name).map_err(|e| ("name".to_owned(), e.to_string()))?;
    let address = socket_address(l.address.as_ref(), "address")?;
    let [chain] = l.filter_chains.as_slice() else {
        return Err((
            "filter_chains".into(),
            "exactly one filter chain is supported".into(),
        ));
    };
    let [filter] = chain.filters.as_slice() else {
        return Err((
            "filter_chains[0].filters".into(),
            "exactly one filter, the http_connection_manager, is supported".into(),
        ));
    };
    let field = "filter_chains[0].filters[0].typed_config";
    let any = match &filter.config_type {
        Some(FilterConfig::TypedConfig(any)) => any,
        _ => return Err((field.into(), "an HttpConnectionManager is required".into())),
    };
    if type_name(any) != HCM_TYPE {
        return Err((
            field.into(),
            format!(
                "{} is not supported (only the http_connection_manager)",
                type_name(any)
            ),
        ));
    }
    let hcm = HttpConnectionManager::decode(any.value.as_slice())
        .map_err(|e| (field.to_owned(), format!("cannot decode: {e}")))?;
    http_connection_manager(&hcm, name, address, field)
}

fn http_connection_manager(
    hcm: &HttpConnectionManager,
    name: &str,
    address: SocketAddr,
    field: &str,
) -> Result<model::Listener, Refused> {
    let protocol = match CodecType::try_from(hcm.codec_type) {
        Ok(CodecType::Auto) => ListenerProtocol::Auto,
        Ok(CodecType::Http1) => ListenerProtocol::Http1,
        Ok(CodecType::Http2) => ListenerProtocol::Http2,
        _ => {
            return Err((
                format!("{field}.codec_type"),
                "only AUTO, HTTP1 and HTTP2 are supported".into(),
            ));
        }
    };
    if hcm.stat_prefix.is_empty() {
        return Err((format!("{field}.stat_prefix"), "required".into()));
    }
    let router = router(hcm, field)?;
    let (virtual_hosts, rds) = match &hcm.route_specifier {
        Some(RouteSpecifier::RouteConfig(rc)) => (
            route::convert(rc)
                .map_err(|(f, reason)| (format!("{field}.route_config.{f}"), reason))?,
            None,
        ),
        Some(RouteSpecifier::Rds(rds)) => {
            let over_ads = rds.config_source.as_ref().is_none_or(|c| {
                matches!(
                    c.config_source_specifier,
                    None | Some(ConfigSourceSpecifier::Ads(_))
                )
            });
            if !over_ads {
                return Err((
                    format!("{field}.rds.config_source"),
                    "routes must come over the ADS stream (`ads: {}`)".into(),
                ));
            }
            if rds.route_config_name.is_empty() {
                return Err((format!("{field}.rds.route_config_name"), "required".into()));
            }
            (Vec::new(), Some(rds.route_config_name.clone()))
        }
        _ => return Err((field.to_owned(), "needs `route_config` or `rds`".into())),
    };
    let mut limits = Limits {
        idle_timeout: ENVOY_IDLE_TIMEOUT,
        ..Limits::default()
    };
    if let Some(d) = hcm
        .common_http_protocol_options
        .as_ref()
        .and_then(|c| c.idle_timeout.as_ref())
    {
        let d = duration(d).ok_or_else(|| {
            (
                format!("{field}.common_http_protocol_options.idle_timeout"),
                "must not be negative".to_string(),
            )
        })?;
        // 0 turns Envoy's idle timeout off.
        limits.idle_timeout = if d.is_zero() {
            ringway_config::defaults::ROUTE_TIMEOUT_OFF
        } else {
            d
        };
    }
    if let Some(d) = &hcm.request_headers_timeout {
        let d = duration(d).ok_or_else(|| {
            (
                format!("{field}.request_headers_timeout"),
                "must not be negative".to_string(),
            )
        })?;
        if !d.is_zero() {
            limits.request_head_timeout = d;
        }
    }
    if hcm.normalize_path.as_ref().is_some_and(|v| v.value) {
        return Err((
            format!("{field}.normalize_path"),
            "ringway does not normalize paths (RFC 3986 dot segments); only false is supported"
                .into(),
        ));
    }
    if let Some(kb) = &hcm.max_request_headers_kb {
        // Envoy's range: 1 to 8192 KiB.
        if !(1..=8192).contains(&kb.value) {
            return Err((
                format!("{field}.max_request_headers_kb"),
                "must be between 1 and 8192".into(),
            ));
        }
        limits.max_request_head_bytes = kb.value as usize * 1024;
    }
    // Unset: Envoy's defaults (5 minutes, and off); 0 turns either off.
    let optional = |name: &str, d: &Option<envoy_types::pb::google::protobuf::Duration>| match d {
        None => Ok(None),
        Some(d) => duration(d)
            .map(|d| Some(d).filter(|d| !d.is_zero()))
            .ok_or_else(|| {
                (
                    format!("{field}.{name}"),
                    "must not be negative".to_string(),
                )
            }),
    };
    if hcm.stream_idle_timeout.is_some() {
        limits.stream_idle_timeout = optional("stream_idle_timeout", &hcm.stream_idle_timeout)?;
    }
    limits.request_timeout = optional("request_timeout", &hcm.request_timeout)?;
    let http2 = match &hcm.http2_protocol_options {
        None => model::Http2Settings::default(),
        Some(h2) => http2_settings(h2)
            .map_err(|(f, reason)| (format!("{field}.http2_protocol_options.{f}"), reason))?,
    };
    let access_logs =
        crate::access_log::access_logs(&hcm.access_log, &format!("{field}.access_log"))?;
    Ok(model::Listener {
        name: name.to_owned(),
        address,
        stat_prefix: hcm.stat_prefix.clone(),
        virtual_hosts,
        rds,
        limits,
        access_logs,
        protocol,
        http2,
        use_remote_address: hcm.use_remote_address.is_some_and(|v| v.value),
        xff_num_trusted_hops: hcm.xff_num_trusted_hops,
        internal_address_config: internal_addresses(hcm, field)?,
        suppress_envoy_headers: router.suppress_envoy_headers,
        generate_request_id: hcm.generate_request_id.is_none_or(|g| g.value),
    })
}

/// The HTTP filters: the router, last (and for now, alone).
fn router(hcm: &HttpConnectionManager, field: &str) -> Result<Router, Refused> {
    let Some((last, others)) = hcm.http_filters.split_last() else {
        return Err((
            format!("{field}.http_filters"),
            "must end in envoy.filters.http.router".into(),
        ));
    };
    if let Some(f) = others.first() {
        let what = match &f.config_type {
            Some(HttpFilterConfig::TypedConfig(any)) => type_name(any).to_owned(),
            _ => f.name.clone(),
        };
        return Err((
            format!("{field}.http_filters[0]"),
            format!("the HTTP filter {what} is not supported by ringway"),
        ));
    }
    let last_field = format!("{field}.http_filters[{}]", hcm.http_filters.len() - 1);
    match &last.config_type {
        Some(HttpFilterConfig::TypedConfig(any)) if type_name(any) == ROUTER_TYPE => {
            Router::decode(any.value.as_slice()).map_err(|e| {
                (
                    format!("{last_field}.typed_config"),
                    format!("cannot decode: {e}"),
                )
            })
        }
        None if last.name == "envoy.filters.http.router" => Ok(Router::default()),
        _ => Err((
            last_field,
            "the last HTTP filter must be envoy.filters.http.router".into(),
        )),
    }
}

/// `internal_address_config`: which client addresses count as internal
/// (none when unset, as in current Envoy).
fn internal_addresses(
    hcm: &HttpConnectionManager,
    field: &str,
) -> Result<Option<InternalAddressConfig>, Refused> {
    let Some(config) = &hcm.internal_address_config else {
        return Ok(None);
    };
    let mut cidr_ranges = Vec::with_capacity(config.cidr_ranges.len());
    for (i, r) in config.cidr_ranges.iter().enumerate() {
        let rfield = format!("{field}.internal_address_config.cidr_ranges[{i}]");
        let address_prefix: IpAddr = r.address_prefix.parse().map_err(|_| {
            (
                format!("{rfield}.address_prefix"),
                format!("`{}` is not an IP address", r.address_prefix),
            )
        })?;
        let max = if address_prefix.is_ipv4() { 32 } else { 128 };
        let prefix_len = r.prefix_len.map_or(0, |p| p.value);
        let prefix_len = u8::try_from(prefix_len)
            .ok()
            .filter(|p| u32::from(*p) <= max)
            .ok_or_else(|| {
                (
                    format!("{rfield}.prefix_len"),
                    format!("{prefix_len} is more than {max}"),
                )
            })?;
        cidr_ranges.push(CidrRange {
            address_prefix,
            prefix_len,
        });
    }
    Ok(Some(InternalAddressConfig { cidr_ranges }))
}

/// An `Address` holding an IP literal and a port.
pub(crate) fn socket_address(
    address: Option<&Address>,
    field: &str,
) -> Result<SocketAddr, Refused> {
    let socket = match address.and_then(|a| a.address.as_ref()) {
        Some(address::Address::SocketAddress(s)) => s,
        _ => return Err((field.to_owned(), "needs a socket_address".into())),
    };
    let ip: IpAddr = socket.address.parse().map_err(|_| {
        (
            format!("{field}.socket_address.address"),
            format!("`{}` is not an IP address", socket.address),
        )
    })?;
    let port = match socket.port_specifier {
        Some(socket_address::PortSpecifier::PortValue(p)) => u16::try_from(p).map_err(|_| {
            (
                format!("{field}.socket_address.port_value"),
                format!("{p} is not a port"),
            )
        })?,
        None => 0,
        Some(_) => {
            return Err((
                format!("{field}.socket_address.named_port"),
                "named ports are not supported".into(),
            ));
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// The message type an `Any` holds, without the URL's prefix.
fn type_name(any: &Any) -> &str {
    any.type_url.rsplit('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests;
