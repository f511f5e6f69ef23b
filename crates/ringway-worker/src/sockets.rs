//! Listening sockets, bound on the control thread (so a bind failure rejects
//! a snapshot before any worker sees it) and handed to the workers, one
//! `SO_REUSEPORT` socket each, so the kernel spreads connections.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};

use ringway_config::model::Snapshot;
use socket2::{Domain, Protocol, Socket, Type};

const BACKLOG: i32 = 4096;

/// A listener as bound: the configured address, and the actual one (they
/// differ when the configured port is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundListener {
    pub configured: SocketAddr,
    pub actual: SocketAddr,
}

/// Tracks what is bound, across reloads, by listener name.
#[derive(Debug, Default)]
pub struct ListenerSockets {
    bound: HashMap<String, BoundListener>,
}

/// Per worker, the new sockets it must start accepting on.
pub type NewSockets = Vec<Vec<(String, TcpListener)>>;

impl ListenerSockets {
    /// Binds `workers` sockets for every listener of `snapshot` that is new
    /// or whose address changed. Nothing is recorded unless all succeed.
    pub fn bind(
        &mut self,
        snapshot: &Snapshot,
        workers: usize,
    ) -> io::Result<(NewSockets, HashMap<String, BoundListener>)> {
        let mut per_worker: NewSockets = (0..workers).map(|_| Vec::new()).collect();
        let mut next = HashMap::new();
        for listener in &snapshot.listeners {
            match self.bound.get(&listener.name) {
                Some(b) if b.configured == listener.address => {
                    next.insert(listener.name.clone(), *b);
                }
                _ => {
                    let (actual, sockets) = bind_group(listener.address, workers).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "listener {:?} cannot bind {}: {e}",
                                listener.name, listener.address
                            ),
                        )
                    })?;
                    for (worker, socket) in per_worker.iter_mut().zip(sockets) {
                        worker.push((listener.name.clone(), socket));
                    }
                    next.insert(
                        listener.name.clone(),
                        BoundListener {
                            configured: listener.address,
                            actual,
                        },
                    );
                }
            }
        }
        Ok((per_worker, next))
    }

    /// Records what [`ListenerSockets::bind`] produced once it is in service.
    pub fn commit(&mut self, bound: HashMap<String, BoundListener>) {
        self.bound = bound;
    }

    pub fn bound(&self) -> &HashMap<String, BoundListener> {
        &self.bound
    }
}

/// `count` sockets on one address with `SO_REUSEPORT`; port 0 is resolved
/// by the first and reused by the rest.
fn bind_group(address: SocketAddr, count: usize) -> io::Result<(SocketAddr, Vec<TcpListener>)> {
    let mut sockets = Vec::with_capacity(count);
    let mut actual = address;
    for _ in 0..count.max(1) {
        let socket = Socket::new(
            Domain::for_address(actual),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.set_tcp_nodelay(true)?;
        socket.bind(&actual.into())?;
        socket.listen(BACKLOG)?;
        if actual.port() == 0 {
            actual = socket
                .local_addr()?
                .as_socket()
                .ok_or_else(|| io::Error::other("bound socket has no inet address"))?;
        }
        sockets.push(socket.into());
    }
    Ok((actual, sockets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_zero_is_shared_by_the_group() {
        let (actual, sockets) =
            bind_group("127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()), 3)
                .unwrap_or_else(|e| panic!("bind: {e}"));
        assert_ne!(actual.port(), 0);
        assert_eq!(sockets.len(), 3);
        for s in &sockets {
            assert_eq!(s.local_addr().ok(), Some(actual));
        }
    }
}
