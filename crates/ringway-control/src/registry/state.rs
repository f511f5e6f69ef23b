//! The registry without I/O: registrations and their leases, status
//! overrides, the recently-changed queue behind `/apps/delta`, and the
//! documents every read answers with. Time comes in as epoch milliseconds,
//! so every rule can be tested without waiting.
//!
//! Choices, where Eureka leaves room:
//! * The latest registration of an instance wins (Eureka keeps the one with
//!   the newer `lastDirtyTimestamp`; clients here always send their
//!   current instance, so the registrant is the one to believe).
//! * A renewal is refused (404, so the client registers again with its
//!   current instance) when the instance is unknown, when its
//!   `lastDirtyTimestamp` is newer than the registered one, or when its
//!   `status` differs from the status it registered with.
//! * An override (`PUT …/status`) wins over the instance's own status
//!   until removed; it survives re-registrations and ends with a cancel
//!   or an eviction.
//! * No self-preservation: a lease that has run out is evicted, however
//!   many do at once.

use std::collections::{BTreeMap, VecDeque};

use ringway_eureka::{ActionType, Instance, LeaseInfo, Status};

/// At most this many changes are kept for `/apps/delta`, whatever the
/// retention; older ones go first (a client that misses them sees a
/// hashcode mismatch and fetches everything).
const MAX_RECENT: usize = 100_000;

/// The registry.
#[derive(Debug)]
pub struct State {
    delta_retention_ms: i64,
    /// Application (upper case) → effective instance id → entry.
    apps: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Oldest first.
    recent: VecDeque<Change>,
    /// `versions__delta`: one more on every change.
    version: i64,
    /// One more on every change that can alter which instances are UP for
    /// which VIP.
    membership: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    /// As served: `status` is the override when there is one, `leaseInfo`
    /// is always set.
    instance: Instance,
    /// The status the instance registered with.
    own_status: Status,
}

/// One entry of the recently-changed queue.
#[derive(Debug, Clone)]
struct Change {
    at_ms: i64,
    /// The instance as it was after the change, with its `actionType`.
    instance: Instance,
}

/// Why a request about one instance was refused; each is a 404, which
/// tells a client to register again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such instance")]
    Unknown,
    #[error("the client's lastDirtyTimestamp {client} is newer than the registered {registered}")]
    ClientNewer { client: i64, registered: i64 },
    #[error("the client reports status {client}, it registered with {registered}")]
    StatusDiffers { client: Status, registered: Status },
}

/// Why a registration was rejected (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("no application name")]
    NoApp,
    #[error("the instance has no id: neither instanceId nor hostName is set")]
    NoId,
}

/// Where a registration went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// Upper case.
    pub app: String,
    pub id: String,
    /// Not registered before (or no longer).
    pub is_new: bool,
}

/// What a renewal says besides the instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Renewal {
    /// The `status` parameter.
    pub status: Option<Status>,
    /// The `lastDirtyTimestamp` parameter.
    pub last_dirty: Option<i64>,
}

// === impl State ===

impl State {
    pub fn new(delta_retention_ms: i64) -> Self {
        Self {
            delta_retention_ms,
            apps: BTreeMap::new(),
            recent: VecDeque::new(),
            version: 1,
            membership: 0,
        }
    }

    /// Grows on every change that can alter which instances are UP for
    /// which VIP: registrations, cancels, evictions, status changes.
    pub fn membership(&self) -> u64 {
        self.membership
    }

    pub fn len(&self) -> usize {
        self.apps.values().map(BTreeMap::len).sum()
    }

