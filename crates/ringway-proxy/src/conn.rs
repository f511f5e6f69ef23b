//! One accepted downstream connection: count it, tell HTTP/2's preface
//! from HTTP/1.x (on `protocol: auto` listeners), and hand it to the codec
//! that serves it ([`crate::h1`] or [`crate::h2`]). TLS and ALPN will sit
//! here, under the codecs.

use std::net::SocketAddr;
use std::rc::Rc;

use monoio::net::TcpStream;
use ringway_config::model::ListenerProtocol;

use crate::access_log::ConnInfo;
use crate::http2::preface::{self, Sniffed};
use crate::io::{ReadOutcome, read_append};
use crate::limits::DOWNSTREAM_BUFFER_BYTES;
use crate::state::{ListenerState, ProxyState};
use crate::transport::Stream;

/// Serves one accepted connection until it closes.
pub async fn serve(
    state: Rc<ProxyState>,
    listener_name: Rc<str>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let first = state.current();
    let Some(listener) = first.listeners.get(&*listener_name).cloned() else {
        return;
    };
    drop(first);
    let info = conn_info(&state, &listener, &stream, peer);
    let mut stream = Stream::accepted(stream);
    listener.stats.downstream_cx_total.inc();
    listener.stats.downstream_cx_active.inc();
    state
        .connections_active
        .set(state.connections_active.get() + 1);

    let mut buf = Vec::with_capacity(DOWNSTREAM_BUFFER_BYTES);
    // A protocol agreed in the handshake (ALPN) chooses the codec; else the
    // listener's setting, else the first bytes.
    let protocol = match (stream.alpn(), listener.config.protocol) {
        (Some(b"h2"), _) => Some(Sniffed::Http2),
        (Some(_), _) | (None, ListenerProtocol::Http1) => Some(Sniffed::Http1),
        (None, ListenerProtocol::Http2) => Some(Sniffed::Http2),
        (None, ListenerProtocol::Auto) => sniff(&mut stream, &mut buf, &listener).await,
    };
    match protocol {
        Some(Sniffed::Http2) => {
            let (l, name) = (listener.clone(), listener_name.clone());
            // Boxed, so HTTP/1.1 connections do not carry (and copy) the
            // HTTP/2 server's state in their own future.
            Box::pin(crate::h2::serve(state.clone(), l, name, stream, buf, info)).await;
        }
        Some(_) => crate::h1::serve(&state, &listener_name, &listener, stream, buf, info).await,
        None => {}
    }

    listener.stats.downstream_cx_destroy.inc();
    listener.stats.downstream_cx_active.dec();
    state
        .connections_active
        .set(state.connections_active.get().saturating_sub(1));
}

/// The connection's facts for access logs: its id, and its local address
/// when a log format shows it (one `getsockname`).
fn conn_info(
    state: &ProxyState,
    listener: &ListenerState,
    stream: &TcpStream,
    peer: SocketAddr,
) -> ConnInfo {
    let n = state.connections_accepted.get() + 1;
    state.connections_accepted.set(n);
    let local = listener
        .access_log
        .as_ref()
        .filter(|l| l.needs.local_address)
        .and_then(|_| stream.local_addr().ok());
    ConnInfo {
        peer,
        local,
        id: ((state.worker_id as u64) << 48) | (n & ((1 << 48) - 1)),
    }
}

/// Reads until the first bytes tell HTTP/2's preface from HTTP/1.x;
/// `None` if the connection closes or stays silent first.
async fn sniff(
    stream: &mut Stream,
    buf: &mut Vec<u8>,
    listener: &ListenerState,
) -> Option<Sniffed> {
    let limits = &listener.config.limits;
    let mut timeout = limits.idle_timeout;
    loop {
        match read_append(stream, buf, timeout).await {
            ReadOutcome::Read(0) | ReadOutcome::Failed => return None,
            ReadOutcome::TimedOut => {
                if buf.is_empty() {
                    listener.stats.downstream_cx_idle_timeout.inc();
                }
                return None;
            }
            ReadOutcome::Read(_) => {}
        }
        match preface::sniff(buf) {
            Sniffed::NeedMore => timeout = limits.request_head_timeout,
            found => return Some(found),
        }
    }
}
