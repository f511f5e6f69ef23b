//! Wire types to the validated [`Snapshot`], collecting every problem.
//!
//! Each step reports into a [`Ctx`] and carries on, so that one run lists
//! all the mistakes in a file; the snapshot is built only if none was found.

mod access_log;
mod action;
mod cluster;
mod http2;
mod listener;
mod matcher;
mod retry;
mod route;
mod route_config;
pub(crate) mod value;

pub(crate) use route_config::{validate_route_configurations, validate_route_template};

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use crate::error::{ConfigError, ConfigErrors};
use crate::model::{Admin, Eureka, IoDriver, Snapshot, Workers, Xds};
use crate::resolve::Resolve;
use crate::wire;

/// Collects the errors of one file.
pub(crate) struct Ctx<'a> {
    file: &'a str,
    errors: Vec<ConfigError>,
}

impl<'a> Ctx<'a> {
    fn new(file: &'a str) -> Self {
        Self {
            file,
            errors: Vec::new(),
        }
    }

    /// Records a problem with `field`.
    fn error(&mut self, field: impl Into<String>, reason: impl Display) {
        self.errors
            .push(ConfigError::new(self.file, field, reason.to_string()));
    }

    /// The value, or `None` with the error recorded against `field`.
    fn check<T, E: Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.error(field, e)).ok()
    }
}

/// An optional setting, checked if given: `Some(None)` when it was left
/// out, `None` when it was given but is invalid (and so was reported).
fn given<T>(setting: Option<Option<T>>) -> Option<Option<T>> {
    match setting {
        None => Some(None),
        Some(checked) => checked.map(Some),
    }
}

/// Validates a parsed file into a snapshot named `source`.
pub(crate) fn validate(
    source: &str,
    file: &wire::File,
    resolver: &dyn Resolve,
) -> Result<Snapshot, ConfigErrors> {
    let mut ctx = Ctx::new(source);
    let admin = admin(&mut ctx, file.admin.as_ref());
    let workers = workers(&mut ctx, file.workers.as_ref());
    let xds = xds(&mut ctx, file.xds.as_ref());
    let eureka = eureka(&mut ctx, file.eureka.as_ref());
    let known = cluster::Known::new(&file.clusters, file.xds.is_some() || file.eureka.is_some());
    let dynamic_listeners = file.xds.as_ref().is_some_and(|x| x.all_listeners);
    let listeners = listener::listeners(&mut ctx, &file.listeners, &known, dynamic_listeners);
    let clusters = cluster::clusters(&mut ctx, &file.clusters, resolver);
    cluster::check_eureka_block(&mut ctx, &file.clusters, file.eureka.is_some());
    if let (Some(admin), Some(listeners)) = (&admin, &listeners) {
        listener::check_admin_address(&mut ctx, admin, listeners);
    }
    if !ctx.errors.is_empty() {
        return Err(ConfigErrors { errors: ctx.errors });
    }
    match (admin, workers, clusters, listeners, xds, eureka) {
        (Some(admin), Some(workers), Some(clusters), Some(listeners), Some(xds), Some(eureka)) => {
            Ok(Snapshot {
                source: source.to_owned(),
                admin,
                workers,
                listeners: listeners.into_iter().map(Arc::new).collect(),
                clusters: clusters
                    .into_iter()
                    .map(|c| (c.name.clone(), Arc::new(c)))
                    .collect::<BTreeMap<_, _>>(),
                xds,
                eureka,
            })
        }
        // Every `None` above was reported; this is only a safety net.
        _ => Err(ConfigError::new(source, ConfigError::WHOLE_FILE, "invalid config").into()),
    }
}

/// Validates a list of clusters on its own.
pub(crate) fn validate_clusters(
    source: &str,
    list: &[wire::Cluster],
    resolver: &dyn Resolve,
) -> Result<Vec<crate::model::Cluster>, ConfigErrors> {
    let mut ctx = Ctx::new(source);
    let clusters = cluster::clusters(&mut ctx, list, resolver);
    match clusters {
        Some(c) if ctx.errors.is_empty() => Ok(c),
        _ if !ctx.errors.is_empty() => Err(ConfigErrors { errors: ctx.errors }),
        _ => Err(ConfigError::new(source, ConfigError::WHOLE_FILE, "invalid clusters").into()),
    }
}

