"""HTTP/2 abuse: rapid reset (CVE-2023-44487), CONTINUATION floods
(CVE-2024-27316 and kin), SETTINGS and PING floods from a peer that never
reads, and header lists over max_header_list_size.

Each attack is crafted from raw frames (e2e_h2.frame / request_block). For
every one: ringway's RSS (sampled every 20 ms while the attack runs) stays
within RSS_BUDGET_MIB of where it started, and other clients are still
served afterwards (and, for the floods that hold their connection open,
while the attacker is still connected)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from e2e_client import RawConn, eventually
from e2e_h2 import (CONTINUATION, END_HEADERS, END_STREAM, HEADERS, PING, RST_STREAM, ERROR_NAMES, H2Client,
                    RawH2, frame, hpack_literal, ping_frame, request_block, rst_stream_frame, send_nonblocking,
                    settings_frame)
from e2e_proxy import cluster

RSS_BUDGET_MIB = 20
MAX_HEADER_LIST = 16384


class RssPeak:
    """Samples ringway's VmRSS every 20 ms while in the with-block."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.start_kib = proxy.rss_kib()
        self.samples = [self.start_kib]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(self.proxy.rss_kib())
            except (OSError, RuntimeError):
                return
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)

    @property
    def growth_mib(self) -> float:
        return (max(self.samples) - self.start_kib) / 1024

    def check(self, what: str):
        assert self.growth_mib <= RSS_BUDGET_MIB, \
            f"{what}: ringway's RSS grew by {self.growth_mib:.1f} MiB (budget {RSS_BUDGET_MIB} MiB)"


@pytest.fixture(scope="module")
def flood_env(module_env):
    origin = module_env.origin("flood")
    listener = {
        "name": "main", "address": "127.0.0.1:0",
        "http2": {"max_header_list_size": MAX_HEADER_LIST},
        "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "cluster": "backend", "timeout": "10s"}]}],
    }
    proxy = module_env.proxy({"listeners": [listener], "clusters": [cluster("backend", origin)]})
    return proxy, origin


def assert_still_serving(proxy, what: str):
    """A new HTTP/2 client and a new HTTP/1.1 client both get answers."""
    for i in range(3):  # several connections, so more than one worker is likely asked
        with H2Client(proxy.port, timeout=5) as c:
            r = c.get(f"/still-serving/h2/{i}")
            assert r.status == 200, f"after {what}: an HTTP/2 client got {r}"
        with RawConn(proxy.port, timeout=5) as c:
            r = c.request("GET", f"/still-serving/h1/{i}")
            assert r.status == 200, f"after {what}: an HTTP/1.1 client got {r.status}"


def settled(fn, quiet: float = 0.3, limit: float = 3.0):
    """fn() once its value has stopped changing for `quiet` seconds (bounded
    by `limit`)."""
    deadline = time.monotonic() + limit
    value = fn()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = fn()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return value


def goaway_text(conn: RawH2) -> str:
    g = conn.goaway()
    if g is None:
        return "no GOAWAY"
    last, code, debug = g.goaway()
    return f"GOAWAY last_stream_id={last} {ERROR_NAMES.get(code, code)} {debug[:100]!r}"


# -- rapid reset ---------------------------------------------------------------

def test_rapid_reset_closes_connection(flood_env):
    """20,000 HEADERS + RST_STREAM pairs on fresh streams: ringway sends a
    GOAWAY before it has worked through them, and the upstream sees only a
    small part of them."""
    proxy, origin = flood_env
    pairs = 20000
    block = request_block("GET", "/rapid-reset", "flood.test")
    heads_before = len(origin.heads)
    stats_before = proxy.stats()
    last_sid = 2 * pairs - 1

    def batches(size=500):
        for start in range(1, last_sid + 1, 2 * size):
            yield b"".join(frame(HEADERS, END_HEADERS | END_STREAM, sid, block) + rst_stream_frame(sid)
                           for sid in range(start, min(start + 2 * size, last_sid + 2), 2))

    with RssPeak(proxy) as rss, RawH2(proxy.port, timeout=10) as c:
        c.handshake()
        how, sent = send_nonblocking(c.sock, batches(), time_limit=15)
        got = c.wait_goaway_or_close(5)
        assert c.spoke_h2(), f"ringway did not speak HTTP/2 on the attack connection: {c.summary()}"
        assert c.goaway() is not None, \
            f"no GOAWAY after {pairs} rapid resets (sender stopped: {how}, {sent} bytes; {c.summary()})"
        last, code, _ = c.goaway().goaway()
        assert last < last_sid, f"the GOAWAY came only after every stream was processed: {goaway_text(c)}"
        assert got
    # Let whatever was forwarded before the GOAWAY arrive.
    seen = settled(lambda: len(origin.heads) - heads_before)
    assert seen < pairs // 4, f"the upstream saw {seen} of {pairs} reset requests ({goaway_text(c)})"
    rss.check("rapid reset")
    assert_still_serving(proxy, "rapid reset")

    # h2 refuses streams reset before they were accepted (more than 20 at
    # once) itself, so the resets never reach ringway's own accounting: the
    # connection is counted as closed for a protocol error.
    names = ("http.main.http2.goaway_sent", "http.main.downstream_cx_protocol_error")

    def deltas():
        s = proxy.stats()
        return {n: s.get(n, 0) - stats_before.get(n, 0) for n in names}

    try:
        eventually(lambda: all(v >= 1 for v in deltas().values()), 3, 0.05)
    except AssertionError:
        raise AssertionError(f"the rapid reset flood was not counted: stat changes {deltas()}") from None


