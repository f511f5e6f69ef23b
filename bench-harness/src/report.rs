//! The result of a `bench-load` run and its JSON shape.
//!
//! ```json
//! {"target_rate": 20000.0, "duration_s": 10.0, "connections": 64,
//!  "requests": 200000, "responses_2xx": 199990, "non_2xx": 10, "errors": 0,
//!  "achieved_rate": 19999.1,
//!  "latency_us": {"min": 40, "mean": 120.5, "p50": 110, "p90": 180,
//!                 "p99": 400, "p999": 900, "max": 5000},
//!  "spectrum": [[0.0, 40], [10.0, 60], ..., [100.0, 5000]]}
//! ```

use hdrhistogram::Histogram;
use serde::Serialize;

/// Lowest latency the histogram tracks, in microseconds.
pub const LATENCY_LOW_US: u64 = 1;
/// Highest latency the histogram tracks (60 s), in microseconds; larger
/// values are recorded as this.
pub const LATENCY_HIGH_US: u64 = 60_000_000;
/// Significant figures kept by the histogram.
pub const LATENCY_SIGFIG: u8 = 3;

/// Percentiles of the `spectrum` array.
pub const SPECTRUM_PERCENTILES: [f64; 17] = [
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95,
    99.99, 100.0,
];

/// The same as quantiles, written out so that `p/100` rounding cannot make
/// the spectrum disagree with `latency_us` (0.999 vs 99.9/100).
const SPECTRUM_QUANTILES: [f64; 17] = [
    0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
];

/// A new, empty latency histogram in microseconds (1 µs .. 60 s, 3
/// significant figures).
pub fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(LATENCY_LOW_US, LATENCY_HIGH_US, LATENCY_SIGFIG)
        .map_err(|e| format!("cannot create latency histogram: {e}"))
}

/// Counts collected by one thread (or merged over all threads) within the
/// measured window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Responses with a 2xx status.
    pub responses_2xx: u64,
    /// Responses with any other status.
    pub non_2xx: u64,
    /// Failed exchanges: connect failures, resets, timeouts, malformed
    /// responses.
    pub errors: u64,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.responses_2xx += other.responses_2xx;
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
    }
}

/// Latency summary in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyUs {
    /// Smallest recorded latency.
    pub min: u64,
    /// Mean latency.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest recorded latency.
    pub max: u64,
}

/// The JSON object `bench-load --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Requested total rate, requests per second.
    pub target_rate: f64,
    /// Measured duration (warm-up excluded), seconds.
    pub duration_s: f64,
    /// Number of connections.
    pub connections: u64,
    /// Responses received plus errors within the measured window.
    pub requests: u64,
    /// Responses with a 2xx status.
    pub responses_2xx: u64,
    /// Responses with any other status.
    pub non_2xx: u64,
    /// Failed exchanges.
    pub errors: u64,
    /// Responses (2xx or not) to requests scheduled within the measured
    /// window, per second of that window: at most `target_rate`, and equal
    /// to it when every scheduled request was answered.
    pub achieved_rate: f64,
    /// Latency summary (coordinated-omission corrected), microseconds.
    pub latency_us: LatencyUs,
    /// `[percentile, latency_us]` pairs at [`SPECTRUM_PERCENTILES`].
    pub spectrum: Vec<(f64, u64)>,
}

impl Report {
    /// Builds the report from the merged counts and histogram of the
    /// requests scheduled within the measured window.
    pub fn new(
        target_rate: f64,
        duration_s: f64,
        connections: u64,
        counts: &Counts,
        hist: &Histogram<u64>,
    ) -> Self {
        let responses = counts.responses_2xx + counts.non_2xx;
        let achieved_rate = if duration_s > 0.0 {
            responses as f64 / duration_s
        } else {
            0.0
        };
        let empty = hist.is_empty();
        let q = |quantile: f64| {
            if empty {
                0
            } else {
                hist.value_at_quantile(quantile)
            }
        };
        let latency_us = LatencyUs {
            min: if empty { 0 } else { hist.min() },
            mean: if empty { 0.0 } else { round1(hist.mean()) },
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: if empty { 0 } else { hist.max() },
        };
        let spectrum = SPECTRUM_PERCENTILES
            .iter()
            .zip(SPECTRUM_QUANTILES)
            .map(|(&p, quantile)| {
                let v = if quantile == 0.0 {
                    latency_us.min
                } else if quantile == 1.0 {
                    latency_us.max
                } else {
                    q(quantile)
                };
                (p, v)
            })
            .collect();
        Self {
            target_rate,
            duration_s,
            connections,
            requests: responses + counts.errors,
            responses_2xx: counts.responses_2xx,
            non_2xx: counts.non_2xx,
            errors: counts.errors,
            achieved_rate: round1(achieved_rate),
            latency_us,
            spectrum,
        }
    }

