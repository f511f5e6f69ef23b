//! What the JSON and XML readers share: the Netflix client's defaults for
//! absent fields, numbers and flags read from text, and error paths.

use crate::{DataCenterInfo, Instance, ParseError, Port, Status};

/// The port of an instance that names none (the Java client's default).
pub(crate) const DEFAULT_PORT: u16 = 7001;
/// The secure port of an instance that names none.
pub(crate) const DEFAULT_SECURE_PORT: u16 = 7002;

/// An instance before any field is read, with the defaults of the Java
/// `InstanceInfo`: UP, port 7001 enabled, secure port 7002 disabled,
/// country 1, a `MyOwn` data center, and empty strings for the names a
/// body may leave out (the registry validates what it needs).
pub(crate) fn blank_instance() -> Instance {
    Instance {
        instance_id: None,
        host_name: String::new(),
        app: String::new(),
        ip_addr: String::new(),
        status: Status::Up,
        overridden_status: Status::Unknown,
        port: Port {
            number: DEFAULT_PORT,
            enabled: true,
        },
        secure_port: Port {
            number: DEFAULT_SECURE_PORT,
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

/// Fills in whichever of a data center's class and name is missing from
/// the other (`Amazon` ↔ `AmazonInfo`, anything else `MyOwn`).
pub(crate) fn complete(mut info: DataCenterInfo) -> DataCenterInfo {
    if info.name.is_empty() {
        info.name = if info.class == DataCenterInfo::AMAZON_CLASS {
            "Amazon"
        } else {
            "MyOwn"
        }
        .to_owned();
    }
    if info.class.is_empty() {
        info.class = if info.name == "Amazon" {
            DataCenterInfo::AMAZON_CLASS
        } else {
            DataCenterInfo::DEFAULT_CLASS
        }
        .to_owned();
    }
    info
}

/// Inserts a metadata entry; a repeated key replaces the earlier value in
/// place, as a map would.
pub(crate) fn insert(metadata: &mut Vec<(String, String)>, key: String, value: String) {
    match metadata.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => metadata.push((key, value)),
    }
}

/// An integer written as text, surrounding blanks allowed.
pub(crate) fn integer(text: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    text.trim()
        .parse()
        .map_err(|e: std::num::ParseIntError| match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
                format!("{} is out of range", clip(text.trim()))
            }
            _ => format!("expected an integer, found {:?}", clip(text)),
        })
}

/// An integer narrowed to the field's type.
pub(crate) fn narrow<T: TryFrom<i64>>(n: i64) -> Result<T, String> {
    T::try_from(n).map_err(|_| format!("{n} is out of range"))
}

/// A port number (0 to 65535).
pub(crate) fn port_number(n: i64) -> Result<u16, String> {
    u16::try_from(n).map_err(|_| format!("port {n} is out of range (0-65535)"))
}

/// A flag written as text: `true` in any case, anything else false (as
/// Java's `Boolean.parseBoolean`).
pub(crate) fn flag(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true")
}

/// `inner`, one level down: its path is prefixed with `at`.
pub(crate) fn nest(at: impl std::fmt::Display, inner: ParseError) -> ParseError {
    let path = if inner.path.is_empty() {
        at.to_string()
    } else {
        format!("{at}.{}", inner.path)
    };
    ParseError::new(path, inner.reason)
}

/// At most 40 characters of a value, for an error message.
pub(crate) fn clip(text: &str) -> &str {
    match text.char_indices().nth(40) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
