//! Command-line options. Names follow Envoy's where Envoy has the option,
//! so scripts written for Envoy keep working.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ringway",
    version,
    about = "ringway: a thread-per-core io_uring HTTP proxy",
    long_about = "ringway: a thread-per-core io_uring HTTP proxy.\n\n\
        Without --config-path it serves the embedded quickstart configuration \
        (listener 127.0.0.1:10000, admin 127.0.0.1:9901)."
)]
pub struct Cli {
    /// Configuration file: ringway's format or an Envoy v3 bootstrap (YAML,
    /// or JSON), told apart by its top-level keys; reloaded on SIGHUP.
    #[arg(short = 'c', long = "config-path", value_name = "FILE")]
    pub config_path: Option<PathBuf>,

    /// An Envoy v3 bootstrap in YAML, merged over the `-c` file (or used
    /// alone) as Envoy merges it: scalars replaced, lists appended.
    #[arg(long = "config-yaml", value_name = "YAML")]
    pub config_yaml: Option<String>,

    /// `serve` runs the proxy; `validate` checks the configuration and exits.
    #[arg(long, value_enum, default_value_t = Mode::Serve)]
    pub mode: Mode,

    /// Number of workers (default: the config's, else one per CPU in the
    /// process's affinity mask).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// CPUs to pin workers to, e.g. `0-3,6` (default: the config's, else
    /// the process's affinity mask).
    #[arg(long = "cpu-set", value_name = "LIST")]
    pub cpu_set: Option<String>,

    /// I/O driver: io_uring with epoll fallback (auto), or one of them.
    #[arg(long = "io-driver", value_enum)]
    pub io_driver: Option<DriverArg>,

    /// Admin API address (default: the config's, else 127.0.0.1:9901).
    #[arg(long = "admin-address", value_name = "ADDR")]
    pub admin_address: Option<SocketAddr>,

    /// Write the admin API's bound address to this file once listening.
    #[arg(long = "admin-address-path", value_name = "FILE")]
    pub admin_address_path: Option<PathBuf>,

    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    #[arg(long = "drain-time-s", value_name = "SECONDS", default_value_t = 10)]
    pub drain_time_s: u64,

    /// trace, debug, info, warn, error or off.
    #[arg(short = 'l', long = "log-level", default_value = "info")]
    pub log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Serve,
    Validate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriverArg {
    Auto,
    Uring,
    Epoll,
}
