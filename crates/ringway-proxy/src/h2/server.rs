//! One downstream HTTP/2 connection: the `h2` server over monoio's poll-io
//! stream, each request stream served by its own task on this core.
//!
//! Besides what `h2` enforces itself (frame and header list sizes,
//! CONTINUATION counts, streams reset before they are accepted, and one
//! pending SETTINGS or PING acknowledgement at a time, so floods of those
//! stall only the flooding connection), the connection is closed with
//! GOAWAY ENHANCE_YOUR_CALM when the client resets most of its streams
//! before their responses begin (the "rapid reset" attack, CVE-2023-44487):
//! those streams cost upstream work and give the attacker free concurrency.

use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use h2::Reason;
use monoio::io::AsyncWriteRentExt;
use ringway_config::model::Http2Settings;

use super::shared::ConnShared;
use super::stream;
use crate::access_log::ConnInfo;
use crate::http2::io::Prefixed;
use crate::http2::preface::{self, FirstFrame};
use crate::io::{ReadOutcome, ensure_room, read_append};
use crate::state::{ListenerState, ProxyState};
use crate::transport::Stream;

/// Serves HTTP/2 on `stream`; `prefix` holds bytes already read from it.
pub(crate) async fn serve(
    state: Rc<ProxyState>,
    listener: Rc<ListenerState>,
    listener_name: Rc<str>,
    stream: Stream,
    prefix: Vec<u8>,
    info: ConnInfo,
) {
    let peer = info.peer;
    // Kept whole (just over 100 lines): the accept loop's select arms
    // (new stream, drain, abort, idle) share the connection's state.
    let stats = listener.stats.clone();
    stats.downstream_cx_http2_total.inc();
    let settings = &listener.config.http2;
    let limits = &listener.config.limits;
    let (stream, prefix) = match first_frame(stream, prefix, &listener).await {
        Some(checked) => checked,
        None => return,
    };
    let Ok(io) = stream.into_poll() else {
        return;
    };
    let shared = Rc::new(ConnShared::default());
    let reader = Prefixed::new(prefix, io, shared.trailers.clone());
    let handshake = builder(settings).handshake::<_, Bytes>(reader);
    let mut conn = match monoio::time::timeout(limits.request_head_timeout, handshake).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(err)) => {
            tracing::debug!(%peer, %err, "HTTP/2 handshake failed");
            stats.downstream_cx_protocol_error.inc();
            return;
        }
        Err(_) => return,
    };
    shared.last_active.set(Some(Instant::now()));
    state.register_h2_connection(&listener_name, &shared);
    if let (Some(keepalive), Some(ping)) = (settings.keepalive, conn.ping_pong()) {
        let (shared, stats) = (shared.clone(), stats.clone());
        monoio::spawn(async move {
            if crate::http2::keepalive::run(ping, keepalive, &shared.abort).await {
                stats.http2_keepalive_timeout.inc();
            }
        });
    }
    let idle_timeout = limits.idle_timeout;
    let mut draining = false;
    let mut aborting = false;
    if state.draining.get() || listener.removed.is_fired() {
        conn.graceful_shutdown();
        stats.http2_goaway_sent.inc();
        draining = true;
    }
    loop {
        monoio::select! {
            next = conn.accept() => match next {
                None => break,
                Some(Ok((request, respond))) => {
                    shared.streams.set(shared.streams.get() + 1);
                    shared.open_streams.set(shared.open_streams.get() + 1);
                    let task = stream::handle(
                        state.clone(),
                        listener.clone(),
                        listener_name.clone(),
                        shared.clone(),
                        info,
                        request,
                        respond,
                    );
                    // Boxed: the task then holds a pointer, and monoio's
                    // stage changes (spawn, finish) copy 16 bytes rather
                    // than the whole ~5 KiB future each time.
                    monoio::spawn(Box::pin(task));
                }
                Some(Err(err)) => {
                    if err.is_go_away() && err.is_remote() {
                        stats.http2_goaway_received.inc();
                    } else if err.is_go_away() || (err.reason().is_some() && !err.is_io()) {
                        tracing::debug!(%peer, %err, "HTTP/2 connection closed for a protocol error");
                        stats.http2_goaway_sent.inc();
                        stats.downstream_cx_protocol_error.inc();
                    }
                    break;
                }
            },
            _ = shared.shutdown.wait(), if !draining => {
                draining = true;
                conn.graceful_shutdown();
                stats.http2_goaway_sent.inc();
            }
            _ = shared.abort.wait(), if !aborting => {
                aborting = true;
                let reason = shared.abort_reason.get().unwrap_or(Reason::NO_ERROR);
                if reason == Reason::ENHANCE_YOUR_CALM {
                    tracing::info!(%peer, "closing HTTP/2 connection: too many streams reset before their responses");
                    stats.http2_premature_reset_closed.inc();
                }
                conn.abrupt_shutdown(reason);
                stats.http2_goaway_sent.inc();
            }
            _ = monoio::time::sleep(idle_timeout), if !draining => {
                let last = shared.last_active.get().unwrap_or_else(Instant::now);
                if shared.open_streams.get() == 0 && last.elapsed() >= idle_timeout {
                    stats.downstream_cx_idle_timeout.inc();
                    draining = true;
                    conn.graceful_shutdown();
                    stats.http2_goaway_sent.inc();
                }
            }
        }
    }
}

/// Reads until the client's first frame header has arrived and checks
/// that it is SETTINGS (RFC 9113 §3.4: anything else is a connection
/// error, which `h2` would not raise). Returns the stream and what was
/// read, or `None` when the connection was refused or ended.
async fn first_frame(
    mut stream: Stream,
    mut prefix: Vec<u8>,
    listener: &ListenerState,
) -> Option<(Stream, Vec<u8>)> {
    let deadline = Instant::now() + listener.config.limits.request_head_timeout;
    loop {
        match preface::first_frame(&prefix) {
            FirstFrame::Settings => return Some((stream, prefix)),
            FirstFrame::Other => {
                let stats = &listener.stats;
                stats.downstream_cx_protocol_error.inc();
                stats.http2_goaway_sent.inc();
                let _ = stream.write_all(preface::REFUSAL).await;
                return None;
            }
            FirstFrame::NeedMore => {}
        }
        ensure_room(&mut prefix, preface::FIRST_FRAME_HEADER_END, 4096);
        let wait = deadline.saturating_duration_since(Instant::now());
        match read_append(&mut stream, &mut prefix, wait).await {
            ReadOutcome::Read(n) if n > 0 => {}
            _ => return None,
        }
    }
}

fn builder(settings: &Http2Settings) -> h2::server::Builder {
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(settings.max_concurrent_streams)
        .initial_window_size(settings.initial_stream_window_size)
        .initial_connection_window_size(settings.initial_connection_window_size)
        .max_frame_size(settings.max_frame_size)
        .max_header_list_size(settings.max_header_list_size)
        .max_local_error_reset_streams(Some(1024));
    builder
}
