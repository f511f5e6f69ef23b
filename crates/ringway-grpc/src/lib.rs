//! The parts of the gRPC-over-HTTP/2 protocol a proxy needs: telling a gRPC
//! request apart, reading its `grpc-timeout`, and shaping the errors the
//! proxy itself produces as gRPC statuses.
//!
//! The wire rules are those of the "gRPC over HTTP2" protocol document:
//! `content-type` is `application/grpc` optionally followed by `+format` or
//! parameters; `grpc-timeout` is at most eight ASCII digits and one unit
//! letter; `grpc-message` is percent-encoded UTF-8.
//!
//! ```
//! use std::time::Duration;
//! use ringway_grpc::{Code, is_grpc, parse_timeout};
//!
//! assert!(is_grpc(b"application/grpc+proto"));
//! assert_eq!(parse_timeout(b"250m"), Some(Duration::from_millis(250)));
//! assert_eq!(Code::for_http_status(503), Code::Unavailable);
//! ```

#![forbid(unsafe_code)]

mod code;
mod message;
mod timeout;

pub use code::Code;
pub use message::encode_message;
pub use timeout::parse_timeout;

/// The `content-type` every gRPC response carries.
pub const CONTENT_TYPE: &str = "application/grpc";

/// Whether a `content-type` value names gRPC: `application/grpc`, possibly
/// followed by `+format` (`+proto`, `+json`) or `;` parameters. Case is
/// ignored, as for all media types.
pub fn is_grpc(content_type: &[u8]) -> bool {
    let prefix = CONTENT_TYPE.as_bytes();
    match content_type.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => {
            matches!(content_type.get(prefix.len()), None | Some(b'+' | b';'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types() {
        for yes in [
            &b"application/grpc"[..],
            b"application/grpc+proto",
            b"application/grpc+json",
            b"Application/GRPC",
            b"application/grpc; charset=utf-8",
        ] {
            assert!(is_grpc(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b""[..],
            b"application/json",
            b"application/grpc-web",
            b"application/grpc-web+proto",
            b"application/grpcx",
            b"application/grp",
        ] {
            assert!(!is_grpc(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
