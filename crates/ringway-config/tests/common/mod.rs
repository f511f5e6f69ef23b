//! What the config test files share. Each test file uses some of it.

#![allow(dead_code)]

use ringway_config::{ConfigError, ConfigErrors, SystemResolver, load_str};

/// The minimal config from the docs (and the issue), which must load as written.
pub const MINIMAL: &str = r#"
admin: { address: "127.0.0.1:9901" }
workers: { count: 2, cpu_set: "0-1", io_driver: auto }   # all optional
listeners:
  - name: main
    address: "127.0.0.1:10000"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            cluster: backend
clusters:
  - name: backend
    lb_policy: round_robin
    endpoints: ["127.0.0.1:8080", "127.0.0.1:8081"]
"#;

/// The errors for `text`, which must not load.
pub fn errors(text: &str) -> Vec<ConfigError> {
    match load_str("bad.yaml", text, &SystemResolver) {
        Ok(_) => panic!("config loaded, but it should not have:\n{text}"),
        Err(ConfigErrors { errors }) => errors,
    }
}

/// Asserts that one of `errors` is for `field` and its reason contains
/// every one of `words`.
#[track_caller]
pub fn assert_has(errors: &[ConfigError], field: &str, words: &[&str]) {
    let found = errors.iter().any(|e| {
        e.file == "bad.yaml" && e.field == field && words.iter().all(|w| e.reason.contains(w))
    });
    let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        found,
        "no error for {field} with {words:?}; got:\n{}",
        listed.join("\n")
    );
}
