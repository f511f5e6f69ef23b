//! The one table of replies ringway makes itself: for each, the HTTP
//! status, the response flag, the message, and the gRPC status a gRPC
//! client gets instead. Both codecs write from this table: HTTP/1.1 as a
//! text body, HTTP/2 as a text body or, for gRPC, a trailers-only answer.

use ringway_grpc::Code;

use crate::response_flag::ResponseFlag;

/// A reply ringway makes itself instead of (or after failing at)
/// forwarding a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LocalReply {
    /// No route matched.
    NoRoute,
    /// A route's cluster could not be had.
    NoCluster(NoCluster),
    /// The cluster has no endpoint to send to.
    NoHealthyUpstream,
    /// No connection to the endpoint could be made.
    ConnectFailure,
    /// The request body is over its limit.
    BodyTooLarge,
    /// The request (head or trailers) cannot be forwarded as it is.
    MalformedRequest,
    /// The request body's framing is broken.
    MalformedBody,
    /// Nothing moved either way for the stream idle timeout;
    /// `request_complete`: the whole request had arrived (504, else 408).
    StreamIdleTimeout { request_complete: bool },
    /// The whole request did not arrive within the request timeout.
    RequestTimeout,
    /// The request head did not arrive in time.
    HeadTimeout,
    /// The request target is over its limit.
    UriTooLong,
    /// The request head is over its limits.
    HeadTooLarge,
    /// The request is not HTTP/1.0 or HTTP/1.1.
    VersionNotSupported,
    /// The upstream closed its connection before it answered.
    ClosedBeforeResponse,
    /// The upstream connection went away before the request could be sent.
    ConnectionClosed,
    /// The upstream's response head could not be read.
    MalformedResponse,
    /// The upstream reset the stream before it answered.
    ResetBeforeResponse,
    /// No response within the route timeout (or the gRPC deadline).
    Timeout,
}

/// Why a forwarding route has no cluster for a request: a 503 `NC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoCluster {
    /// A `cluster_from` route, and the request names no (valid) cluster.
    NotNamed,
    /// Not in the config, and the route does not discover on demand.
    Unknown,
    /// The control plane says it does not exist.
    Missing,
    TimedOut,
}

// === impl LocalReply ===

impl LocalReply {
    /// The HTTP status, response flag and message (one line, no newline).
    pub(crate) fn spec(self) -> (u16, Option<ResponseFlag>, &'static str) {
        use ResponseFlag as F;
        match self {
            Self::NoRoute => (404, Some(F::NoRoute), "no route matched this request"),
            Self::NoCluster(why) => (503, Some(F::NoClusterFound), why.message()),
            Self::NoHealthyUpstream => (
                503,
                Some(F::NoHealthyUpstream),
                "no healthy upstream endpoint",
            ),
            Self::ConnectFailure => (
                503,
                Some(F::UpstreamConnectFailure),
                "upstream connect failure",
            ),
            Self::BodyTooLarge => (413, Some(F::LocalReset), "request body too large"),
            Self::MalformedRequest => (400, Some(F::LocalReset), "malformed request"),
            Self::MalformedBody => (400, Some(F::LocalReset), "malformed request body"),
            // Envoy's bodies and codes for its connection manager timeouts.
            Self::StreamIdleTimeout { request_complete } => (
                if request_complete { 504 } else { 408 },
                Some(F::StreamIdleTimeout),
                "stream timeout",
            ),
            Self::RequestTimeout => (408, None, "request timeout"),
            Self::HeadTimeout => (408, None, "request head not received in time"),
            Self::UriTooLong => (414, None, "request target too long"),
            Self::HeadTooLarge => (431, None, "request header fields too large"),
            Self::VersionNotSupported => (505, None, "HTTP version not supported"),
            Self::ClosedBeforeResponse => (
                503,
                Some(F::UpstreamConnectionTermination),
                "upstream closed the connection before responding",
            ),
            Self::ConnectionClosed => (
                503,
                Some(F::UpstreamConnectionTermination),
                "upstream connection closed",
            ),
            Self::MalformedResponse => (
                502,
                Some(F::UpstreamConnectionTermination),
                "upstream sent a malformed response",
            ),
            Self::ResetBeforeResponse => (
                503,
                Some(F::UpstreamRemoteReset),
                "upstream reset the stream before responding",
            ),
            Self::Timeout => (504, Some(F::UpstreamTimeout), "upstream request timeout"),
        }
    }

    pub(crate) fn status(self) -> u16 {
        self.spec().0
    }

    pub(crate) fn message(self) -> &'static str {
        self.spec().2
    }

    /// What a gRPC client is told instead of the HTTP status.
    pub(crate) fn grpc_code(self) -> Code {
        match self {
            Self::Timeout => Code::DeadlineExceeded,
            other => Code::for_http_status(other.status()),
        }
    }

    /// The reply for a request head the HTTP/1.1 parser refused with
    /// `status`.
    pub(crate) fn for_rejected_head(status: u16) -> Self {
        match status {
            408 => Self::HeadTimeout,
            414 => Self::UriTooLong,
            431 => Self::HeadTooLarge,
            505 => Self::VersionNotSupported,
            _ => Self::MalformedRequest,
        }
    }
}

// === impl NoCluster ===

impl NoCluster {
    fn message(self) -> &'static str {
        match self {
            Self::NotNamed => "the request names no cluster",
            Self::Unknown => "unknown cluster",
            Self::Missing => "cluster not found",
            Self::TimedOut => "cluster discovery timed out",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_grpc_codes_follow_the_status() {
        let all = [
            LocalReply::NoRoute,
            LocalReply::NoCluster(NoCluster::TimedOut),
            LocalReply::NoHealthyUpstream,
            LocalReply::ConnectFailure,
            LocalReply::BodyTooLarge,
            LocalReply::MalformedRequest,
            LocalReply::MalformedBody,
            LocalReply::StreamIdleTimeout {
                request_complete: false,
            },
            LocalReply::StreamIdleTimeout {
                request_complete: true,
            },
            LocalReply::RequestTimeout,
            LocalReply::HeadTimeout,
            LocalReply::UriTooLong,
            LocalReply::HeadTooLarge,
            LocalReply::VersionNotSupported,
            LocalReply::ClosedBeforeResponse,
            LocalReply::ConnectionClosed,
            LocalReply::MalformedResponse,
            LocalReply::ResetBeforeResponse,
            LocalReply::Timeout,
        ];
        for reply in all {
            let (status, _, message) = reply.spec();
            assert!((400..600).contains(&status), "{reply:?}");
            assert!(!message.is_empty() && !message.contains('\n'), "{reply:?}");
        }
        assert_eq!(LocalReply::Timeout.grpc_code(), Code::DeadlineExceeded);
        assert_eq!(
            LocalReply::BodyTooLarge.grpc_code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            LocalReply::ResetBeforeResponse.grpc_code(),
            Code::Unavailable
        );
        assert_eq!(LocalReply::NoRoute.grpc_code(), Code::Unimplemented);
        assert_eq!(
            LocalReply::NoCluster(NoCluster::Missing).spec().1,
            Some(ResponseFlag::NoClusterFound)
        );
        assert_eq!(LocalReply::for_rejected_head(431), LocalReply::HeadTooLarge);
        assert_eq!(
            LocalReply::for_rejected_head(400),
            LocalReply::MalformedRequest
        );
    }
}
