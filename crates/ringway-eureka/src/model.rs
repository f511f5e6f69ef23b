//! The registry as plain data. [`Applications`] is one document as it goes
//! on the wire (a full fetch, a delta, a VIP's subset); [`Registry`] is a
//! client's local copy, keyed for upserts and look-ups, that deltas are
//! applied to and whose [`Registry::hashcode`] is checked against the
//! server's.

use std::collections::BTreeMap;
use std::fmt;

/// An instance's status. Any string Eureka does not define reads as
/// [`Status::Unknown`], as the Java client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Status {
    Up,
    Down,
    Starting,
    OutOfService,
    #[default]
    Unknown,
}

/// What a delta entry does to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionType {
    /// Insert or replace.
    Added,
    /// Insert or replace.
    Modified,
    /// Remove.
    Deleted,
}

/// A port and whether the instance listens on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub number: u16,
    pub enabled: bool,
}

/// Where an instance runs: `MyOwn`, `Amazon` (with the EC2 metadata) or
/// `Netflix`; `class` is the Java class the JSON and XML name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCenterInfo {
    pub class: String,
    pub name: String,
    pub metadata: Vec<(String, String)>,
}

/// An instance's lease, as the server keeps it (seconds and epoch
/// milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseInfo {
    pub renewal_interval_secs: u32,
    pub duration_secs: u32,
    pub registration_timestamp: i64,
    pub last_renewal_timestamp: i64,
    pub eviction_timestamp: i64,
    pub service_up_timestamp: i64,
}

/// One registered instance, with every field the Netflix codecs carry.
/// Unknown fields are dropped on read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The `instanceId` field; see [`Instance::id`] for the effective id.
    pub instance_id: Option<String>,
    pub host_name: String,
    pub app: String,
    pub ip_addr: String,
    pub status: Status,
    pub overridden_status: Status,
    pub port: Port,
    pub secure_port: Port,
    pub country_id: i64,
    pub data_center_info: DataCenterInfo,
    pub lease_info: Option<LeaseInfo>,
    /// In the order read; an `@class` key is not kept.
    pub metadata: Vec<(String, String)>,
    pub home_page_url: Option<String>,
    pub status_page_url: Option<String>,
    pub health_check_url: Option<String>,
    pub secure_health_check_url: Option<String>,
    /// Comma-separated VIPs.
    pub vip_address: Option<String>,
    /// Comma-separated secure VIPs.
    pub secure_vip_address: Option<String>,
    pub is_coordinating_discovery_server: bool,
    pub last_updated_timestamp: i64,
    pub last_dirty_timestamp: i64,
    pub action_type: Option<ActionType>,
    pub asg_name: Option<String>,
    pub app_group_name: Option<String>,
    pub sid: Option<String>,
}

/// One application and its instances.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Application {
    pub name: String,
    pub instances: Vec<Instance>,
}

/// One `applications` document: a full fetch, a delta, or the subset
/// answering a VIP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applications {
    pub versions_delta: i64,
    pub apps_hashcode: String,
    pub applications: Vec<Application>,
}

/// A local copy of a registry: application (upper case) → effective
/// instance id → instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registry {
    apps: BTreeMap<String, BTreeMap<String, Instance>>,
}

/// Every VIP of a registry, looked up in one pass over its instances
/// (lower-cased names; an entry `name:port` is filed under both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VipIndex {
    /// VIP → its UP instances' endpoints, sorted, without duplicates.
    up: BTreeMap<String, Vec<VipEndpoint>>,
    /// Every VIP some instance lists, in any status.
    known: std::collections::BTreeSet<String>,
}

/// An address that serves a VIP.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VipEndpoint {
    /// `ipAddr`, or `hostName` when that is empty.
    pub host: String,
    pub port: u16,
    pub instance_id: String,
    pub app: String,
}

// === impl Status ===

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Up,
        Status::Down,
        Status::Starting,
        Status::OutOfService,
        Status::Unknown,
    ];

    /// The wire name, like `OUT_OF_SERVICE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "UP",
            Self::Down => "DOWN",
            Self::Starting => "STARTING",
            Self::OutOfService => "OUT_OF_SERVICE",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Reads a wire name (any case); anything else is `Unknown`.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .unwrap_or(Self::Unknown)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl ActionType ===

impl ActionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }

    /// Reads a wire name (any case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Added, Self::Modified, Self::Deleted]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

// === impl DataCenterInfo ===

impl DataCenterInfo {
    /// The class of a `MyOwn` data center.
    pub const DEFAULT_CLASS: &'static str =
        "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo";
    /// The class of an `Amazon` data center.
    pub const AMAZON_CLASS: &'static str = "com.netflix.appinfo.AmazonInfo";

    pub fn my_own() -> Self {
        Self {
            class: Self::DEFAULT_CLASS.to_owned(),
            name: "MyOwn".to_owned(),
            metadata: Vec::new(),
        }
    }

    /// A metadata value, like `instance-id` of an Amazon instance.
    pub fn get(&self, key: &str) -> Option<&str> {
        lookup(&self.metadata, key)
    }
}

