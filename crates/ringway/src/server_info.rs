//! `/server_info` in Envoy's shape (`envoy.admin.v3.ServerInfo`, every
//! scalar printed as Envoy prints it): version, state, uptimes, hot
//! restart version, the command line options and the node.

use std::time::SystemTime;

use envoy_types::pb::envoy::admin::v3::command_line_options::{DrainStrategy, IpVersion, Mode};
use envoy_types::pb::envoy::admin::v3::server_info::State;
use envoy_types::pb::envoy::admin::v3::{CommandLineOptions, ServerInfo};
use envoy_types::pb::envoy::config::core::v3::{BuildVersion, Locality, Node, node};
use envoy_types::pb::envoy::r#type::v3::SemanticVersion;
use envoy_types::pb::google::protobuf::Duration;
use ringway_admin::Readiness;

use crate::cli::{self, Cli};
use crate::identity::NodeIdentity;
use crate::plan::Plan;

/// ringway's version in the layout of Envoy's (commit, version, tree
/// state, build type, TLS library); ringway has no TLS library yet.
pub fn version() -> String {
    format!("ringway/{}/Clean/RELEASE/none", env!("CARGO_PKG_VERSION"))
}

/// The command line as Envoy's `CommandLineOptions` (`concurrency` is the
/// number of workers started).
pub fn command_line_options(cli: &Cli, plan: &Plan) -> CommandLineOptions {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let path = |v: &Option<std::path::PathBuf>| {
        v.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let seconds = |s: u64| Duration {
        seconds: i64::try_from(s).unwrap_or(i64::MAX),
        nanos: 0,
    };
    let ms = cli.file_flush_interval_msec;
    CommandLineOptions {
        base_id: u64::from(cli.base_id),
        use_dynamic_base_id: cli.use_dynamic_base_id,
        base_id_path: path(&cli.base_id_path),
        concurrency: u32::try_from(plan.count).unwrap_or(u32::MAX),
        config_path: path(&cli.config_path),
        config_yaml: text(&cli.config_yaml),
        allow_unknown_static_fields: cli.allow_unknown_static_fields,
        reject_unknown_dynamic_fields: cli.reject_unknown_dynamic_fields,
        ignore_unknown_dynamic_fields: cli.ignore_unknown_dynamic_fields,
        admin_address_path: path(&cli.admin_address_path),
        local_address_ip_version: match cli.local_address_ip_version {
            cli::IpVersion::V4 => IpVersion::V4,
            cli::IpVersion::V6 => IpVersion::V6,
        } as i32,
        log_level: cli.log_level.clone(),
        component_log_level: text(&cli.component_log_level),
        log_format: text(&cli.log_format),
        log_format_escaped: cli.log_format_escaped,
        log_path: path(&cli.log_path),
        service_cluster: text(&cli.service_cluster),
        service_node: text(&cli.service_node),
        service_zone: text(&cli.service_zone),
        file_flush_interval: Some(Duration {
            seconds: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
            // Below 1e9, so it fits.
            nanos: ((ms % 1000) * 1_000_000) as i32,
        }),
        drain_time: Some(seconds(cli.drain_time_s)),
        drain_strategy: match cli.drain_strategy {
            cli::DrainStrategy::Gradual => DrainStrategy::Gradual,
            cli::DrainStrategy::Immediate => DrainStrategy::Immediate,
        } as i32,
        parent_shutdown_time: Some(seconds(cli.parent_shutdown_time_s)),
        // Only a serving process answers /server_info.
        mode: Mode::Serve as i32,
        disable_hot_restart: cli.disable_hot_restart,
        enable_mutex_tracing: cli.enable_mutex_tracing,
        restart_epoch: cli.restart_epoch,
        cpuset_threads: cli.cpuset_threads,
        disabled_extensions: cli
            .disable_extensions
            .iter()
            .flat_map(|l| l.split(','))
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        enable_fine_grain_logging: cli.enable_fine_grain_logging,
        socket_path: text(&cli.socket_path),
        socket_mode: cli
            .socket_mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .unwrap_or(0),
        enable_core_dump: cli.enable_core_dump,
        stats_tag: cli.stats_tag.clone(),
        ..Default::default()
    }
}

/// The node as Envoy shows it: identity, and ringway as the user agent.
pub fn node(identity: &NodeIdentity) -> Node {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    Node {
        id: identity.id.clone(),
        cluster: identity.cluster.clone(),
        locality: (!identity.zone.is_empty()).then(|| Locality {
            zone: identity.zone.clone(),
            ..Default::default()
        }),
        user_agent_name: "ringway".into(),
        user_agent_version_type: Some(node::UserAgentVersionType::UserAgentBuildVersion(
            BuildVersion {
                version: Some(SemanticVersion {
                    major_number: parts.next().unwrap_or(0),
                    minor_number: parts.next().unwrap_or(0),
                    patch: parts.next().unwrap_or(0),
                }),
                metadata: None,
            },
        )),
        ..Default::default()
    }
}

/// Envoy's `ServerInfo` as JSON, with every scalar printed.
pub fn envoy_json(
    options: &CommandLineOptions,
    identity: &NodeIdentity,
    readiness: Readiness,
    started: SystemTime,
) -> serde_json::Value {
    let uptime = Duration {
        seconds: started
            .elapsed()
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        nanos: 0,
    };
    let state = match readiness.envoy_state() {
        "DRAINING" => State::Draining,
        "INITIALIZING" => State::Initializing,
        "PRE_INITIALIZING" => State::PreInitializing,
        _ => State::Live,
    };
    let info = ServerInfo {
        version: version(),
        state: state as i32,
        uptime_current_epoch: Some(uptime),
        // No hot restart: one epoch.
        uptime_all_epochs: Some(uptime),
        hot_restart_version: "disabled".into(),
        command_line_options: Some(options.clone()),
        node: Some(node(identity)),
        ..Default::default()
    };
    ringway_envoy::text::render(&info, true)
}
