//! Per-core stats: counters, gauges and latency histograms kept by each
//! worker without locks or atomics, copied into plain `Send` snapshots on
//! request, merged on the admin thread and rendered as Envoy-style `/stats`
//! text, Envoy-style JSON and Prometheus text.
//!
//! Each worker owns a [`WorkerStats`]. At configuration time it hands out
//! one `Rc<ListenerStats>` per listener and one `Rc<ClusterStats>` per
//! cluster (the same block for the same name, so counts survive reloads);
//! the request path then only does `Cell` loads and stores on its own
//! block, and never allocates. The admin thread asks each worker for
//! [`WorkerStats::snapshot`], merges the answers with
//! [`StatsSnapshot::merge`] and renders the result.
//!
//! Each block (listener, cluster) is declared once as a list of
//! kind, name and help text; the live struct, snapshot, merge and the
//! renderers' tables are generated from that list.

#![forbid(unsafe_code)]

mod block;
mod cluster;
mod histogram;
mod host;
mod listener;
mod metric;
mod prometheus;
mod select;
mod snapshot;
mod text;
mod worker;

pub use cluster::{ClusterSnapshot, ClusterStats};
pub use histogram::{
    BUCKETS, HISTOGRAM_HIGHEST_US, HISTOGRAM_LOWEST_US, HISTOGRAM_SIGFIG, HistogramSnapshot,
    LatencyHistogram,
};
pub use host::{HostSnapshot, HostStats};
pub use listener::{ListenerSnapshot, ListenerStats};
pub use metric::{ConfigGauge, Counter, Gauge};
pub use select::Select;
pub use snapshot::{StatsSnapshot, WorkerTotals};
pub use worker::WorkerStats;

#[cfg(test)]
mod tests;
