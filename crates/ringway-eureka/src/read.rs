//! What the JSON and XML readers share: the Netflix client's defaults for
//! absent fields, numbers and flags read from text, and error paths.

use crate::{DataCenterInfo, ParseError};

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
