//! The per-core HTTP/1.1 and HTTP/2 forwarding pipeline.
//!
//! Everything in this crate runs on one worker thread and shares nothing
//! mutable with other threads; see [`ProxyState`]. A request travels:
//!
//! ```text
//!  conn          accept, choose the codec (ALPN, listener, first bytes)
//!  transport     the connection type under both codecs: TCP now, TLS next
//!   ├─ h1        HTTP/1.1 codec edge: parse a head ──┐
//!   └─ h2        HTTP/2 codec edge: accept a stream ─┤
//!                                                    ▼
//!  request       protocol-neutral stage
//!   ├─ decide    route → request policies → cluster (on-demand wait)
//!   │            → admission → endpoint
//!   ├─ reply     one table of local replies (status, flag, message, gRPC)
//!   ├─ next_hop  header edits for the upstream, request id, timeout
//!   ├─ envoy_headers  Envoy's x-forwarded-* / x-envoy-* rules (pure)
//!   ├─ admission active-request accounting (breakers, limits later)
//!   ├─ attempt   the one attempt loop: classify how an attempt ended,
//!   │            replay/retry policy; transports plug in below
//!   └─ finish    stats and the access-log line
//!                                                    ▼
//!  h1::forward / h1::to_h2 / h2::upstream_h1 / h2::upstream_h2
//!                transports for each downstream × upstream pair
//!  upstream      per-core pools: HTTP/1.1 idle stacks, HTTP/2 clients
//!  http2         HTTP/2 plumbing: flow-controlled DATA, header translation
//!  state, discovery, access_log, limits, io, signal: per-core state and
//!                utilities below everything else
//! ```
//!
//! Imports run down this picture: `request` imports nothing from `h1` or
//! `h2`; the codecs import `request`.

mod access_log;
mod conn;
mod discovery;
mod h1;
mod h2;
mod http2;
mod io;
mod limits;
mod request;
mod response_flag;
mod signal;
mod state;
mod transport;
mod upstream;

pub use conn::serve;
pub use discovery::{Discovery, DiscoveryRequest};
pub use response_flag::ResponseFlag;
pub use state::{ActiveConfig, ClusterState, ListenerState, Members, ProxyState};
