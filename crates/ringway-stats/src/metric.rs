//! Counters and gauges, and the `Metric` trait that ties each live metric
//! kind (these and the latency histogram) to its plain snapshot form.
//!
//! Live metrics are `Cell`s: the owning worker updates them with ordinary
//! loads and stores. Nothing here is `Sync`.

use std::cell::Cell;

use crate::histogram::{HistogramSnapshot, LatencyHistogram};

/// A monotonically increasing per-core count.
#[derive(Debug, Default)]
pub struct Counter(Cell<u64>);

impl Counter {
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    #[inline]
    pub fn add(&self, n: u64) {
        self.0.set(self.0.get().wrapping_add(n));
    }

    #[inline]
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A per-core level that goes up and down (active connections, ...).
/// Snapshots of different workers are summed.
#[derive(Debug, Default)]
pub struct Gauge(Cell<i64>);

impl Gauge {
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    #[inline]
    pub fn dec(&self) {
        self.sub(1);
    }

    #[inline]
    pub fn add(&self, n: i64) {
        self.0.set(self.0.get().wrapping_add(n));
    }

    #[inline]
    pub fn sub(&self, n: i64) {
        self.0.set(self.0.get().wrapping_sub(n));
    }

    #[inline]
    pub fn set(&self, v: i64) {
        self.0.set(v);
    }

    #[inline]
    pub fn get(&self) -> i64 {
        self.0.get()
    }
}

/// A gauge every worker sets to the same value from configuration (e.g.
/// `membership_total`). Snapshots are merged by taking the maximum, not the
/// sum, so N workers do not report N times the value.
#[derive(Debug, Default)]
pub struct ConfigGauge(Cell<i64>);

impl ConfigGauge {
    #[inline]
    pub fn set(&self, v: i64) {
        self.0.set(v);
    }

    #[inline]
    pub fn get(&self) -> i64 {
        self.0.get()
    }
}

/// What kind of metric a stat is, for rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One stat's value inside a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Counter(u64),
    Gauge(i64),
    Histogram(&'a HistogramSnapshot),
}

impl Value<'_> {
    /// Whether the stat has been written: a counter or gauge that is not
    /// zero, a histogram with a sample (Envoy's `usedonly`, as far as a
    /// value can tell).
    pub(crate) fn used(&self) -> bool {
        match self {
            Value::Counter(v) => *v != 0,
            Value::Gauge(v) => *v != 0,
            Value::Histogram(h) => h.count() != 0,
        }
    }
}

/// Ties a live metric to its snapshot form; the block macro builds the
/// snapshot, merge and rendering code from it.
pub(crate) trait Metric {
    type Snapshot;
    const KIND: Kind;
    fn snapshot(&self) -> Self::Snapshot;
    fn merge(into: &mut Self::Snapshot, other: &Self::Snapshot);
    fn value(snapshot: &Self::Snapshot) -> Value<'_>;
    /// Zeroes the metric if it is a counter (what Envoy's
    /// `/reset_counters` does); gauges and histograms keep their values.
    fn reset_counter(&self) {}
}

impl Metric for Counter {
    type Snapshot = u64;
    const KIND: Kind = Kind::Counter;
    fn reset_counter(&self) {
        self.0.set(0);
    }
    fn snapshot(&self) -> u64 {
        self.get()
    }
    fn merge(into: &mut u64, other: &u64) {
        *into = into.wrapping_add(*other);
    }
    fn value(snapshot: &u64) -> Value<'_> {
        Value::Counter(*snapshot)
    }
}

impl Metric for Gauge {
    type Snapshot = i64;
    const KIND: Kind = Kind::Gauge;
    fn snapshot(&self) -> i64 {
        self.get()
    }
    fn merge(into: &mut i64, other: &i64) {
        *into = into.wrapping_add(*other);
    }
    fn value(snapshot: &i64) -> Value<'_> {
        Value::Gauge(*snapshot)
    }
}

impl Metric for ConfigGauge {
    type Snapshot = i64;
    const KIND: Kind = Kind::Gauge;
    fn snapshot(&self) -> i64 {
        self.get()
    }
    fn merge(into: &mut i64, other: &i64) {
        *into = (*into).max(*other);
    }
    fn value(snapshot: &i64) -> Value<'_> {
        Value::Gauge(*snapshot)
    }
}

impl Metric for LatencyHistogram {
    type Snapshot = HistogramSnapshot;
    const KIND: Kind = Kind::Histogram;
    fn snapshot(&self) -> HistogramSnapshot {
        LatencyHistogram::snapshot(self)
    }
    fn merge(into: &mut HistogramSnapshot, other: &HistogramSnapshot) {
        into.merge(other);
    }
    fn value(snapshot: &HistogramSnapshot) -> Value<'_> {
        Value::Histogram(snapshot)
    }
}