/// The `xds` block: `Some(None)` when there is none.
fn xds(ctx: &mut Ctx<'_>, xds: Option<&wire::Xds>) -> Option<Option<Xds>> {
    let Some(xds) = xds else {
        return Some(None);
    };
    let list: Vec<String> = match &xds.address {
        wire::XdsAddress::One(a) => vec![a.clone()],
        wire::XdsAddress::Many(list) => list.clone(),
    };
    if list.is_empty() {
        ctx.error("xds.address", "needs at least one `host:port`");
    }
    let mut address = Some(());
    for (i, a) in list.iter().enumerate() {
        let field = match &xds.address {
            wire::XdsAddress::One(_) => "xds.address".to_owned(),
            wire::XdsAddress::Many(_) => format!("xds.address[{i}]"),
        };
        address = address.and(ctx.check(field, value::authority(a)));
    }
    let initial_fetch_timeout = match &xds.initial_fetch_timeout {
        Some(t) => ctx.check("xds.initial_fetch_timeout", value::positive_duration(t)),
        None => Some(crate::defaults::XDS_INITIAL_FETCH_TIMEOUT),
    };
    address?;
    Some(Some(Xds {
        addresses: list,
        node_id: xds.node.id.trim().to_owned(),
        node_cluster: xds.node.cluster.clone(),
        node_zone: xds.node.zone.clone(),
        initial_fetch_timeout: initial_fetch_timeout?,
        all_clusters: xds.all_clusters,
        all_listeners: xds.all_listeners,
    }))
}

/// The `eureka` block: `Some(None)` when there is none.
fn eureka(ctx: &mut Ctx<'_>, eureka: Option<&wire::Eureka>) -> Option<Option<Eureka>> {
    let Some(eureka) = eureka else {
        return Some(None);
    };
    let mut ok = true;
    if eureka.urls.is_empty() {
        ctx.error(
            "eureka.urls",
            "needs at least one URL, like http://127.0.0.1:8761/eureka/",
        );
        ok = false;
    }
    let mut urls = Vec::with_capacity(eureka.urls.len());
    for (i, text) in eureka.urls.iter().enumerate() {
        match ringway_eureka::ServerUrl::parse(text) {
            Ok(url) => urls.push(url.to_string()),
            Err(err) => {
                ctx.error(format!("eureka.urls[{i}]"), err);
                ok = false;
            }
        }
    }
    let fetch_interval = match &eureka.fetch_interval {
        Some(t) => ctx.check("eureka.fetch_interval", value::positive_duration(t)),
        None => Some(crate::defaults::EUREKA_FETCH_INTERVAL),
    };
    let fetch_interval = fetch_interval?;
    ok.then_some(Some(Eureka {
        urls,
        fetch_interval,
    }))
}

fn admin(ctx: &mut Ctx<'_>, admin: Option<&wire::Admin>) -> Option<Admin> {
    let Some(text) = admin.and_then(|a| a.address.as_deref()) else {
        return Some(Admin { address: None });
    };
    let address = ctx.check("admin.address", value::listen_address(text))?;
    Some(Admin {
        address: Some(address),
    })
}

fn workers(ctx: &mut Ctx<'_>, workers: Option<&wire::Workers>) -> Option<Workers> {
    let Some(workers) = workers else {
        return Some(Workers::default());
    };
    let count = match workers.count {
        Some(0) => {
            ctx.error(
                "workers.count",
                "must be at least 1 (leave it out for one per CPU)",
            );
            None
        }
        count => Some(count),
    };
    let cpu_set = match &workers.cpu_set {
        Some(cpus) => ctx.check("workers.cpu_set", value::cpu_set(cpus)).map(Some),
        None => Some(None),
    };
    let io_driver = workers.io_driver.map(|d| match d {
        wire::IoDriver::Auto => IoDriver::Auto,
        wire::IoDriver::Uring => IoDriver::Uring,
        wire::IoDriver::Epoll => IoDriver::Epoll,
    });
    Some(Workers {
        count: count?,
        cpu_set: cpu_set?,
        io_driver,
    })
}
