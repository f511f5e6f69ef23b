//! The control plane's listeners (LDS) and route configurations (RDS), held
//! between updates. A listener whose routes come by RDS is warming until its
//! RouteConfiguration has arrived, then serves; a route configuration
//! change reaches every listener that names it, the file's included. Like
//! clusters, each update is checked whole before anything changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use envoy_types::pb::envoy::config::listener::v3::Listener as EnvoyListener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use ringway_config::model::{Listener, RouteAction, Snapshot, VirtualHost};
use ringway_envoy::{LISTENER_TYPE, ROUTE_TYPE};
use ringway_xds::Update;

use super::clusters::decode;

#[derive(Debug, Default)]
pub struct DynamicListeners {
    /// Listener names the config file defines: the control plane may not
    /// replace them.
    file_names: BTreeSet<String>,
    /// Route configurations the file's listeners take by RDS.
    file_routes: BTreeSet<String>,
    /// Accepted listeners, by name (those with `rds` wait for their routes).
    listeners: BTreeMap<String, Listener>,
    /// Route configurations received, by name.
    routes: BTreeMap<String, Arc<Vec<VirtualHost>>>,
}

/// What applying an update changed, for the caller to act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// What serves changed: publish a new snapshot.
    pub changed: bool,
    pub subscribe_routes: Vec<String>,
    pub unsubscribe_routes: Vec<String>,
}

impl DynamicListeners {
    /// Follows the config file: its listener names, and the routes its
    /// listeners take by RDS (returned, to subscribe to).
    pub fn set_file(&mut self, file: &Snapshot) -> Vec<String> {
        self.file_names = file.listeners.iter().map(|l| l.name.clone()).collect();
        self.file_routes = file
            .listeners
            .iter()
            .filter_map(|l| l.rds.clone())
            .collect();
        self.file_routes.iter().cloned().collect()
    }

    /// Whether this source adds anything to the file's snapshot.
    pub fn contributes(&self) -> bool {
        !self.listeners.is_empty() || !self.file_routes.is_empty()
    }

    /// Accepted listeners still waiting for their routes.
    pub fn warming(&self) -> usize {
        self.listeners.values().filter(|l| !self.ready(l)).count()
    }

    /// Listeners from the control plane that serve.
    pub fn serving(&self) -> usize {
        self.listeners.len() - self.warming()
    }

    /// Whether every route configuration the file's listeners name has
    /// arrived.
    pub fn file_routes_arrived(&self) -> bool {
        self.file_routes.iter().all(|r| self.routes.contains_key(r))
    }

    fn ready(&self, listener: &Listener) -> bool {
        listener
            .rds
            .as_ref()
            .is_none_or(|r| self.routes.contains_key(r))
    }

    /// Checks `update` whole, then applies it; the error is the NACK's
    /// message.
    pub fn apply(&mut self, update: &Update) -> Result<Applied, String> {
        match update.type_url.as_str() {
            LISTENER_TYPE => {
                let listeners = self.check_listeners(update)?;
                Ok(self.apply_listeners(listeners, &update.removed))
            }
            ROUTE_TYPE => {
                let routes = check_routes(update)?;
                Ok(self.apply_routes(routes, &update.removed))
            }
            other => Err(format!("resource type `{other}` is not supported")),
        }
    }

    fn check_listeners(&self, update: &Update) -> Result<Vec<Listener>, String> {
        let mut out = Vec::with_capacity(update.resources.len());
        let mut errors = Vec::new();
        for resource in &update.resources {
            let checked =
                decode::<EnvoyListener>(resource, LISTENER_TYPE, "Listener").and_then(|l| {
                    if l.name != resource.name {
                        return Err(format!(
                            "Listener `{}`: name: differs from the resource name `{}`",
                            l.name, resource.name
                        ));
                    }
                    if self.file_names.contains(&l.name) {
                        return Err(format!(
                            "Listener `{}`: name: the config file already defines this listener",
                            l.name
                        ));
                    }
                    ringway_envoy::listener(&l, &l.name).map_err(|e| e.to_string())
                });
            match checked {
                Ok(l) => out.push(l),
                Err(e) => errors.push(e),
            }
        }
        // Two listeners of one update on one address would not both bind.
        for (i, a) in out.iter().enumerate() {
            if a.address.port() != 0
                && let Some(b) = out[..i].iter().find(|b| b.address == a.address)
            {
                errors.push(format!(
                    "Listener `{}`: address: {} is also the address of `{}`",
                    a.name, a.address, b.name
                ));
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.join("; "))
        }
    }

