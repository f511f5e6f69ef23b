//! The Envoy options ringway takes without acting on them (each named in a
//! start-up warning with the reason), the checks Envoy makes on them, and
//! the base id Envoy writes to `--base-id-path`.

use std::path::Path;

use super::{Cli, DrainStrategy, IpVersion};

/// The base id, as Envoy picks it: `--base-id`, or with
/// `--use-dynamic-base-id` a random one (Envoy keeps it below 2^28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseId(pub u32);

impl BaseId {
    pub fn pick(cli: &Cli) -> Self {
        if cli.use_dynamic_base_id {
            Self(fastrand::u32(..) & 0x0FFF_FFFF)
        } else {
            Self(cli.base_id)
        }
    }

    /// Writes the id (decimal, no newline, as Envoy does) to `path`.
    pub fn write(self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.0.to_string())
            .map_err(|e| format!("--base-id-path {}: {e}", path.display()))
    }
}

impl Cli {
    /// The combinations Envoy refuses.
    pub fn check(&self) -> Result<(), String> {
        if self.use_dynamic_base_id && self.restart_epoch > 0 {
            return Err(format!(
                "cannot use --restart-epoch={} with --use-dynamic-base-id",
                self.restart_epoch
            ));
        }
        Ok(())
    }

    /// Options given that ringway does not act on: (option, why). Options
    /// left at Envoy's default, or set to what ringway does anyway, are
    /// not listed.
    pub fn not_acted_on(&self) -> Vec<(&'static str, &'static str)> {
        const NO_HOT_RESTART: &str = "ringway has no hot restart; a restart starts fresh";
        let mut out = Vec::new();
        let mut note = |given: bool, flag: &'static str, why: &'static str| {
            if given {
                out.push((flag, why));
            }
        };
        note(
            self.drain_strategy == DrainStrategy::Immediate,
            "--drain-strategy",
            "ringway has no hot restart or LDS drain sequence; on SIGTERM it stops accepting at once and lets requests finish within --drain-time-s",
        );
        note(
            self.parent_shutdown_time_s != 900,
            "--parent-shutdown-time-s",
            NO_HOT_RESTART,
        );
        note(
            self.base_id != 0 && self.base_id_path.is_none(),
            "--base-id",
            "ringway has no hot restart (no shared memory); the id is only written to --base-id-path",
        );
        note(
            self.use_dynamic_base_id && self.base_id_path.is_none(),
            "--use-dynamic-base-id",
            "ringway has no hot restart (no shared memory); the id is only written to --base-id-path",
        );
        note(self.restart_epoch != 0, "--restart-epoch", NO_HOT_RESTART);
        note(self.socket_path.is_some(), "--socket-path", NO_HOT_RESTART);
        note(self.socket_mode.is_some(), "--socket-mode", NO_HOT_RESTART);
        note(
            self.log_format.is_some(),
            "--log-format",
            "ringway cannot honour spdlog format strings; it writes its own format (time, level, module, message, fields)",
        );
        note(
            self.log_format_escaped,
            "--log-format-escaped",
            "ringway keeps each log line on one line already; no extra escaping is applied",
        );
        note(
            self.enable_fine_grain_logging,
            "--enable-fine-grain-logging",
            "use a tracing filter directive in --log-level (e.g. `ringway_xds=debug`) instead",
        );
        note(
            self.local_address_ip_version == IpVersion::V6,
            "--local-address-ip-version",
            "ringway does not derive a local address from it (X-Forwarded-For appends the peer address)",
        );
        note(
            self.enable_core_dump,
            "--enable-core-dump",
            "ringway leaves the core limit as the process got it; raise it with `ulimit -c unlimited`",
        );
        note(
            self.enable_mutex_tracing,
            "--enable-mutex-tracing",
            "ringway's workers share no mutexes on the request path; there is no /contention",
        );
        note(
            self.allow_unknown_static_fields,
            "--allow-unknown-static-fields",
            "ringway's configuration file refuses unknown fields always, naming each",
        );
        note(
            self.reject_unknown_dynamic_fields,
            "--reject-unknown-dynamic-fields",
            "ringway ignores unknown protobuf fields in xDS resources (it refuses known fields it does not support)",
        );
        note(
            self.file_flush_interval_msec != 10_000,
            "--file-flush-interval-msec",
            "access logs are flushed every second and at 16 KiB",
        );
        note(
            !self.stats_tag.is_empty(),
            "--stats-tag",
            "ringway's stats carry no universal tags",
        );
        note(
            self.disable_extensions.is_some(),
            "--disable-extensions",
            "ringway has no extensions to disable",
        );
        out
    }
}

/// Checks a `--stats-tag` as Envoy does: `name:value`, the name
/// alphanumeric (or `_`), the value without a dot.
pub fn stats_tag(text: &str) -> Result<String, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!(
            "misformatted stats-tag '{text}': expected name:value"
        ));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "misformatted stats-tag '{text}': invalid name '{name}'"
        ));
    }
    if value.contains('.') {
        return Err(format!(
            "misformatted stats-tag '{text}': invalid value '{value}'"
        ));
    }
    Ok(text.to_owned())
}
