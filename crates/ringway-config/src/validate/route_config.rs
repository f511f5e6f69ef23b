//! Route configurations on their own (a control plane's routes folder),
//! and the route template a control plane generates routes from.

use std::collections::BTreeMap;

use super::cluster::Known;
use super::{Ctx, listener, route, value};
use crate::error::ConfigErrors;
use crate::model::{RouteConfiguration, RouteTemplate};
use crate::wire;

/// Validates `route_configurations:`. Cluster names are checked as names
/// only: the proxy asks its control plane for them.
pub(crate) fn validate_route_configurations(
    source: &str,
    file: &wire::RoutesFile,
) -> Result<Vec<RouteConfiguration>, ConfigErrors> {
    let mut ctx = Ctx::new(source);
    let known = Known::new(&[], true);
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(file.route_configurations.len());
    for (i, config) in file.route_configurations.iter().enumerate() {
        let field = format!("route_configurations[{i}]");
        ctx.check(format!("{field}.name"), value::name(&config.name));
        if let Some(first) = names.get(config.name.as_str()) {
            ctx.error(
                format!("{field}.name"),
                format!(
                    "`{}` is already the name of route_configurations[{first}]",
                    config.name
                ),
            );
        } else {
            names.insert(&config.name, i);
        }
        if let Some(virtual_hosts) =
            listener::virtual_hosts(&mut ctx, &field, &config.virtual_hosts, &known)
        {
            out.push(RouteConfiguration {
                name: config.name.clone(),
                virtual_hosts,
            });
        }
    }
    finish(ctx, out)
}

/// Validates a route template's `route:`.
pub(crate) fn validate_route_template(
    source: &str,
    file: &wire::RouteTemplateFile,
) -> Result<RouteTemplate, ConfigErrors> {
    let mut ctx = Ctx::new(source);
    let timeout = route::timeout(&mut ctx, "route.timeout", file.route.timeout.as_ref());
    let template = RouteTemplate {
        timeout: timeout.unwrap_or_default(),
    };
    finish(ctx, template)
}

/// `value` when nothing was reported (a `None` on the way always was),
/// else every error.
fn finish<T>(ctx: Ctx<'_>, value: T) -> Result<T, ConfigErrors> {
    if ctx.errors.is_empty() {
        Ok(value)
    } else {
        Err(ConfigErrors { errors: ctx.errors })
    }
}
