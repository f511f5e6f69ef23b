//! Which configuration to load, in which format: ringway's own file, an
//! Envoy v3 bootstrap (told apart by its top-level keys, with
//! `--config-yaml` merged over it as Envoy does), or the embedded
//! quickstart. Used at start-up and on SIGHUP. An Envoy bootstrap is kept
//! as loaded, for the admin API.

use std::path::Path;

use ringway_config::SystemResolver;
use ringway_config::model::Snapshot;

/// The quickstart configuration served when no file is given.
pub const QUICKSTART: &str = include_str!("../../../configs/quickstart.yaml");
const QUICKSTART_SOURCE: &str = "embedded:configs/quickstart.yaml";

/// A configuration loaded and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub snapshot: Snapshot,
    /// For an Envoy bootstrap, the bootstrap as loaded (with
    /// `--config-yaml` merged), as Envoy's JSON, for `/config_dump` and
    /// `/runtime`; `None` for ringway's own format.
    pub bootstrap: Option<serde_json::Value>,
}

impl Loaded {
    fn own(snapshot: Snapshot) -> Self {
        Self {
            snapshot,
            bootstrap: None,
        }
    }

    fn envoy(loaded: ringway_envoy::bootstrap::Loaded) -> Self {
        Self {
            snapshot: loaded.snapshot,
            bootstrap: Some(loaded.bootstrap_json),
        }
    }
}

/// Loads and validates the configuration `-c` and `--config-yaml` name.
pub fn load(path: Option<&Path>, config_yaml: Option<&str>) -> Result<Loaded, String> {
    let Some(path) = path else {
        return match config_yaml {
            Some(yaml) => {
                ringway_envoy::bootstrap::load("--config-yaml", None, Some(yaml), &SystemResolver)
                    .map(Loaded::envoy)
                    .map_err(|e| e.to_string())
            }
            None => ringway_config::load_str(QUICKSTART_SOURCE, QUICKSTART, &SystemResolver)
                .map(Loaded::own)
                .map_err(|e| e.to_string()),
        };
    };
    let source = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{source}: -: cannot read: {e}"))?;
    let format = ringway_envoy::text::Format::of(&source);
    let bootstrap = ringway_envoy::text::document(&text, format)
        .map(|doc| ringway_envoy::bootstrap::is_bootstrap(&doc))
        .unwrap_or(false);
    if bootstrap {
        return ringway_envoy::bootstrap::load(&source, Some(&text), config_yaml, &SystemResolver)
            .map(Loaded::envoy)
            .map_err(|e| e.to_string());
    }
    if config_yaml.is_some() {
        return Err(format!(
            "{source}: -: --config-yaml is merged over an Envoy bootstrap; this file is in ringway's own format"
        ));
    }
    ringway_config::load_str(&source, &text, &SystemResolver)
        .map(Loaded::own)
        .map_err(|e| e.to_string())
}
