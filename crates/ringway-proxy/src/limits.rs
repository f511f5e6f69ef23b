//! The proxy's built-in limits and buffer sizes, in one place. Limits a
//! user sets (head and body sizes, timeouts) come from the listener's and
//! cluster's config; these are the ones that are not configurable.

use std::time::Duration;

/// Most header fields accepted in an upstream response head (HTTP/1.1
/// upstreams; HTTP/2 ones are bounded by `max_header_list_size`).
pub(crate) const MAX_RESPONSE_HEADERS: usize = 256;

/// The least an upstream response head may take; a listener whose request
/// heads may be larger allows as much for responses.
pub(crate) const MIN_RESPONSE_HEAD_BYTES: usize = 64 * 1024;

/// Request body bytes kept so a request can be sent again on another
/// connection (an HTTP/2 upstream refused the stream before processing
/// it); a longer body is not replayed.
pub(crate) const REPLAY_LIMIT_BYTES: usize = 64 * 1024;

/// Initial size of a downstream HTTP/1.1 connection's request buffer; a
/// buffer grown past four times this by a large body is given back between
/// requests.
pub(crate) const DOWNSTREAM_BUFFER_BYTES: usize = 16 * 1024;

/// Downstream buffer size while an HTTP/1.1 request body streams upstream.
pub(crate) const BODY_BUFFER_BYTES: usize = 64 * 1024;

/// Size of the buffer each HTTP/1.1 upstream connection reads responses
/// into; idle pooled connections keep one this size.
pub(crate) const UPSTREAM_BUFFER_BYTES: usize = 32 * 1024;

/// Largest buffer a body stream grows to.
pub(crate) const MAX_STREAM_BUFFER_BYTES: usize = 256 * 1024;

/// A stalled upstream read (or tunnel) gives up after this; the route
/// timeout usually ends an exchange long before.
pub(crate) const READ_STALL: Duration = Duration::from_secs(3600);

/// The limit on an upstream response head for a listener whose request
/// heads may take `max_request_head_bytes`.
pub(crate) fn max_response_head_bytes(max_request_head_bytes: usize) -> usize {
    max_request_head_bytes.max(MIN_RESPONSE_HEAD_BYTES)
}
