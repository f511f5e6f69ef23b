//! Envoy-style `/stats` text and JSON rendering.
//!
//! Text: one `name: value` line per counter and gauge, sorted by name, then
//! one line per histogram, sorted by name:
//!
//! ```text
//! cluster.backend.upstream_rq_total: 12
//! http.main.downstream_cx_active: 3
//! cluster.backend.upstream_rq_time: P50(1.05) P90(2.01) P95(2.51) P99(9.02) P99.9(12.1) Count(12)
//! http.main.downstream_rq_time: No recorded values
//! ```
//!
//! Histogram quantiles are in milliseconds, accurate to 1% (the top of the
//! sample's bucket); `Count` is the number of samples since start.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::block::Block;
use crate::histogram::HistogramSnapshot;
use crate::metric::Value;
use crate::select::Select;
use crate::snapshot::StatsSnapshot;

/// Quantiles shown for each histogram, as percentiles, with their labels.
const PERCENTILES: [(&str, f64); 5] = [
    ("P50", 50.0),
    ("P90", 90.0),
    ("P95", 95.0),
    ("P99", 99.0),
    ("P99.9", 99.9),
];

/// Every stat under its full Envoy name, sorted by name.
struct Flat<'a> {
    scalars: Vec<(String, Scalar)>,
    histograms: Vec<(String, &'a HistogramSnapshot)>,
}

impl StatsSnapshot {
    /// Appends Envoy-style `/stats` text (format in the module docs).
    pub fn render_text(&self, out: &mut String) {
        self.render_text_selected(out, &Select::ALL);
    }

    /// [`StatsSnapshot::render_text`] keeping only the stats `select` keeps.
    pub fn render_text_selected(&self, out: &mut String, select: &Select<'_>) {
        let Flat {
            scalars,
            histograms,
        } = self.flatten(select);
        for (name, value) in &scalars {
            let _ = match value {
                Scalar::Counter(v) => writeln!(out, "{name}: {v}"),
                Scalar::Gauge(v) => writeln!(out, "{name}: {v}"),
            };
        }
        for (name, h) in &histograms {
            out.push_str(name);
            out.push(':');
            if h.count() == 0 {
                out.push_str(" No recorded values\n");
                continue;
            }
            for (label, p) in PERCENTILES {
                let us = h.quantile_us(p / 100.0).unwrap_or(0);
                let _ = write!(out, " {label}({})", ms(us));
            }
            let _ = writeln!(out, " Count({})", h.count());
        }
    }

    /// Envoy's `/stats?format=json` layout: `{"stats": [{"name", "value"}…,
    /// {"histograms": {"supported_quantiles", "computed_quantiles"}}]}`.
    /// Quantile values are cumulative milliseconds (`null` when empty);
    /// intervals are not tracked and are always `null`.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_selected(&Select::ALL)
    }

    /// [`StatsSnapshot::to_json`] keeping only the stats `select` keeps.
    pub fn to_json_selected(&self, select: &Select<'_>) -> serde_json::Value {
        let Flat {
            scalars,
            histograms,
        } = self.flatten(select);
        let mut stats: Vec<serde_json::Value> = scalars
            .iter()
            .map(|(name, value)| match value {
                Scalar::Counter(v) => json!({ "name": name, "value": v }),
                Scalar::Gauge(v) => json!({ "name": name, "value": v }),
            })
            .collect();
        let computed: Vec<serde_json::Value> = histograms
            .iter()
            .map(|(name, h)| {
                let values: Vec<serde_json::Value> = PERCENTILES
                    .iter()
                    .map(|&(_, p)| {
                        let cumulative = h.quantile_us(p / 100.0).map(ms);
                        json!({ "interval": null, "cumulative": cumulative })
                    })
                    .collect();
                json!({ "name": name, "values": values })
            })
            .collect();
        let supported: Vec<f64> = PERCENTILES.iter().map(|&(_, p)| p).collect();
        stats.push(json!({
            "histograms": {
                "supported_quantiles": supported,
                "computed_quantiles": computed,
            }
        }));
        json!({ "stats": stats })
    }

    fn flatten(&self, select: &Select<'_>) -> Flat<'_> {
        let mut all = Vec::new();
        push_named(&mut all, &self.listeners);
        push_named(&mut all, &self.clusters);
        all.retain(|(name, value)| select.keeps(name, *value));
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut scalars = Vec::with_capacity(all.len());
        let mut histograms = Vec::new();
        for (name, value) in all {
            match value {
                Value::Counter(v) => scalars.push((name, Scalar::Counter(v))),
                Value::Gauge(v) => scalars.push((name, Scalar::Gauge(v))),
                Value::Histogram(h) => histograms.push((name, h)),
            }
        }
        Flat {
            scalars,
            histograms,
        }
    }
}

/// A counter or gauge value.
#[derive(Debug, Clone, Copy)]
enum Scalar {
    Counter(u64),
    Gauge(i64),
}

fn push_named<'a, B: Block>(out: &mut Vec<(String, Value<'a>)>, blocks: &'a BTreeMap<String, B>) {
    for (block_name, block) in blocks {
        for def in B::STATS {
            let name = format!("{}.{}.{}", B::ENVOY_PREFIX, block_name, def.name);
            out.push((name, (def.value)(block)));
        }
    }
}

/// Microseconds as milliseconds, shortest exact decimal (`1.05`, `12`).
pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
