//! Command-line options. Names, value forms (`--flag value` and
//! `--flag=value`) and defaults follow Envoy's where Envoy has the option,
//! so scripts written for Envoy keep working. Options Envoy has that
//! ringway takes without acting on them are listed by
//! [`Cli::not_acted_on`]; start-up warns about each one given.
//!
//! One struct, one field per option, grouped as in Envoy's
//! `docs/root/operations/cli.rst`; a new option is a new field (and, if
//! ringway cannot honour it, a line in `not_acted_on`).

mod compat;
pub mod log;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

pub use compat::BaseId;

#[derive(Debug, Parser)]
#[command(
    name = "ringway",
    version,
    about = "ringway: a thread-per-core io_uring HTTP proxy",
    long_about = "ringway: a thread-per-core io_uring HTTP proxy.\n\n\
        Without --config-path it serves the embedded quickstart configuration \
        (listener 127.0.0.1:10000, admin 127.0.0.1:9901). Options carry \
        Envoy's names; those ringway cannot act on are accepted and named \
        in a warning at start-up."
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

    /// `serve` runs the proxy; `validate` checks the configuration and
    /// exits; `init_only` also binds the listeners and the admin address,
    /// then exits 0.
    #[arg(long, value_enum, default_value_t = Mode::Serve)]
    pub mode: Mode,

    // --- workers -------------------------------------------------------
    /// Number of workers (default: the config's, else one per CPU in the
    /// process's affinity mask); 0 runs one, as in Envoy.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Without --concurrency: one worker per CPU of the process's cpuset
    /// (its affinity mask, or --cpu-set), over the config's count.
    #[arg(long = "cpuset-threads")]
    pub cpuset_threads: bool,

    /// CPUs to pin workers to, e.g. `0-3,6` (default: the config's, else
    /// the process's affinity mask).
    #[arg(long = "cpu-set", value_name = "LIST")]
    pub cpu_set: Option<String>,

    /// I/O driver: io_uring with epoll fallback (auto), or one of them.
    #[arg(long = "io-driver", value_enum)]
    pub io_driver: Option<DriverArg>,

    // --- admin ---------------------------------------------------------
    /// Admin API address (default: the config's, else 127.0.0.1:9901).
    #[arg(long = "admin-address", value_name = "ADDR")]
    pub admin_address: Option<SocketAddr>,

    /// Write the admin API's bound address to this file once listening.
    #[arg(long = "admin-address-path", value_name = "FILE")]
    pub admin_address_path: Option<PathBuf>,

    // --- node identity -------------------------------------------------
    /// The node's cluster, sent to the control plane (`node.cluster`);
    /// overrides the config's `xds.node.cluster`, as in Envoy.
    #[arg(long = "service-cluster", value_name = "NAME")]
    pub service_cluster: Option<String>,

    /// The node's id, sent to the control plane (`node.id`); overrides the
    /// config's `xds.node.id`, as in Envoy.
    #[arg(long = "service-node", value_name = "NAME")]
    pub service_node: Option<String>,

    /// The node's zone, sent to the control plane (`node.locality.zone`).
    #[arg(long = "service-zone", value_name = "NAME")]
    pub service_zone: Option<String>,

    // --- shutdown and hot restart ---------------------------------------
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    /// (Envoy's default is 600, for hot restarts, which ringway lacks.)
    #[arg(long = "drain-time-s", value_name = "SECONDS", default_value_t = 10)]
    pub drain_time_s: u64,

    /// Envoy's hot-restart drain sequence: `gradual` or `immediate`.
    #[arg(long = "drain-strategy", value_enum, default_value_t = DrainStrategy::Gradual)]
    pub drain_strategy: DrainStrategy,

    /// Envoy's hot-restart parent shutdown time (no hot restart here).
    #[arg(
        long = "parent-shutdown-time-s",
        value_name = "SECONDS",
        default_value_t = 900
    )]
    pub parent_shutdown_time_s: u64,

    /// Envoy's hot-restart base id (written to --base-id-path).
    #[arg(long = "base-id", value_name = "N", default_value_t = 0)]
    pub base_id: u32,

    /// Pick the base id at random (written to --base-id-path).
    #[arg(long = "use-dynamic-base-id")]
    pub use_dynamic_base_id: bool,

    /// Write the base id to this file at start-up, as Envoy does.
    #[arg(long = "base-id-path", value_name = "FILE")]
    pub base_id_path: Option<PathBuf>,

    /// Envoy's hot-restart epoch (no hot restart here).
    #[arg(long = "restart-epoch", value_name = "N", default_value_t = 0)]
    pub restart_epoch: u32,

    /// Hot restart off (ringway never hot-restarts); no --base-id-path file.
    #[arg(long = "disable-hot-restart")]
    pub disable_hot_restart: bool,

    /// Prints Envoy's hot-restart compatibility version (`disabled`), exits.
    #[arg(long = "hot-restart-version")]
    pub hot_restart_version: bool,

    /// Envoy's hot-restart domain socket (no hot restart here).
    #[arg(long = "socket-path", value_name = "PATH")]
    pub socket_path: Option<String>,

    /// Envoy's hot-restart socket file mode (no hot restart here).
    #[arg(long = "socket-mode", value_name = "MODE")]
    pub socket_mode: Option<String>,

    // --- logging -------------------------------------------------------
    /// trace, debug, info, warning (warn), error, critical or off; a
    /// tracing filter directive (`ringway_xds=debug`) is taken too.
    #[arg(short = 'l', long = "log-level", default_value = "info")]
    pub log_level: String,

    /// Per-component levels, Envoy's form: `upstream:debug,connection:trace`.
    #[arg(long = "component-log-level", value_name = "LIST")]
    pub component_log_level: Option<String>,

    /// Write ringway's log to this file (appending) instead of stderr.
    #[arg(long = "log-path", value_name = "FILE")]
    pub log_path: Option<PathBuf>,

    /// Envoy's spdlog format string (ringway keeps its own log format).
    #[arg(long = "log-format", value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Envoy's escaping of C-style sequences in log lines.
    #[arg(long = "log-format-escaped")]
    pub log_format_escaped: bool,

    /// Envoy's file-level (fine-grain) logger.
    #[arg(long = "enable-fine-grain-logging")]
    pub enable_fine_grain_logging: bool,

    // --- everything else Envoy scripts pass --------------------------------
    /// The IP version of the server's local address: `v4` or `v6`.
    #[arg(long = "local-address-ip-version", value_enum, default_value_t = IpVersion::V4)]
    pub local_address_ip_version: IpVersion,

    /// Envoy raises the core dump limit; ringway leaves it to `ulimit -c`.
    #[arg(long = "enable-core-dump")]
    pub enable_core_dump: bool,

    /// Envoy's mutex contention tracing.
    #[arg(long = "enable-mutex-tracing")]
    pub enable_mutex_tracing: bool,

    /// Accept unknown fields in the configuration file (Envoy's flag).
    #[arg(long = "allow-unknown-static-fields", alias = "allow-unknown-fields")]
    pub allow_unknown_static_fields: bool,

    /// Refuse dynamic (xDS) resources with unknown fields (Envoy's flag).
    #[arg(long = "reject-unknown-dynamic-fields")]
    pub reject_unknown_dynamic_fields: bool,

    /// Ignore unknown fields in dynamic (xDS) resources: what ringway does.
    #[arg(long = "ignore-unknown-dynamic-fields")]
    pub ignore_unknown_dynamic_fields: bool,

    /// Envoy's buffered file flush interval (access logs, its own log).
    #[arg(
        long = "file-flush-interval-msec",
        value_name = "MS",
        default_value_t = 10_000
    )]
    pub file_flush_interval_msec: u64,

    /// A tag added to every stat, `name:value` (repeatable).
    #[arg(long = "stats-tag", value_name = "NAME:VALUE", value_parser = compat::stats_tag)]
    pub stats_tag: Vec<String>,

    /// Extensions to disable (Envoy's comma-separated names).
    #[arg(long = "disable-extensions", value_name = "LIST")]
    pub disable_extensions: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Serve,
    Validate,
    #[value(name = "init_only")]
    InitOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriverArg {
    Auto,
    Uring,
    Epoll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DrainStrategy {
    Gradual,
    Immediate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IpVersion {
    V4,
    V6,
}

#[cfg(test)]
mod tests;
