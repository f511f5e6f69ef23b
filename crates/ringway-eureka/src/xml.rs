//! Eureka's XML, as XStream writes and reads it: `applications`,
//! `application` and `instance` elements, `enabled` on ports, `class` on
//! the data center, metadata as one element per key with XStream's name
//! coding. Reads any of it with or without an XML declaration; writes the
//! Netflix server's 2-space indented form.

mod names;
mod write;

use roxmltree::{Document, Node};

use crate::read::{self, nest};
use crate::{ActionType, Application, Applications, DataCenterInfo, Instance};
use crate::{LeaseInfo, ParseError, Port, Status};

pub use write::{write_application, write_applications, write_instance};

/// Reads `<applications>`: a full fetch, a delta or a VIP's subset.
pub fn parse_applications(body: &[u8]) -> Result<Applications, ParseError> {
    let doc = document(body)?;
    applications(root(&doc, "applications")?).map_err(|e| nest("applications", e))
}

/// Reads `<application>`.
pub fn parse_application(body: &[u8]) -> Result<Application, ParseError> {
    let doc = document(body)?;
    application(root(&doc, "application")?).map_err(|e| nest("application", e))
}

/// Reads `<instance>`, as in a register request.
pub fn parse_instance(body: &[u8]) -> Result<Instance, ParseError> {
    let doc = document(body)?;
    instance(root(&doc, "instance")?).map_err(|e| nest("instance", e))
}

/// The tree of a well-formed document (no DTD).
fn document(body: &[u8]) -> Result<Document<'_>, ParseError> {
    let text =
        std::str::from_utf8(body).map_err(|e| ParseError::new("", format!("not UTF-8: {e}")))?;
    Document::parse(text).map_err(|e| ParseError::new("", format!("not XML: {e}")))
}

fn root<'a, 'input>(doc: &'a Document<'input>, name: &str) -> Result<Node<'a, 'input>, ParseError> {
    let root = doc.root_element();
    match root.tag_name().name() {
        found if found == name => Ok(root),
        found => Err(ParseError::new(
            "",
            format!("expected <{name}>, found <{}>", read::clip(found)),
        )),
    }
}

fn applications(node: Node) -> Result<Applications, ParseError> {
    let mut doc = Applications::default();
    for (name, child) in elements(node) {
        let at = |reason| ParseError::new(child.tag_name().name(), reason);
        match name.as_str() {
            "versions_delta" => doc.versions_delta = read::integer(&text(child)).map_err(at)?,
            "apps_hashcode" => doc.apps_hashcode = text(child),
            "application" => {
                let n = doc.applications.len();
                let app = application(child).map_err(|e| nest(format_args!("{name}[{n}]"), e))?;
                doc.applications.push(app);
            }
            _ => {}
        }
    }
    Ok(doc)
}

fn application(node: Node) -> Result<Application, ParseError> {
    let mut app = Application::default();
    for (name, child) in elements(node) {
        match name.as_str() {
            "name" => app.name = text(child),
            "instance" => {
                let n = app.instances.len();
                let i = instance(child).map_err(|e| nest(format_args!("{name}[{n}]"), e))?;
                app.instances.push(i);
            }
            _ => {}
        }
    }
    Ok(app)
}

