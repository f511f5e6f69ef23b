//! Routes: what they match and how they are tuned (the action is in
//! [`super::action`]).

use super::cluster::Known;
use super::{Ctx, action, given, matcher, value};
use crate::defaults;
use crate::model::{PathMatch, RegexRewrite, RetryPolicy, Route, RouteMatch};
use crate::wire;

/// The routes of one virtual host (`vhost` is its field path).
pub(super) fn routes(
    ctx: &mut Ctx<'_>,
    vhost: &str,
    routes: &[wire::Route],
    clusters: &Known<'_>,
    vhost_retry: Option<&RetryPolicy>,
) -> Option<Vec<Route>> {
    if routes.is_empty() {
        ctx.error(
            format!("{vhost}.routes"),
            "a virtual host needs at least one route",
        );
        return None;
    }
    let mut out = Some(Vec::with_capacity(routes.len()));
    for (i, wire) in routes.iter().enumerate() {
        match (
            route(ctx, &format!("{vhost}.routes[{i}]"), wire, clusters)
                .map(|r| with_vhost_retry(r, vhost_retry)),
            &mut out,
        ) {
            (Some(r), Some(all)) => all.push(r),
            _ => out = None,
        }
    }
    out
}

/// A route's `timeout` (`field` is its path): the default when left out,
/// and, as in Envoy, `0s` turns it off (long-lived streams).
pub(super) fn timeout(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: Option<&wire::DurationText>,
) -> Option<std::time::Duration> {
    match wire {
        Some(t) => ctx.check(field, value::duration(t)).map(|d| {
            if d.is_zero() {
                defaults::ROUTE_TIMEOUT_OFF
            } else {
                d
            }
        }),
        None => Some(defaults::ROUTE_TIMEOUT),
    }
}

/// A forwarding route without a retry policy takes its virtual host's.
fn with_vhost_retry(mut route: Route, vhost_retry: Option<&RetryPolicy>) -> Route {
    if route.retry_policy.is_none() && route.action.forwards() {
        route.retry_policy = vhost_retry.cloned();
    }
    route
}

fn route(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::Route,
    clusters: &Known<'_>,
) -> Option<Route> {
    let matcher = route_match(ctx, &format!("{field}.match"), &wire.matcher);
    let action = action::action(ctx, field, wire, clusters);
    let timeout = timeout(ctx, &format!("{field}.timeout"), wire.timeout.as_ref());
    let forwards = wire.cluster.is_some()
        || wire.cluster_from.is_some()
        || wire.cluster_header.is_some()
        || wire.weighted_clusters.is_some();
    let retry_policy = wire.retry_policy.as_ref().map(|p| {
        let at = format!("{field}.retry_policy");
        if !forwards {
            ctx.error(at, "only applies to a route that forwards to a cluster");
            return None;
        }
        super::retry::retry_policy(ctx, &at, p)
    });
    let idle_timeout = wire.idle_timeout.as_ref().map(|t| {
        let at = format!("{field}.idle_timeout");
        if !forwards {
            ctx.error(at, "only applies to a route that forwards to a cluster");
            return None;
        }
        ctx.check(at, value::duration(t))
    });
    let on_demand = wire.on_demand.as_ref().map(|od| {
        let at = format!("{field}.on_demand");
        if !clusters.dynamic() {
            ctx.error(
                at,
                "needs somewhere to ask: add an `xds` or a `eureka` block to the config",
            );
            return None;
        }
        if wire.cluster.is_none() && wire.cluster_from.is_none() && wire.cluster_header.is_none() {
            ctx.error(
                at,
                "only applies to a route with `cluster`, `cluster_from` or `cluster_header`",
            );
            return None;
        }
        match &od.timeout {
            Some(t) => ctx.check(format!("{at}.timeout"), value::positive_duration(t)),
            None => Some(defaults::ON_DEMAND_TIMEOUT),
        }
    });
    let prefix_rewrite = wire.prefix_rewrite.as_ref().map(|text| {
        let at = format!("{field}.prefix_rewrite");
        if wire.matcher.prefix.is_none() {
            ctx.error(at, "only applies to a route whose `match` has a `prefix`");
            return None;
        }
        if !forwards {
            ctx.error(at, "only applies to a route that forwards to a cluster");
            return None;
        }
        if !text.is_empty() {
            ctx.check(at, value::url_path(text))?;
        }
        Some(text.clone())
    });
    let regex_rewrite = wire
        .regex_rewrite
        .as_ref()
        .map(|rewrite| regex_rewrite(ctx, field, wire, rewrite, forwards));
    let host_rewrite = wire.host_rewrite.as_ref().map(|text| {
        let at = format!("{field}.host_rewrite");
        if !forwards {
            ctx.error(at, "only applies to a route that forwards to a cluster");
            return None;
        }
        ctx.check(at, value::authority(text))?;
        Some(text.clone())
    });
    let auto_host_rewrite = if !wire.auto_host_rewrite {
        Some(false)
    } else if wire.host_rewrite.is_some() {
        ctx.error(
            format!("{field}.auto_host_rewrite"),
            "has `host_rewrite` too: choose one",
        );
        None
    } else if !forwards {
        ctx.error(
            format!("{field}.auto_host_rewrite"),
            "only applies to a route that forwards to a cluster",
        );
        None
    } else {
        Some(true)
    };
    Some(Route {
        matcher: matcher?,
        action: action?,
        timeout: timeout?,
        idle_timeout: given(idle_timeout)?,
        retry_policy: given(retry_policy)?,
        prefix_rewrite: given(prefix_rewrite)?,
        regex_rewrite: given(regex_rewrite)?,
        host_rewrite: given(host_rewrite)?,
        auto_host_rewrite: auto_host_rewrite?,
        max_request_body_bytes: wire.max_request_body_bytes,
        on_demand: given(on_demand)?,
    })
}

