//! The admin HTTP API, served on the control thread: readiness, stats
//! (Envoy text, JSON and Prometheus), clusters, listeners, workers, the live
//! config, server info, and the lifecycle endpoints (`/healthcheck/fail`,
//! `/healthcheck/ok`, `/drain_listeners`, `/quitquitquit`).
//!
//! Paths and formats follow Envoy's admin interface where Envoy has the
//! same endpoint, so existing tooling keeps working.

#![forbid(unsafe_code)]

mod render;
mod server;

pub use server::{Control, ControlStat, Readiness, serve};
