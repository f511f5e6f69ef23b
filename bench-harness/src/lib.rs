//! Shared pieces of ringway's benchmark harness.
//!
//! The crate ships two binaries that the orchestrator (`bench.py`) drives:
//!
//! * `bench-origin` — a thread-per-core HTTP/1.1 + h2c (and gRPC-shaped)
//!   origin server that answers from pre-allocated bodies, so that the proxy
//!   under test, not the origin, is the bottleneck.
//! * `bench-load` — an open-loop, constant-rate HTTP/1.1 load generator in
//!   the spirit of wrk2: every request has a scheduled send time and its
//!   latency is measured from that time, which corrects for coordinated
//!   omission.
//!
//! This library holds what the two share and what is worth unit-testing on
//! its own: CPU-list parsing and pinning ([`cpus`]), the open-loop schedule
//! arithmetic ([`schedule`]), the JSON report ([`report`]), target URL
//! parsing ([`target`]) and query-string overrides ([`query`]).

#![forbid(unsafe_code)]

pub mod cpus;
pub mod query;
pub mod report;
pub mod schedule;
pub mod target;
