//! Per-core, per-endpoint pools of multiplexed HTTP/2 upstream connections.
//!
//! A request takes the first open connection with a free stream slot (the
//! cluster's `max_concurrent_streams`, or the peer's SETTINGS limit if
//! lower); when every connection is full, one new connection is opened and
//! the requests that arrive meanwhile wait for it rather than each opening
//! their own. Connections that received GOAWAY or broke are dropped from the
//! pool; idle ones close after the cluster's idle timeout.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::SendStream;
use h2::client::{ResponseFuture, SendRequest};
use ringway_stats::{ClusterStats, HostStats};

use super::ClusterRef;
use crate::signal::Signal;
use crate::transport::ConnectError;
use crate::transport::Stream;

/// One HTTP/2 connection to an endpoint.
#[derive(Debug)]
pub(crate) struct H2Upstream {
    send: SendRequest<Bytes>,
    /// Streams this core has open on the connection.
    pub(crate) active: Cell<u32>,
    max_streams: u32,
    /// Set by the connection's driver task when it ends.
    closed: Rc<Cell<bool>>,
    /// Fired to close the connection (idle, keepalive failure).
    kill: Rc<Signal>,
    idle_since: Cell<Instant>,
}

/// The HTTP/2 connections of one endpoint on one core.
#[derive(Debug)]
pub(crate) struct H2Pool {
    /// The endpoint's stats (connections, streams opened).
    host: Rc<HostStats>,
    conns: RefCell<Vec<Rc<H2Upstream>>>,
    /// A connection being opened, which waiting requests share.
    connecting: RefCell<Option<Rc<Pending>>>,
}

/// How a shared connection attempt ended: the connection, or the error's
/// kind and whether it was a timeout.
type Attempt = Result<Rc<H2Upstream>, (io::ErrorKind, bool)>;

#[derive(Debug, Default)]
struct Pending {
    done: Signal,
    result: RefCell<Option<Attempt>>,
}

/// A stream slot on a connection; frees the slot when dropped.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    pub(crate) conn: Rc<H2Upstream>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let active = self.conn.active.get().saturating_sub(1);
        self.conn.active.set(active);
        if active == 0 {
            self.conn.idle_since.set(Instant::now());
        }
    }
}

impl StreamSlot {
    /// A handle to open the stream with.
    pub(crate) fn sender(&self) -> SendRequest<Bytes> {
        self.conn.send.clone()
    }

    /// Stops new requests from using this connection.
    pub(crate) fn retire(&self) {
        self.conn.closed.set(true);
    }
}

impl H2Upstream {
    fn is_usable(&self) -> bool {
        !self.closed.get() && !self.kill.is_fired()
    }

    fn has_room(&self) -> bool {
        let peer_limit = u32::try_from(self.send.current_max_send_streams()).unwrap_or(u32::MAX);
        self.active.get() < self.max_streams.min(peer_limit.max(1))
    }
}

impl H2Pool {
    pub(crate) fn new(host: Rc<HostStats>) -> Self {
        Self {
            host,
            conns: RefCell::default(),
            connecting: RefCell::default(),
        }
    }

    /// A stream slot on an open connection, opening one if all are full.
    /// `fresh` skips existing connections (a retry after GOAWAY).
    async fn checkout(
        &self,
        address: SocketAddr,
        cluster: ClusterRef<'_>,
        fresh: bool,
    ) -> Result<StreamSlot, ConnectError> {
        loop {
            if !fresh {
                let found = {
                    let mut conns = self.conns.borrow_mut();
                    conns.retain(|c| c.is_usable());
                    conns.iter().find(|c| c.has_room()).cloned()
                };
                if let Some(conn) = found {
                    return Ok(take_slot(conn));
                }
            }
            let pending = self.connecting.borrow().clone();
            if let Some(pending) = pending {
                pending.done.wait().await;
                let result = pending.result.borrow().clone();
                match result {
                    Some(Ok(conn)) if conn.is_usable() && conn.has_room() => {
                        return Ok(take_slot(conn));
                    }
                    Some(Err((kind, timed_out))) => {
                        return Err(if timed_out {
                            ConnectError::Timeout
                        } else {
                            ConnectError::Io(io::Error::from(kind))
                        });
                    }
                    _ => continue,
                }
            }
            let pending = Rc::new(Pending::default());
            *self.connecting.borrow_mut() = Some(pending.clone());
            let result = connect(address, cluster, &self.host).await;
            *self.connecting.borrow_mut() = None;
            let shared = match &result {
                Ok(conn) => Ok(conn.clone()),
                Err(ConnectError::Timeout) => Err((io::ErrorKind::TimedOut, true)),
                Err(ConnectError::Io(e)) => Err((e.kind(), false)),
            };
            *pending.result.borrow_mut() = Some(shared);
            pending.done.fire();
            let conn = result?;
            self.conns.borrow_mut().push(conn.clone());
            return Ok(take_slot(conn));
        }
    }

    /// Closes connections idle for longer than `timeout` (counted in
    /// `upstream_cx_idle_timeout`; their driver tasks count the close) and
    /// forgets ones that are going away (their streams finish on their own).
    pub(crate) fn sweep(&self, now: Instant, timeout: Duration, stats: &ClusterStats) {
        self.conns.borrow_mut().retain(|c| {
            if !c.is_usable() {
                return false;
            }
            let idle =
                c.active.get() == 0 && now.saturating_duration_since(c.idle_since.get()) >= timeout;
            if idle {
                c.kill.fire();
                stats.upstream_cx_idle_timeout.inc();
            }
            !idle
        });
    }
}

