//! Prometheus text exposition format 0.0.4.
//!
//! Names follow Envoy's Prometheus output: `envoy_` + block prefix + stat,
//! with the block's name moved into a label
//! (`cluster.backend.upstream_rq_total` becomes
//! `envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"}`). Each
//! family is written once (`# HELP`, `# TYPE`, then one sample per block).
//! Stats named `*_<N>xx` are also written, as Envoy does, as one
//! `*_xx{envoy_response_code_class="<N>",...}` family. Histograms use
//! Envoy's default bucket bounds in milliseconds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::block::{Block, StatDef};
use crate::histogram::BUCKETS;
use crate::metric::{Kind, Value};
use crate::select::Select;
use crate::snapshot::StatsSnapshot;
use crate::text::ms;

impl StatsSnapshot {
    /// Appends the Prometheus text exposition (format 0.0.4).
    pub fn render_prometheus(&self, out: &mut String) {
        self.render_prometheus_selected(out, &Select::ALL);
    }

    /// [`StatsSnapshot::render_prometheus`] keeping only the stats `select`
    /// keeps (by their Envoy name, `cluster.a.upstream_rq_total`); a family
    /// left without samples is left out whole.
    pub fn render_prometheus_selected(&self, out: &mut String, select: &Select<'_>) {
        render_blocks(out, &self.listeners, select);
        render_blocks(out, &self.clusters, select);
    }
}

fn render_blocks<B: Block>(out: &mut String, blocks: &BTreeMap<String, B>, select: &Select<'_>) {
    if blocks.is_empty() {
        return;
    }
    for def in B::STATS {
        let family = format!("envoy_{}_{}", B::ENVOY_PREFIX, def.name.replace('.', "_"));
        let kept: Vec<(&String, Value<'_>)> = blocks
            .iter()
            .map(|(name, block)| (name, (def.value)(block)))
            .filter(|(name, value)| select.keeps(&envoy_name::<B>(name, def), *value))
            .collect();
        if kept.is_empty() {
            continue;
        }
        header(out, &family, def.help, def.kind);
        for (name, value) in kept {
            let mut labels = String::new();
            push_label(&mut labels, B::PROMETHEUS_LABEL, name);
            sample(out, &family, &labels, value);
        }
    }
    render_status_classes(out, blocks, select);
}

/// `cluster.<name>.upstream_rq_total`.
fn envoy_name<B: Block>(block: &str, def: &StatDef<B>) -> String {
    format!("{}.{}.{}", B::ENVOY_PREFIX, block, def.name)
}

/// The `*_xx` families built from the `*_<N>xx` counters.
fn render_status_classes<B: Block>(
    out: &mut String,
    blocks: &BTreeMap<String, B>,
    select: &Select<'_>,
) {
    let mut bases: Vec<&str> = Vec::new();
    for def in B::STATS {
        if let Some((base, _)) = status_class(def.name).filter(|(b, _)| !bases.contains(b)) {
            bases.push(base);
        }
    }
    for base in bases {
        let family = format!("envoy_{}_{}_xx", B::ENVOY_PREFIX, base);
        let help = format!("The {base}_<N>xx counters, by response code class.");
        let classes: Vec<(char, &StatDef<B>)> = B::STATS
            .iter()
            .filter_map(|def| match status_class(def.name) {
                Some((b, class)) if b == base => Some((class, def)),
                _ => None,
            })
            .collect();
        let mut samples = String::new();
        for (name, block) in blocks {
            for (class, def) in &classes {
                let value = (def.value)(block);
                if !select.keeps(&envoy_name::<B>(name, def), value) {
                    continue;
                }
                let mut labels = String::new();
                push_label(
                    &mut labels,
                    "envoy_response_code_class",
                    class.encode_utf8(&mut [0; 4]),
                );
                push_label(&mut labels, B::PROMETHEUS_LABEL, name);
                sample(&mut samples, &family, &labels, value);
            }
        }
        if !samples.is_empty() {
            header(out, &family, &help, Kind::Counter);
            out.push_str(&samples);
        }
    }
}

/// `upstream_rq_2xx` → `Some(("upstream_rq", '2'))`.
fn status_class(name: &str) -> Option<(&str, char)> {
    let rest = name.strip_suffix("xx")?;
    let class = rest.chars().last().filter(|c| ('1'..='5').contains(c))?;
    let base = rest[..rest.len() - 1].strip_suffix('_')?;
    Some((base, class))
}

fn header(out: &mut String, family: &str, help: &str, kind: Kind) {
    let kind = match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
    };
    let _ = write!(out, "# HELP {family} ");
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    let _ = writeln!(out, "\n# TYPE {family} {kind}");
}

/// Writes one sample (or a histogram's bucket, sum and count lines);
/// `labels` is the comma-separated label list without braces.
fn sample(out: &mut String, family: &str, labels: &str, value: Value<'_>) {
    let _ = match value {
        Value::Counter(v) => writeln!(out, "{family}{{{labels}}} {v}"),
        Value::Gauge(v) => writeln!(out, "{family}{{{labels}}} {v}"),
        Value::Histogram(h) => {
            for ((le, _), count) in BUCKETS.iter().zip(h.cumulative_buckets()) {
                let _ = writeln!(out, "{family}_bucket{{{labels},le=\"{le}\"}} {count}");
            }
            let count = h.count();
            let _ = writeln!(out, "{family}_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "{family}_sum{{{labels}}} {}", ms(h.sum_us()));
            writeln!(out, "{family}_count{{{labels}}} {count}")
        }
    };
}

/// Appends `name="value"` (comma-separated from what precedes), escaping
/// the value as the exposition format requires.
fn push_label(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}
