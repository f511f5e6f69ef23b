"""Flow control end to end: an HTTP/2 client that stops reading holds back
the upstream, whatever its protocol, so ringway's memory stays bounded by
the windows rather than by the response size; and an HTTP/2 client's slow
upload holds back nothing but itself."""

from __future__ import annotations

import socket
import threading

import pytest

from e2e_h2 import (DATA, END_HEADERS, END_STREAM, HEADERS, PREFACE, H2Client, H2Origin, frame, parse_frames,
                    request_block, settings_frame)
from e2e_proxy import cluster
from test_h2_floods import RssPeak, assert_still_serving

MIB = 1 << 20


def stalled_client(port: int, path: str) -> socket.socket:
    """A client that asks for `path` over HTTP/2 with a small receive buffer
    and the protocol's default 64 KiB windows, then never reads."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(PREFACE + settings_frame() + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                 request_block("GET", path, "bp.test")))
    return s


def read_available(s: socket.socket, limit: int) -> bytes:
    """What has arrived on `s` by now, up to `limit` bytes."""
    s.setblocking(False)
    out = b""
    try:
        while len(out) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except BlockingIOError:
        pass
    return out


@pytest.mark.parametrize("upstream", ["http1", "http2"])
def test_stalled_reader_holds_back_the_upstream(env, upstream):
    """The upstream has hundreds of MiB to send; the client reads nothing.
    ringway's RSS stays within the budget over two seconds (at loopback
    speed an unbounded buffer would grow by gigabytes), and the connection's
    end releases everything."""
    if upstream == "http1":
        origin = env.origin("big")
        size = 1 << 30  # streamed by the origin, never held in memory
        clusters = [cluster("big", origin)]
    else:
        origin = H2Origin("big-h2", window=64 << 20)
        env.origins.append(origin)
        size = 64 * MIB  # H2Origin builds its body in memory
        clusters = [cluster("big", origin.address, protocol="http2")]
    listener = {"name": "main", "address": "127.0.0.1:0",
                "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
                    {"match": {"prefix": "/"}, "cluster": "big", "timeout": "30s"}]}]}
    proxy = env.proxy({"listeners": [listener], "clusters": clusters}, concurrency=1)
    # Warm up: one full small exchange, so allocator pools exist already.
    with H2Client(proxy.port, timeout=5) as c:
        assert c.get("/?size=1000").status == 200
    with RssPeak(proxy) as rss:
        s = stalled_client(proxy.port, f"/?size={size}")
        try:
            # A measuring window, not a wait for a condition: the sampler
            # records RSS every 20 ms while the client stays stalled.
            threading.Event().wait(2.0)
            # The response did start: its head and some DATA wait unread.
            buf = bytearray(read_available(s, 256 * 1024))
            frames = [f for f in parse_frames(buf) if f.stream == 1]
            assert frames and frames[0].type == HEADERS and frames[0].payload[:1] == b"\x88", \
                f"no :status 200 HEADERS on the stalled stream: {frames[:3]}"
            data = sum(len(f.payload) for f in frames if f.type == DATA)
            assert 0 < data <= 65535, f"{data} bytes of DATA beyond the client's 64 KiB window"
        finally:
            s.close()
    rss.check(f"a stalled reader of a {size >> 20} MiB {upstream} response")
    assert_still_serving(proxy, "a stalled reader")
