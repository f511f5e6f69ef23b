//! Envoy's response flags: why ringway answered a request itself, or how a
//! forwarded exchange ended badly. Shown in access logs.

/// Why ringway answered a request itself, or why a forwarded exchange
/// ended badly. Shown in access logs as Envoy's response flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFlag {
    /// No route matched (404).
    NoRoute,
    /// Could not connect to the upstream (503).
    UpstreamConnectFailure,
    /// The cluster has no endpoint (503).
    NoHealthyUpstream,
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream closed or reset the connection (502/503).
    UpstreamConnectionTermination,
    /// The downstream closed the connection mid-request.
    DownstreamConnectionTermination,
    /// The request was refused locally (4xx for bad input or limits).
    LocalReset,
    /// The upstream reset the stream.
    UpstreamRemoteReset,
    /// The client reset the stream before the response ended.
    DownstreamRemoteReset,
    /// The route's cluster is unknown, or on-demand discovery did not
    /// find it in time (503).
    NoClusterFound,
    /// Nothing moved on the stream for the stream idle timeout.
    StreamIdleTimeout,
    /// The request's retries were used up (the last attempt's answer went
    /// down).
    UpstreamRetryLimitExceeded,
    /// A retry was refused by the cluster's retry budget.
    UpstreamOverflow,
}

impl ResponseFlag {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoRoute => "NR",
            Self::UpstreamConnectFailure => "UF",
            Self::NoHealthyUpstream => "UH",
            Self::UpstreamTimeout => "UT",
            Self::UpstreamConnectionTermination => "UC",
            Self::DownstreamConnectionTermination => "DC",
            Self::LocalReset => "LR",
            Self::UpstreamRemoteReset => "UR",
            Self::DownstreamRemoteReset => "DR",
            Self::NoClusterFound => "NC",
            Self::StreamIdleTimeout => "SI",
            Self::UpstreamRetryLimitExceeded => "URX",
            Self::UpstreamOverflow => "UO",
        }
    }
}