impl Default for DataCenterInfo {
    fn default() -> Self {
        Self::my_own()
    }
}

// === impl LeaseInfo ===

impl LeaseInfo {
    /// Eureka's defaults: renew every 30 s, expire after 90 s.
    pub const DEFAULT_RENEWAL_INTERVAL_SECS: u32 = 30;
    pub const DEFAULT_DURATION_SECS: u32 = 90;
}

impl Default for LeaseInfo {
    fn default() -> Self {
        Self {
            renewal_interval_secs: Self::DEFAULT_RENEWAL_INTERVAL_SECS,
            duration_secs: Self::DEFAULT_DURATION_SECS,
            registration_timestamp: 0,
            last_renewal_timestamp: 0,
            eviction_timestamp: 0,
            service_up_timestamp: 0,
        }
    }
}

// === impl Instance ===

impl Instance {
    /// The port of an instance that names none (the Java client's default).
    pub const DEFAULT_PORT: u16 = 7001;
    /// The secure port of an instance that names none.
    pub const DEFAULT_SECURE_PORT: u16 = 7002;

    /// A minimal UP instance (tests, registrations built by hand).
    pub fn new(app: &str, host: &str, port: u16) -> Self {
        Self {
            instance_id: Some(format!("{host}:{}:{port}", app.to_ascii_lowercase())),
            host_name: host.to_owned(),
            app: app.to_ascii_uppercase(),
            ip_addr: host.to_owned(),
            port: Port {
                number: port,
                enabled: true,
            },
            vip_address: Some(app.to_ascii_lowercase()),
            ..Self::default()
        }
    }

    /// The effective id: `instanceId`, else the Amazon `instance-id`, else
    /// `hostName`.
    pub fn id(&self) -> &str {
        self.instance_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .or_else(|| self.data_center_info.get("instance-id"))
            .unwrap_or(&self.host_name)
    }

    /// A metadata value.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        lookup(&self.metadata, key)
    }

    /// Sets a metadata entry; a key already there keeps its place and
    /// takes the new value, as in a map.
    pub fn set_metadata(&mut self, key: String, value: String) {
        set(&mut self.metadata, key, value);
    }

    /// Where this instance serves a VIP (`secure`: its secure port), if
    /// that port is enabled.
    pub fn endpoint(&self, secure: bool) -> Option<VipEndpoint> {
        let port = if secure { self.secure_port } else { self.port };
        let host = if self.ip_addr.is_empty() {
            &self.host_name
        } else {
            &self.ip_addr
        };
        (port.enabled && port.number != 0 && !host.is_empty()).then(|| VipEndpoint {
            host: host.clone(),
            port: port.number,
            instance_id: self.id().to_owned(),
            app: self.app.clone(),
        })
    }
}

/// An instance before any field is known, with the defaults of the Java
/// `InstanceInfo`: UP, port 7001 enabled, secure port 7002 disabled,
/// country 1, a `MyOwn` data center, and empty strings for the names a
/// body may leave out (the registry validates what it needs).
impl Default for Instance {
    fn default() -> Self {
        Self {
            instance_id: None,
            host_name: String::new(),
            app: String::new(),
            ip_addr: String::new(),
            status: Status::Up,
            overridden_status: Status::Unknown,
            port: Port {
                number: Self::DEFAULT_PORT,
                enabled: true,
            },
            secure_port: Port {
                number: Self::DEFAULT_SECURE_PORT,
                enabled: false,
            },
            country_id: 1,
            data_center_info: DataCenterInfo::my_own(),
            lease_info: None,
            metadata: Vec::new(),
            home_page_url: None,
            status_page_url: None,
            health_check_url: None,
            secure_health_check_url: None,
            vip_address: None,
            secure_vip_address: None,
            is_coordinating_discovery_server: false,
            last_updated_timestamp: 0,
            last_dirty_timestamp: 0,
            action_type: None,
            asg_name: None,
            app_group_name: None,
            sid: None,
        }
    }
}

/// The entries of a comma-separated VIP list, trimmed, empty ones skipped.
pub fn vip_entries(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// The name of a VIP entry without its port: `orders:8080` → `orders`;
/// an entry without a numeric port is its own name.
pub fn vip_name(entry: &str) -> &str {
    match entry.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok() => name,
        _ => entry,
    }
}