def test_reset_after_accept_closes_connection(env):
    """The slower rapid reset: each stream is reset only once ringway has
    taken it (a PING round trip later), while the upstream has not answered
    yet. After a hundred such streams the connection gets GOAWAY
    ENHANCE_YOUR_CALM, and the count shows in the stats."""
    # An upstream that takes connections (the kernel's backlog does) and
    # never answers: every request stays waiting for its response head.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)
    try:
        listener = {
            "name": "main", "address": "127.0.0.1:0",
            "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
                {"match": {"prefix": "/"}, "cluster": "silent", "timeout": "30s"}]}],
        }
        silent_addr = "127.0.0.1:%d" % silent.getsockname()[1]
        proxy = env.proxy({"listeners": [listener], "clusters": [cluster("silent", silent_addr)]},
                          concurrency=1)
        block = request_block("GET", "/slow-reset", "flood.test")
        with RawH2(proxy.port, timeout=10) as c:
            c.handshake()
            sent = 0
            for i in range(400):
                sid = 2 * i + 1
                if not c.send(frame(HEADERS, END_HEADERS | END_STREAM, sid, block) + ping_frame(b"%08d" % i)):
                    break
                # The PING's ACK says the HEADERS before it were read.
                if not c.wait_for(lambda conn: len(conn.frames_of(PING)) > i, 5) or c.goaway() is not None:
                    break
                if not c.send(rst_stream_frame(sid)):
                    break
                sent += 1
            assert c.wait_goaway_or_close(5), f"no GOAWAY after {sent} streams reset after accept: {c.summary()}"
            assert c.goaway() is not None, f"closed without GOAWAY: {c.summary()}"
            last, code, _ = c.goaway().goaway()
            assert ERROR_NAMES.get(code) == "ENHANCE_YOUR_CALM", goaway_text(c)
            assert 100 <= sent < 400, f"the GOAWAY came after {sent} resets (expected soon after 100)"
        eventually(lambda: proxy.stat("http.main.http2.premature_reset_closed") >= 1, 3, 0.05,
                   "http2.premature_reset_closed was not counted")
        assert proxy.stat("http.main.http2.rx_reset") >= 100
        assert proxy.stat("http.main.downstream_rq_rx_reset") >= 100
    finally:
        silent.close()


# -- CONTINUATION flood ---------------------------------------------------------

def continuation_frames(kind: str):
    """Endless CONTINUATION frames for stream 1 (never END_HEADERS), in
    batches; bounded by the sender's byte/time limits."""
    if kind == "small":  # each frame one complete small header field
        batch = b"".join(frame(CONTINUATION, 0, 1, hpack_literal(f"x-c{i}", "v")) for i in range(2000))
    elif kind == "large":  # 16 KiB frames, each one complete large header field
        value = b"L" * (16384 - 32)
        batch = b"".join(frame(CONTINUATION, 0, 1, hpack_literal(f"x-l{i}", value)) for i in range(8))
    elif kind == "empty":  # zero-length frames: no bytes to count, only frames
        batch = frame(CONTINUATION, 0, 1) * 5000
    else:
        raise ValueError(kind)
    limit = 96 << 20  # bytes: far past any sane header list limit
    sent = 0
    while sent < limit:
        yield batch
        sent += len(batch)


