//! Sans-IO checks on a client's HTTP/2 byte stream that the `h2` crate
//! does not make.
//!
//! `h2` decodes a trailers field block and silently drops any pseudo-header
//! field in it, where RFC 9113 §8.1 makes such a request malformed (it must
//! not be forwarded). [`FrameScanner`] watches the bytes a server reads,
//! finds each trailers block (a HEADERS frame on a stream that is already
//! open) and reports how many field representations it holds
//! ([`count_fields`], stateless: no HPACK table is needed to count). A
//! proxy compares that with the number of fields `h2` delivers: fewer
//! delivered means a pseudo-header field was dropped.
//!
//! Scanning costs a few comparisons per frame; only trailers blocks are
//! copied and read.

#![forbid(unsafe_code)]

mod count;
mod scan;

pub use count::{CountError, count_fields};
pub use scan::{FrameScanner, Trailers};
