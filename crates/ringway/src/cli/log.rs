//! Envoy's logging options as a tracing filter and writer: `--log-level`
//! with Envoy's level names, `--component-log-level` mapped onto
//! ringway's modules, and `--log-path` (reopened on SIGUSR1, as Envoy
//! does). The filter is reloadable: [`LogLevels`] lists Envoy's logger
//! names with their levels and changes them live (the admin API's
//! `/logging`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::writer::BoxMakeWriter;

use super::Cli;

/// Envoy's logger names and the ringway modules (tracing targets) that do
/// that work. Envoy names not listed have no counterpart.
const COMPONENTS: &[(&str, &[&str])] = &[
    ("admin", &["ringway_admin"]),
    (
        "config",
        &[
            "ringway_config",
            "ringway::xds",
            "ringway_xds",
            "ringway::eureka",
            "ringway_eureka_client",
            "ringway::publish",
        ],
    ),
    (
        "main",
        &[
            "ringway::startup",
            "ringway::control",
            "ringway::plan",
            "ringway::cli",
        ],
    ),
    (
        "upstream",
        &[
            "ringway_proxy::upstream",
            "ringway_proxy::discovery",
            "ringway_balance",
        ],
    ),
    ("pool", &["ringway_proxy::upstream::pool"]),
    (
        "connection",
        &["ringway_proxy::conn", "ringway_proxy::transport"],
    ),
    ("conn_handler", &["ringway_worker"]),
    ("http", &["ringway_proxy", "ringway_http1"]),
    (
        "http2",
        &[
            "ringway_proxy::h2",
            "ringway_proxy::http2",
            "ringway_h2wire",
        ],
    ),
    ("router", &["ringway_route", "ringway_proxy::request"]),
    ("grpc", &["ringway_grpc"]),
    ("file", &["ringway_proxy::access_log"]),
];

/// The tracing filter, and what to say once logging is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSetup {
    /// An `EnvFilter` directive list.
    pub filter: String,
    /// Warnings about the options (components without a counterpart).
    pub notes: Vec<String>,
    /// The default: a tracing level, or a directive list.
    base: String,
    /// Components given a level of their own, with Envoy's level name.
    components: BTreeMap<&'static str, String>,
}

impl LogSetup {
    pub fn new(cli: &Cli) -> Result<Self, String> {
        let base = match level(&cli.log_level) {
            Some(level) => level.to_owned(),
            None => {
                // A tracing directive list, e.g. `info,ringway_xds=debug`;
                // a bare word that is no level is refused, as Envoy does.
                let invalid = || format!("--log-level: invalid log level '{}'", cli.log_level);
                if !cli.log_level.contains('=') {
                    return Err(invalid());
                }
                tracing_subscriber::EnvFilter::try_new(&cli.log_level)
                    .map_err(|e| format!("{}: {e}", invalid()))?;
                cli.log_level.clone()
            }
        };
        let mut components = BTreeMap::new();
        let mut notes = Vec::new();
        for item in cli
            .component_log_level
            .iter()
            .flat_map(|list| list.split(','))
            .filter(|s| !s.is_empty())
        {
            let Some((component, name)) = item.split_once(':') else {
                return Err(format!(
                    "--component-log-level: component log level not correctly specified '{item}'"
                ));
            };
            level(name).ok_or_else(|| {
                format!("--component-log-level: invalid log level specified '{name}'")
            })?;
            match COMPONENTS.iter().find(|(c, _)| *c == component) {
                Some((c, _)) => {
                    components.insert(*c, name.to_owned());
                }
                None => notes.push(format!(
                    "--component-log-level: component '{component}' has no ringway counterpart; its level is ignored"
                )),
            }
        }
        Ok(Self {
            filter: filter(&base, &components),
            notes,
            base,
            components,
        })
    }
}

/// The directive list: the default, then each component's targets.
fn filter(base: &str, components: &BTreeMap<&'static str, String>) -> String {
    let mut directives = vec![base.to_owned()];
    for (component, targets) in COMPONENTS {
        if let Some(l) = components.get(component).and_then(|n| level(n)) {
            directives.extend(targets.iter().map(|t| format!("{t}={l}")));
        }
    }
    directives.join(",")
}

/// Applies a new tracing directive list to the running subscriber.
pub type Reload = Box<dyn Fn(&str) -> Result<(), String>>;

/// The live log levels, by Envoy logger name, and the handle that applies
/// a change (the admin API's `/logging`).
pub struct LogLevels {
    base: RefCell<String>,
    components: RefCell<BTreeMap<&'static str, String>>,
    reload: Reload,
}

