//! The command operators ringway provides, and their names.

use super::{FormatError, TimeFormat};

/// One command operator. Values are `-` when absent (as in Envoy).
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// `START_TIME` or `START_TIME(FORMAT)`.
    StartTime(TimeFormat),
    /// `REQ(X?Y)`: a request header, or `:method`, `:path`, `:authority`,
    /// `:scheme`.
    RequestHeader(HeaderRef),
    /// `RESP(X?Y)`: a response header.
    ResponseHeader(HeaderRef),
    Protocol,
    ResponseCode,
    ResponseFlags,
    ResponseFlagsLong,
    BytesReceived,
    BytesSent,
    /// Start to the last byte out, in milliseconds.
    Duration,
    UpstreamHost,
    UpstreamCluster,
    UpstreamTransportFailureReason,
    DownstreamRemoteAddress,
    DownstreamRemoteAddressWithoutPort,
    DownstreamLocalAddress,
    DownstreamLocalAddressWithoutPort,
    DownstreamDirectRemoteAddress,
    DownstreamDirectRemoteAddressWithoutPort,
    RequestedServerName,
    RouteName,
    Hostname,
    ConnectionId,
}

/// The header an operator reads: `name`, else `alternative` (lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRef {
    pub name: String,
    pub alternative: Option<String>,
}

/// Operators without an argument, by name.
const PLAIN: &[(&str, Operator)] = &[
    ("PROTOCOL", Operator::Protocol),
    ("RESPONSE_CODE", Operator::ResponseCode),
    ("RESPONSE_FLAGS", Operator::ResponseFlags),
    ("RESPONSE_FLAGS_LONG", Operator::ResponseFlagsLong),
    ("BYTES_RECEIVED", Operator::BytesReceived),
    ("BYTES_SENT", Operator::BytesSent),
    ("DURATION", Operator::Duration),
    ("UPSTREAM_HOST", Operator::UpstreamHost),
    ("UPSTREAM_CLUSTER", Operator::UpstreamCluster),
    (
        "UPSTREAM_TRANSPORT_FAILURE_REASON",
        Operator::UpstreamTransportFailureReason,
    ),
    (
        "DOWNSTREAM_REMOTE_ADDRESS",
        Operator::DownstreamRemoteAddress,
    ),
    (
        "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
        Operator::DownstreamRemoteAddressWithoutPort,
    ),
    ("DOWNSTREAM_LOCAL_ADDRESS", Operator::DownstreamLocalAddress),
    (
        "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
        Operator::DownstreamLocalAddressWithoutPort,
    ),
    (
        "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
        Operator::DownstreamDirectRemoteAddress,
    ),
    (
        "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
        Operator::DownstreamDirectRemoteAddressWithoutPort,
    ),
    ("REQUESTED_SERVER_NAME", Operator::RequestedServerName),
    ("ROUTE_NAME", Operator::RouteName),
    ("HOSTNAME", Operator::Hostname),
    ("CONNECTION_ID", Operator::ConnectionId),
];

