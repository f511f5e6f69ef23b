//! Eureka's JSON. Reads every form servers and clients have sent (arrays
//! or single objects, numbers as strings or not, both spellings of
//! `overriddenStatus`, ports as objects or bare numbers); writes the
//! compact form of the Netflix server's default codec, field for field.

mod value;
mod write;

use crate::read::{self, nest};
use crate::{ActionType, Application, Applications, DataCenterInfo, Instance};
use crate::{LeaseInfo, ParseError, Port, Status};
use value::Json;

pub use write::{write_application, write_applications, write_instance};

/// Reads `{"applications":{…}}`: a full fetch, a delta or a VIP's subset.
pub fn parse_applications(body: &[u8]) -> Result<Applications, ParseError> {
    let root = Json::from_slice(body).map_err(syntax)?;
    applications(member(&root, "applications")?).map_err(|e| nest("applications", e))
}

/// Reads `{"application":{…}}`.
pub fn parse_application(body: &[u8]) -> Result<Application, ParseError> {
    let root = Json::from_slice(body).map_err(syntax)?;
    application(member(&root, "application")?).map_err(|e| nest("application", e))
}

/// Reads `{"instance":{…}}`, as in a register request.
pub fn parse_instance(body: &[u8]) -> Result<Instance, ParseError> {
    let root = Json::from_slice(body).map_err(syntax)?;
    instance(member(&root, "instance")?).map_err(|e| nest("instance", e))
}

fn syntax(e: serde_json::Error) -> ParseError {
    ParseError::new("", format!("not JSON: {e}"))
}

/// The root's one member that matters.
fn member<'a>(root: &'a Json, name: &str) -> Result<&'a Json, ParseError> {
    let found = match root {
        Json::Object(members) => members.iter().rev().find(|(k, _)| k == name),
        _ => None,
    };
    let expected = || format!("expected {{\"{name}\":…}}, found {}", root.kind());
    found
        .map(|(_, value)| value)
        .ok_or_else(|| ParseError::new("", expected()))
}

fn applications(node: &Json) -> Result<Applications, ParseError> {
    let mut doc = Applications::default();
    for (key, value) in members(node)? {
        let at = |reason| ParseError::new(key.as_str(), reason);
        match key.as_str() {
            "versions__delta" => doc.versions_delta = integer(value).map_err(at)?,
            "apps__hashcode" => doc.apps_hashcode = string(value).map_err(at)?,
            "application" => doc.applications = each(key, value, application)?,
            _ => {}
        }
    }
    Ok(doc)
}

fn application(node: &Json) -> Result<Application, ParseError> {
    let mut app = Application::default();
    for (key, value) in members(node)? {
        match key.as_str() {
            "name" => app.name = string(value).map_err(|r| ParseError::new(key.as_str(), r))?,
            "instance" => app.instances = each(key, value, instance)?,
            _ => {}
        }
    }
    Ok(app)
}

fn instance(node: &Json) -> Result<Instance, ParseError> {
    let mut i = Instance::default();
    for (key, value) in members(node)? {
        let at = |reason| ParseError::new(key.as_str(), reason);
        match key.as_str() {
            "instanceId" => i.instance_id = Some(string(value).map_err(at)?),
            "hostName" => i.host_name = string(value).map_err(at)?,
            "app" => i.app = string(value).map_err(at)?,
            "ipAddr" => i.ip_addr = string(value).map_err(at)?,
            "sid" => i.sid = Some(string(value).map_err(at)?),
            "status" => i.status = Status::parse(&string(value).map_err(at)?),
            "overriddenStatus" | "overriddenstatus" => {
                i.overridden_status = Status::parse(&string(value).map_err(at)?);
            }
            "port" => i.port = port(value, true).map_err(at)?,
            "securePort" => i.secure_port = port(value, false).map_err(at)?,
            "countryId" => i.country_id = integer(value).map_err(at)?,
            "dataCenterInfo" => {
                i.data_center_info = data_center(value).map_err(|e| nest(key, e))?;
            }
            "leaseInfo" => i.lease_info = Some(lease(value).map_err(|e| nest(key, e))?),
            "metadata" => i.metadata = metadata(value).map_err(|e| nest(key, e))?,
            "appGroupName" => i.app_group_name = Some(string(value).map_err(at)?),
            "homePageUrl" => i.home_page_url = Some(string(value).map_err(at)?),
            "statusPageUrl" => i.status_page_url = Some(string(value).map_err(at)?),
            "healthCheckUrl" => i.health_check_url = Some(string(value).map_err(at)?),
            "secureHealthCheckUrl" => {
                i.secure_health_check_url = Some(string(value).map_err(at)?);
            }
            "vipAddress" => i.vip_address = Some(string(value).map_err(at)?),
            "secureVipAddress" => i.secure_vip_address = Some(string(value).map_err(at)?),
            "isCoordinatingDiscoveryServer" => {
                i.is_coordinating_discovery_server = boolean(value).map_err(at)?;
            }
            "lastUpdatedTimestamp" => i.last_updated_timestamp = integer(value).map_err(at)?,
            "lastDirtyTimestamp" => i.last_dirty_timestamp = integer(value).map_err(at)?,
            "actionType" => i.action_type = ActionType::parse(&string(value).map_err(at)?),
            "asgName" => i.asg_name = Some(string(value).map_err(at)?),
            _ => {}
        }
    }
    Ok(i)
}

