//! The clusters the control plane supplies, as the control thread holds
//! them between updates: accepted Cluster resources, the endpoints of each
//! assignment, and from those the clusters that serve. Without I/O.
//!
//! An update is checked whole before anything in it is applied, so a
//! refused update (a NACK) leaves every cluster as it was. A cluster whose
//! endpoints come by EDS is warming until its assignment has arrived; if an
//! older version of it serves, that one keeps serving until then
//! (make-before-break).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use envoy_types::pb::envoy::config::cluster::v3::Cluster as EnvoyCluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::service::discovery::v3::Resource;
use prost::Message;
use ringway_config::model::Cluster;
use ringway_envoy::{Assignment, ClusterSpec, EndpointSource, Names};
use ringway_xds::{CLUSTER_TYPE, ENDPOINTS_TYPE, Update};

/// Cluster names answered "does not exist" and kept subscribed (so that
/// they arrive by push if they appear), at most; older ones beyond this
/// are unsubscribed.
const MAX_MISSING: usize = 4096;

#[derive(Debug, Default)]
pub struct DynamicClusters {
    /// Names the config file defines: the control plane may not replace them.
    file_names: BTreeSet<String>,
    specs: BTreeMap<String, ClusterSpec>,
    /// Endpoints by assignment (EDS service) name.
    assignments: BTreeMap<String, Assignment>,
    /// The EDS clusters of each assignment name.
    users: BTreeMap<String, BTreeSet<String>>,
    serving: BTreeMap<String, Arc<Cluster>>,
    /// Subscribed names the control plane says do not exist, each with
    /// the order it was found missing in (oldest first out).
    missing: BTreeMap<String, u64>,
    missing_seq: u64,
}

/// What applying an update changed, for the caller to act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The serving clusters changed: publish a new snapshot.
    pub changed: bool,
    /// Names now known not to exist: requests waiting for them end.
    pub missing: Vec<String>,
    pub subscribe_endpoints: Vec<String>,
    pub unsubscribe_endpoints: Vec<String>,
    /// Missing names to stop asking about.
    pub unsubscribe_clusters: Vec<String>,
}

impl DynamicClusters {
    pub fn set_file_names(&mut self, names: impl IntoIterator<Item = String>) {
        self.file_names = names.into_iter().collect();
    }

    /// The clusters that serve now.
    pub fn serving(&self) -> &BTreeMap<String, Arc<Cluster>> {
        &self.serving
    }

    pub fn is_missing(&self, name: &str) -> bool {
        self.missing.contains_key(name)
    }

    /// Accepted clusters still waiting for their endpoints.
    pub fn warming(&self) -> usize {
        self.specs
            .keys()
            .filter(|n| !self.serving.contains_key(*n))
            .count()
    }

    /// Checks `update` whole, then applies it; the error is the NACK's
    /// message, listing each refused resource with its field and why.
    pub fn apply(&mut self, update: &Update) -> Result<Applied, String> {
        match update.type_url.as_str() {
            CLUSTER_TYPE => {
                let specs = self.check_clusters(&update.resources)?;
                Ok(self.apply_clusters(specs, &update.removed))
            }
            ENDPOINTS_TYPE => {
                let assignments = check_assignments(&update.resources)?;
                Ok(self.apply_assignments(assignments, &update.removed))
            }
            other => Err(format!("resource type `{other}` is not supported")),
        }
    }

