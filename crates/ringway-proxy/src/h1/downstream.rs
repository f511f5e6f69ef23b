//! A downstream HTTP/1.1 connection's halves, its request buffer, the
//! buffers every request on it reuses, and what serving one request
//! leaves behind.

use std::net::SocketAddr;

use ringway_http1::HeaderSpan;
use ringway_route::HeaderLookup;

use super::head::ParsedHead;
use super::iovec::Piece;
use crate::access_log::{Captured, ConnInfo, Needs};
use crate::request::{LogLine, Outcome};
use crate::transport::{StreamReader, StreamWriter};

/// The downstream side of a connection and its request-direction buffer.
#[derive(Debug)]
pub(crate) struct Downstream {
    pub reader: StreamReader,
    pub writer: StreamWriter,
    pub peer: SocketAddr,
    /// The connection's facts for access logs.
    pub info: ConnInfo,
    /// Starts with the current request's head; may hold the next one.
    pub buf: Vec<u8>,
}

/// Buffers reused by every request on a connection.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub headers: Vec<HeaderSpan>,
    pub upstream_headers: Vec<HeaderSpan>,
    pub added: Vec<u8>,
    pub pieces: Vec<Piece>,
    pub iovecs: Vec<libc::iovec>,
    pub reply: Vec<u8>,
    pub rewrite: Vec<u8>,
    pub log: LogFields,
}

/// What serving one request leaves for the connection.
#[derive(Debug)]
pub(crate) struct Served {
    pub outcome: Outcome,
    pub keep_alive: bool,
    /// Bytes of [`Downstream::buf`] that belonged to this request; the
    /// next request starts there.
    pub consumed: usize,
}

/// Request fields kept for the access log (the head's bytes may be
/// overwritten by the body before the line is written).
#[derive(Debug, Default)]
pub(crate) struct LogFields {
    text: String,
    /// method, path, user agent, forwarded-for, request id, authority
    ends: [usize; 6],
    /// The cluster the request went to; empty when none.
    cluster: String,
    /// The headers the log formats name.
    pub captured: Captured,
}

// === impl LogFields ===

impl LogFields {
    pub(crate) fn capture(&mut self, parsed: ParsedHead<'_>, needs: &Needs) {
        let ParsedHead { buf, head, .. } = parsed;
        self.text.clear();
        self.cluster.clear();
        // Also when only response headers are named: the previous
        // request's are forgotten.
        if !needs.request.is_empty() || !needs.response.is_empty() {
            self.captured.request(needs, |name| parsed.find(name));
        }
        let fields: [Option<&[u8]>; 6] = [
            Some(head.method_span.get(buf)),
            Some(head.target.get(buf)),
            parsed.find("user-agent"),
            head.forwarded_for.map(|s| s.get(buf)),
            head.request_id.map(|s| s.get(buf)),
            head.host.map(|s| s.get(buf)),
        ];
        for (i, field) in fields.into_iter().enumerate() {
            match field {
                Some(bytes) if !bytes.is_empty() => {
                    self.text.push_str(&String::from_utf8_lossy(bytes))
                }
                _ => self.text.push('-'),
            }
            self.ends[i] = self.text.len();
        }
    }

    /// Replaces the request id (when ringway generated one).
    pub(crate) fn set_request_id(&mut self, id: &str) {
        let start = self.ends[3];
        let end = self.ends[4];
        if start <= end && end <= self.text.len() {
            self.text.replace_range(start..end, id);
            let delta = id.len() as isize - (end - start) as isize;
            for e in &mut self.ends[4..] {
                *e = (*e as isize + delta) as usize;
            }
        }
    }

    /// Records the cluster the request is forwarded to.
    pub(crate) fn set_cluster(&mut self, name: &str) {
        self.cluster.clear();
        self.cluster.push_str(name);
    }

    /// The line's request fields, for a request of `protocol` on `conn`.
    pub(crate) fn line<'a>(&'a self, protocol: &'a str, conn: &'a ConnInfo) -> LogLine<'a> {
        LogLine {
            cluster: if self.cluster.is_empty() {
                "-"
            } else {
                &self.cluster
            },
            conn: Some(conn),
            captured: Some(&self.captured),
            method: self.get(0),
            path: self.get(1),
            protocol,
            user_agent: self.get(2),
            forwarded_for: self.get(3),
            request_id: self.get(4),
            authority: self.get(5),
        }
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..self.ends[i]).unwrap_or("-")
    }
}
