//! The per-core HTTP/1.1 and HTTP/2 forwarding pipeline: downstream
//! connections, routing, upstream connection pools, protocol translation,
//! local replies and access logs.
//!
//! Everything in this crate runs on one worker thread and shares nothing
//! mutable with other threads; see [`ProxyState`].

mod access_log;
mod conn;
mod dechunk;
mod discovery;
mod exchange;
mod forward;
mod h1_to_h2;
mod h2;
mod head;
mod io;
mod iovec;
mod local_reply;
mod pool;
mod response;
mod signal;
mod state;
mod tunnel;

pub use conn::serve;
pub use discovery::{Discovery, DiscoveryRequest};
pub use local_reply::ResponseFlag;
pub use state::{ActiveConfig, ClusterState, ListenerState, Members, ProxyState};
