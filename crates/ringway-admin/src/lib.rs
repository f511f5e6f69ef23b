//! The admin HTTP API, served on the control thread, in the shape of
//! Envoy's admin interface so tools written for Envoy keep working:
//! readiness, stats (Envoy text, JSON and Prometheus, `?filter`,
//! `?usedonly`), clusters with per-endpoint stats, listeners, the
//! configuration as Envoy's `ConfigDump`, server info, runtime, logging
//! levels, memory, counters reset, and the lifecycle endpoints
//! (`/healthcheck/fail`, `/healthcheck/ok`, `/drain_listeners`,
//! `/quitquitquit`); plus ringway's own `/workers` and `/ringway/config`.
//!
//! Envoy's JSON shapes are rendered from Envoy's own messages
//! (`envoy.admin.v3.*`) through ringway-envoy, so field names and value
//! forms (64-bit integers as strings, durations as `"5s"`) are proto3's
//! JSON mapping, as Envoy prints them. Endpoints that change state need
//! POST and answer 405 otherwise, as in Envoy.

#![forbid(unsafe_code)]

mod clusters;
mod config_dump;
mod control;
mod memory;
mod query;
mod render;
mod runtime;
mod server;

pub use control::{ConfigView, Control, ControlStat, LogChange, Readiness};
pub use runtime::Runtime;
pub use server::serve;
