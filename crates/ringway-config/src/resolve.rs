//! Turning endpoint host names into addresses, once, at load time.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host:port` to addresses. Called only while loading a config,
/// on the control thread, never by a worker.
pub trait Resolve {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The system resolver (`getaddrinfo` through [`ToSocketAddrs`]); it blocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// Any `Fn(host, port)` resolves, which suits tests.
impl<F> Resolve for F
where
    F: Fn(&str, u16) -> io::Result<Vec<SocketAddr>>,
{
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self(host, port)
    }
}
