use std::rc::Rc;
use std::time::Duration;

use crate::histogram::new_histogram;
use crate::*;

mod exposition;
mod render;

/// A worker with one listener `main` and one cluster `backend` carrying
/// some traffic.
pub(crate) fn busy_worker(requests: u64) -> WorkerStats {
    let w = WorkerStats::new();
    let l = w.listener("main");
    let c = w.cluster("backend");
    c.membership_total.set(3);
    l.downstream_cx_total.inc();
    l.downstream_cx_active.inc();
    for i in 0..requests {
        l.downstream_rq_total.inc();
        c.upstream_rq_total.inc();
        let status = if i % 10 == 0 { 503 } else { 200 };
        l.record_response_status(status);
        c.record_upstream_status(status);
        l.record_downstream_rq_time(Duration::from_micros(1_000 + i * 10));
        c.record_upstream_rq_time(Duration::from_micros(800 + i * 10));
    }
    w
}

#[test]
fn histogram_bounds_are_accepted() {
    let h = new_histogram();
    assert!(h.is_some());
}

#[test]
fn same_name_same_block() {
    let w = WorkerStats::new();
    let a = w.listener("main");
    a.downstream_rq_total.add(5);
    let b = w.listener("main");
    assert!(Rc::ptr_eq(&a, &b));
    assert_eq!(b.downstream_rq_total.get(), 5);
    assert!(Rc::ptr_eq(&w.cluster("x"), &w.cluster("x")));
    assert!(!Rc::ptr_eq(&w.cluster("x"), &w.cluster("y")));
}

#[test]
fn prune_drops_only_unused_blocks() {
    let w = WorkerStats::new();
    let kept = w.cluster("kept");
    kept.upstream_rq_total.inc();
    drop(w.cluster("gone"));
    w.prune_unused();
    let snap = w.snapshot();
    assert_eq!(snap.clusters.keys().collect::<Vec<_>>(), ["kept"]);
    assert_eq!(snap.clusters["kept"].upstream_rq_total, 1);
}

#[test]
fn status_classes() {
    let w = WorkerStats::new();
    let l = w.listener("l");
    let c = w.cluster("c");
    for s in [100, 101, 200, 204, 301, 404, 431, 500, 599, 99, 600, 0] {
        l.record_response_status(s);
        c.record_upstream_status(s);
    }
    let snap = w.snapshot();
    let l = &snap.listeners["l"];
    let got = [
        l.downstream_rq_1xx,
        l.downstream_rq_2xx,
        l.downstream_rq_3xx,
        l.downstream_rq_4xx,
        l.downstream_rq_5xx,
    ];
    assert_eq!(got, [2, 2, 1, 2, 2]);
    let c = &snap.clusters["c"];
    assert_eq!(c.upstream_rq_5xx, 2);
    assert_eq!(c.upstream_rq_1xx, 2);
}

#[test]
fn gauges_and_counters() {
    let g = Gauge::default();
    g.inc();
    g.inc();
    g.dec();
    g.add(10);
    g.sub(3);
    assert_eq!(g.get(), 8);
    g.set(-1);
    assert_eq!(g.get(), -1);
    let c = Counter::default();
    c.inc();
    c.add(41);
    assert_eq!(c.get(), 42);
}

#[test]
fn merge_sums_across_workers() {
    let a = busy_worker(10).snapshot();
    let b = busy_worker(30).snapshot();
    let all = StatsSnapshot::merged([&a, &b]);
    let l = &all.listeners["main"];
    assert_eq!(l.downstream_rq_total, 40);
    assert_eq!(l.downstream_rq_2xx, 36);
    assert_eq!(l.downstream_rq_5xx, 4);
    assert_eq!(l.downstream_cx_active, 2);
    assert_eq!(l.downstream_rq_time.count(), 40);
    let expected_sum: u64 = (0..10).chain(0..30).map(|i| 1_000 + i * 10).sum();
    assert_eq!(l.downstream_rq_time.sum_us(), expected_sum);
    let c = &all.clusters["backend"];
    assert_eq!(c.upstream_rq_total, 40);
    // Configuration-derived gauge: the same on every worker, not summed.
    assert_eq!(c.membership_total, 3);
    assert_eq!(c.upstream_rq_time.count(), 40);

    let totals = all.totals();
    assert_eq!(totals.downstream_rq_total, 40);
    assert_eq!(totals.downstream_cx_total, 2);
    assert_eq!(totals.downstream_cx_active, 2);
}

#[test]
fn merge_into_disjoint_and_empty() {
    let a = busy_worker(3).snapshot();
    let other = WorkerStats::new();
    other.cluster("other").upstream_rq_total.inc();
    let mut all = StatsSnapshot::default();
    all.merge(&a);
    all.merge(&other.snapshot());
    assert_eq!(all.clusters.len(), 2);
    assert_eq!(all.listeners["main"], a.listeners["main"]);
    assert_eq!(all.clusters["other"].upstream_rq_total, 1);
}