fn instance(node: Node) -> Result<Instance, ParseError> {
    let mut i = Instance::default();
    for (name, child) in elements(node) {
        let at = |reason| ParseError::new(child.tag_name().name(), reason);
        let value = || text(child);
        match name.as_str() {
            "instanceId" => i.instance_id = Some(value()),
            "hostName" => i.host_name = value(),
            "app" => i.app = value(),
            "ipAddr" => i.ip_addr = value(),
            "sid" => i.sid = Some(value()),
            "status" => i.status = Status::parse(&value()),
            "overriddenstatus" | "overriddenStatus" => {
                i.overridden_status = Status::parse(&value())
            }
            "port" => i.port = port(child, true).map_err(at)?,
            "securePort" => i.secure_port = port(child, false).map_err(at)?,
            "countryId" => i.country_id = read::integer(&value()).map_err(at)?,
            "dataCenterInfo" => i.data_center_info = data_center(child),
            "leaseInfo" => i.lease_info = Some(lease(child).map_err(|e| nest(name, e))?),
            "metadata" => i.metadata = metadata(child),
            "appGroupName" => i.app_group_name = Some(value()),
            "homePageUrl" => i.home_page_url = Some(value()),
            "statusPageUrl" => i.status_page_url = Some(value()),
            "healthCheckUrl" => i.health_check_url = Some(value()),
            "secureHealthCheckUrl" => i.secure_health_check_url = Some(value()),
            "vipAddress" => i.vip_address = Some(value()),
            "secureVipAddress" => i.secure_vip_address = Some(value()),
            "isCoordinatingDiscoveryServer" => {
                i.is_coordinating_discovery_server = read::flag(&value());
            }
            "lastUpdatedTimestamp" => {
                i.last_updated_timestamp = read::integer(&value()).map_err(at)?;
            }
            "lastDirtyTimestamp" => i.last_dirty_timestamp = read::integer(&value()).map_err(at)?,
            "actionType" => i.action_type = ActionType::parse(&value()),
            "asgName" => i.asg_name = Some(value()),
            _ => {}
        }
    }
    Ok(i)
}

/// `<port enabled="true">8080</port>`. Without `enabled`, a port is
/// enabled and a secure port is not.
fn port(node: Node, enabled_by_default: bool) -> Result<Port, String> {
    Ok(Port {
        number: read::port_number(read::integer(&text(node))?)?,
        enabled: node
            .attribute("enabled")
            .map_or(enabled_by_default, read::flag),
    })
}

fn data_center(node: Node) -> DataCenterInfo {
    let mut info = DataCenterInfo {
        class: node.attribute("class").unwrap_or_default().to_owned(),
        name: String::new(),
        metadata: Vec::new(),
    };
    for (name, child) in elements(node) {
        match name.as_str() {
            "name" => info.name = text(child),
            "metadata" => info.metadata = metadata(child),
            _ => {}
        }
    }
    read::complete(info)
}

fn lease(node: Node) -> Result<LeaseInfo, ParseError> {
    let mut lease = LeaseInfo::default();
    for (name, child) in elements(node) {
        let at = |reason| ParseError::new(child.tag_name().name(), reason);
        let value = || read::integer(&text(child));
        match name.as_str() {
            "renewalIntervalInSecs" => {
                lease.renewal_interval_secs = value().and_then(read::narrow).map_err(at)?;
            }
            "durationInSecs" => lease.duration_secs = value().and_then(read::narrow).map_err(at)?,
            "registrationTimestamp" => lease.registration_timestamp = value().map_err(at)?,
            "lastRenewalTimestamp" | "renewalTimestamp" => {
                lease.last_renewal_timestamp = value().map_err(at)?;
            }
            "evictionTimestamp" => lease.eviction_timestamp = value().map_err(at)?,
            "serviceUpTimestamp" => lease.service_up_timestamp = value().map_err(at)?,
            _ => {}
        }
    }
    Ok(lease)
}

/// `<key>value</key>` children, keys decoded, in order.
fn metadata(node: Node) -> Vec<(String, String)> {
    let mut metadata = Vec::new();
    for (key, child) in elements(node) {
        crate::model::set(&mut metadata, key, text(child));
    }
    metadata
}

/// The child elements, each with its name decoded from XStream's coding.
fn elements<'a, 'input>(
    node: Node<'a, 'input>,
) -> impl Iterator<Item = (String, Node<'a, 'input>)> {
    node.children()
        .filter(Node::is_element)
        .map(|child| (names::decode(child.tag_name().name()), child))
}

/// An element's own text, all of it, as is (no trimming: a value keeps its
/// blanks; numbers and flags trim when read).
fn text(node: Node) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|child| child.text())
        .collect()
}

#[cfg(test)]
mod tests;
