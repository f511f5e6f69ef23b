//! RouteConfiguration → ringway's virtual hosts and routes.

use envoy_types::pb::envoy::config::core::v3::data_source::Specifier as DataSpecifier;
use envoy_types::pb::envoy::config::route::v3::header_matcher::HeaderMatchSpecifier;
use envoy_types::pb::envoy::config::route::v3::query_parameter_matcher::QueryParameterMatchSpecifier as QuerySpecifier;
use envoy_types::pb::envoy::config::route::v3::redirect_action::{
    PathRewriteSpecifier, RedirectResponseCode, SchemeRewriteSpecifier,
};
use envoy_types::pb::envoy::config::route::v3::route::Action;
use envoy_types::pb::envoy::config::route::v3::route_action::{
    ClusterSpecifier, HostRewriteSpecifier,
};
use envoy_types::pb::envoy::config::route::v3::route_match::PathSpecifier;
use envoy_types::pb::envoy::config::route::v3::{
    DirectResponseAction, HeaderMatcher, RedirectAction, Route, RouteAction, RouteConfiguration,
    RouteMatch, VirtualHost,
};
use envoy_types::pb::envoy::r#type::matcher::v3::StringMatcher;
use envoy_types::pb::envoy::r#type::matcher::v3::string_matcher::MatchPattern;
use ringway_config::defaults;
use ringway_config::model::{
    self, HeaderValueMatch, PathMatch, QueryParameterMatch, QueryParameterValueMatch, Redirect,
    RedirectPath, RegexRewrite, StringMatch, StringMatchKind, WeightedCluster,
};
use ringway_config::values;

use crate::{Rejected, duration};

const KIND: &str = "RouteConfiguration";

/// A refusal inside a route configuration: the field path and the reason.
type Refused = (String, String);

/// Checks a RouteConfiguration against the field table and turns it into
/// virtual hosts.
pub fn virtual_hosts(config: &RouteConfiguration) -> Result<Vec<model::VirtualHost>, Rejected> {
    Rejected::check(KIND, &config.name, config)?;
    convert(config).map_err(|(field, reason)| Rejected::new(KIND, &config.name, field, reason))
}

/// The conversion proper, for a configuration the table has checked.
pub(crate) fn convert(config: &RouteConfiguration) -> Result<Vec<model::VirtualHost>, Refused> {
    let mut seen_domains: Vec<(model::DomainPattern, String)> = Vec::new();
    let mut out = Vec::with_capacity(config.virtual_hosts.len());
    for (i, vhost) in config.virtual_hosts.iter().enumerate() {
        let field = format!("virtual_hosts[{i}]");
        let converted = virtual_host(vhost, &field)?;
        for (d, domain) in converted.domains.iter().enumerate() {
            if let Some((_, first)) = seen_domains.iter().find(|(seen, _)| seen == domain) {
                return Err((
                    format!("{field}.domains[{d}]"),
                    format!("`{}` is also a domain of {first}", vhost.domains[d]),
                ));
            }
            seen_domains.push((domain.clone(), field.clone()));
        }
        out.push(converted);
    }
    Ok(out)
}

