//! A Eureka client that keeps a local copy of a remote registry, the way
//! the Netflix `DiscoveryClient` does: one full fetch of `/apps`, then
//! `/apps/delta` every interval, each delta applied to a copy and checked
//! against the server's whole-registry hashcode (a mismatch, or any failed
//! delta, means a full fetch next). Several server URLs are tried in turn.
//! While none answers, the last registry stays in service, marked stale,
//! and fetches back off up to ten times the interval.
//!
//! [`sync`] is the decision-making without I/O; [`spawn`] runs it on tokio
//! over plain HTTP/1.1 ([`http`]), publishing each new [`View`].

#![forbid(unsafe_code)]

mod client;
mod endpoints;
pub mod http;
pub mod sync;

pub use client::{ClientConfig, EurekaClient, View, spawn};
pub use endpoints::endpoints;
pub use ringway_eureka::{InvalidUrl, ServerUrl};
