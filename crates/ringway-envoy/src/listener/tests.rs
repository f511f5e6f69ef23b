#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ringway_config::ConfigErrors;
use ringway_config::model::Listener;

use crate::bootstrap::Loaded;
use crate::test_support::load_hcm;

fn load(hcm: &str, action: &str) -> Result<Loaded, ConfigErrors> {
    load_hcm(hcm, &format!("route: {{ cluster: c{action} }}"))
}

fn listener(hcm: &str, action: &str) -> Listener {
    match load(hcm, action) {
        Ok(loaded) => (*loaded.snapshot.listeners[0]).clone(),
        Err(e) => panic!("{e}"),
    }
}

fn refused(hcm: &str, action: &str) -> (String, String) {
    match load(hcm, action) {
        Ok(_) => panic!("loaded: {hcm} {action}"),
        Err(e) => (e.errors[0].field.clone(), e.errors[0].reason.clone()),
    }
}

const HCM: &str = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

#[test]
fn stream_timeouts_have_envoys_defaults() {
    let l = listener("", "");
    assert_eq!(l.limits.stream_idle_timeout, Some(Duration::from_secs(300)));
    assert_eq!(l.limits.request_timeout, None);
    assert_eq!(l.virtual_hosts[0].routes[0].idle_timeout, None);
    assert_eq!(l.stat_prefix, "ingress_http");
}

#[test]
fn stream_timeouts_are_read_and_zero_turns_them_off() {
    let l = listener(
        "          stream_idle_timeout: 2s\n          request_timeout: 30s",
        ", idle_timeout: 0s",
    );
    assert_eq!(l.limits.stream_idle_timeout, Some(Duration::from_secs(2)));
    assert_eq!(l.limits.request_timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        l.virtual_hosts[0].routes[0].idle_timeout,
        Some(Duration::ZERO)
    );
    let off = listener(
        "          stream_idle_timeout: 0s\n          request_timeout: 0s",
        "",
    );
    assert_eq!(
        (off.limits.stream_idle_timeout, off.limits.request_timeout),
        (None, None)
    );
}

#[test]
fn negative_timeouts_are_refused_by_path() {
    let (field, reason) = refused("          stream_idle_timeout: -1s", "");
    assert_eq!(field, format!("{HCM}.stream_idle_timeout"));
    assert!(reason.contains("negative"), "{reason}");
    let (field, _) = refused("          request_timeout: -2s", "");
    assert_eq!(field, format!("{HCM}.request_timeout"));
}

#[test]
fn path_normalization_is_refused_and_the_head_limit_read() {
    let (field, reason) = refused("          normalize_path: true", "");
    assert_eq!(field, format!("{HCM}.normalize_path"));
    assert!(reason.contains("does not normalize"), "{reason}");
    listener("          normalize_path: false", "");
    let l = listener("          max_request_headers_kb: 96", "");
    assert_eq!(l.limits.max_request_head_bytes, 96 * 1024);
    let (field, _) = refused("          max_request_headers_kb: 9000", "");
    assert_eq!(field, format!("{HCM}.max_request_headers_kb"));
}