    fn apply_listeners(&mut self, listeners: Vec<Listener>, removed: &[String]) -> Applied {
        let mut applied = Applied::default();
        for listener in listeners {
            if let Some(r) = &listener.rds {
                applied.subscribe_routes.push(r.clone());
            }
            let previous = self
                .listeners
                .insert(listener.name.clone(), listener.clone());
            applied.changed |= previous.as_ref() != Some(&listener);
        }
        for name in removed {
            applied.changed |= self.listeners.remove(name).is_some();
        }
        // Routes no listener names any more are let go.
        let wanted: BTreeSet<&String> = self
            .listeners
            .values()
            .filter_map(|l| l.rds.as_ref())
            .chain(self.file_routes.iter())
            .collect();
        let unwanted: Vec<String> = self
            .routes
            .keys()
            .filter(|r| !wanted.contains(r))
            .cloned()
            .collect();
        for name in unwanted {
            self.routes.remove(&name);
            applied.unsubscribe_routes.push(name);
        }
        applied
    }

    fn apply_routes(
        &mut self,
        routes: Vec<(String, Vec<VirtualHost>)>,
        removed: &[String],
    ) -> Applied {
        let mut applied = Applied::default();
        for (name, vhosts) in routes {
            let vhosts = Arc::new(vhosts);
            let previous = self.routes.insert(name, vhosts.clone());
            applied.changed |= previous.as_deref() != Some(&*vhosts);
        }
        for name in removed {
            // Gone: the listeners that name it answer 404 until it returns.
            applied.changed |= self
                .routes
                .insert(name.clone(), Arc::new(Vec::new()))
                .as_deref()
                != Some(&Vec::new());
        }
        applied
    }

    /// The clusters the received route configurations name, to subscribe
    /// to (those the control plane or the file does not have answer 503).
    pub fn route_clusters(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for vhosts in self.routes.values() {
            for route in vhosts.iter().flat_map(|v| &v.routes) {
                match &route.action {
                    RouteAction::Cluster(name) => names.push(name.clone()),
                    RouteAction::WeightedClusters(list) => {
                        names.extend(list.iter().map(|c| c.name.clone()));
                    }
                    _ => {}
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Fills in the routes of the file's RDS listeners and adds the control
    /// plane's listeners that serve (the file's own win on a name clash).
    pub fn merge_into(&self, snapshot: &mut Snapshot) {
        for listener in &mut snapshot.listeners {
            if let Some(vhosts) = listener.rds.as_ref().and_then(|r| self.routes.get(r)) {
                Arc::make_mut(listener).virtual_hosts = (**vhosts).clone();
            }
        }
        for listener in self.listeners.values() {
            if self.file_names.contains(&listener.name) || !self.ready(listener) {
                continue;
            }
            let mut listener = listener.clone();
            if let Some(vhosts) = listener.rds.as_ref().and_then(|r| self.routes.get(r)) {
                listener.virtual_hosts = (**vhosts).clone();
            }
            snapshot.listeners.push(Arc::new(listener));
        }
    }
}

fn check_routes(update: &Update) -> Result<Vec<(String, Vec<VirtualHost>)>, String> {
    let mut out = Vec::with_capacity(update.resources.len());
    let mut errors = Vec::new();
    for resource in &update.resources {
        let checked = decode::<RouteConfiguration>(resource, ROUTE_TYPE, "RouteConfiguration")
            .and_then(|rc| {
                if rc.name != resource.name {
                    return Err(format!(
                        "RouteConfiguration `{}`: name: differs from the resource name `{}`",
                        rc.name, resource.name
                    ));
                }
                ringway_envoy::virtual_hosts(&rc).map_err(|e| e.to_string())
            });
        match checked {
            Ok(v) => out.push((resource.name.clone(), v)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("; "))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
