//! HTTP/2 downstream connections: the `h2` server over monoio's poll-io
//! stream on the worker's own core ([`server`]), each request stream
//! handed to the request stage and answered by its own task ([`stream`]),
//! forwarded to an HTTP/2 upstream ([`upstream_h2`]) or translated for an
//! HTTP/1.1 one ([`upstream_h1`]).

mod exchange;
mod server;
mod shared;
mod stream;
mod upstream_h1;
mod upstream_h2;

pub(crate) use server::serve;
pub(crate) use shared::ConnShared;