    /// Registers (or registers again) `instance` under `app`, which wins
    /// over the body's `app` and is upper-cased. Returns the application
    /// and id it is stored under.
    pub fn register(
        &mut self,
        app: &str,
        mut instance: Instance,
        now: i64,
    ) -> Result<Registered, Invalid> {
        let app = app.trim().to_ascii_uppercase();
        if app.is_empty() {
            return Err(Invalid::NoApp);
        }
        instance.app.clone_from(&app);
        let id = instance.id().to_owned();
        if id.is_empty() {
            return Err(Invalid::NoId);
        }
        if instance.last_dirty_timestamp <= 0 {
            instance.last_dirty_timestamp = now;
        }
        let previous = self.apps.get(&app).and_then(|a| a.get(&id));
        let is_new = previous.is_none();
        let overridden = match instance.overridden_status {
            Status::Unknown => previous.map_or(Status::Unknown, |p| p.instance.overridden_status),
            status => status,
        };
        let own_status = instance.status;
        let given = instance.lease_info.unwrap_or_default();
        let mut lease = LeaseInfo {
            renewal_interval_secs: nonzero(
                given.renewal_interval_secs,
                LeaseInfo::DEFAULT_RENEWAL_INTERVAL_SECS,
            ),
            duration_secs: nonzero(given.duration_secs, LeaseInfo::DEFAULT_DURATION_SECS),
            registration_timestamp: now,
            last_renewal_timestamp: now,
            eviction_timestamp: 0,
            service_up_timestamp: previous
                .and_then(|p| p.instance.lease_info)
                .map_or(0, |l| l.service_up_timestamp),
        };
        instance.overridden_status = overridden;
        instance.status = effective(own_status, overridden);
        if instance.status == Status::Up && lease.service_up_timestamp == 0 {
            lease.service_up_timestamp = now;
        }
        instance.lease_info = Some(lease);
        let entry = Entry {
            instance,
            own_status,
        };
        self.apps
            .entry(app.clone())
            .or_default()
            .insert(id.clone(), entry);
        self.changed(&app, &id, ActionType::Added, now, true);
        Ok(Registered { app, id, is_new })
    }

    /// A heartbeat: the lease starts over.
    pub fn renew(
        &mut self,
        app: &str,
        id: &str,
        renewal: Renewal,
        now: i64,
    ) -> Result<(), Refused> {
        let entry = self.entry_mut(app, id).ok_or(Refused::Unknown)?;
        let registered = entry.instance.last_dirty_timestamp;
        if let Some(client) = renewal.last_dirty.filter(|&client| client > registered) {
            return Err(Refused::ClientNewer { client, registered });
        }
        if let Some(client) = renewal.status.filter(|&s| s != entry.own_status) {
            return Err(Refused::StatusDiffers {
                client,
                registered: entry.own_status,
            });
        }
        if let Some(lease) = entry.instance.lease_info.as_mut() {
            lease.last_renewal_timestamp = now;
        }
        Ok(())
    }

    /// Removes an instance; returns it as it was last served.
    pub fn cancel(&mut self, app: &str, id: &str, now: i64) -> Result<Instance, Refused> {
        let app = app.to_ascii_uppercase();
        let instances = self.apps.get_mut(&app).ok_or(Refused::Unknown)?;
        let mut entry = instances.remove(id).ok_or(Refused::Unknown)?;
        if instances.is_empty() {
            self.apps.remove(&app);
        }
        if let Some(lease) = entry.instance.lease_info.as_mut() {
            lease.eviction_timestamp = now;
        }
        entry.instance.action_type = Some(ActionType::Deleted);
        entry.instance.last_updated_timestamp = now;
        self.record(entry.instance.clone(), now);
        self.membership += 1;
        Ok(entry.instance)
    }

    /// Overrides the status (`PUT …/status?value=`) until the override is
    /// removed.
    pub fn set_override(
        &mut self,
        app: &str,
        id: &str,
        status: Status,
        now: i64,
    ) -> Result<(), Refused> {
        let entry = self.entry_mut(app, id).ok_or(Refused::Unknown)?;
        entry.instance.overridden_status = status;
        entry.instance.status = effective(entry.own_status, status);
        let app = entry.instance.app.clone();
        self.changed(&app, id, ActionType::Modified, now, true);
        Ok(())
    }