/// `{"$": 8080 | "8080", "@enabled": "true" | true}`, or a bare number.
/// Without `@enabled`, a port is enabled and a secure port is not.
fn port(node: &Json, enabled_by_default: bool) -> Result<Port, String> {
    let (mut number, mut enabled) = (None, enabled_by_default);
    match node {
        Json::Object(members) => {
            for (key, value) in members.iter().filter(|(_, v)| !matches!(v, Json::Null)) {
                match key.as_str() {
                    "$" => number = Some(integer(value)?),
                    "@enabled" => enabled = boolean(value)?,
                    _ => {}
                }
            }
        }
        _ => number = Some(integer(node)?),
    }
    let number = number.ok_or("no port number (\"$\")")?;
    Ok(Port {
        number: read::port_number(number)?,
        enabled,
    })
}

fn data_center(node: &Json) -> Result<DataCenterInfo, ParseError> {
    let mut info = DataCenterInfo {
        class: String::new(),
        name: String::new(),
        metadata: Vec::new(),
    };
    for (key, value) in members(node)? {
        let at = |reason| ParseError::new(key.as_str(), reason);
        match key.as_str() {
            "@class" => info.class = string(value).map_err(at)?,
            "name" => info.name = string(value).map_err(at)?,
            "metadata" => info.metadata = metadata(value).map_err(|e| nest(key, e))?,
            _ => {}
        }
    }
    Ok(read::complete(info))
}

fn lease(node: &Json) -> Result<LeaseInfo, ParseError> {
    let mut lease = LeaseInfo::default();
    for (key, value) in members(node)? {
        let at = |reason| ParseError::new(key.as_str(), reason);
        match key.as_str() {
            "renewalIntervalInSecs" => {
                lease.renewal_interval_secs = integer(value).and_then(read::narrow).map_err(at)?;
            }
            "durationInSecs" => {
                lease.duration_secs = integer(value).and_then(read::narrow).map_err(at)?;
            }
            "registrationTimestamp" => lease.registration_timestamp = integer(value).map_err(at)?,
            "lastRenewalTimestamp" | "renewalTimestamp" => {
                lease.last_renewal_timestamp = integer(value).map_err(at)?;
            }
            "evictionTimestamp" => lease.eviction_timestamp = integer(value).map_err(at)?,
            "serviceUpTimestamp" => lease.service_up_timestamp = integer(value).map_err(at)?,
            _ => {}
        }
    }
    Ok(lease)
}

/// String values by key, in order; the `@class` marker is not a key.
fn metadata(node: &Json) -> Result<Vec<(String, String)>, ParseError> {
    let mut metadata = Vec::new();
    for (key, value) in members(node)? {
        if key != "@class" {
            let value = string(value).map_err(|r| ParseError::new(key.as_str(), r))?;
            crate::model::set(&mut metadata, key.clone(), value);
        }
    }
    Ok(metadata)
}

/// An object's members, except those that are `null` (absent, as the
/// Java codec reads them).
fn members(node: &Json) -> Result<impl Iterator<Item = &(String, Json)>, ParseError> {
    match node {
        Json::Object(members) => Ok(members.iter().filter(|(_, v)| !matches!(v, Json::Null))),
        other => Err(ParseError::new(
            "",
            format!("expected an object, found {}", other.kind()),
        )),
    }
}

/// An array of objects, or the single object old servers send instead.
fn each<T>(
    key: &str,
    node: &Json,
    read: impl Fn(&Json) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    match node {
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(n, item)| read(item).map_err(|e| nest(format_args!("{key}[{n}]"), e)))
            .collect(),
        Json::Object(_) => Ok(vec![read(node).map_err(|e| nest(key, e))?]),
        other => Err(ParseError::new(
            key,
            format!("expected an array or an object, found {}", other.kind()),
        )),
    }
}

/// Text: a string, or a number or boolean as written.
fn string(node: &Json) -> Result<String, String> {
    match node {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, found {}", other.kind())),
    }
}

/// An integer, as a number or a string.
fn integer(node: &Json) -> Result<i64, String> {
    match node {
        Json::Number(n) => n.as_i64().ok_or_else(|| match n.as_u64() {
            Some(_) => format!("{n} is out of range"),
            None => format!("expected an integer, found {n}"),
        }),
        Json::String(s) => read::integer(s),
        other => Err(format!("expected an integer, found {}", other.kind())),
    }
}

/// A flag, as a boolean or a string.
fn boolean(node: &Json) -> Result<bool, String> {
    match node {
        Json::Bool(b) => Ok(*b),
        Json::String(s) => Ok(read::flag(s)),
        other => Err(format!("expected a boolean, found {}", other.kind())),
    }
}

#[cfg(test)]
mod tests;
