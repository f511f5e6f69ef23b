//! Listener (with its `http_connection_manager`) → ringway's listener.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::config::core::v3::{Address, address, socket_address};
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::listener::v3::filter::ConfigType as FilterConfig;
use envoy_types::pb::envoy::extensions::access_loggers::file::v3::FileAccessLog;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::{
    CodecType, RouteSpecifier,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_filter::ConfigType as HttpFilterConfig;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use ringway_config::model::{self, AccessLog, AccessLogFormat, Limits, ListenerProtocol};
use ringway_config::values;

use crate::cluster::http2_settings;
use crate::{Rejected, duration, route};

const KIND: &str = "Listener";
const HCM_TYPE: &str =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER_TYPE: &str = "envoy.extensions.filters.http.router.v3.Router";
const FILE_LOG_TYPE: &str = "envoy.extensions.access_loggers.file.v3.FileAccessLog";
const STDOUT_LOG_TYPE: &str = "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
const STDERR_LOG_TYPE: &str = "envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

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
    routers(hcm, field)?;
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
    if hcm.generate_request_id.is_some_and(|g| !g.value) {
        return Err((
            format!("{field}.generate_request_id"),
            "false is not supported yet".into(),
        ));
    }
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
    let http2 = match &hcm.http2_protocol_options {
        None => model::Http2Settings::default(),
        Some(h2) => http2_settings(h2)
            .map_err(|(f, reason)| (format!("{field}.http2_protocol_options.{f}"), reason))?,
    };
    let access_log = access_log(hcm, field)?;
    Ok(model::Listener {
        name: name.to_owned(),
        address,
        virtual_hosts,
        rds,
        limits,
        access_log,
        protocol,
        http2,
    })
}

/// The HTTP filters: the router, last (and for now, alone).
fn routers(hcm: &HttpConnectionManager, field: &str) -> Result<(), Refused> {
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
    let is_router = match &last.config_type {
        Some(HttpFilterConfig::TypedConfig(any)) => type_name(any) == ROUTER_TYPE,
        None => last.name == "envoy.filters.http.router",
        _ => false,
    };
    if !is_router {
        return Err((
            format!("{field}.http_filters[{}]", hcm.http_filters.len() - 1),
            "the last HTTP filter must be envoy.filters.http.router".into(),
        ));
    }
    Ok(())
}

/// The access log: one file, stdout or stderr logger in Envoy's default
/// format.
fn access_log(hcm: &HttpConnectionManager, field: &str) -> Result<Option<AccessLog>, Refused> {
    let Some((first, rest)) = hcm.access_log.split_first() else {
        return Ok(None);
    };
    if !rest.is_empty() {
        return Err((
            format!("{field}.access_log[1]"),
            "one access log per listener is supported".into(),
        ));
    }
    let field = format!("{field}.access_log[0].typed_config");
    let any = match &first.config_type {
        Some(
            envoy_types::pb::envoy::config::accesslog::v3::access_log::ConfigType::TypedConfig(any),
        ) => any,
        None => return Err((field, "required".into())),
    };
    let path = match type_name(any) {
        FILE_LOG_TYPE => {
            let file = FileAccessLog::decode(any.value.as_slice())
                .map_err(|e| (field.clone(), format!("cannot decode: {e}")))?;
            if file.path.is_empty() {
                return Err((format!("{field}.path"), "required".into()));
            }
            PathBuf::from(file.path)
        }
        STDOUT_LOG_TYPE => PathBuf::from("/dev/stdout"),
        STDERR_LOG_TYPE => PathBuf::from("/dev/stderr"),
        other => {
            return Err((field, format!("the access logger {other} is not supported")));
        }
    };
    Ok(Some(AccessLog {
        path,
        format: AccessLogFormat::Text,
    }))
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
