//! The protocol-neutral request stage. Both codecs (`h1`, `h2`) parse a
//! request, describe it here as a [`RequestView`](ringway_route::RequestView),
//! and get back a [`Decision`](decide::Decision): a reply to write, or a
//! cluster endpoint to forward to. Then they run the attempts and hand the
//! [`Outcome`](finish::Outcome) to [`finish`](finish::finish).
//!
//! Nothing here imports the `h1` or `h2` modules: they import this.

pub(crate) mod admission;
pub(crate) mod attempt;
pub(crate) mod cluster;
pub(crate) mod context;
pub(crate) mod decide;
pub(crate) mod envoy_headers;
pub(crate) mod finish;
pub(crate) mod next_hop;
pub(crate) mod reply;
pub(crate) mod retry;
pub(crate) mod stream_clock;

pub(crate) use crate::access_log::LogLine;
pub(crate) use context::RequestContext;
pub(crate) use decide::{Decision, Forward, Reply, decide};
pub(crate) use finish::{Outcome, Started};
pub(crate) use next_hop::NextHop;
pub(crate) use reply::LocalReply;
pub(crate) use stream_clock::{Expiry, StreamClock};
