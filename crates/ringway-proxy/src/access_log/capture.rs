//! The headers a listener's log formats name, captured by the codecs for
//! each request: only those, and none at all for formats that name none
//! beyond the fields every line has (method, path, authority, user agent,
//! `x-forwarded-for`, `x-request-id`).

use std::ops::Range;

use ringway_config::model::log_format::Operator;
use ringway_config::model::{AccessLogFormat, HeaderSource};

/// Request headers every entry carries; never captured again.
pub(super) const REQUEST_FIXED: &[&str] = &[
    ":method",
    ":path",
    ":authority",
    "host",
    ":scheme",
    "user-agent",
    "x-forwarded-for",
    "x-request-id",
];

/// Response headers ringway adds itself (read from the entry).
pub(super) const RESPONSE_FIXED: &[&str] = &["x-envoy-upstream-service-time"];

/// What the codecs capture for a listener's logs.
#[derive(Debug, Default)]
pub struct Needs {
    /// Lower-case request header names.
    pub request: Vec<String>,
    /// Lower-case response header names.
    pub response: Vec<String>,
    /// A `DOWNSTREAM_LOCAL_ADDRESS` operator is used.
    pub local_address: bool,
    /// An `UPSTREAM_CLUSTER` operator is used.
    pub upstream_cluster: bool,
}

/// One request's captured header values.
#[derive(Debug, Default)]
pub struct Captured {
    text: String,
    /// One per [`Needs::request`] name.
    request: Vec<Option<Range<usize>>>,
    /// One per [`Needs::response`] name.
    response: Vec<Option<Range<usize>>>,
}

// === impl Needs ===

impl Needs {
    pub(super) fn new<'a>(formats: impl Iterator<Item = &'a AccessLogFormat> + Clone) -> Self {
        let mut needs = Self::default();
        for format in formats {
            for (source, into, fixed) in [
                (HeaderSource::Request, &mut needs.request, REQUEST_FIXED),
                (HeaderSource::Response, &mut needs.response, RESPONSE_FIXED),
            ] {
                for header in format.headers(source) {
                    let names = std::iter::once(&header.name).chain(&header.alternative);
                    for name in names {
                        if !fixed.contains(&name.as_str()) && !into.contains(name) {
                            into.push(name.clone());
                        }
                    }
                }
            }
            let uses = |pred: fn(&Operator) -> bool| {
                format.formats().iter().any(|f| f.operators().any(pred))
            };
            needs.local_address |= uses(|op| {
                matches!(
                    op,
                    Operator::DownstreamLocalAddress | Operator::DownstreamLocalAddressWithoutPort
                )
            });
            needs.upstream_cluster |= uses(|op| matches!(op, Operator::UpstreamCluster));
        }
        needs
    }
}

// === impl Captured ===

impl Captured {
    /// Captures the request headers `needs` names (and forgets the
    /// previous request's response headers).
    pub fn request<'v>(&mut self, needs: &Needs, lookup: impl Fn(&str) -> Option<&'v [u8]>) {
        self.text.clear();
        self.response.clear();
        self.request.clear();
        for name in &needs.request {
            let range = lookup(name).map(|v| push(&mut self.text, v));
            self.request.push(range);
        }
    }

    /// Captures the response headers `needs` names.
    pub fn response<'v>(&mut self, needs: &Needs, lookup: impl Fn(&str) -> Option<&'v [u8]>) {
        self.response.clear();
        for name in &needs.response {
            let range = lookup(name).map(|v| push(&mut self.text, v));
            self.response.push(range);
        }
    }

    pub(super) fn get(&self, needs: &Needs, source: HeaderSource, name: &str) -> Option<&str> {
        let (names, ranges) = match source {
            HeaderSource::Request => (&needs.request, &self.request),
            HeaderSource::Response => (&needs.response, &self.response),
        };
        let i = names.iter().position(|n| n == name)?;
        let range = ranges.get(i)?.clone()?;
        self.text.get(range)
    }
}

fn push(text: &mut String, value: &[u8]) -> Range<usize> {
    let start = text.len();
    text.push_str(&String::from_utf8_lossy(value));
    start..text.len()
}
