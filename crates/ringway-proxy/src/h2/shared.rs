//! What one downstream HTTP/2 connection shares with its stream tasks:
//! the drain and abort signals, and the counts behind the rapid-reset
//! defence and the idle timeout.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use h2::Reason;

use crate::http2::trailers::TrailerAudit;
use crate::signal::Signal;

/// Premature resets tolerated on a connection before the ratio test.
const PREMATURE_RESETS_MIN: u64 = 100;

/// State one connection shares with its stream tasks.
#[derive(Debug, Default)]
pub(crate) struct ConnShared {
    /// Fired to stop taking new streams (drain): GOAWAY, then finish.
    pub(crate) shutdown: Signal,
    /// Fired to close now with `abort_reason`.
    pub(crate) abort: Signal,
    pub(crate) abort_reason: Cell<Option<Reason>>,
    pub(crate) streams: Cell<u64>,
    premature_resets: Cell<u64>,
    pub(crate) open_streams: Cell<u32>,
    pub(crate) last_active: Cell<Option<Instant>>,
    /// Request trailers blocks the connection's reader counted.
    pub(crate) trailers: Rc<TrailerAudit>,
}

impl ConnShared {
    /// A stream was reset by the client before its response began. Returns
    /// true when this closes the connection.
    pub(crate) fn premature_reset(&self) -> bool {
        let n = self.premature_resets.get() + 1;
        self.premature_resets.set(n);
        if n >= PREMATURE_RESETS_MIN && n * 2 >= self.streams.get() && !self.abort.is_fired() {
            self.abort_reason.set(Some(Reason::ENHANCE_YOUR_CALM));
            self.abort.fire();
            return true;
        }
        false
    }

    pub(crate) fn stream_ended(&self) {
        self.open_streams
            .set(self.open_streams.get().saturating_sub(1));
        self.last_active.set(Some(Instant::now()));
    }
}