    fn check_clusters(&self, resources: &[Resource]) -> Result<Vec<ClusterSpec>, String> {
        let mut specs = Vec::with_capacity(resources.len());
        let mut errors = Vec::new();
        for resource in resources {
            let checked = decode::<EnvoyCluster>(resource, CLUSTER_TYPE, "Cluster").and_then(|c| {
                if c.name != resource.name {
                    return Err(format!(
                        "Cluster `{}`: name: differs from the resource name `{}`",
                        c.name, resource.name
                    ));
                }
                if self.file_names.contains(&c.name) {
                    return Err(format!(
                        "Cluster `{}`: name: the config file already defines this cluster",
                        c.name
                    ));
                }
                ringway_envoy::cluster_spec(&c, Names::Refuse).map_err(|e| e.to_string())
            });
            match checked {
                Ok(spec) => specs.push(spec),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(specs)
        } else {
            Err(errors.join("; "))
        }
    }

    fn apply_clusters(&mut self, specs: Vec<ClusterSpec>, removed: &[String]) -> Applied {
        let mut applied = Applied::default();
        for spec in specs {
            let name = spec.name.clone();
            self.missing.remove(&name);
            let cluster = match &spec.endpoints {
                EndpointSource::Static(endpoints) => Some(spec.with_endpoints(endpoints.clone())),
                EndpointSource::Eds { service_name } => {
                    applied.subscribe_endpoints.push(service_name.clone());
                    self.assignments
                        .get(service_name)
                        .map(|a| spec.with_endpoints(a.endpoints(spec.locality_weighted).to_vec()))
                }
            };
            if let Some(cluster) = cluster {
                applied.changed |= self.serve(cluster);
            }
            if let EndpointSource::Eds { service_name } = &spec.endpoints {
                self.users
                    .entry(service_name.clone())
                    .or_default()
                    .insert(name.clone());
            }
            if let Some(old) = self.specs.insert(name.clone(), spec) {
                self.release_assignment(&name, &old, &mut applied);
            }
        }
        for name in removed {
            if let Some(old) = self.specs.remove(name) {
                self.release_assignment(name, &old, &mut applied);
            }
            applied.changed |= self.serving.remove(name).is_some();
            if !self.missing.contains_key(name) {
                self.missing_seq += 1;
                self.missing.insert(name.clone(), self.missing_seq);
            }
            applied.missing.push(name.clone());
        }
        if self.missing.len() > MAX_MISSING {
            let mut by_age: Vec<(u64, String)> = self
                .missing
                .iter()
                .map(|(n, seq)| (*seq, n.clone()))
                .collect();
            by_age.sort_unstable();
            let excess = self.missing.len() - MAX_MISSING;
            for (_, name) in by_age.into_iter().take(excess) {
                self.missing.remove(&name);
                applied.unsubscribe_clusters.push(name);
            }
        }
        applied
    }

    /// Cluster `name` no longer uses the assignment its `old` spec named
    /// (unless its new spec names it too); unsubscribes it when no
    /// cluster uses it any more.
    fn release_assignment(&mut self, name: &str, old: &ClusterSpec, applied: &mut Applied) {
        let EndpointSource::Eds { service_name } = &old.endpoints else {
            return;
        };
        let still_mine = self.specs.get(name).is_some_and(|s| {
            matches!(&s.endpoints, EndpointSource::Eds { service_name: n } if n == service_name)
        });
        if still_mine {
            return;
        }
        let Some(users) = self.users.get_mut(service_name) else {
            return;
        };
        users.remove(name);
        if users.is_empty() {
            self.users.remove(service_name);
            self.assignments.remove(service_name);
            applied.unsubscribe_endpoints.push(service_name.clone());
            applied.subscribe_endpoints.retain(|n| n != service_name);
        }
    }

    fn apply_assignments(
        &mut self,
        assignments: Vec<(String, Assignment)>,
        removed: &[String],
    ) -> Applied {
        let mut applied = Applied::default();
        let mut touched = Vec::with_capacity(assignments.len() + removed.len());
        for (name, endpoints) in assignments {
            touched.push(name.clone());
            self.assignments.insert(name, endpoints);
        }
        for name in removed {
            // The assignment is gone: its clusters stay, with no endpoints.
            if self.assignments.contains_key(name) {
                self.assignments.insert(
                    name.clone(),
                    Assignment {
                        plain: Vec::new(),
                        locality_weighted: Vec::new(),
                    },
                );
                touched.push(name.clone());
            }
        }
        for service in touched {
            let Some(assignment) = self.assignments.get(&service) else {
                continue;
            };
            let clusters: Vec<Cluster> = self
                .users
                .get(&service)
                .into_iter()
                .flatten()
                .filter_map(|name| self.specs.get(name))
                .map(|s| s.with_endpoints(assignment.endpoints(s.locality_weighted).to_vec()))
                .collect();
            for cluster in clusters {
                applied.changed |= self.serve(cluster);
            }
        }
        applied
    }

    /// Puts `cluster` in service; whether that changed anything.
    fn serve(&mut self, cluster: Cluster) -> bool {
        if self
            .serving
            .get(&cluster.name)
            .is_some_and(|c| **c == cluster)
        {
            return false;
        }
        self.serving.insert(cluster.name.clone(), Arc::new(cluster));
        true
    }
}

fn check_assignments(resources: &[Resource]) -> Result<Vec<(String, Assignment)>, String> {
    let mut out = Vec::with_capacity(resources.len());
    let mut errors = Vec::new();
    for resource in resources {
        let checked = decode::<ClusterLoadAssignment>(
            resource,
            ENDPOINTS_TYPE,
            "ClusterLoadAssignment",
        )
        .and_then(|cla| {
            if cla.cluster_name != resource.name {
                return Err(format!(
                    "ClusterLoadAssignment `{}`: cluster_name: differs from the resource name `{}`",
                    cla.cluster_name, resource.name
                ));
            }
            ringway_envoy::assignment(&cla).map_err(|e| e.to_string())
        });
        match checked {
            Ok(endpoints) => out.push((resource.name.clone(), endpoints)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("; "))
    }
}

pub(super) fn decode<M: Message + Default>(
    resource: &Resource,
    type_url: &str,
    kind: &str,
) -> Result<M, String> {
    let Some(any) = &resource.resource else {
        return Err(format!("{kind} `{}`: resource: missing", resource.name));
    };
    if any.type_url != type_url {
        return Err(format!(
            "{kind} `{}`: resource.type_url: `{}` where `{type_url}` was expected",
            resource.name, any.type_url
        ));
    }
    M::decode(any.value.as_slice())
        .map_err(|e| format!("{kind} `{}`: cannot decode: {e}", resource.name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