@pytest.mark.parametrize("kind", ["small", "large", "empty"])
def test_continuation_flood_closes_connection(flood_env, kind):
    """HEADERS without END_HEADERS, then CONTINUATION frames without end:
    ringway must give up on the header block (GOAWAY or close) rather than
    buffer it, and never forward the request.

    "empty" (zero-length CONTINUATION frames) grows no buffer at all; it is
    here because an endless header block is never legitimate and burns CPU
    (the CVE-2024-27316 family includes it); a frame-count limit is expected."""
    proxy, origin = flood_env
    path = f"/continuation-{kind}"
    with RssPeak(proxy) as rss, RawH2(proxy.port, timeout=10) as c:
        c.handshake()
        c.send(frame(HEADERS, END_STREAM, 1, request_block("GET", path, "flood.test")))
        how, sent = send_nonblocking(c.sock, continuation_frames(kind), time_limit=10)
        closed = c.wait_goaway_or_close(5)
        assert c.spoke_h2(), f"ringway did not speak HTTP/2 on the attack connection: {c.summary()}"
        assert closed, (f"CONTINUATION flood ({kind}): no GOAWAY or close; the sender stopped with {how!r} "
                        f"after {sent} bytes; {c.summary()}")
    rss.check(f"CONTINUATION flood ({kind}, {sent} bytes sent)")
    assert not [r for r in origin.heads if r.target == path], "the never-finished request reached the upstream"
    assert_still_serving(proxy, f"CONTINUATION flood ({kind})")


# -- SETTINGS / PING floods from a peer that never reads ------------------------

@pytest.mark.parametrize("kind", ["settings", "ping"])
def test_flood_from_non_reading_peer_bounded(flood_env, kind):
    """Millions of SETTINGS (or PING) frames, each owed an ACK, from a peer
    with a tiny receive buffer that never reads: ringway must not queue the
    ACKs without bound (it may stop reading, or close). Another client is
    served while the attacker is still connected."""
    proxy, _ = flood_env
    one = settings_frame() if kind == "settings" else ping_frame(b"12345678")
    batch = one * 20000
    total_frames = 3_000_000

    def batches():
        for _ in range(total_frames // 20000):
            yield batch

    with RssPeak(proxy) as rss:
        attacker = RawH2(proxy.port, timeout=10, rcvbuf=4096)
        try:
            attacker.handshake(read=False)
            attacker.read_server_preface()  # it speaks HTTP/2; from here on nothing is read
            how, sent = send_nonblocking(attacker.sock, batches(), time_limit=3, stall_limit=1.0)
            assert_still_serving(proxy, f"{kind} flood (attacker still connected: {how} after {sent} bytes)")
        finally:
            attacker.close()
    rss.check(f"{kind} flood ({sent} bytes sent, sender stopped: {how})")
    assert_still_serving(proxy, f"{kind} flood")


# -- header list over max_header_list_size ---------------------------------------

def test_oversized_header_list_rejected(flood_env):
    """A header list over the listener's max_header_list_size (16 KiB) is
    refused on its stream (RST_STREAM or a 431) and not forwarded; the same
    connection and other clients go on working."""
    proxy, origin = flood_env
    block = request_block("GET", "/oversized", "flood.test", headers=[("x-big", "B" * (MAX_HEADER_LIST + 4000))])
    max_frame = 16384
    frames = [block[i:i + max_frame] for i in range(0, len(block), max_frame)]
    data = frame(HEADERS, END_STREAM | (END_HEADERS if len(frames) == 1 else 0), 1, frames[0])
    for i, part in enumerate(frames[1:], 1):
        data += frame(CONTINUATION, END_HEADERS if i == len(frames) - 1 else 0, 1, part)
    with RssPeak(proxy) as rss, RawH2(proxy.port, timeout=10) as c:
        c.handshake()
        c.send(data)
        assert c.wait_for(lambda s: s.stream_done(1) or s.goaway() is not None, 5), \
            f"no answer to an oversized header list: {c.summary()}"
        rst = c.frames_of(RST_STREAM, 1)
        status = c.stream_status(1)
        assert rst or status == 431, f"want RST_STREAM or 431 on stream 1, got status {status}; {c.summary()}"
        assert c.goaway() is None, \
            f"an oversized header list should cost the stream, not the connection: {goaway_text(c)}"
        # The same connection still works (the HPACK state survived).
        c.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block("GET", "/after-oversized", "flood.test")))
        assert c.wait_for(lambda s: s.stream_done(3), 5), f"stream 3 unanswered: {c.summary()}"
        assert c.stream_status(3) == 200, f"stream 3 after the oversized one: {c.summary()}"
    rss.check("oversized header list")
    assert not [r for r in origin.heads if r.target == "/oversized"], "the oversized request reached the upstream"
    assert_still_serving(proxy, "oversized header list")
