//! Sans-IO HTTP/1.1 codec: request and response heads, body framing and the
//! chunked decoder, strict against request smuggling.
//!
//! Nothing here performs I/O or allocates per message: heads are parsed in
//! place and described by [`Span`]s (byte offsets into the caller's buffer),
//! header lines are collected into a caller-owned, reusable
//! `Vec<HeaderSpan>`, and bodies are validated incrementally by
//! [`BodyDecoder`] / [`ChunkedDecoder`] as bytes arrive.
//!
//! The request side follows RFC 9110/9112 strictly wherever a laxer reading
//! could let two HTTP implementations disagree about where a message ends
//! (conflicting `Content-Length`, `Content-Length` with `Transfer-Encoding`,
//! `chunked` not last, bare LF, obs-fold, whitespace before the colon,
//! control characters, ...): all of those are [`RequestError`]s whose
//! [`RequestError::status`] is 400. The response side is equally strict about
//! framing but tolerates cosmetic deviations that survive verbatim
//! forwarding.
//!
//! ```
//! use ringway_http1::{BodyDecoder, BodyFraming, HeadLimits, parse_request};
//!
//! let buf = b"POST /upload HTTP/1.1\r\nHost: example.com\r\n\
//!     Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n";
//! let mut headers = Vec::new();
//! let head = parse_request(buf, &HeadLimits::default(), &mut headers)?.expect("complete");
//! assert_eq!(head.target.get(buf), b"/upload");
//! assert_eq!(head.framing, BodyFraming::Chunked);
//!
//! // Which of the bytes after the head belong to the body?
//! let mut body = BodyDecoder::new(head.framing);
//! let progress = body.advance(&buf[head.head_len..])?;
//! assert!(progress.done);
//! assert_eq!(body.payload_len(), 5);
//! let next = head.head_len + progress.consumed;
//! assert!(buf[next..].starts_with(b"GET /next"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod body;
mod chunked;
mod fields;
mod head;
mod headers;
mod method;
mod request;
mod response;
mod span;

pub use body::{BodyDecoder, Progress};
pub use chunked::{BodyError, ChunkEvent, ChunkedDecoder};
pub use headers::{connection_tokens_contain, find_header, is_hop_by_hop};
pub use method::Method;
pub use request::{HeadLimits, RequestError, RequestHead, parse_request};
pub use response::{ResponseError, ResponseHead, parse_response};
pub use span::{HeaderSpan, Span};

/// How the length of a message body is determined (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// The message has no body at all.
    Empty,
    /// The body is exactly this many bytes (`Content-Length`).
    Length(u64),
    /// The body uses the chunked transfer coding.
    Chunked,
    /// The body extends until the sender closes the connection (responses
    /// only).
    UntilClose,
}

/// Default bound on a chunk-size line (size, extensions and CRLF).
pub const DEFAULT_MAX_CHUNK_LINE: usize = 4096;

/// Default bound on a chunked body's trailer section, final CRLF included.
pub const DEFAULT_MAX_TRAILER_BYTES: usize = 8192;

/// Upper bound on the header count a single parse can track; larger
/// `max_headers` limits are capped to this (it sizes a stack array).
pub const MAX_HEADERS_CAP: usize = 256;
