//! Per-core upstream connection pools, one per endpoint.
//!
//! Idle connections are kept on a stack (the most recently used one is
//! reused first, so cold ones age out), bounded by `max_idle`, and closed
//! once idle for longer than `idle_timeout`.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::io::Splitable;
use ringway_stats::{ClusterStats, HostStats};

use super::h2::H2Pool;
use crate::limits::UPSTREAM_BUFFER_BYTES;
pub(crate) use crate::transport::ConnectError;
use crate::transport::{Stream, StreamReader, StreamWriter};

/// An open connection to an upstream endpoint, with its response buffer.
#[derive(Debug)]
pub struct UpstreamConn {
    pub(crate) reader: StreamReader,
    pub(crate) writer: StreamWriter,
    /// Response-direction buffer; empty whenever the connection is idle.
    pub buf: Vec<u8>,
    /// True when taken from the pool rather than freshly connected.
    pub reused: bool,
    idle_since: Instant,
}

/// The endpoint's idle connections and its in-flight request count on this
/// core.
#[derive(Debug)]
pub struct EndpointPool {
    pub address: SocketAddr,
    /// The DNS name the address came from, if any (`auto_host_rewrite`).
    pub hostname: Option<Box<str>>,
    pub active_requests: Cell<u32>,
    /// What `/clusters` shows for this endpoint; survives reloads with
    /// the pool.
    pub stats: Rc<HostStats>,
    idle: RefCell<Vec<UpstreamConn>>,
    max_idle: Cell<usize>,
    idle_timeout: Cell<Duration>,
    /// Multiplexed connections, for clusters that speak HTTP/2.
    pub(crate) h2: H2Pool,
}

// === impl ConnectError ===

impl ConnectError {
    /// Counts a failed connection attempt in the cluster's stats.
    pub fn count(&self, stats: &ClusterStats, address: SocketAddr) {
        if let Self::Io(err) = self {
            tracing::debug!(upstream = %address, %err, "upstream connect failed");
        } else {
            stats.upstream_cx_connect_timeout.inc();
        }
        stats.upstream_cx_connect_fail.inc();
    }
}

// === impl UpstreamConn ===

impl UpstreamConn {
    pub async fn connect(address: SocketAddr, timeout: Duration) -> Result<Self, ConnectError> {
        let (reader, writer) = Stream::connect(address, timeout).await?.into_split();
        Ok(Self {
            reader,
            writer,
            buf: Vec::with_capacity(UPSTREAM_BUFFER_BYTES),
            reused: false,
            idle_since: Instant::now(),
        })
    }
}

// === impl EndpointPool ===

impl EndpointPool {
    pub fn new(
        address: SocketAddr,
        hostname: Option<&str>,
        max_idle: usize,
        idle_timeout: Duration,
    ) -> Self {
        let stats = Rc::new(HostStats::default());
        Self {
            h2: H2Pool::new(stats.clone()),
            address,
            hostname: hostname.map(Box::from),
            active_requests: Cell::new(0),
            stats,
            idle: RefCell::new(Vec::new()),
            max_idle: Cell::new(max_idle),
            idle_timeout: Cell::new(idle_timeout),
        }
    }

    pub fn reconfigure(&self, max_idle: usize, idle_timeout: Duration) {
        self.max_idle.set(max_idle);
        self.idle_timeout.set(idle_timeout);
        let mut idle = self.idle.borrow_mut();
        if idle.len() > max_idle {
            let excess = idle.len() - max_idle;
            idle.drain(..excess);
        }
    }

    /// The most recently returned idle connection that has not expired.
    /// Expired ones met on the way are closed; returns how many.
    pub fn take(&self, now: Instant) -> (Option<UpstreamConn>, usize) {
        let timeout = self.idle_timeout.get();
        let mut idle = self.idle.borrow_mut();
        let mut expired = 0;
        while let Some(mut conn) = idle.pop() {
            if now.saturating_duration_since(conn.idle_since) < timeout {
                conn.reused = true;
                return (Some(conn), expired);
            }
            expired += 1;
        }
        (None, expired)
    }

    /// Returns a connection whose exchange completed cleanly. Returns false
    /// (and drops the connection) when the pool is full.
    pub fn put(&self, mut conn: UpstreamConn) -> bool {
        let mut idle = self.idle.borrow_mut();
        if idle.len() >= self.max_idle.get() {
            return false;
        }
        conn.buf.clear();
        // A large body grew the buffer; idle connections keep a small one.
        if conn.buf.capacity() > UPSTREAM_BUFFER_BYTES {
            conn.buf = Vec::with_capacity(UPSTREAM_BUFFER_BYTES);
        }
        conn.idle_since = Instant::now();
        idle.push(conn);
        true
    }

    /// Closes expired idle connections; returns how many HTTP/1.1 ones
    /// (HTTP/2 ones are counted in `stats` by their pool).
    pub fn sweep(&self, now: Instant, stats: &ClusterStats) -> usize {
        let timeout = self.idle_timeout.get();
        self.h2.sweep(now, timeout, stats);
        let mut idle = self.idle.borrow_mut();
        let before = idle.len();
        idle.retain(|c| now.saturating_duration_since(c.idle_since) < timeout);
        let closed = before - idle.len();
        self.stats.cx_active.sub(closed as i64);
        closed
    }

    pub fn idle_count(&self) -> usize {
        self.idle.borrow().len()
    }

    /// A connection for one exchange: the most recent idle one unless
    /// `fresh_only`, else a new one (counted in `stats`).
    pub(crate) async fn checkout(
        &self,
        stats: &ClusterStats,
        connect_timeout: Duration,
        fresh_only: bool,
    ) -> Result<UpstreamConn, ConnectError> {
        if !fresh_only {
            let (conn, expired) = self.take(Instant::now());
            if expired > 0 {
                stats.upstream_cx_idle_timeout.add(expired as u64);
                stats.upstream_cx_destroy.add(expired as u64);
                stats.upstream_cx_active.sub(expired as i64);
                self.stats.cx_active.sub(expired as i64);
            }
            if let Some(conn) = conn {
                return Ok(conn);
            }
        }
        let conn = UpstreamConn::connect(self.address, connect_timeout)
            .await
            .inspect_err(|err| {
                err.count(stats, self.address);
                self.stats.cx_connect_fail.inc();
            })?;
        stats.upstream_cx_total.inc();
        stats.upstream_cx_http1_total.inc();
        stats.upstream_cx_active.inc();
        self.stats.cx_total.inc();
        self.stats.cx_active.inc();
        Ok(conn)
    }

    /// Returns `conn` to the pool after a clean exchange, or closes it
    /// (`reusable` false, or the pool is full).
    pub(crate) fn release(&self, conn: UpstreamConn, reusable: bool, stats: &ClusterStats) {
        if !(reusable && self.put(conn)) {
            self.count_closed(stats);
        }
    }

    /// Counts an HTTP/1.1 connection to this endpoint closed.
    pub(crate) fn count_closed(&self, stats: &ClusterStats) {
        stats.upstream_cx_destroy.inc();
        stats.upstream_cx_active.dec();
        self.stats.cx_active.dec();
    }
}
