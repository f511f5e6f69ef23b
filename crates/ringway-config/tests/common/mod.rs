//! What the config test files share.

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