    /// A few human-readable lines.
    pub fn summary(&self) -> String {
        let l = &self.latency_us;
        format!(
            "target {:.1} req/s over {} connections for {:.1} s\n\
             achieved {:.1} req/s: {} requests, {} 2xx, {} non-2xx, {} errors\n\
             latency (us, corrected for coordinated omission):\n  \
             min {} mean {:.1} p50 {} p90 {} p99 {} p99.9 {} max {}\n",
            self.target_rate,
            self.connections,
            self.duration_s,
            self.achieved_rate,
            self.requests,
            self.responses_2xx,
            self.non_2xx,
            self.errors,
            l.min,
            l.mean,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
        )
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> Report {
        let mut h = new_histogram().unwrap_or_else(|e| panic!("{e}"));
        for v in 1..=1000u64 {
            h.saturating_record(v * 10);
        }
        let counts = Counts {
            responses_2xx: 990,
            non_2xx: 10,
            errors: 2,
        };
        Report::new(2000.0, 0.5, 16, &counts, &h)
    }

    #[test]
    fn json_has_exactly_the_documented_shape() {
        let v: Value = serde_json::to_value(sample()).unwrap_or(Value::Null);
        let obj = v.as_object().cloned().unwrap_or_default();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "achieved_rate",
                "connections",
                "duration_s",
                "errors",
                "latency_us",
                "non_2xx",
                "requests",
                "responses_2xx",
                "spectrum",
                "target_rate"
            ]
        );
        assert!(v["target_rate"].is_f64());
        assert!(v["duration_s"].is_f64());
        assert!(v["achieved_rate"].is_f64());
        assert_eq!(v["connections"], 16);
        assert_eq!(v["requests"], 1002);
        assert_eq!(v["responses_2xx"], 990);
        assert_eq!(v["non_2xx"], 10);
        assert_eq!(v["errors"], 2);
        assert_eq!(v["achieved_rate"], 2000.0);

        let lat = v["latency_us"].as_object().cloned().unwrap_or_default();
        let mut lkeys: Vec<&str> = lat.keys().map(String::as_str).collect();
        lkeys.sort_unstable();
        assert_eq!(lkeys, ["max", "mean", "min", "p50", "p90", "p99", "p999"]);
        assert!(lat["mean"].is_f64());
        for k in ["min", "p50", "p90", "p99", "p999", "max"] {
            assert!(lat[k].is_u64(), "{k}");
        }
        assert_eq!(lat["min"], 10);
        assert_eq!(lat["max"], 10007); // 3 significant figures

        let spectrum = v["spectrum"].as_array().cloned().unwrap_or_default();
        assert_eq!(spectrum.len(), SPECTRUM_PERCENTILES.len());
        let mut last = 0;
        for (pair, want_p) in spectrum.iter().zip(SPECTRUM_PERCENTILES) {
            let pair = pair.as_array().cloned().unwrap_or_default();
            assert_eq!(pair.len(), 2);
            assert!(pair[0].is_f64());
            assert_eq!(pair[0].as_f64(), Some(want_p));
            let lat = pair[1].as_u64().unwrap_or(0);
            assert!(lat >= last, "spectrum must be monotone");
            last = lat;
        }
        assert_eq!(spectrum[0][1], 10);
        assert_eq!(spectrum[16][1], 10007);
    }

    #[test]
    fn serializes_percentiles_as_floats() {
        let text = serde_json::to_string(&sample()).unwrap_or_default();
        assert!(text.starts_with("{\"target_rate\":2000.0,\"duration_s\":0.5,"));
        assert!(text.contains("\"spectrum\":[[0.0,10],[10.0,"));
        assert!(text.ends_with("[100.0,10007]]}"));
    }

    #[test]
    fn empty_run_reports_zeros() {
        let h = new_histogram().unwrap_or_else(|e| panic!("{e}"));
        let r = Report::new(100.0, 1.0, 1, &Counts::default(), &h);
        assert_eq!(r.requests, 0);
        assert_eq!(r.latency_us.max, 0);
        assert!(r.spectrum.iter().all(|&(_, v)| v == 0));
    }

    #[test]
    fn spectrum_agrees_with_the_summary() {
        let r = sample();
        let at = |p: f64| r.spectrum.iter().find(|(q, _)| *q == p).map(|&(_, v)| v);
        assert_eq!(at(50.0), Some(r.latency_us.p50));
        assert_eq!(at(90.0), Some(r.latency_us.p90));
        assert_eq!(at(99.0), Some(r.latency_us.p99));
        assert_eq!(at(99.9), Some(r.latency_us.p999));
    }

    #[test]
    fn achieved_rate_is_responses_per_measured_second() {
        let h = new_histogram().unwrap_or_else(|e| panic!("{e}"));
        let counts = Counts {
            responses_2xx: 90,
            non_2xx: 10,
            errors: 7,
        };
        assert_eq!(Report::new(100.0, 2.0, 1, &counts, &h).achieved_rate, 50.0);
    }
}
