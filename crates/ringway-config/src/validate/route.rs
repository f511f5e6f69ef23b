//! Routes: what they match and how they are tuned (the action is in
//! [`super::action`]).

use super::cluster::Known;
use super::{Ctx, action, given, value};
use crate::defaults;
use crate::model::{HeaderMatch, HeaderValueMatch, PathMatch, Route, RouteMatch};
use crate::wire;

/// The routes of one virtual host (`vhost` is its field path).
pub(super) fn routes(
    ctx: &mut Ctx<'_>,
    vhost: &str,
    routes: &[wire::Route],
    clusters: &Known<'_>,
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
            route(ctx, &format!("{vhost}.routes[{i}]"), wire, clusters),
            &mut out,
        ) {
            (Some(r), Some(all)) => all.push(r),
            _ => out = None,
        }
    }
    out
}

fn route(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::Route,
    clusters: &Known<'_>,
) -> Option<Route> {
    let matcher = route_match(ctx, &format!("{field}.match"), &wire.matcher);
    let action = action::action(ctx, field, wire, clusters);
    // As in Envoy, `0s` turns the route timeout off (long-lived streams).
    let timeout = match &wire.timeout {
        Some(t) => ctx
            .check(format!("{field}.timeout"), value::duration(t))
            .map(|d| {
                if d.is_zero() {
                    defaults::ROUTE_TIMEOUT_OFF
                } else {
                    d
                }
            }),
        None => Some(defaults::ROUTE_TIMEOUT),
    };
    let forwards = wire.cluster.is_some()
        || wire.cluster_from.is_some()
        || wire.cluster_header.is_some()
        || wire.weighted_clusters.is_some();
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
    let host_rewrite = wire.host_rewrite.as_ref().map(|text| {
        let at = format!("{field}.host_rewrite");
        if !forwards {
            ctx.error(at, "only applies to a route that forwards to a cluster");
            return None;
        }
        ctx.check(at, value::authority(text))?;
        Some(text.clone())
    });
    Some(Route {
        matcher: matcher?,
        action: action?,
        timeout: timeout?,
        prefix_rewrite: given(prefix_rewrite)?,
        host_rewrite: given(host_rewrite)?,
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
    let mut headers = Some(Vec::with_capacity(wire.headers.len()));
    for (i, h) in wire.headers.iter().enumerate() {
        match (
            header_match(ctx, &format!("{field}.headers[{i}]"), h),
            &mut headers,
        ) {
            (Some(h), Some(all)) => all.push(h),
            _ => headers = None,
        }
    }
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
        headers: headers?,
        methods: methods?,
    })
}

fn header_match(ctx: &mut Ctx<'_>, field: &str, wire: &wire::HeaderMatch) -> Option<HeaderMatch> {
    let name = ctx.check(format!("{field}.name"), value::header_name(&wire.name));
    let conditions = [
        ("exact", wire.exact.is_some()),
        ("prefix", wire.prefix.is_some()),
        ("regex", wire.regex.is_some()),
        ("present", wire.present.is_some()),
    ];
    let value = if conditions.iter().filter(|(_, given)| *given).count() > 1 {
        let given = action::present(&conditions);
        ctx.error(field, format!("has {given}: choose at most one"));
        None
    } else if let Some(exact) = &wire.exact {
        Some(HeaderValueMatch::Exact(exact.clone()))
    } else if let Some(prefix) = &wire.prefix {
        Some(HeaderValueMatch::Prefix(prefix.clone()))
    } else if let Some(regex) = &wire.regex {
        ctx.check(format!("{field}.regex"), value::pattern(regex))
            .map(HeaderValueMatch::Regex)
    } else if wire.present == Some(false) {
        ctx.error(
            format!("{field}.present"),
            "`present: false` is not a condition; to match requests without the header, write `present: true` and `invert: true`",
        );
        None
    } else {
        Some(HeaderValueMatch::Present)
    };
    Some(HeaderMatch {
        name: name?,
        value: value?,
        invert: wire.invert,
    })
}
