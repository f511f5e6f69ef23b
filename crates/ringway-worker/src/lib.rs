//! Thread-per-core workers: each is an OS thread pinned to one CPU, running
//! its own monoio runtime (io_uring, or epoll where io_uring is refused),
//! accepting on its own `SO_REUSEPORT` socket for every listener.
//!
//! Workers receive new configuration snapshots as messages and swap them in
//! between requests; nothing on the request path is shared between threads.

#![forbid(unsafe_code)]

mod cpus;
mod gate;
mod handle;
mod sockets;
mod worker;

pub use cpus::{CpuSetError, affinity_cpus, parse_cpu_list};
pub use handle::{Command, Driver, WorkerHandle, WorkerReport, spawn};
pub use ringway_proxy::DiscoveryRequest;
pub use sockets::{BoundListener, ListenerSockets, NewSockets};
