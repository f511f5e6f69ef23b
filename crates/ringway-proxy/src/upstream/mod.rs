//! Per-core upstream connections: a pool of idle HTTP/1.1 connections per
//! endpoint ([`pool`]) and multiplexed HTTP/2 client connections ([`h2`]).

pub(crate) mod h2;
pub(crate) mod pool;
