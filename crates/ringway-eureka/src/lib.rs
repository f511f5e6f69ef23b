//! Netflix Eureka, both ways. [`model`] is the registry as plain data
//! (applications, instances, statuses) with the whole-registry hashcode,
//! delta application and VIP resolution; [`json`] and [`xml`] read every
//! form real Eureka servers and clients have sent and write the forms the
//! Netflix server writes.

#![forbid(unsafe_code)]

pub mod json;
pub mod model;
pub mod xml;

mod error;
mod read;
mod url;

pub use error::ParseError;
pub use model::{
    ActionType, Application, Applications, DataCenterInfo, Instance, LeaseInfo, Port, Registry,
    Status, VipIndex,
};
pub use url::{InvalidUrl, ServerUrl};

/// The two wire forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The form a body is in, from its first non-blank byte: `{` or `[` is
    /// JSON, anything else XML.
    pub fn sniff(body: &[u8]) -> Self {
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Self::Json,
            _ => Self::Xml,
        }
    }

    /// The `Content-Type` a body of this form is sent with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Xml => "application/xml",
        }
    }
}

/// Reads an `{"applications":…}` / `<applications>` document.
pub fn parse_applications(body: &[u8], format: Format) -> Result<Applications, ParseError> {
    match format {
        Format::Json => json::parse_applications(body),
        Format::Xml => xml::parse_applications(body),
    }
}

/// Reads an `{"application":…}` / `<application>` document.
pub fn parse_application(body: &[u8], format: Format) -> Result<Application, ParseError> {
    match format {
        Format::Json => json::parse_application(body),
        Format::Xml => xml::parse_application(body),
    }
}

/// Reads an `{"instance":…}` / `<instance>` document (a register body).
pub fn parse_instance(body: &[u8], format: Format) -> Result<Instance, ParseError> {
    match format {
        Format::Json => json::parse_instance(body),
        Format::Xml => xml::parse_instance(body),
    }
}

/// Writes an `applications` document as the Netflix server does.
pub fn write_applications(doc: &Applications, format: Format) -> Vec<u8> {
    match format {
        Format::Json => json::write_applications(doc),
        Format::Xml => xml::write_applications(doc),
    }
}

/// Writes an `application` document as the Netflix server does.
pub fn write_application(app: &Application, format: Format) -> Vec<u8> {
    match format {
        Format::Json => json::write_application(app),
        Format::Xml => xml::write_application(app),
    }
}

/// Writes an `instance` document as the Netflix server does.
pub fn write_instance(instance: &Instance, format: Format) -> Vec<u8> {
    match format {
        Format::Json => json::write_instance(instance),
        Format::Xml => xml::write_instance(instance),
    }
}