/// Envoy operators ringway does not provide: refused by name, so the
/// message says "not supported" rather than "unknown".
const ENVOY_ONLY: &[&str] = &[
    "TRAILER",
    "RESPONSE_TRAILER",
    "RESPONSE_DURATION",
    "REQUEST_DURATION",
    "RESPONSE_CODE_DETAILS",
    "REQUEST_HEADERS_BYTES",
    "RESPONSE_HEADERS_BYTES",
    "RESPONSE_TRAILERS_BYTES",
    "UPSTREAM_PROTOCOL",
    "CONNECTION_TERMINATION_DETAILS",
    "UPSTREAM_REQUEST_ATTEMPT_COUNT",
    "UPSTREAM_WIRE_BYTES_SENT",
    "UPSTREAM_WIRE_BYTES_RECEIVED",
    "UPSTREAM_HEADER_BYTES_SENT",
    "UPSTREAM_HEADER_BYTES_RECEIVED",
    "DOWNSTREAM_WIRE_BYTES_SENT",
    "DOWNSTREAM_WIRE_BYTES_RECEIVED",
    "DOWNSTREAM_HEADER_BYTES_SENT",
    "DOWNSTREAM_HEADER_BYTES_RECEIVED",
    "REQUEST_TX_DURATION",
    "RESPONSE_TX_DURATION",
    "VIRTUAL_CLUSTER_NAME",
    "UPSTREAM_LOCAL_ADDRESS",
    "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
    "UPSTREAM_LOCAL_PORT",
    "UPSTREAM_REMOTE_ADDRESS",
    "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
    "UPSTREAM_REMOTE_PORT",
    "DOWNSTREAM_REMOTE_PORT",
    "DOWNSTREAM_DIRECT_REMOTE_PORT",
    "DOWNSTREAM_LOCAL_PORT",
    "GRPC_STATUS",
    "GRPC_STATUS_NUMBER",
    "DYNAMIC_METADATA",
    "CLUSTER_METADATA",
    "UPSTREAM_METADATA",
    "FILTER_STATE",
    "UPSTREAM_FILTER_STATE",
    "METADATA",
    "CEL",
    "REQ_WITHOUT_QUERY",
    "DOWNSTREAM_PEER_URI_SAN",
    "DOWNSTREAM_LOCAL_URI_SAN",
    "DOWNSTREAM_PEER_SUBJECT",
    "DOWNSTREAM_LOCAL_SUBJECT",
    "DOWNSTREAM_TLS_SESSION_ID",
    "DOWNSTREAM_TLS_CIPHER",
    "DOWNSTREAM_TLS_VERSION",
    "DOWNSTREAM_PEER_FINGERPRINT_256",
    "DOWNSTREAM_PEER_FINGERPRINT_1",
    "DOWNSTREAM_PEER_SERIAL",
    "DOWNSTREAM_PEER_ISSUER",
    "DOWNSTREAM_PEER_CERT",
    "DOWNSTREAM_PEER_CERT_V_START",
    "DOWNSTREAM_PEER_CERT_V_END",
    "UPSTREAM_PEER_SUBJECT",
    "UPSTREAM_PEER_ISSUER",
    "UPSTREAM_TLS_SESSION_ID",
    "UPSTREAM_TLS_CIPHER",
    "UPSTREAM_TLS_VERSION",
    "LOCAL_REPLY_BODY",
    "FILTER_CHAIN_NAME",
    "STREAM_ID",
    "UNIQUE_ID",
    "ENVIRONMENT",
    "TRACE_ID",
    "UPSTREAM_CONNECTION_ID",
    "UPSTREAM_CLUSTER_RAW",
    "ACCESS_LOG_TYPE",
];

// === impl Operator ===

impl Operator {
    /// The operator `name`, with its argument `arg` (the text in
    /// parentheses, if any).
    pub(super) fn parse(name: &str, arg: Option<&str>) -> Result<Self, FormatError> {
        let bad = |reason: &str| FormatError::BadArgument {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let header = |arg: Option<&str>| -> Result<HeaderRef, FormatError> {
            HeaderRef::parse(arg.ok_or_else(|| bad("needs a header name: `%REQ(NAME)%`"))?)
                .map_err(|reason| bad(&reason))
        };
        match name {
            "START_TIME" => {
                return Ok(Self::StartTime(match arg {
                    None => TimeFormat::default(),
                    Some(spec) => TimeFormat::parse(spec)?,
                }));
            }
            "REQ" | "REQUEST_HEADER" => return Ok(Self::RequestHeader(header(arg)?)),
            "RESP" | "RESPONSE_HEADER" => return Ok(Self::ResponseHeader(header(arg)?)),
            _ => {}
        }
        if let Some((_, op)) = PLAIN.iter().find(|(n, _)| *n == name) {
            if arg.is_some() {
                return Err(bad("takes no argument"));
            }
            return Ok(op.clone());
        }
        if ENVOY_ONLY.contains(&name) {
            return Err(FormatError::Unsupported {
                name: name.to_owned(),
            });
        }
        Err(FormatError::UnknownOperator {
            name: name.to_owned(),
        })
    }

    /// Whether a JSON value that is only this operator is a number (typed
    /// JSON logs).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::ResponseCode
                | Self::BytesReceived
                | Self::BytesSent
                | Self::Duration
                | Self::ConnectionId
        )
    }
}

// === impl HeaderRef ===

impl HeaderRef {
    /// `X` or `X?Y`; names are lower-cased.
    fn parse(arg: &str) -> Result<Self, String> {
        let (name, alternative) = match arg.split_once('?') {
            Some((x, y)) => (x, Some(y)),
            None => (arg, None),
        };
        let check = |n: &str| -> Result<String, String> {
            let bare = n.strip_prefix(':').unwrap_or(n);
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$&'*+-.^_`|~".contains(&b);
            if bare.is_empty() || !bare.bytes().all(token) {
                return Err(format!("`{n}` is not a header name"));
            }
            Ok(n.to_ascii_lowercase())
        };
        Ok(Self {
            name: check(name)?,
            alternative: alternative.map(check).transpose()?,
        })
    }
}