fn route_match(ctx: &mut Ctx<'_>, field: &str, wire: &wire::RouteMatch) -> Option<RouteMatch> {
    let path = match (&wire.prefix, &wire.path, &wire.regex) {
        (Some(p), None, None) => ctx
            .check(format!("{field}.prefix"), value::url_path(p))
            .map(|()| PathMatch::Prefix(p.clone())),
        (None, Some(p), None) => ctx
            .check(format!("{field}.path"), value::url_path(p))
            .map(|()| PathMatch::Exact(p.clone())),
        (None, None, Some(r)) => ctx
            .check(format!("{field}.regex"), value::pattern(r))
            .map(PathMatch::Regex),
        (None, None, None) => {
            ctx.error(
                field,
                "needs one of `prefix`, `path` or `regex` (`prefix: \"/\"` matches every request)",
            );
            None
        }
        _ => {
            let given = action::present(&[
                ("prefix", wire.prefix.is_some()),
                ("path", wire.path.is_some()),
                ("regex", wire.regex.is_some()),
            ]);
            ctx.error(field, format!("has {given}: choose one"));
            None
        }
    };
    let headers = matcher::each(
        ctx,
        &format!("{field}.headers"),
        &wire.headers,
        matcher::header_match,
    );
    let query_parameters = matcher::each(
        ctx,
        &format!("{field}.query_parameters"),
        &wire.query_parameters,
        matcher::query_parameter,
    );
    let mut methods = Some(Vec::with_capacity(wire.methods.len()));
    for (i, m) in wire.methods.iter().enumerate() {
        let at = format!("{field}.methods[{i}]");
        let method = ctx.check(&at, value::method(m));
        match (method, &mut methods) {
            (Some(m), Some(all)) if all.contains(&m) => {
                ctx.error(at, format!("{m} is listed twice"));
                methods = None;
            }
            (Some(m), Some(all)) => all.push(m),
            _ => methods = None,
        }
    }
    Some(RouteMatch {
        path: path?,
        case_sensitive: wire.case_sensitive.unwrap_or(true),
        headers: headers?,
        query_parameters: query_parameters?,
        methods: methods?,
    })
}

fn regex_rewrite(
    ctx: &mut Ctx<'_>,
    field: &str,
    route: &wire::Route,
    wire: &wire::RegexRewrite,
    forwards: bool,
) -> Option<RegexRewrite> {
    let at = format!("{field}.regex_rewrite");
    if !forwards {
        ctx.error(at, "only applies to a route that forwards to a cluster");
        return None;
    }
    if route.prefix_rewrite.is_some() {
        ctx.error(at, "has `prefix_rewrite` too: choose one");
        return None;
    }
    // It becomes part of the request line and `:path`.
    if let Some(bad) = wire.substitution.chars().find(|c| !c.is_ascii_graphic()) {
        ctx.error(
            format!("{at}.substitution"),
            format!("must not contain spaces, control characters or non-ASCII ({bad:?}): percent-encode them"),
        );
        return None;
    }
    RegexRewrite::new(&wire.pattern.regex, &wire.substitution)
        .map_err(|e| {
            let part = match e {
                crate::model::RegexRewriteError::Pattern(_) => "pattern.regex",
                _ => "substitution",
            };
            ctx.error(format!("{at}.{part}"), e);
        })
        .ok()
}
