//! Configuration errors: each one names the file, the field and the reason.

use std::fmt;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {reason}")]
pub struct ConfigError {
    /// The file (or other source name) the config came from.
    pub file: String,
    /// Path to the offending field, like
    /// `listeners[0].virtual_hosts[1].routes[2].cluster`; `-` when the
    /// problem is with the file as a whole.
    pub field: String,
    /// What is wrong, for a person to read.
    pub reason: String,
}

/// Every problem found in one config file, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub errors: Vec<ConfigError>,
}

impl ConfigError {
    /// The `field` used for problems with the file as a whole.
    pub const WHOLE_FILE: &'static str = "-";

    pub fn new(
        file: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self {
            errors: vec![error],
        }
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
