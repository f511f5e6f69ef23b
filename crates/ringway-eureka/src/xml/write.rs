//! The XML of the Netflix server's XStream codec: elements in its order,
//! indented by 2 spaces, no declaration, `None` fields left out.

use super::names;
use crate::{Application, Applications, DataCenterInfo, Instance, LeaseInfo, Port};

/// The class XStream names on an empty metadata map.
const EMPTY_MAP: &str = "java.util.Collections$EmptyMap";

/// XML text under construction, and the depth of the next element.
struct Out {
    xml: String,
    depth: usize,
}

/// `<applications>`; no `<application>` when there are none.
pub fn write_applications(doc: &Applications) -> Vec<u8> {
    let mut out = Out::new();
    out.open("applications", None);
    out.leaf("versions__delta", &doc.versions_delta.to_string());
    out.leaf("apps__hashcode", &doc.apps_hashcode);
    for app in &doc.applications {
        out.application(app);
    }
    out.close("applications");
    out.xml.into_bytes()
}

/// `<application>`.
pub fn write_application(app: &Application) -> Vec<u8> {
    let mut out = Out::new();
    out.application(app);
    out.xml.into_bytes()
}

/// `<instance>`.
pub fn write_instance(instance: &Instance) -> Vec<u8> {
    let mut out = Out::new();
    out.instance(instance);
    out.xml.into_bytes()
}

// === impl Out ===

impl Out {
    fn new() -> Self {
        Self {
            xml: String::new(),
            depth: 0,
        }
    }

    fn application(&mut self, app: &Application) {
        self.open("application", None);
        self.leaf("name", &app.name);
        for instance in &app.instances {
            self.instance(instance);
        }
        self.close("application");
    }

    fn instance(&mut self, i: &Instance) {
        self.open("instance", None);
        self.optional("instanceId", &i.instance_id);
        self.leaf("hostName", &i.host_name);
        self.leaf("app", &i.app);
        self.leaf("ipAddr", &i.ip_addr);
        self.optional("sid", &i.sid);
        self.leaf("status", i.status.as_str());
        self.leaf("overriddenstatus", i.overridden_status.as_str());
        self.port("port", i.port);
        self.port("securePort", i.secure_port);
        self.leaf("countryId", &i.country_id.to_string());
        self.data_center(&i.data_center_info);
        if let Some(lease) = &i.lease_info {
            self.lease(lease);
        }
        self.metadata(&i.metadata);
        self.optional("appGroupName", &i.app_group_name);
        self.optional("homePageUrl", &i.home_page_url);
        self.optional("statusPageUrl", &i.status_page_url);
        self.optional("healthCheckUrl", &i.health_check_url);
        self.optional("secureHealthCheckUrl", &i.secure_health_check_url);
        self.optional("vipAddress", &i.vip_address);
        self.optional("secureVipAddress", &i.secure_vip_address);
        let coordinating = i.is_coordinating_discovery_server.to_string();
        self.leaf("isCoordinatingDiscoveryServer", &coordinating);
        self.leaf(
            "lastUpdatedTimestamp",
            &i.last_updated_timestamp.to_string(),
        );
        self.leaf("lastDirtyTimestamp", &i.last_dirty_timestamp.to_string());
        if let Some(action) = i.action_type {
            self.leaf("actionType", action.as_str());
        }
        self.optional("asgName", &i.asg_name);
        self.close("instance");
    }

    fn port(&mut self, name: &str, port: Port) {
        self.line();
        let enabled = if port.enabled { "true" } else { "false" };
        self.tag(name, Some(("enabled", enabled)), "");
        self.xml.push_str(&port.number.to_string());
        self.end_tag(name);
    }

    /// Amazon info always carries its metadata, even empty.
    fn data_center(&mut self, info: &DataCenterInfo) {
        self.open("dataCenterInfo", Some(("class", &info.class)));
        self.leaf("name", &info.name);
        if info.name == "Amazon" || !info.metadata.is_empty() {
            self.metadata(&info.metadata);
        }
        self.close("dataCenterInfo");
    }

    fn lease(&mut self, lease: &LeaseInfo) {
        self.open("leaseInfo", None);
        let fields = [
            (
                "renewalIntervalInSecs",
                i64::from(lease.renewal_interval_secs),
            ),
            ("durationInSecs", i64::from(lease.duration_secs)),
            ("registrationTimestamp", lease.registration_timestamp),
            ("lastRenewalTimestamp", lease.last_renewal_timestamp),
            ("evictionTimestamp", lease.eviction_timestamp),
            ("serviceUpTimestamp", lease.service_up_timestamp),
        ];
        for (name, value) in fields {
            self.leaf(name, &value.to_string());
        }
        self.close("leaseInfo");
    }

    /// One element per key, its name XStream-coded. A key that cannot be
    /// an element name (`1a`, `a b`, `a:b`) is left out: XStream would
    /// write XML no client could read.
    fn metadata(&mut self, pairs: &[(String, String)]) {
        let entries: Vec<(String, &str)> = pairs
            .iter()
            .filter_map(|(k, v)| Some((names::encode(k)?, v.as_str())))
            .collect();
        if entries.is_empty() {
            self.line();
            self.tag("metadata", Some(("class", EMPTY_MAP)), "/");
            return;
        }
        self.open("metadata", None);
        for (name, value) in &entries {
            self.leaf(name, value);
        }
        self.close("metadata");
    }

    fn optional(&mut self, name: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.leaf(name, value);
        }
    }

    /// `<name>text</name>` on its own line (`<name></name>` when empty).
    fn leaf(&mut self, name: &str, text: &str) {
        self.line();
        self.tag(name, None, "");
        escape(&mut self.xml, text, false);
        self.end_tag(name);
    }

    fn open(&mut self, name: &str, attribute: Option<(&str, &str)>) {
        self.line();
        self.tag(name, attribute, "");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line();
        self.end_tag(name);
    }

    fn tag(&mut self, name: &str, attribute: Option<(&str, &str)>, slash: &str) {
        self.xml.push('<');
        self.xml.push_str(name);
        if let Some((key, value)) = attribute {
            self.xml.push(' ');
            self.xml.push_str(key);
            self.xml.push_str("=\"");
            escape(&mut self.xml, value, true);
            self.xml.push('"');
        }
        self.xml.push_str(slash);
        self.xml.push('>');
    }

    fn end_tag(&mut self, name: &str) {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
    }

    /// A new line (not before the root) and the indent of this depth.
    fn line(&mut self) {
        if !self.xml.is_empty() {
            self.xml.push('\n');
        }
        for _ in 0..self.depth {
            self.xml.push_str("  ");
        }
    }
}

/// Text or an attribute value as XStream escapes it (`&`, `<`, `>`, both
/// quotes, carriage returns). Blanks in an attribute become references so
/// that they survive attribute normalization; characters XML 1.0 cannot
/// carry at all (most control characters) become U+FFFD.
fn escape(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xd;"),
            '\t' if attribute => out.push_str("&#x9;"),
            '\n' if attribute => out.push_str("&#xa;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}
