//! A route's action: where it forwards to, or what it answers itself.

use std::collections::BTreeMap;

use super::cluster::Known;
use super::{Ctx, given, value};
use crate::defaults;
use crate::model::{ClusterSource, Redirect, RedirectPath, RouteAction, WeightedCluster};
use crate::wire;

/// Exactly one of `cluster`, `weighted_clusters`, `direct_response` and
/// `redirect` (`field` is the route's path).
pub(super) fn action(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::Route,
    clusters: &Known<'_>,
) -> Option<RouteAction> {
    let mut actions = Vec::with_capacity(1);
    if let Some(name) = &wire.cluster {
        let known = clusters.check(ctx, &format!("{field}.cluster"), name);
        actions.push(known.then(|| RouteAction::Cluster(name.clone())));
    }
    if let Some(from) = wire.cluster_from {
        let wire::ClusterFrom::Authority = from;
        actions.push(Some(RouteAction::ClusterFrom(ClusterSource::Authority)));
    }
    if let Some(header) = &wire.cluster_header {
        let name = ctx.check(
            format!("{field}.cluster_header"),
            value::header_name(header),
        );
        actions.push(name.map(|n| RouteAction::ClusterFrom(ClusterSource::Header(n))));
    }
    if let Some(list) = &wire.weighted_clusters {
        actions.push(weighted(
            ctx,
            &format!("{field}.weighted_clusters"),
            list,
            clusters,
        ));
    }
    if let Some(direct) = &wire.direct_response {
        actions.push(direct_response(
            ctx,
            &format!("{field}.direct_response"),
            direct,
        ));
    }
    if let Some(redirect) = &wire.redirect {
        actions.push(self::redirect(ctx, &format!("{field}.redirect"), redirect));
    }
    match actions.len() {
        1 => actions.pop().flatten(),
        0 => {
            ctx.error(
                field,
                "needs an action: one of `cluster`, `cluster_from`, `cluster_header`, `weighted_clusters`, `direct_response` or `redirect`",
            );
            None
        }
        _ => {
            let given = present(&[
                ("cluster", wire.cluster.is_some()),
                ("cluster_from", wire.cluster_from.is_some()),
                ("cluster_header", wire.cluster_header.is_some()),
                ("weighted_clusters", wire.weighted_clusters.is_some()),
                ("direct_response", wire.direct_response.is_some()),
                ("redirect", wire.redirect.is_some()),
            ]);
            ctx.error(field, format!("has {given}: choose one action"));
            None
        }
    }
}

fn weighted(
    ctx: &mut Ctx<'_>,
    field: &str,
    list: &[wire::WeightedCluster],
    clusters: &Known<'_>,
) -> Option<RouteAction> {
    if list.is_empty() {
        ctx.error(field, "needs at least one cluster");
        return None;
    }
    let mut ok = true;
    let mut total = 0u64;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, entry) in list.iter().enumerate() {
        let at = format!("{field}[{i}]");
        ok &= clusters.check(ctx, &format!("{at}.name"), &entry.name);
        if let Some(first) = seen.get(entry.name.as_str()) {
            ctx.error(
                format!("{at}.name"),
                format!("`{}` is already listed at {field}[{first}]", entry.name),
            );
            ok = false;
        } else {
            seen.insert(&entry.name, i);
        }
        if entry.weight == 0 {
            ctx.error(
                format!("{at}.weight"),
                "must be at least 1 (leave the cluster out to send it nothing)",
            );
            ok = false;
        }
        total += u64::from(entry.weight);
    }
    if total > u64::from(u32::MAX) {
        ctx.error(
            field,
            format!("the weights add up to {total}, more than {}", u32::MAX),
        );
        ok = false;
    }
    let weighted = list.iter().map(|e| WeightedCluster {
        name: e.name.clone(),
        weight: e.weight,
    });
    ok.then(|| RouteAction::WeightedClusters(weighted.collect()))
}

fn direct_response(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: &wire::DirectResponse,
) -> Option<RouteAction> {
    if !(200..=599).contains(&wire.status) {
        ctx.error(
            format!("{field}.status"),
            format!("{} is not a status from 200 to 599", wire.status),
        );
        return None;
    }
    if matches!(wire.status, 204 | 304) && !wire.body.is_empty() {
        ctx.error(
            format!("{field}.body"),
            format!("a {} response has no body", wire.status),
        );
        return None;
    }
    Some(RouteAction::DirectResponse {
        status: wire.status,
        body: wire.body.clone(),
    })
}

fn redirect(ctx: &mut Ctx<'_>, field: &str, wire: &wire::Redirect) -> Option<RouteAction> {
    let status = wire.status.unwrap_or(defaults::REDIRECT_STATUS);
    let status = if matches!(status, 301 | 302 | 303 | 307 | 308) {
        Some(status)
    } else {
        ctx.error(
            format!("{field}.status"),
            format!("{status} is not one of 301, 302, 303, 307, 308"),
        );
        None
    };
    let scheme = wire.scheme.as_ref().map(|s| {
        let lower = s.to_ascii_lowercase();
        if matches!(lower.as_str(), "http" | "https") {
            Some(lower)
        } else {
            ctx.error(
                format!("{field}.scheme"),
                format!("`{s}` is not `http` or `https`"),
            );
            None
        }
    });
    let host = wire.host.as_ref().map(|h| {
        ctx.check(format!("{field}.host"), value::authority(h))
            .map(|()| h.clone())
    });
    if wire.port == Some(0) {
        ctx.error(format!("{field}.port"), "must be from 1 to 65535");
    }
    let path = match (&wire.path, &wire.prefix_rewrite) {
        (Some(_), Some(_)) => {
            ctx.error(field, "has both `path` and `prefix_rewrite`: choose one");
            Some(None)
        }
        (Some(p), None) => Some(
            ctx.check(format!("{field}.path"), value::url_path(p))
                .map(|()| RedirectPath::Replace(p.clone())),
        ),
        (None, Some(p)) => Some(
            ctx.check(format!("{field}.prefix_rewrite"), value::url_path(p))
                .map(|()| RedirectPath::Prefix(p.clone())),
        ),
        (None, None) => None,
    };
    if scheme.is_none() && host.is_none() && wire.port.is_none() && path.is_none() {
        ctx.error(
            field,
            "changes nothing: set `scheme`, `host`, `port`, `path` or `prefix_rewrite` (a redirect to the same URL would loop)",
        );
        return None;
    }
    // ringway's `path` has always been the whole new target: the request's
    // query goes unless `strip_query: false` says otherwise.
    let strip_query = wire
        .strip_query
        .unwrap_or(matches!(path, Some(Some(RedirectPath::Replace(_)))));
    Some(RouteAction::Redirect(Redirect {
        status: status?,
        scheme: given(scheme)?,
        host: given(host)?,
        port: wire.port.filter(|&p| p != 0),
        path: given(path)?,
        strip_query,
    }))
}

/// "`a` and `b`" for the options given.
pub(super) fn present(options: &[(&str, bool)]) -> String {
    let given: Vec<String> = options
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    given.join(" and ")
}