fn virtual_host(vhost: &VirtualHost, field: &str) -> Result<model::VirtualHost, Refused> {
    values::name(&vhost.name).map_err(|e| (format!("{field}.name"), e.to_string()))?;
    if vhost.domains.is_empty() {
        return Err((
            format!("{field}.domains"),
            "at least one domain is needed".into(),
        ));
    }
    let domains = vhost
        .domains
        .iter()
        .enumerate()
        .map(|(d, text)| {
            values::domain(text).map_err(|e| (format!("{field}.domains[{d}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let vhost_retry = vhost
        .retry_policy
        .as_ref()
        .map(|p| crate::retry::convert(p, &format!("{field}.retry_policy")))
        .transpose()?;
    let mut routes = vhost
        .routes
        .iter()
        .enumerate()
        .map(|(r, route_)| route(route_, &format!("{field}.routes[{r}]")))
        .collect::<Result<Vec<_>, _>>()?;
    // A route's policy replaces its virtual host's.
    for route_ in &mut routes {
        if route_.retry_policy.is_none() && route_.action.forwards() {
            route_.retry_policy.clone_from(&vhost_retry);
        }
    }
    Ok(model::VirtualHost {
        name: vhost.name.clone(),
        domains,
        routes,
    })
}

fn route(route: &Route, field: &str) -> Result<model::Route, Refused> {
    let matcher = route_match(
        route
            .r#match
            .as_ref()
            .ok_or_else(|| (format!("{field}.match"), "required".to_string()))?,
        &format!("{field}.match"),
    )?;
    let mut out = model::Route::new(
        matcher,
        model::RouteAction::DirectResponse {
            status: 404,
            body: String::new(),
        },
    );
    match &route.action {
        Some(Action::Route(action)) => forward(action, &format!("{field}.route"), &mut out)?,
        Some(Action::Redirect(redirect)) => {
            out.action = redirect_action(redirect, &format!("{field}.redirect"))?;
        }
        Some(Action::DirectResponse(direct)) => {
            out.action = direct_response(direct, &format!("{field}.direct_response"))?;
        }
        Some(_) => {
            return Err((
                field.to_owned(),
                "this action is not supported by ringway".into(),
            ));
        }
        None => {
            return Err((
                field.to_owned(),
                "needs `route`, `redirect` or `direct_response`".into(),
            ));
        }
    }
    Ok(out)
}

fn route_match(m: &RouteMatch, field: &str) -> Result<model::RouteMatch, Refused> {
    let path = match &m.path_specifier {
        Some(PathSpecifier::Prefix(p)) => PathMatch::Prefix(p.clone()),
        Some(PathSpecifier::Path(p)) => PathMatch::Exact(p.clone()),
        Some(PathSpecifier::SafeRegex(r)) => PathMatch::Regex(
            values::pattern(&r.regex)
                .map_err(|e| (format!("{field}.safe_regex.regex"), e.to_string()))?,
        ),
        Some(_) => {
            return Err((
                field.to_owned(),
                "only `prefix`, `path` and `safe_regex` are supported".into(),
            ));
        }
        None => {
            return Err((
                field.to_owned(),
                "needs `prefix`, `path` or `safe_regex`".into(),
            ));
        }
    };
    let mut methods = Vec::new();
    let mut headers = Vec::new();
    for (i, h) in m.headers.iter().enumerate() {
        // Envoy matches the method as the `:method` pseudo-header.
        if let Some(method) = method_match(h) {
            methods.push(method);
            continue;
        }
        headers.push(header_match(h, &format!("{field}.headers[{i}]"))?);
    }
    let mut query_parameters = Vec::with_capacity(m.query_parameters.len());
    for (i, q) in m.query_parameters.iter().enumerate() {
        let qfield = format!("{field}.query_parameters[{i}]");
        if q.name.is_empty() {
            return Err((format!("{qfield}.name"), "required".into()));
        }
        let value = match &q.query_parameter_match_specifier {
            Some(QuerySpecifier::PresentMatch(p)) => QueryParameterValueMatch::Present(*p),
            Some(QuerySpecifier::StringMatch(sm)) => QueryParameterValueMatch::String(
                string_match(sm, &format!("{qfield}.string_match"))?,
            ),
            None => QueryParameterValueMatch::Present(true),
        };
        query_parameters.push(QueryParameterMatch {
            name: q.name.clone(),
            value,
        });
    }
    Ok(model::RouteMatch {
        path,
        case_sensitive: m.case_sensitive.is_none_or(|c| c.value),
        headers,
        query_parameters,
        methods,
    })
}

/// `:method` with an exact value, which ringway matches as a method.
fn method_match(h: &HeaderMatcher) -> Option<String> {
    if h.name != ":method" || h.invert_match || h.treat_missing_header_as_empty {
        return None;
    }
    #[allow(deprecated)]
    match &h.header_match_specifier {
        Some(HeaderMatchSpecifier::ExactMatch(v)) => Some(v.to_ascii_uppercase()),
        Some(HeaderMatchSpecifier::StringMatch(StringMatcher {
            match_pattern: Some(MatchPattern::Exact(v)),
            ignore_case: false,
        })) => Some(v.to_ascii_uppercase()),
        _ => None,
    }
}

fn header_match(h: &HeaderMatcher, field: &str) -> Result<model::HeaderMatch, Refused> {
    let name =
        values::header_name(&h.name).map_err(|e| (format!("{field}.name"), e.to_string()))?;
    let exact = |kind| {
        HeaderValueMatch::String(StringMatch {
            kind,
            ignore_case: false,
        })
    };
    #[allow(deprecated)]
    let value = match &h.header_match_specifier {
        None => HeaderValueMatch::Present(true),
        Some(HeaderMatchSpecifier::PresentMatch(p)) => HeaderValueMatch::Present(*p),
        Some(HeaderMatchSpecifier::ExactMatch(v)) => exact(StringMatchKind::Exact(v.clone())),
        Some(HeaderMatchSpecifier::PrefixMatch(v)) => exact(StringMatchKind::Prefix(v.clone())),
        Some(HeaderMatchSpecifier::SuffixMatch(v)) => exact(StringMatchKind::Suffix(v.clone())),
        Some(HeaderMatchSpecifier::ContainsMatch(v)) => exact(StringMatchKind::Contains(v.clone())),
        Some(HeaderMatchSpecifier::SafeRegexMatch(r)) => exact(StringMatchKind::SafeRegex(
            values::pattern(&r.regex)
                .map_err(|e| (format!("{field}.safe_regex_match.regex"), e.to_string()))?,
        )),
        Some(HeaderMatchSpecifier::StringMatch(sm)) => {
            HeaderValueMatch::String(string_match(sm, &format!("{field}.string_match"))?)
        }
        Some(HeaderMatchSpecifier::RangeMatch(range)) => {
            if range.start >= range.end {
                return Err((
                    format!("{field}.range_match"),
                    format!(
                        "start {} is not below end {} (the end is excluded)",
                        range.start, range.end
                    ),
                ));
            }
            HeaderValueMatch::Range {
                start: range.start,
                end: range.end,
            }
        }
    };
    Ok(model::HeaderMatch {
        name,
        value,
        invert_match: h.invert_match,
        treat_missing_header_as_empty: h.treat_missing_header_as_empty,
    })
}

fn string_match(s: &StringMatcher, field: &str) -> Result<StringMatch, Refused> {
    let kind = match &s.match_pattern {
        Some(MatchPattern::Exact(v)) => StringMatchKind::Exact(v.clone()),
        Some(MatchPattern::Prefix(v)) => StringMatchKind::Prefix(v.clone()),
        Some(MatchPattern::Suffix(v)) => StringMatchKind::Suffix(v.clone()),
        Some(MatchPattern::Contains(v)) => StringMatchKind::Contains(v.clone()),
        Some(MatchPattern::SafeRegex(r)) => StringMatchKind::SafeRegex(
            values::pattern(&r.regex)
                .map_err(|e| (format!("{field}.safe_regex.regex"), e.to_string()))?,
        ),
        Some(_) => return Err((field.to_owned(), "this matcher is not supported".into())),
        None => return Err((field.to_owned(), "needs a pattern".into())),
    };
    Ok(StringMatch {
        kind,
        ignore_case: s.ignore_case,
    })
}

fn forward(action: &RouteAction, field: &str, out: &mut model::Route) -> Result<(), Refused> {
    out.action = match &action.cluster_specifier {
        Some(ClusterSpecifier::Cluster(name)) => {
            values::name(name).map_err(|e| (format!("{field}.cluster"), e.to_string()))?;
            model::RouteAction::Cluster(name.clone())
        }
        Some(ClusterSpecifier::ClusterHeader(header)) => {
            model::RouteAction::ClusterFrom(model::ClusterSource::Header(
                values::header_name(header)
                    .map_err(|e| (format!("{field}.cluster_header"), e.to_string()))?,
            ))
        }
        Some(ClusterSpecifier::WeightedClusters(w)) => {
            let mut list = Vec::with_capacity(w.clusters.len());
            let mut sum: u64 = 0;
            for (i, c) in w.clusters.iter().enumerate() {
                values::name(&c.name).map_err(|e| {
                    (
                        format!("{field}.weighted_clusters.clusters[{i}].name"),
                        e.to_string(),
                    )
                })?;
                let weight = c.weight.map_or(0, |w| w.value);
                sum += u64::from(weight);
                if weight > 0 {
                    list.push(WeightedCluster {
                        name: c.name.clone(),
                        weight,
                    });
                }
            }
            #[allow(deprecated)]
            if let Some(total) = w.total_weight
                && u64::from(total.value) != sum
            {
                return Err((
                    format!("{field}.weighted_clusters.total_weight"),
                    format!("{} is not the sum of the weights ({sum})", total.value),
                ));
            }
            if list.is_empty() {
                return Err((
                    format!("{field}.weighted_clusters"),
                    "needs a cluster with a positive weight".into(),
                ));
            }
            model::RouteAction::WeightedClusters(list)
        }
        Some(_) => {
            return Err((
                field.to_owned(),
                "cluster specifier plugins are not supported".into(),
            ));
        }
        None => {
            return Err((
                field.to_owned(),
                "needs `cluster`, `cluster_header` or `weighted_clusters`".into(),
            ));
        }
    };
    if let Some(t) = &action.timeout {
        let d = duration(t).ok_or_else(|| {
            (
                format!("{field}.timeout"),
                "must not be negative".to_string(),
            )
        })?;
        out.timeout = if d.is_zero() {
            defaults::ROUTE_TIMEOUT_OFF
        } else {
            d
        };
    }
    if let Some(p) = &action.retry_policy {
        out.retry_policy = Some(crate::retry::convert(p, &format!("{field}.retry_policy"))?);
    }
    if let Some(t) = &action.idle_timeout {
        let d = duration(t).ok_or_else(|| {
            (
                format!("{field}.idle_timeout"),
                "must not be negative".to_string(),
            )
        })?;
        out.idle_timeout = Some(d);
    }
    if !action.prefix_rewrite.is_empty() {
        out.prefix_rewrite = Some(action.prefix_rewrite.clone());
    }
    if let Some(rr) = &action.regex_rewrite {
        if out.prefix_rewrite.is_some() {
            return Err((
                format!("{field}.regex_rewrite"),
                "not with prefix_rewrite".into(),
            ));
        }
        let pattern = rr.pattern.as_ref().map_or("", |p| p.regex.as_str());
        out.regex_rewrite = Some(
            RegexRewrite::new(pattern, &rr.substitution)
                .map_err(|e| (format!("{field}.regex_rewrite"), e.to_string()))?,
        );
    }
    match &action.host_rewrite_specifier {
        None => {}
        Some(HostRewriteSpecifier::HostRewriteLiteral(host)) => {
            values::authority(host)
                .map_err(|e| (format!("{field}.host_rewrite_literal"), e.to_string()))?;
            out.host_rewrite = Some(host.clone());
        }
        Some(HostRewriteSpecifier::AutoHostRewrite(v)) => out.auto_host_rewrite = v.value,
        Some(_) => {
            return Err((
                field.to_owned(),
                "only host_rewrite_literal and auto_host_rewrite are supported".into(),
            ));
        }
    }
    Ok(())
}

fn redirect_action(r: &RedirectAction, field: &str) -> Result<model::RouteAction, Refused> {
    let status = match RedirectResponseCode::try_from(r.response_code) {
        Ok(RedirectResponseCode::MovedPermanently) => 301,
        Ok(RedirectResponseCode::Found) => 302,
        Ok(RedirectResponseCode::SeeOther) => 303,
        Ok(RedirectResponseCode::TemporaryRedirect) => 307,
        Ok(RedirectResponseCode::PermanentRedirect) => 308,
        Err(_) => {
            return Err((format!("{field}.response_code"), "unknown code".into()));
        }
    };
    let scheme = match &r.scheme_rewrite_specifier {
        None | Some(SchemeRewriteSpecifier::HttpsRedirect(false)) => None,
        Some(SchemeRewriteSpecifier::HttpsRedirect(true)) => Some("https".to_owned()),
        Some(SchemeRewriteSpecifier::SchemeRedirect(s)) => {
            let lower = s.to_ascii_lowercase();
            if !matches!(lower.as_str(), "http" | "https") {
                return Err((
                    format!("{field}.scheme_redirect"),
                    format!("`{s}` is not `http` or `https`"),
                ));
            }
            Some(lower)
        }
    };
    let port = if r.port_redirect == 0 {
        None
    } else {
        Some(u16::try_from(r.port_redirect).map_err(|_| {
            (
                format!("{field}.port_redirect"),
                format!("{} is not a port", r.port_redirect),
            )
        })?)
    };
    let host = if r.host_redirect.is_empty() {
        None
    } else {
        values::authority(&r.host_redirect)
            .map_err(|e| (format!("{field}.host_redirect"), e.to_string()))?;
        Some(r.host_redirect.clone())
    };
    let path = match &r.path_rewrite_specifier {
        None => None,
        Some(PathRewriteSpecifier::PathRedirect(p)) => {
            values::url_path(p).map_err(|e| (format!("{field}.path_redirect"), e.to_string()))?;
            Some(RedirectPath::Replace(p.clone()))
        }
        Some(PathRewriteSpecifier::PrefixRewrite(p)) => {
            if !p.is_empty() {
                values::url_path(p)
                    .map_err(|e| (format!("{field}.prefix_rewrite"), e.to_string()))?;
            }
            Some(RedirectPath::Prefix(p.clone()))
        }
        Some(_) => {
            return Err((
                field.to_owned(),
                "only path_redirect and prefix_rewrite change a redirect's path".into(),
            ));
        }
    };
    Ok(model::RouteAction::Redirect(Redirect {
        status,
        scheme,
        host,
        port,
        path,
        strip_query: r.strip_query,
    }))
}

fn direct_response(d: &DirectResponseAction, field: &str) -> Result<model::RouteAction, Refused> {
    let status = u16::try_from(d.status)
        .ok()
        .filter(|s| (200..=599).contains(s))
        .ok_or_else(|| {
            (
                format!("{field}.status"),
                format!("{} is not a status from 200 to 599", d.status),
            )
        })?;
    let body = match d.body.as_ref().and_then(|b| b.specifier.as_ref()) {
        None => String::new(),
        Some(DataSpecifier::InlineString(s)) => s.clone(),
        Some(DataSpecifier::InlineBytes(b)) => String::from_utf8(b.clone()).map_err(|_| {
            (
                format!("{field}.body.inline_bytes"),
                "must be UTF-8".to_string(),
            )
        })?,
        Some(DataSpecifier::Filename(path)) => std::fs::read_to_string(path).map_err(|e| {
            (
                format!("{field}.body.filename"),
                format!("cannot read `{path}`: {e}"),
            )
        })?,
        Some(_) => {
            return Err((
                format!("{field}.body"),
                "only inline_string, inline_bytes and filename".into(),
            ));
        }
    };
    if matches!(status, 204 | 304) && !body.is_empty() {
        return Err((
            format!("{field}.body"),
            format!("a {status} response has no body"),
        ));
    }
    Ok(model::RouteAction::DirectResponse { status, body })
}