/// Sets `key` in a list of pairs used as a map (a repeated key replaces
/// the earlier value in place).
pub(crate) fn set(pairs: &mut Vec<(String, String)>, key: String, value: String) {
    match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => pairs.push((key, value)),
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// === impl VipIndex ===

impl VipIndex {
    /// The UP endpoints of `vip` (any case), as [`Registry::resolve`].
    pub fn resolve(&self, vip: &str) -> &[VipEndpoint] {
        self.up
            .get(&vip.trim().to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Whether any instance, in any status, lists `vip`.
    pub fn knows(&self, vip: &str) -> bool {
        self.known.contains(&vip.trim().to_ascii_lowercase())
    }

    /// Every VIP name listed (lower-cased; `name:port` entries also as
    /// `name`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.known.iter().map(String::as_str)
    }
}

// === impl Applications ===

impl Applications {
    /// The whole-registry hashcode of these instances.
    pub fn hashcode(&self) -> String {
        hashcode(
            self.applications
                .iter()
                .flat_map(|a| a.instances.iter().map(|i| i.status)),
        )
    }

    /// Every instance, in document order.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.applications.iter().flat_map(|a| a.instances.iter())
    }
}

/// Eureka's reconcile hashcode: for each status present, in name order,
/// `STATUS_count_`; `""` for no instances. Like `DOWN_1_UP_2_`.
pub fn hashcode(statuses: impl IntoIterator<Item = Status>) -> String {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for status in statuses {
        *counts.entry(status.as_str()).or_default() += 1;
    }
    let mut out = String::new();
    for (status, count) in counts {
        out.push_str(status);
        out.push('_');
        out.push_str(&count.to_string());
        out.push('_');
    }
    out
}

// === impl Registry ===

impl Registry {
    /// The registry a full fetch describes.
    pub fn from_full(document: Applications) -> Self {
        let mut registry = Self::default();
        for instance in document.applications.into_iter().flat_map(|a| a.instances) {
            registry.upsert(instance);
        }
        registry
    }

    /// Applies a delta: ADDED and MODIFIED (and entries without an action)
    /// insert or replace, DELETED removes; each keyed by application and
    /// effective id, so repeated entries are harmless. An application whose
    /// last instance goes is removed.
    pub fn apply_delta(&mut self, delta: &Applications) {
        for instance in delta.instances() {
            match instance.action_type {
                Some(ActionType::Deleted) => self.remove(&instance.app, instance.id()),
                _ => self.upsert(instance.clone()),
            }
        }
    }

    /// Inserts or replaces one instance (its `actionType` is dropped).
    pub fn upsert(&mut self, mut instance: Instance) {
        instance.action_type = None;
        let app = instance.app.to_ascii_uppercase();
        self.apps
            .entry(app)
            .or_default()
            .insert(instance.id().to_owned(), instance);
    }

    /// Removes one instance, if present.
    pub fn remove(&mut self, app: &str, id: &str) {
        let app = app.to_ascii_uppercase();
        if let Some(instances) = self.apps.get_mut(&app) {
            instances.remove(id);
            if instances.is_empty() {
                self.apps.remove(&app);
            }
        }
    }

    /// The whole-registry hashcode, to compare with a delta's.
    pub fn hashcode(&self) -> String {
        hashcode(self.instances().map(|i| i.status))
    }

    /// Every instance, by application then id.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.apps.values().flat_map(|i| i.values())
    }

    pub fn len(&self) -> usize {
        self.apps.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    /// Whether any instance, in any status, lists `vip` (case ignored;
    /// `orders` also finds an entry `orders:8080`). Many look-ups should
    /// share one [`Self::vip_index`].
    pub fn knows_vip(&self, vip: &str, secure: bool) -> bool {
        self.vip_index(secure).knows(vip)
    }

    /// The UP instances serving `vip` (`secure`: a secure VIP, on their
    /// secure ports), sorted and without duplicates. Many look-ups should
    /// share one [`Self::vip_index`].
    pub fn resolve(&self, vip: &str, secure: bool) -> Vec<VipEndpoint> {
        self.vip_index(secure).resolve(vip).to_vec()
    }

    /// An index of every VIP (`secure`: secure VIP) to its UP instances,
    /// built in one pass: looking up many VIPs costs one walk of the
    /// registry, not one per VIP.
    pub fn vip_index(&self, secure: bool) -> VipIndex {
        let mut index = VipIndex::default();
        for instance in self.instances() {
            let list = if secure {
                &instance.secure_vip_address
            } else {
                &instance.vip_address
            };
            let Some(list) = list.as_deref() else {
                continue;
            };
            let endpoint = (instance.status == Status::Up)
                .then(|| instance.endpoint(secure))
                .flatten();
            for entry in vip_entries(list) {
                let entry = entry.to_ascii_lowercase();
                let name = vip_name(&entry);
                let name = (name.len() < entry.len()).then(|| name.to_owned());
                for key in std::iter::once(entry).chain(name) {
                    if let Some(e) = &endpoint {
                        index.up.entry(key.clone()).or_default().push(e.clone());
                    }
                    index.known.insert(key);
                }
            }
        }
        for endpoints in index.up.values_mut() {
            endpoints.sort();
            endpoints.dedup_by(|a, b| a.host == b.host && a.port == b.port);
        }
        index
    }

    /// The registry as a document (applications and instances sorted).
    pub fn to_applications(&self, versions_delta: i64) -> Applications {
        Applications {
            versions_delta,
            apps_hashcode: self.hashcode(),
            applications: self
                .apps
                .iter()
                .map(|(name, instances)| Application {
                    name: name.clone(),
                    instances: instances.values().cloned().collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