    /// Removes the override (`DELETE …/status`): the status goes back to
    /// `value` when given (which becomes the instance's own), else to the
    /// status the instance registered with.
    pub fn clear_override(
        &mut self,
        app: &str,
        id: &str,
        value: Option<Status>,
        now: i64,
    ) -> Result<(), Refused> {
        let entry = self.entry_mut(app, id).ok_or(Refused::Unknown)?;
        if let Some(value) = value {
            entry.own_status = value;
        }
        entry.instance.overridden_status = Status::Unknown;
        entry.instance.status = entry.own_status;
        let app = entry.instance.app.clone();
        self.changed(&app, id, ActionType::Modified, now, true);
        Ok(())
    }

    /// Sets metadata entries (`PUT …/metadata?k=v`), replacing the values
    /// of keys already there. Nothing to set changes nothing.
    pub fn update_metadata(
        &mut self,
        app: &str,
        id: &str,
        pairs: Vec<(String, String)>,
        now: i64,
    ) -> Result<(), Refused> {
        let entry = self.entry_mut(app, id).ok_or(Refused::Unknown)?;
        if pairs.is_empty() {
            return Ok(());
        }
        for (key, value) in pairs {
            entry.instance.set_metadata(key, value);
        }
        let app = entry.instance.app.clone();
        self.changed(&app, id, ActionType::Modified, now, false);
        Ok(())
    }

    /// Removes every instance whose last renewal is older than its lease
    /// duration; returns them.
    pub fn evict(&mut self, now: i64) -> Vec<Instance> {
        let expired: Vec<(String, String)> = self
            .apps
            .iter()
            .flat_map(|(app, instances)| {
                instances
                    .iter()
                    .filter(|(_, e)| expired(&e.instance, now))
                    .map(|(id, _)| (app.clone(), id.clone()))
            })
            .collect();
        expired
            .into_iter()
            .filter_map(|(app, id)| self.cancel(&app, &id, now).ok())
            .collect()
    }

    fn entry_mut(&mut self, app: &str, id: &str) -> Option<&mut Entry> {
        self.apps
            .get_mut(&app.to_ascii_uppercase())
            .and_then(|a| a.get_mut(id))
    }

    /// Stamps a changed instance and queues it for the delta.
    fn changed(&mut self, app: &str, id: &str, action: ActionType, now: i64, membership: bool) {
        let Some(entry) = self.apps.get_mut(app).and_then(|a| a.get_mut(id)) else {
            return;
        };
        let instance = &mut entry.instance;
        instance.action_type = Some(action);
        instance.last_updated_timestamp = now;
        if let Some(lease) = instance
            .lease_info
            .as_mut()
            .filter(|l| l.service_up_timestamp == 0 && instance.status == Status::Up)
        {
            lease.service_up_timestamp = now;
        }
        let instance = instance.clone();
        self.record(instance, now);
        if membership {
            self.membership += 1;
        }
    }

    fn record(&mut self, instance: Instance, now: i64) {
        self.version += 1;
        self.recent.push_back(Change {
            at_ms: now,
            instance,
        });
        let since = now.saturating_sub(self.delta_retention_ms);
        while self
            .recent
            .front()
            .is_some_and(|c| c.at_ms < since || self.recent.len() > MAX_RECENT)
        {
            self.recent.pop_front();
        }
    }
}

fn effective(own: Status, overridden: Status) -> Status {
    match overridden {
        Status::Unknown => own,
        overridden => overridden,
    }
}

fn nonzero(value: u32, default: u32) -> u32 {
    if value == 0 { default } else { value }
}

fn expired(instance: &Instance, now: i64) -> bool {
    instance.lease_info.is_some_and(|lease| {
        let ends = lease
            .last_renewal_timestamp
            .saturating_add(i64::from(lease.duration_secs).saturating_mul(1000));
        now > ends
    })
}

mod read;

#[cfg(test)]
mod tests;
