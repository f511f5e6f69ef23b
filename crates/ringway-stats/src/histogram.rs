//! Latency histograms: hdrhistogram in microseconds, allocated up front
//! so recording never allocates, and their mergeable snapshots.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Smallest trackable latency, in microseconds.
pub const HISTOGRAM_LOWEST_US: u64 = 1;
/// Largest trackable latency (one hour), in microseconds; longer samples are
/// recorded as this value.
pub const HISTOGRAM_HIGHEST_US: u64 = 3_600_000_000;
/// Significant figures kept: values are exact to within 1%.
pub const HISTOGRAM_SIGFIG: u8 = 2;

/// A new empty latency histogram. `None` only if hdrhistogram rejected the
/// constant bounds above, which a unit test rules out; callers then simply
/// record nothing.
pub(crate) fn new_histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US, HISTOGRAM_SIGFIG).ok()
}

/// A per-core latency histogram in microseconds. Its buckets (about 32 KiB)
/// are allocated by the first sample, so that the thousands of clusters a
/// control plane may send cost nothing until they carry traffic; later
/// samples never allocate.
#[derive(Debug)]
pub struct LatencyHistogram {
    hist: RefCell<Option<Histogram<u64>>>,
    sum_us: Cell<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            hist: RefCell::new(None),
            sum_us: Cell::new(0),
        }
    }
}

impl LatencyHistogram {
    /// Records one sample, clamped to 1 µs ..= 1 h.
    #[inline]
    pub fn record(&self, elapsed: Duration) {
        self.record_us(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one sample given in microseconds, clamped to 1 µs ..= 1 h.
    #[inline]
    pub fn record_us(&self, us: u64) {
        let us = us.clamp(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US);
        // The borrow cannot be held elsewhere (single thread, no re-entry);
        // `try_` keeps this path free of panics anyway.
        let Ok(mut hist) = self.hist.try_borrow_mut() else {
            return;
        };
        if hist.is_none() {
            *hist = new_histogram();
        }
        if let Some(hist) = hist.as_mut() {
            hist.saturating_record(us);
            self.sum_us.set(self.sum_us.get().saturating_add(us));
        }
    }

    /// Samples recorded so far.
    pub fn count(&self) -> u64 {
        match self.hist.try_borrow() {
            Ok(hist) => hist.as_ref().map_or(0, Histogram::len),
            Err(_) => 0,
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let hist = match self.hist.try_borrow() {
            // An empty histogram is not copied: snapshots of idle blocks stay small.
            Ok(hist) => hist.as_ref().filter(|h| !h.is_empty()).cloned(),
            Err(_) => None,
        };
        HistogramSnapshot {
            hist,
            sum_us: self.sum_us.get(),
        }
    }
}

/// Envoy's default histogram bucket bounds, in milliseconds, as Prometheus
/// `le` labels, with the same bounds in microseconds.
pub const BUCKETS: [(&str, u64); 19] = [
    ("0.5", 500),
    ("1", 1_000),
    ("5", 5_000),
    ("10", 10_000),
    ("25", 25_000),
    ("50", 50_000),
    ("100", 100_000),
    ("250", 250_000),
    ("500", 500_000),
    ("1000", 1_000_000),
    ("2500", 2_500_000),
    ("5000", 5_000_000),
    ("10000", 10_000_000),
    ("30000", 30_000_000),
    ("60000", 60_000_000),
    ("300000", 300_000_000),
    ("600000", 600_000_000),
    ("1800000", 1_800_000_000),
    ("3600000", 3_600_000_000),
];

/// A plain copy of a [`LatencyHistogram`], mergeable across workers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// `None` when nothing was recorded.
    hist: Option<Histogram<u64>>,
    sum_us: u64,
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.hist.as_ref().map_or(0, Histogram::len)
    }

    /// Sum of all samples, in microseconds (exact, not bucketed).
    pub fn sum_us(&self) -> u64 {
        self.sum_us
    }

    /// The value at quantile `q` (0.0 ..= 1.0) in microseconds, to the
    /// histogram's 1% resolution (the top of the sample's bucket); `None`
    /// when empty.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        self.hist.as_ref().map(|h| h.value_at_quantile(q))
    }

    /// Cumulative sample counts for each bound of [`BUCKETS`] (a sample is
    /// counted under a bound when the low end of its 1%-wide bucket is at
    /// or below it). Samples above the last bound appear only in
    /// [`Self::count`].
    pub fn cumulative_buckets(&self) -> [u64; BUCKETS.len()] {
        let mut counts = [0u64; BUCKETS.len()];
        let Some(hist) = &self.hist else {
            return counts;
        };
        let mut bound = 0;
        for v in hist.iter_recorded() {
            let low = hist.lowest_equivalent(v.value_iterated_to());
            while bound < BUCKETS.len() && BUCKETS[bound].1 < low {
                bound += 1;
            }
            if bound == BUCKETS.len() {
                break;
            }
            counts[bound] = counts[bound].saturating_add(v.count_at_value());
        }
        let mut running = 0u64;
        for c in &mut counts {
            running = running.saturating_add(*c);
            *c = running;
        }
        counts
    }

    pub fn merge(&mut self, other: &Self) {
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        let Some(theirs) = &other.hist else {
            return;
        };
        match &mut self.hist {
            None => self.hist = Some(theirs.clone()),
            Some(ours) => {
                // Same bounds on both sides, so `add` succeeds; re-record
                // with clamping should that ever change.
                if ours.add(theirs).is_err() {
                    for v in theirs.iter_recorded() {
                        ours.saturating_record_n(v.value_iterated_to(), v.count_at_value());
                    }
                }
            }
        }
    }
}
