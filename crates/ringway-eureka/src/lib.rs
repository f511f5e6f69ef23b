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

pub use error::ParseError;
pub use model::{
    ActionType, Application, Applications, DataCenterInfo, Instance, LeaseInfo, Port, Registry,
    Status,
};

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
