use super::busy_worker;
use crate::*;

#[test]
fn text_lists_sorted_scalars_then_histograms() {
    let w = busy_worker(100);
    w.cluster("idle");
    let mut out = String::new();
    w.snapshot().render_text(&mut out);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"http.main.downstream_rq_total: 100"));
    assert!(lines.contains(&"http.main.downstream_rq_5xx: 10"));
    assert!(lines.contains(&"cluster.backend.membership_total: 3"));
    assert!(lines.contains(&"cluster.idle.upstream_rq_time: No recorded values"));
    let first_histogram = lines
        .iter()
        .position(|l| l.contains("_time:"))
        .unwrap_or(lines.len());
    let (scalars, histograms) = lines.split_at(first_histogram);
    assert!(scalars.windows(2).all(|w| w[0] < w[1]));
    assert!(histograms.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(histograms.len(), 3);
    let rq_time = histograms
        .iter()
        .find(|l| l.starts_with("http.main.downstream_rq_time: "))
        .copied()
        .unwrap_or_default();
    // Samples are 1.00, 1.01 .. 1.99 ms; quantiles are within 1%.
    let quantile = |label: &str| -> f64 {
        let start = rq_time.find(&format!(" {label}(")).unwrap_or(0) + label.len() + 2;
        let end = start + rq_time[start..].find(')').unwrap_or(0);
        rq_time[start..end].parse().unwrap_or(f64::NAN)
    };
    assert!((1.48..=1.51).contains(&quantile("P50")), "{rq_time}");
    assert!((1.97..=2.0).contains(&quantile("P99.9")), "{rq_time}");
    assert!(
        rq_time.starts_with("http.main.downstream_rq_time: P50("),
        "{rq_time}"
    );
    assert!(rq_time.ends_with(" Count(100)"), "{rq_time}");
    for name in ["P90(", "P95(", "P99("] {
        assert!(rq_time.contains(name), "{rq_time}");
    }
}

#[test]
fn text_of_empty_snapshot_is_empty() {
    let mut out = String::new();
    StatsSnapshot::default().render_text(&mut out);
    StatsSnapshot::default().render_prometheus(&mut out);
    assert_eq!(out, "");
}

#[test]
fn json_follows_envoy_layout() {
    let json = busy_worker(4).snapshot().to_json();
    let stats = json["stats"].as_array().cloned().unwrap_or_default();
    assert!(
        stats
            .iter()
            .any(|s| s["name"] == "cluster.backend.upstream_rq_total" && s["value"] == 4)
    );
    let hist = &stats[stats.len() - 1]["histograms"];
    assert_eq!(hist["supported_quantiles"][0], 50.0);
    let computed = hist["computed_quantiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(computed.len(), 2);
    assert_eq!(computed[0]["name"], "cluster.backend.upstream_rq_time");
    assert!(computed[0]["values"][0]["cumulative"].as_f64().is_some());
}

#[test]
fn prometheus_names_and_labels() {
    let mut out = String::new();
    busy_worker(20).snapshot().render_prometheus(&mut out);
    for line in [
        "# TYPE envoy_cluster_upstream_rq_total counter",
        "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 20",
        "envoy_cluster_upstream_rq_2xx{envoy_cluster_name=\"backend\"} 18",
        "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"backend\"} 18",
        "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"backend\"} 2",
        "# TYPE envoy_cluster_membership_total gauge",
        "envoy_cluster_membership_total{envoy_cluster_name=\"backend\"} 3",
        "envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix=\"main\"} 20",
        "envoy_http_downstream_rq_xx{envoy_response_code_class=\"5\",envoy_http_conn_manager_prefix=\"main\"} 2",
        "# TYPE envoy_http_downstream_rq_time histogram",
        "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix=\"main\",le=\"0.5\"} 0",
        "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix=\"main\",le=\"5\"} 20",
        "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix=\"main\",le=\"+Inf\"} 20",
        "envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix=\"main\"} 21.9",
        "envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix=\"main\"} 20",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn prometheus_escapes_label_values() {
    let w = WorkerStats::new();
    w.cluster("we\"ird\\name\nx").upstream_rq_total.inc();
    let mut out = String::new();
    w.snapshot().render_prometheus(&mut out);
    let expected = r#"envoy_cluster_upstream_rq_total{envoy_cluster_name="we\"ird\\name\nx"} 1"#;
    assert!(out.lines().any(|l| l == expected), "{out}");
}
