//! The documents the registry answers reads with.

use std::collections::BTreeMap;

use ringway_eureka::{Application, Applications, Instance, Registry, Status};

use super::State;

// === impl State ===

impl State {
    /// `GET /apps`: everything, with the hashcode of what is sent.
    pub fn applications(&self) -> Applications {
        let applications: Vec<Application> = self
            .apps
            .iter()
            .map(|(name, instances)| Application {
                name: name.clone(),
                instances: instances.values().map(|e| e.instance.clone()).collect(),
            })
            .collect();
        document(self.version, applications)
    }

    /// `GET /apps/delta`: every change kept (an instance once per change,
    /// oldest first), with the hashcode of the whole registry.
    pub fn delta(&self, now: i64) -> Applications {
        let mut applications: Vec<Application> = Vec::new();
        let since = now.saturating_sub(self.delta_retention_ms);
        for change in self.recent.iter().filter(|c| c.at_ms >= since) {
            let instance = change.instance.clone();
            match applications.iter_mut().find(|a| a.name == instance.app) {
                Some(app) => app.instances.push(instance),
                None => applications.push(Application {
                    name: instance.app.clone(),
                    instances: vec![instance],
                }),
            }
        }
        Applications {
            versions_delta: self.version,
            apps_hashcode: ringway_eureka::model::hashcode(self.statuses()),
            applications,
        }
    }

    /// `GET /apps/{APP}`.
    pub fn application(&self, app: &str) -> Option<Application> {
        let name = app.to_ascii_uppercase();
        self.apps.get(&name).map(|instances| Application {
            name,
            instances: instances.values().map(|e| e.instance.clone()).collect(),
        })
    }

    /// `GET /apps/{APP}/{id}`.
    pub fn instance(&self, app: &str, id: &str) -> Option<&Instance> {
        self.apps
            .get(&app.to_ascii_uppercase())
            .and_then(|a| a.get(id))
            .map(|e| &e.instance)
    }

    /// `GET /instances/{id}`: the first application holding that id.
    pub fn instance_by_id(&self, id: &str) -> Option<&Instance> {
        self.apps
            .values()
            .find_map(|a| a.get(id))
            .map(|e| &e.instance)
    }

    /// `GET /vips/{vip}` (`secure`: `/svips/{svip}`): the instances whose
    /// comma-separated list has exactly that entry (case counts, as in the
    /// Netflix server), with the hashcode of that subset.
    pub fn vip(&self, vip: &str, secure: bool) -> Applications {
        let applications: Vec<Application> = self
            .apps
            .iter()
            .filter_map(|(name, instances)| {
                let instances: Vec<Instance> = instances
                    .values()
                    .filter(|e| lists_vip(&e.instance, vip, secure))
                    .map(|e| e.instance.clone())
                    .collect();
                (!instances.is_empty()).then(|| Application {
                    name: name.clone(),
                    instances,
                })
            })
            .collect();
        document(-1, applications)
    }

    /// Every instance with its current status.
    pub fn snapshot(&self) -> Registry {
        let mut registry = Registry::default();
        for entry in self.apps.values().flat_map(BTreeMap::values) {
            registry.upsert(entry.instance.clone());
        }
        registry
    }

    fn statuses(&self) -> impl Iterator<Item = Status> + '_ {
        self.apps
            .values()
            .flat_map(BTreeMap::values)
            .map(|e| e.instance.status)
    }
}

fn lists_vip(instance: &Instance, vip: &str, secure: bool) -> bool {
    let list = if secure {
        &instance.secure_vip_address
    } else {
        &instance.vip_address
    };
    list.as_deref()
        .is_some_and(|list| list.split(',').any(|entry| entry == vip))
}

fn document(versions_delta: i64, applications: Vec<Application>) -> Applications {
    let apps_hashcode = ringway_eureka::model::hashcode(
        applications
            .iter()
            .flat_map(|a| a.instances.iter().map(|i| i.status)),
    );
    Applications {
        versions_delta,
        apps_hashcode,
        applications,
    }
}
