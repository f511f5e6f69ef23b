//! Per-core counters and latency histograms, merged on read and rendered as Envoy-style text and Prometheus
