//! Per-core upstream connections: a pool of idle HTTP/1.1 connections per
//! endpoint ([`pool`]) and multiplexed HTTP/2 client connections ([`h2`]).

pub(crate) mod h2;
pub(crate) mod pool;

use std::rc::Rc;

use ringway_config::model::Cluster;
use ringway_stats::ClusterStats;

/// What the pools need of their cluster: its settings and its stats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClusterRef<'a> {
    pub config: &'a Cluster,
    pub stats: &'a Rc<ClusterStats>,
}
