//! What travels with a request through the stage, whatever its protocol.

use std::net::SocketAddr;
use std::time::Instant;

use crate::state::{ActiveConfig, ListenerState, ProxyState};

/// What travels with a request through the stage: the worker, the
/// configuration the request is served with, its listener, its peer, and
/// when its first byte arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestContext<'a> {
    pub state: &'a ProxyState,
    pub config: &'a ActiveConfig,
    pub listener: &'a ListenerState,
    pub peer: SocketAddr,
    pub started: Instant,
}

impl RequestContext<'_> {
    /// Whether the connection closes after this request: the worker is
    /// draining, or the listener has been removed.
    pub(crate) fn closing(&self) -> bool {
        self.state.draining.get() || self.listener.removed.is_fired()
    }
}
