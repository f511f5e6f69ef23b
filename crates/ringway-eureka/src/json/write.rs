//! The compact JSON of the Netflix server's default codec: members in its
//! order, `@Auto` fields (timestamps, the coordinating flag) as strings,
//! `None` fields left out.

use crate::{Application, Applications, DataCenterInfo, Instance, LeaseInfo, Port};

/// The marker the Netflix codec writes for an empty metadata map.
const EMPTY_MAP: &str = "java.util.Collections$EmptyMap";

/// JSON text under construction. A member or item gets its comma from what
/// precedes it: none after `{`, `[` or a key, a comma after a value.
struct Out(String);

/// `{"applications":{…}}`.
pub fn write_applications(doc: &Applications) -> Vec<u8> {
    let mut out = Out(String::new());
    out.0.push('{');
    out.open("applications");
    out.string("versions__delta", &doc.versions_delta.to_string());
    out.string("apps__hashcode", &doc.apps_hashcode);
    out.key("application");
    out.0.push('[');
    for app in &doc.applications {
        out.application(app);
    }
    out.0.push_str("]}}");
    out.0.into_bytes()
}

/// `{"application":{…}}`.
pub fn write_application(app: &Application) -> Vec<u8> {
    let mut out = Out(String::new());
    out.0.push('{');
    out.key("application");
    out.application(app);
    out.0.push('}');
    out.0.into_bytes()
}

/// `{"instance":{…}}`.
pub fn write_instance(instance: &Instance) -> Vec<u8> {
    let mut out = Out(String::new());
    out.0.push('{');
    out.key("instance");
    out.instance(instance);
    out.0.push('}');
    out.0.into_bytes()
}

// === impl Out ===

impl Out {
    fn application(&mut self, app: &Application) {
        self.item();
        self.0.push('{');
        self.string("name", &app.name);
        self.key("instance");
        self.0.push('[');
        for instance in &app.instances {
            self.instance(instance);
        }
        self.0.push_str("]}");
    }

    fn instance(&mut self, i: &Instance) {
        self.item();
        self.0.push('{');
        self.optional("instanceId", &i.instance_id);
        self.string("hostName", &i.host_name);
        self.string("app", &i.app);
        self.string("ipAddr", &i.ip_addr);
        self.optional("sid", &i.sid);
        self.string("status", i.status.as_str());
        self.string("overriddenStatus", i.overridden_status.as_str());
        self.port("port", i.port);
        self.port("securePort", i.secure_port);
        self.number("countryId", i.country_id);
        self.data_center(&i.data_center_info);
        if let Some(lease) = &i.lease_info {
            self.lease(lease);
        }
        self.metadata("metadata", &i.metadata, true);
        self.optional("appGroupName", &i.app_group_name);
        self.optional("homePageUrl", &i.home_page_url);
        self.optional("statusPageUrl", &i.status_page_url);
        self.optional("healthCheckUrl", &i.health_check_url);
        self.optional("secureHealthCheckUrl", &i.secure_health_check_url);
        self.optional("vipAddress", &i.vip_address);
        self.optional("secureVipAddress", &i.secure_vip_address);
        let coordinating = i.is_coordinating_discovery_server.to_string();
        self.string("isCoordinatingDiscoveryServer", &coordinating);
        self.string(
            "lastUpdatedTimestamp",
            &i.last_updated_timestamp.to_string(),
        );
        self.string("lastDirtyTimestamp", &i.last_dirty_timestamp.to_string());
        if let Some(action) = i.action_type {
            self.string("actionType", action.as_str());
        }
        self.optional("asgName", &i.asg_name);
        self.0.push('}');
    }

    fn port(&mut self, key: &str, port: Port) {
        self.open(key);
        self.number("$", port.number);
        self.string("@enabled", if port.enabled { "true" } else { "false" });
        self.0.push('}');
    }

    /// Amazon info always carries its metadata, even empty (`{}`).
    fn data_center(&mut self, info: &DataCenterInfo) {
        self.open("dataCenterInfo");
        self.string("@class", &info.class);
        self.string("name", &info.name);
        if info.name == "Amazon" || !info.metadata.is_empty() {
            self.metadata("metadata", &info.metadata, false);
        }
        self.0.push('}');
    }

    fn lease(&mut self, lease: &LeaseInfo) {
        self.open("leaseInfo");
        self.number("renewalIntervalInSecs", lease.renewal_interval_secs);
        self.number("durationInSecs", lease.duration_secs);
        self.number("registrationTimestamp", lease.registration_timestamp);
        self.number("lastRenewalTimestamp", lease.last_renewal_timestamp);
        self.number("evictionTimestamp", lease.eviction_timestamp);
        self.number("serviceUpTimestamp", lease.service_up_timestamp);
        self.0.push('}');
    }

    /// A map of strings; empty and `marked`, the codec's `@class` marker.
    fn metadata(&mut self, key: &str, pairs: &[(String, String)], marked: bool) {
        self.open(key);
        if pairs.is_empty() && marked {
            self.string("@class", EMPTY_MAP);
        }
        for (k, v) in pairs {
            self.string(k, v);
        }
        self.0.push('}');
    }

    fn optional(&mut self, key: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.string(key, value);
        }
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        quote(&mut self.0, value);
    }

    fn number(&mut self, key: &str, value: impl std::fmt::Display) {
        self.key(key);
        self.0.push_str(&value.to_string());
    }

    fn open(&mut self, key: &str) {
        self.key(key);
        self.0.push('{');
    }

    fn key(&mut self, key: &str) {
        self.item();
        quote(&mut self.0, key);
        self.0.push(':');
    }

    /// The comma before a member or item that follows another (not after
    /// an opening bracket or a key).
    fn item(&mut self) {
        if !matches!(self.0.chars().next_back(), Some('{' | '[' | ':') | None) {
            self.0.push(',');
        }
    }
}

/// A JSON string literal: quotes, backslashes and control characters
/// escaped, everything else as is (as Jackson writes it).
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
