//! How attempts over an HTTP/2 upstream end, for both transports that make
//! them (HTTP/2 and HTTP/1.1 downstreams): a stream that could not be
//! opened, or one that failed before its response head.

use ringway_stats::ClusterStats;

use super::{AttemptEnd, Replayable, Tried};
use crate::request::reply::LocalReply;
use crate::upstream::h2::OpenError;

/// How an attempt ended that opened no stream, whether it may be sent
/// again, and the reply if it is the last; a timeout is counted in `stats`.
pub(crate) fn open_failed(err: OpenError, stats: &ClusterStats) -> Tried<LocalReply> {
    match err {
        OpenError::TimedOut => {
            stats.upstream_rq_timeout.inc();
            Tried::last(AttemptEnd::ConnectTimeout, LocalReply::Timeout)
        }
        OpenError::Connect => Tried::last(AttemptEnd::ConnectFailure, LocalReply::ConnectFailure),
        OpenError::GoingAway => Tried {
            end: AttemptEnd::GoingAway,
            replayable: Replayable::NEVER_SENT,
            output: LocalReply::ConnectionClosed,
        },
        OpenError::Closed => Tried::last(
            AttemptEnd::ClosedBeforeResponse,
            LocalReply::ConnectionClosed,
        ),
    }
}

/// How an attempt ended whose stream failed before the response head:
/// refused (REFUSED_STREAM), beyond a GOAWAY, or reset. Counted in `stats`.
pub(crate) fn stream_failed(err: &h2::Error, stats: &ClusterStats) -> AttemptEnd {
    if err.is_go_away() {
        stats.http2_goaway_received.inc();
    } else if err.is_reset() && err.is_remote() {
        stats.http2_rx_reset.inc();
        stats.upstream_rq_rx_reset.inc();
    }
    if err.is_remote() && err.is_go_away() {
        AttemptEnd::GoingAway
    } else if err.is_remote() && err.reason() == Some(h2::Reason::REFUSED_STREAM) {
        AttemptEnd::Refused
    } else {
        AttemptEnd::ResetBeforeResponse
    }
}
