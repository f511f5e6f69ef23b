//! Snapshots of one or many workers: merging and totals.

use std::collections::BTreeMap;

use crate::block::Block;
use crate::cluster::ClusterSnapshot;
use crate::listener::ListenerSnapshot;

/// Plain copies of a worker's stats blocks (`Send`), or the merge of
/// several workers' copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
    pub listeners: BTreeMap<String, ListenerSnapshot>,
    pub clusters: BTreeMap<String, ClusterSnapshot>,
}

/// Connection and request figures of one worker (or of the whole process),
/// summed over its listeners.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerTotals {
    pub downstream_cx_total: u64,
    pub downstream_cx_active: i64,
    pub downstream_rq_total: u64,
    pub downstream_rq_active: i64,
}

impl StatsSnapshot {
    /// Adds `other` into `self`: counters, gauges and histograms are summed
    /// block by block (`membership_total` takes the maximum).
    pub fn merge(&mut self, other: &StatsSnapshot) {
        merge_blocks(&mut self.listeners, &other.listeners);
        merge_blocks(&mut self.clusters, &other.clusters);
    }

    /// The merge of all `snapshots`.
    pub fn merged<'a>(snapshots: impl IntoIterator<Item = &'a StatsSnapshot>) -> StatsSnapshot {
        let mut all = StatsSnapshot::default();
        for s in snapshots {
            all.merge(s);
        }
        all
    }

    /// Sums the connection and request figures of every listener.
    pub fn totals(&self) -> WorkerTotals {
        let mut t = WorkerTotals::default();
        for l in self.listeners.values() {
            t.downstream_cx_total = t.downstream_cx_total.wrapping_add(l.downstream_cx_total);
            t.downstream_cx_active = t.downstream_cx_active.wrapping_add(l.downstream_cx_active);
            t.downstream_rq_total = t.downstream_rq_total.wrapping_add(l.downstream_rq_total);
            t.downstream_rq_active = t.downstream_rq_active.wrapping_add(l.downstream_rq_active);
        }
        t
    }
}

fn merge_blocks<B: Block>(into: &mut BTreeMap<String, B>, from: &BTreeMap<String, B>) {
    for (name, block) in from {
        match into.get_mut(name) {
            Some(existing) => existing.merge_from(block),
            None => {
                into.insert(name.clone(), block.clone());
            }
        }
    }
}
