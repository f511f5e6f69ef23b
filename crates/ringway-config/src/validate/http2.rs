//! HTTP/2 settings shared by listeners and clusters.

use super::{Ctx, value};
use crate::defaults;
use crate::model::{Http2Settings, Keepalive};
use crate::wire;

/// The smallest window RFC 9113 allows a peer to start with (§6.9.2).
const MIN_WINDOW: u32 = 65_535;
/// The largest flow-control window (§6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;
/// Bounds of SETTINGS_MAX_FRAME_SIZE (§6.5.2).
const MIN_FRAME: u32 = 1 << 14;
const MAX_FRAME: u32 = (1 << 24) - 1;
/// A header list limit below this would reject ordinary requests.
const MIN_HEADER_LIST: u32 = 1024;

/// An `http2:` block, or the defaults when there is none.
pub(super) fn settings(
    ctx: &mut Ctx<'_>,
    field: &str,
    wire: Option<&wire::Http2>,
) -> Option<Http2Settings> {
    let d = Http2Settings::default();
    let Some(wire) = wire else {
        return Some(d);
    };
    let mut ranged = |name: &str, v: Option<u32>, default: u32, min: u32, max: u32| match v {
        None => Some(default),
        Some(v) if (min..=max).contains(&v) => Some(v),
        Some(v) => {
            ctx.error(
                format!("{field}.{name}"),
                format!("{v} is out of range: must be {min} to {max}"),
            );
            None
        }
    };
    let max_concurrent_streams = ranged(
        "max_concurrent_streams",
        wire.max_concurrent_streams,
        d.max_concurrent_streams,
        1,
        u32::MAX >> 1,
    );
    let initial_stream_window_size = ranged(
        "initial_stream_window_size",
        wire.initial_stream_window_size,
        d.initial_stream_window_size,
        MIN_WINDOW,
        MAX_WINDOW,
    );
    let initial_connection_window_size = ranged(
        "initial_connection_window_size",
        wire.initial_connection_window_size,
        d.initial_connection_window_size,
        MIN_WINDOW,
        MAX_WINDOW,
    );
    let max_frame_size = ranged(
        "max_frame_size",
        wire.max_frame_size,
        d.max_frame_size,
        MIN_FRAME,
        MAX_FRAME,
    );
    let max_header_list_size = ranged(
        "max_header_list_size",
        wire.max_header_list_size,
        d.max_header_list_size,
        MIN_HEADER_LIST,
        u32::MAX,
    );
    let keepalive = match &wire.keepalive {
        None => Some(None),
        Some(k) => keepalive(ctx, &format!("{field}.keepalive"), k).map(Some),
    };
    Some(Http2Settings {
        max_concurrent_streams: max_concurrent_streams?,
        initial_stream_window_size: initial_stream_window_size?,
        initial_connection_window_size: initial_connection_window_size?,
        max_frame_size: max_frame_size?,
        max_header_list_size: max_header_list_size?,
        keepalive: keepalive?,
    })
}

fn keepalive(ctx: &mut Ctx<'_>, field: &str, wire: &wire::Keepalive) -> Option<Keepalive> {
    let interval = ctx.check(
        format!("{field}.interval"),
        value::positive_duration(&wire.interval),
    );
    let timeout = match &wire.timeout {
        Some(t) => ctx.check(format!("{field}.timeout"), value::positive_duration(t)),
        None => Some(defaults::HTTP2_KEEPALIVE_TIMEOUT),
    };
    Some(Keepalive {
        interval: interval?,
        timeout: timeout?,
    })
}