/// Why no stream could be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// `wait_until` passed first.
    TimedOut,
    /// No connection could be made (counted in the cluster's stats).
    Connect,
    /// The connection was found going away (GOAWAY, or closed) before the
    /// request was sent on it: the request never left.
    GoingAway,
    /// The connection refused the new stream.
    Closed,
}

/// A stream opened upstream: its slot, the response to come, and the
/// request body's sending half.
#[derive(Debug)]
pub(crate) struct OpenStream {
    pub(crate) slot: StreamSlot,
    pub(crate) response: ResponseFuture,
    pub(crate) send: SendStream<Bytes>,
}

/// Opens a stream for `request` (taken when sent) on a connection of
/// `pool` to `address`: an open one with room unless `fresh`, else a new
/// one. A connection found going away before the request was sent on it is
/// retired ([`OpenError::GoingAway`]).
pub(crate) async fn open_stream(
    pool: &H2Pool,
    address: SocketAddr,
    cluster: ClusterRef<'_>,
    wait_until: Instant,
    request: &mut Option<http::Request<()>>,
    end_of_stream: bool,
    fresh: bool,
) -> Result<OpenStream, OpenError> {
    let stats = cluster.stats;
    let checkout = pool.checkout(address, cluster, fresh);
    let slot = match monoio::time::timeout_at(wait_until.into(), checkout).await {
        Err(_) => return Err(OpenError::TimedOut),
        Ok(Err(_)) => return Err(OpenError::Connect),
        Ok(Ok(slot)) => slot,
    };
    let mut sender = slot.sender();
    let ready = std::future::poll_fn(|cx| sender.poll_ready(cx));
    match monoio::time::timeout_at(wait_until.into(), ready).await {
        Err(_) => return Err(OpenError::TimedOut),
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            slot.retire();
            if err.is_go_away() {
                stats.http2_goaway_received.inc();
            }
            return Err(OpenError::GoingAway);
        }
    }
    let Some(request) = request.take() else {
        return Err(OpenError::Closed);
    };
    match sender.send_request(request, end_of_stream) {
        Ok((response, send)) => {
            stats.upstream_rq_total.inc();
            pool.host.rq_total.inc();
            Ok(OpenStream {
                slot,
                response,
                send,
            })
        }
        Err(_) => {
            slot.retire();
            Err(OpenError::Closed)
        }
    }
}

fn take_slot(conn: Rc<H2Upstream>) -> StreamSlot {
    conn.active.set(conn.active.get() + 1);
    StreamSlot { conn }
}

async fn connect(
    address: SocketAddr,
    cluster: ClusterRef<'_>,
    host: &Rc<HostStats>,
) -> Result<Rc<H2Upstream>, ConnectError> {
    let settings = &cluster.config.http2;
    let stats = cluster.stats;
    let started = async {
        let io = match Stream::connect(address, cluster.config.connect_timeout).await {
            Ok(stream) => stream.into_poll()?,
            Err(ConnectError::Io(err)) => return Err(err),
            Err(ConnectError::Timeout) => return Err(io::ErrorKind::TimedOut.into()),
        };
        let mut builder = h2::client::Builder::new();
        builder
            .initial_window_size(settings.initial_stream_window_size)
            .initial_connection_window_size(settings.initial_connection_window_size)
            .max_frame_size(settings.max_frame_size)
            .max_header_list_size(settings.max_header_list_size)
            .max_concurrent_streams(settings.max_concurrent_streams)
            .enable_push(false);
        builder
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| io::Error::other(e.to_string()))
    };
    let (send, mut connection) =
        match monoio::time::timeout(cluster.config.connect_timeout, started).await {
            Ok(Ok(pair)) => pair,
            failed => {
                let err = match failed {
                    Ok(Err(e)) => ConnectError::Io(e),
                    _ => ConnectError::Timeout,
                };
                err.count(stats, address);
                host.cx_connect_fail.inc();
                return Err(err);
            }
        };
    stats.upstream_cx_total.inc();
    stats.upstream_cx_http2_total.inc();
    stats.upstream_cx_active.inc();
    host.cx_total.inc();
    host.cx_active.inc();
    let closed = Rc::new(Cell::new(false));
    let kill = Rc::new(Signal::default());
    if let (Some(keepalive), Some(ping)) = (settings.keepalive, connection.ping_pong()) {
        let (kill, stats) = (kill.clone(), stats.clone());
        monoio::spawn(async move {
            if crate::http2::keepalive::run(ping, keepalive, &kill).await {
                stats.http2_keepalive_timeout.inc();
            }
        });
    }
    {
        let (closed, kill, stats) = (closed.clone(), kill.clone(), stats.clone());
        let host = host.clone();
        monoio::spawn(async move {
            let result = monoio::select! {
                r = &mut connection => r,
                _ = kill.wait() => Ok(()),
            };
            if let Err(e) = result
                && e.is_go_away()
                && e.is_remote()
            {
                stats.http2_goaway_received.inc();
            }
            closed.set(true);
            kill.fire();
            stats.upstream_cx_destroy.inc();
            stats.upstream_cx_active.dec();
            host.cx_active.dec();
        });
    }
    Ok(Rc::new(H2Upstream {
        send,
        active: Cell::new(0),
        max_streams: settings.max_concurrent_streams,
        closed,
        kill,
        idle_since: Cell::new(Instant::now()),
    }))
}