#[test]
fn snapshot_is_send_and_clone() {
    fn assert_send<T: Send + Clone + 'static>() {}
    assert_send::<StatsSnapshot>();
    assert_send::<ListenerSnapshot>();
    assert_send::<ClusterSnapshot>();
}

#[test]
fn histogram_clamps_and_quantiles() {
    let h = LatencyHistogram::default();
    h.record(Duration::ZERO);
    h.record(Duration::from_secs(7_200));
    h.record_us(u64::MAX);
    for _ in 0..97 {
        h.record(Duration::from_millis(2));
    }
    assert_eq!(h.count(), 100);
    let s = h.snapshot();
    let p50 = s.quantile_us(0.5).unwrap_or(0);
    assert!((2_000..=2_020).contains(&p50), "{p50}");
    let max = s.quantile_us(1.0).unwrap_or(0);
    assert!((HISTOGRAM_HIGHEST_US..=HISTOGRAM_HIGHEST_US / 100 * 101).contains(&max));
    assert_eq!(s.sum_us(), 1 + 2 * HISTOGRAM_HIGHEST_US + 97 * 2_000);
    assert_eq!(HistogramSnapshot::default().quantile_us(0.5), None);
}

#[test]
fn cumulative_buckets_follow_envoy_bounds() {
    let h = LatencyHistogram::default();
    for us in [300, 500, 900, 3_000, 45_000, 45_000, 5_000_000_000] {
        h.record_us(us);
    }
    let b = h.snapshot().cumulative_buckets();
    // le = 0.5, 1, 5, 10, 25, 50 ms ...
    assert_eq!(&b[..6], &[2, 3, 4, 4, 4, 6]);
    // The clamped 2 h sample lands in the last (1 h) bucket.
    assert_eq!(b[BUCKETS.len() - 2], 6);
    assert_eq!(b[BUCKETS.len() - 1], 7);
    assert!(b.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn reset_counters_zeroes_counters_only() {
    let w = busy_worker(10);
    w.listener("main").downstream_rq_active.inc();
    w.reset_counters();
    let s = w.snapshot();
    assert_eq!(s.listeners["main"].downstream_rq_total, 0);
    assert_eq!(s.clusters["backend"].upstream_rq_2xx, 0);
    assert_eq!(s.listeners["main"].downstream_rq_active, 1);
    assert_eq!(s.clusters["backend"].membership_total, 3);
    assert_eq!(s.listeners["main"].downstream_rq_time.count(), 10);
}

#[test]
fn select_keeps_used_and_named_stats() {
    let w = busy_worker(10);
    w.cluster("idle");
    let s = w.snapshot();
    let used = Select {
        used_only: true,
        name: None,
    };
    let mut out = String::new();
    s.render_text_selected(&mut out, &used);
    assert!(out.contains("http.main.downstream_rq_total: 10\n"), "{out}");
    assert!(!out.contains(": 0\n"), "{out}");
    assert!(!out.contains("cluster.idle."), "{out}");
    assert!(!out.contains("No recorded values"), "{out}");

    let only_rq_total = |name: &str| name.ends_with(".upstream_rq_total");
    let named = Select {
        used_only: false,
        name: Some(&only_rq_total),
    };
    let json = s.to_json_selected(&named);
    let names: Vec<&str> = json["stats"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "cluster.backend.upstream_rq_total",
            "cluster.idle.upstream_rq_total"
        ]
    );

    let mut prom = String::new();
    s.render_prometheus_selected(&mut prom, &used);
    assert!(prom.contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 10"));
    assert!(!prom.contains("envoy_cluster_name=\"idle\""), "{prom}");
    assert!(
        !prom.contains("# TYPE envoy_cluster_upstream_cx_total"),
        "{prom}"
    );
}

#[test]
fn host_stats_snapshot_merge_and_reset() {
    let h = HostStats::default();
    h.cx_total.inc();
    h.cx_active.inc();
    h.rq_total.add(3);
    h.record_status(200);
    h.record_status(404);
    h.record_status(503);
    let mut s = h.snapshot(2);
    assert_eq!((s.rq_success, s.rq_error, s.rq_active), (2, 1, 2));
    s.merge(&h.snapshot(1));
    assert_eq!((s.rq_total, s.rq_active, s.cx_active), (6, 3, 2));
    h.reset_counters();
    let r = h.snapshot(0);
    assert_eq!((r.rq_total, r.cx_total, r.cx_active), (0, 0, 1));
    assert!(r.counters().windows(2).all(|w| w[0].0 < w[1].0));
}