impl std::fmt::Debug for LogLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLevels")
            .field("base", &self.base)
            .field("components", &self.components)
            .finish_non_exhaustive()
    }
}

impl LogLevels {
    /// Levels as `setup` says; `reload` applies a new directive list.
    pub fn new(setup: &LogSetup, reload: Reload) -> Self {
        Self {
            base: RefCell::new(setup.base.clone()),
            components: RefCell::new(setup.components.clone()),
            reload,
        }
    }

    /// Every logger (Envoy's names that ringway has) with its level, as
    /// Envoy names levels.
    pub fn loggers(&self) -> BTreeMap<String, String> {
        let base = self.base.borrow();
        // The default level of a directive list is its bare entry.
        let default = base
            .split(',')
            .find(|d| !d.contains('='))
            .map_or("info", str::trim);
        let default = match default {
            "warn" => "warning",
            other => other,
        };
        let components = self.components.borrow();
        COMPONENTS
            .iter()
            .map(|(name, _)| {
                let level = components.get(name).map_or(default, String::as_str);
                ((*name).to_owned(), level.to_owned())
            })
            .collect()
    }

    /// `level` (Envoy's name) for every logger: the default, with no
    /// component keeping its own.
    pub fn set_all(&self, name: &str) -> Result<(), String> {
        let l = level(name).ok_or_else(|| format!("unknown logger level {name}"))?;
        let components = BTreeMap::new();
        (self.reload)(&filter(l, &components))?;
        *self.base.borrow_mut() = l.to_owned();
        *self.components.borrow_mut() = components;
        Ok(())
    }

    /// Sets each named logger's level; nothing changes if a name is not a
    /// logger ringway has, as in Envoy.
    pub fn set(&self, changes: &[(String, String)]) -> Result<(), String> {
        let mut components = self.components.borrow().clone();
        for (name, l) in changes {
            let Some((component, _)) = COMPONENTS.iter().find(|(c, _)| c == name) else {
                return Err("unknown logger name".into());
            };
            level(l).ok_or_else(|| format!("unknown logger level {l}"))?;
            components.insert(component, l.clone());
        }
        (self.reload)(&filter(&self.base.borrow(), &components))?;
        *self.components.borrow_mut() = components;
        Ok(())
    }
}

/// Envoy's level names as tracing's.
fn level(name: &str) -> Option<&'static str> {
    Some(match name {
        "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warning" | "warn" => "warn",
        "error" | "critical" => "error",
        "off" => "off",
        _ => return None,
    })
}

/// The `--log-path` file, shared by every thread that logs.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl LogFile {
    pub fn open(path: &Path) -> Result<Self, String> {
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(
                append(path).map_err(|e| format!("--log-path {}: {e}", path.display()))?,
            ),
        })
    }

    /// Opens the path again (after log rotation moved the old file).
    pub fn reopen(&self) -> io::Result<()> {
        let fresh = append(&self.path)?;
        if let Ok(mut file) = self.file.lock() {
            *file = fresh;
        }
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for &LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.lock() {
            Ok(mut file) => file.write(buf),
            Err(_) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.lock() {
            Ok(mut file) => file.flush(),
            Err(_) => Ok(()),
        }
    }
}

/// Logging as started: the `--log-path` file (for SIGUSR1 to reopen) and
/// the live levels.
#[derive(Debug)]
pub struct Logging {
    pub file: Option<Arc<LogFile>>,
    pub levels: LogLevels,
}

/// Starts logging as the options say; then warns, once, about each option
/// given that ringway does not act on.
pub fn init(cli: &Cli) -> Result<Logging, String> {
    let setup = LogSetup::new(cli)?;
    let file = cli
        .log_path
        .as_deref()
        .map(LogFile::open)
        .transpose()?
        .map(Arc::new);
    let (writer, ansi) = match &file {
        Some(f) => (BoxMakeWriter::new(f.clone()), false),
        None => (
            BoxMakeWriter::new(io::stderr),
            io::IsTerminal::is_terminal(&io::stderr()),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&setup.filter))
        .with_writer(writer)
        .with_ansi(ansi)
        .with_filter_reloading();
    let handle = builder.reload_handle();
    builder.init();
    let reload = move |directives: &str| {
        let filter =
            tracing_subscriber::EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    };
    let levels = LogLevels::new(&setup, Box::new(reload));
    for note in &setup.notes {
        tracing::warn!("{note}");
    }
    for (flag, why) in cli.not_acted_on() {
        tracing::warn!("{flag}: accepted for Envoy compatibility, not acted on: {why}");
    }
    Ok(Logging { file, levels })
}
