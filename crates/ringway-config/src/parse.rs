//! Text to [`wire`] types, with the field path and position of any error.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::ConfigError;
use crate::wire;

/// How a config file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Json,
}

/// Where in the text an error was found, 1-based.
#[derive(Debug, Clone, Copy)]
struct Position {
    line: usize,
    column: usize,
}

impl Format {
    /// JSON for a `.json` extension, else YAML (which also reads JSON).
    pub(crate) fn of(source: &str) -> Self {
        let json = Path::new(source)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if json { Self::Json } else { Self::Yaml }
    }
}

/// Parses the whole file into its wire shape.
pub(crate) fn parse(file: &str, text: &str, format: Format) -> Result<wire::File, ConfigError> {
    if text.trim().is_empty() {
        return Err(ConfigError::new(
            file,
            ConfigError::WHOLE_FILE,
            "the file is empty: a config needs at least `listeners:`",
        ));
    }
    parse_as(file, text, format)
}

/// Parses a file holding only a list of clusters; empty is an empty list.
pub(crate) fn parse_clusters(
    file: &str,
    text: &str,
    format: Format,
) -> Result<Vec<wire::Cluster>, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    parse_as(file, text, format)
}

/// Parses a file of route configurations (`route_configurations:`).
pub(crate) fn parse_routes(
    file: &str,
    text: &str,
    format: Format,
) -> Result<wire::RoutesFile, ConfigError> {
    parse_as(file, text, format)
}

/// Parses a route template (`route:`).
pub(crate) fn parse_route_template(
    file: &str,
    text: &str,
    format: Format,
) -> Result<wire::RouteTemplateFile, ConfigError> {
    parse_as(file, text, format)
}

fn parse_as<T: DeserializeOwned>(file: &str, text: &str, format: Format) -> Result<T, ConfigError> {
    match format {
        Format::Yaml => parse_yaml(file, text),
        Format::Json => parse_json(file, text),
    }
}

fn parse_yaml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    // serde_yaml_ng applies `<<` merge keys only on a `Value`, which has no
    // positions; take that road only when the file uses them.
    let result = if text.contains("<<") {
        let mut value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| yaml_error(file, String::new(), &e))?;
        value
            .apply_merge()
            .map_err(|e| yaml_error(file, String::new(), &e))?;
        serde_path_to_error::deserialize(value)
    } else {
        serde_path_to_error::deserialize(serde_yaml_ng::Deserializer::from_str(text))
    };
    result.map_err(|e| {
        let path = path_text(e.path());
        yaml_error(file, path, e.inner())
    })
}

fn parse_json<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = path_text(e.path());
        json_error(file, path, e.inner())
    })?;
    deserializer
        .end()
        .map_err(|e| json_error(file, String::new(), &e))?;
    Ok(value)
}

fn yaml_error(file: &str, path: String, error: &serde_yaml_ng::Error) -> ConfigError {
    let position = error.location().map(|l| Position {
        line: l.line(),
        column: l.column(),
    });
    let message = error.to_string();
    // serde_yaml_ng puts its own copy of the path (up to the map holding an
    // unknown field) in front of the message.
    let message = match message.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => rest,
        _ => &message,
    };
    syntax_error(file, path, message, position)
}

fn json_error(file: &str, path: String, error: &serde_json::Error) -> ConfigError {
    let position = (error.line() > 0).then(|| Position {
        line: error.line(),
        column: error.column(),
    });
    syntax_error(file, path, &error.to_string(), position)
}

/// Builds the error: the position goes at the end of the reason, and a
/// missing field is named in the path rather than in the reason.
fn syntax_error(file: &str, path: String, message: &str, at: Option<Position>) -> ConfigError {
    let message = match at {
        Some(at) => message.replacen(&format!(" at line {} column {}", at.line, at.column), "", 1),
        None => message.to_owned(),
    };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let (field, mut reason) = match missing {
        Some(name) if path.is_empty() => (name.to_owned(), "required, but missing".to_owned()),
        Some(name) => (format!("{path}.{name}"), "required, but missing".to_owned()),
        None if path.is_empty() => (ConfigError::WHOLE_FILE.to_owned(), message),
        None => (path, message),
    };
    if let Some(at) = at {
        reason.push_str(&format!(" (line {}, column {})", at.line, at.column));
    }
    ConfigError::new(file, field, reason)
}

/// The path as `a[0].b`, or empty at the root.
fn path_text(path: &serde_path_to_error::Path) -> String {
    if path.iter().next().is_none() {
        String::new()
    } else {
        path.to_string()
    }
}
