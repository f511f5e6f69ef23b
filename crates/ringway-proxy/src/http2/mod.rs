//! HTTP/2 plumbing shared by the downstream server, the HTTP/1.1 edge's
//! HTTP/2 upstreams and the upstream pools: flow-controlled DATA
//! ([`body`]), header translation to and from HTTP/1.1 ([`headers`]), the
//! preface ([`preface`]), keepalive PINGs, and an exchange's clocks
//! ([`timer`]).

pub(crate) mod body;
pub(crate) mod headers;
pub(crate) mod io;
pub(crate) mod keepalive;
pub(crate) mod preface;
pub(crate) mod timer;
pub(crate) mod trailers;
