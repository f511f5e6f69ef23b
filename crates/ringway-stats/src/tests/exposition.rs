//! A small checker for the Prometheus text exposition format 0.0.4, run
//! over rendered output.

use std::collections::{BTreeMap, BTreeSet};

use super::busy_worker;
use crate::*;

struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(ok_first) && chars.all(|c| ok_first(c) || c.is_ascii_digit())
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (series, value) = line.rsplit_once(' ').ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse::<f64>().map_err(|e| format!("value {v:?}: {e}"))?,
    };
    let (name, mut rest) = match series.split_once('{') {
        Some((n, r)) => (n, r.strip_suffix('}').ok_or("unclosed labels")?),
        None => (series, ""),
    };
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = Vec::new();
    while !rest.is_empty() {
        let (label, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if !is_name(label, false) {
            return Err(format!("bad label name {label:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    c => return Err(format!("bad escape \\{c}")),
                },
                (_, '\n') => return Err("raw newline".into()),
                (_, c) => value.push(c),
            }
        };
        labels.push((label.to_owned(), value));
        rest = &after[end + 1..];
        rest = match rest.strip_prefix(',') {
            Some(r) if !r.is_empty() => r,
            Some(_) => return Err("trailing comma".into()),
            None if rest.is_empty() => rest,
            None => return Err(format!("junk after label: {rest:?}")),
        };
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Checks `text` and returns the number of samples.
fn check_exposition(text: &str) -> Result<usize, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut seen_series: BTreeSet<String> = BTreeSet::new();
    // (family, labels without le) -> (le, cumulative count) in order
    let mut buckets: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut samples = 0;
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kw, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if kw == "TYPE" {
                let kind = parts.next().unwrap_or("");
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(format!("bad type {kind:?}"));
                }
                if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                    return Err(format!("second TYPE for {name}"));
                }
            }
            if let Some(prev) = current.replace(name.to_owned()).filter(|p| p != name) {
                finished.insert(prev);
            }
            if finished.contains(name) {
                return Err(format!("{name} appears in two groups"));
            }
            continue;
        }
        let s = parse_sample(line).map_err(|e| format!("{e}: {line:?}"))?;
        samples += 1;
        let family = if types.contains_key(&s.name) {
            s.name.clone()
        } else {
            ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|suffix| s.name.strip_suffix(suffix))
                .find(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                .map(str::to_owned)
                .ok_or_else(|| format!("sample before its TYPE: {line:?}"))?
        };
        if current.as_deref() != Some(family.as_str()) {
            return Err(format!("sample outside its family's group: {line:?}"));
        }
        if !seen_series.insert(line.rsplit_once(' ').map_or("", |p| p.0).to_owned()) {
            return Err(format!("duplicate series {line:?}"));
        }
        let plain: Vec<String> = s
            .labels
            .iter()
            .filter(|(k, _)| k != "le")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let key = (family.clone(), plain.join(","));
        if s.name.ends_with("_bucket") && family != s.name {
            let le = s
                .labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or("bucket without le")?;
            let le = match le.1.as_str() {
                "+Inf" => f64::INFINITY,
                v => v.parse::<f64>().map_err(|e| format!("le {v:?}: {e}"))?,
            };
            buckets.entry(key).or_default().push((le, s.value));
        } else if s.name.ends_with("_count") && family != s.name {
            counts.insert(key, s.value);
        }
    }
    if buckets.len() != counts.len() {
        return Err("histograms without _count or buckets".into());
    }
    for (key, series) in &buckets {
        if !series
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        {
            return Err(format!("buckets not cumulative: {key:?}"));
        }
        let last = series.last().ok_or("no buckets")?;
        if last.0 != f64::INFINITY || Some(&last.1) != counts.get(key) {
            return Err(format!(
                "+Inf bucket missing or differs from _count: {key:?}"
            ));
        }
    }
    Ok(samples)
}

#[test]
fn rendered_prometheus_is_valid_exposition() {
    let workers = [busy_worker(50), busy_worker(7), busy_worker(0)];
    workers[1]
        .cluster("odd \"name\"\\\n")
        .upstream_rq_time
        .record_us(12_345);
    workers[2]
        .listener("admin-ish")
        .downstream_cx_overflow
        .inc();
    let snaps: Vec<StatsSnapshot> = workers.iter().map(WorkerStats::snapshot).collect();
    let merged = StatsSnapshot::merged(&snaps);
    let mut out = String::new();
    merged.render_prometheus(&mut out);
    let samples = check_exposition(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(samples > 100, "{samples}");
}

#[test]
fn checker_rejects_broken_exposition() {
    let bad = [
        "x 1\n",
        "# TYPE x counter\nx{a=\"b} 1\n",
        "# TYPE x counter\n# TYPE x counter\nx 1\n",
        "# TYPE x counter\nx 1\n# TYPE y counter\ny 1\nx 2\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
        "# TYPE x counter\nx{a=\"\\t\"} 1\n",
    ];
    for text in bad {
        assert!(check_exposition(text).is_err(), "accepted {text:?}");
    }
    let good = "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
    assert_eq!(check_exposition(good), Ok(4));
}
