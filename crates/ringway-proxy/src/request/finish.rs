//! The end of every request, whatever its protocol: the listener's
//! request stats (active, status class, time) and the access-log line.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use super::context::RequestContext;
use crate::access_log::{Entry, LogLine};
use crate::response_flag::ResponseFlag;
use crate::state::ListenerState;

/// What happened to one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// The status sent downstream; `None` when no response went down.
    pub status: Option<u16>,
    pub flag: Option<ResponseFlag>,
    /// Request body bytes received from the client.
    pub bytes_received: u64,
    /// Response body bytes sent to the client.
    pub bytes_sent: u64,
    /// The endpoint the request went to.
    pub upstream: Option<SocketAddr>,
    /// From the request being sent to the response head arriving.
    pub upstream_time: Option<Duration>,
}

/// When a request started; counted as started in the listener's stats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started {
    at: Instant,
    /// The wall-clock start, read only when the listener logs.
    wall: Option<SystemTime>,
}

// === impl Outcome ===

impl Outcome {
    /// A response of `status` ringway wrote itself, with `bytes_sent` of
    /// body.
    pub(crate) fn local(status: u16, flag: Option<ResponseFlag>, bytes_sent: u64) -> Self {
        Self {
            status: Some(status),
            flag,
            bytes_sent,
            ..Self::default()
        }
    }

    /// No response: the client went away, or the stream was reset.
    pub(crate) fn no_response(flag: ResponseFlag) -> Self {
        Self {
            flag: Some(flag),
            ..Self::default()
        }
    }
}

// === impl Started ===

impl Started {
    /// The request of `ctx`, started at `ctx.started`.
    pub(crate) fn count(ctx: &RequestContext<'_>, http2: bool) -> Self {
        let (state, listener) = (ctx.state, ctx.listener);
        listener.stats.request_started(http2);
        state.requests_total.set(state.requests_total.get() + 1);
        Self {
            at: ctx.started,
            wall: listener.access_log.is_some().then(SystemTime::now),
        }
    }
}

/// Ends a request: its stats, and its access-log line when the listener
/// logs (`line` gives the request's own fields; it is only asked then).
pub(crate) fn finish<'a>(
    listener: &ListenerState,
    started: Started,
    outcome: &Outcome,
    line: impl FnOnce() -> Option<LogLine<'a>>,
) {
    let elapsed = started.at.elapsed();
    // Envoy's convention: a request that got no response has status 0.
    let status = outcome.status.unwrap_or(0);
    listener.stats.request_ended(status, elapsed);
    let Some(log) = &listener.access_log else {
        return;
    };
    let (Some(start), Some(line)) = (started.wall, line()) else {
        return;
    };
    let upstream = outcome.upstream.map(|a| a.to_string());
    log.log(&Entry {
        start,
        line,
        status,
        flags: outcome.flag.map_or("-", ResponseFlag::code),
        bytes_received: outcome.bytes_received,
        bytes_sent: outcome.bytes_sent,
        duration: elapsed,
        upstream_service_time: outcome.upstream_time,
        upstream_host: upstream.as_deref().unwrap_or("-"),
    });
}
