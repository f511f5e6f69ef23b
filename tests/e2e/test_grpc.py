"""gRPC through ringway: downstream HTTP/2 -> upstream HTTP/2 (cluster
``protocol: http2``) with a grpcio server and client (bytes in and out, no
protoc step; see e2e_grpc.py).

The call-shape checks (unary, streaming, deadlines, status, metadata, large
messages, 1,000 concurrent calls, cancellation) run twice: once straight
against the grpcio server (``test_direct[...]``, no ringway, no driver: it
proves the helpers and grpcio behave as the checks expect) and once through
ringway (``test_via_ringway[<driver>-...]``). A check that passes direct and
fails via ringway points at ringway.

Then what only ringway can do: gRPC-shaped local replies (UNAVAILABLE,
DEADLINE_EXCEEDED, UNIMPLEMENTED as HTTP 200 trailers-only responses),
``grpc-timeout`` capping the route timeout, stats, and drain.
"""

from __future__ import annotations

import queue
import signal
import time
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass

import grpc
import pytest

from e2e_client import eventually
from e2e_grpc import (GRPC_REQUEST_HEADERS, INITIAL_BIN, TRAILER_BIN, GrpcServer, Stubs, channel,
                      grpc_error, grpc_frame, method_path, pattern)
from e2e_h2 import H2Client, H2Origin, H2Reply, h2_echo_handler
from e2e_origin import closed_port
from e2e_proxy import cluster, simple_config, wait_access_log

GRPC_STATUS = {c.value[0]: c for c in grpc.StatusCode}


# -- fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def grpc_server():
    """One grpcio server for the whole module (both drivers and direct)."""
    s = GrpcServer(max_workers=32)
    yield s
    s.stop()


@dataclass
class Target:
    name: str
    address: str
    server: GrpcServer
    proxy: object = None

    def channel(self, authority: str | None = None) -> grpc.Channel:
        return channel(self.address, authority)


def grpc_proxy_config(grpc_addr: str, hang_addr: str) -> dict:
    """Listener `main` (protocol auto, every domain) and `strict` (only the
    domain only.example, so a plain gRPC channel matches no virtual host).

    /ringway.test.Echo/*  -> grpc server, route timeout 30s
    /ringway.test.Slow/*  -> grpc server, route timeout 1s
    /ringway.test.Dead/*  -> a port nobody listens on
    /ringway.test.Hang/*  -> an h2 origin that never answers, route timeout 30s
    /ringway.test.Forever/* -> grpc server, route timeout 0s (off, as in Envoy)
    anything else         -> no route
    """
    routes = [
        {"match": {"prefix": "/ringway.test.Echo/"}, "cluster": "grpc", "timeout": "30s"},
        {"match": {"prefix": "/ringway.test.Slow/"}, "cluster": "grpc", "timeout": "1s"},
        {"match": {"prefix": "/ringway.test.Dead/"}, "cluster": "dead", "timeout": "5s"},
        {"match": {"prefix": "/ringway.test.Hang/"}, "cluster": "hang", "timeout": "30s"},
        {"match": {"prefix": "/ringway.test.Forever/"}, "cluster": "grpc", "timeout": "0s"},
    ]
    return {
        "listeners": [
            {"name": "main", "address": "127.0.0.1:0",
             "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]},
            {"name": "strict", "address": "127.0.0.1:0",
             "virtual_hosts": [{"name": "only", "domains": ["only.example"], "routes": routes}]},
        ],
        "clusters": [
            cluster("grpc", grpc_addr, protocol="http2"),
            cluster("dead", f"127.0.0.1:{closed_port()}", protocol="http2", connect_timeout="1s"),
            cluster("hang", hang_addr, protocol="http2"),
        ],
    }


@pytest.fixture(scope="module")
def hang_origin(module_env):
    """An h2 origin that takes requests and never answers them (it notes the
    RST_STREAMs it gets)."""
    o = H2Origin("hang", handler=lambda req, origin: H2Reply(never=True))
    module_env.origins.append(o)
    return o


@pytest.fixture(scope="module")
def via_ringway(module_env, grpc_server, hang_origin) -> Target:
    proxy = module_env.proxy(grpc_proxy_config(grpc_server.address, hang_origin.address))
    return Target("ringway", f"127.0.0.1:{proxy.port}", grpc_server, proxy)


@pytest.fixture(scope="module")
def direct(grpc_server) -> Target:
    return Target("direct", grpc_server.address, grpc_server)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- call-shape checks (direct and via ringway) ----------------------------------

def check_unary(t: Target):
    call_id = new_id("unary")
    with t.channel() as ch:
        stubs = Stubs(ch)
        resp, call = stubs.unary.with_call(b"hello \x00\xff world", timeout=10, metadata=[
            ("x-call-id", call_id), ("x-custom", "custom value"), ("x-custom-bin", b"\x00\x01\xfe\xff")])
    assert resp == b"hello \x00\xff world"
    assert call.code() == grpc.StatusCode.OK
    rec = t.server.wait_call(call_id)
    assert rec.method == method_path("Unary"), rec.method
    assert rec.md("x-custom") == "custom value", f"request metadata seen by the server: {rec.metadata}"
    assert rec.md("x-custom-bin") == b"\x00\x01\xfe\xff", f"binary request metadata seen by the server: {rec.metadata}"


def check_server_streaming(t: Target):
    with t.channel() as ch:
        call = Stubs(ch).server_stream(b"", timeout=10, metadata=[("x-count", "50")])
        got = list(call)
        assert call.code() == grpc.StatusCode.OK, call.details()
    assert got == [f"msg-{i}".encode() for i in range(50)], f"{len(got)} messages: {got[:5]}..."


def check_client_streaming(t: Target):
    msgs = [b"", b"a", pattern(100_000), b"b" * 17, pattern(3)] + [b"x%d" % i for i in range(20)]
    crc = 0
    for m in msgs:
        crc = zlib.crc32(m, crc)
    with t.channel() as ch:
        resp = Stubs(ch).client_stream(iter(msgs), timeout=10)
    assert resp == f"count={len(msgs)};bytes={sum(map(len, msgs))};crc={crc}".encode()


def check_bidi_interleaved(t: Target):
    """Send one message, read its echo, then send the next: each reply must
    arrive while the request stream is still open."""
    q: queue.Queue = queue.Queue()

    def requests():
        while True:
            m = q.get()
            if m is None:
                return
            yield m

    with t.channel() as ch:
        call = Stubs(ch).bidi(requests(), timeout=10)
        try:
            for i in range(10):
                q.put(b"ping-%d" % i)
                got = next(call)
                assert got == b"echo:ping-%d" % i, got
        finally:
            q.put(None)
        rest = list(call)
        assert rest == [], rest
        assert call.code() == grpc.StatusCode.OK, call.details()


def check_deadline_exceeded(t: Target):
    call_id = new_id("deadline")
    with t.channel() as ch:
        start = time.monotonic()
        err = grpc_error(Stubs(ch).unary, b"", timeout=0.5, metadata=[("x-call-id", call_id), ("x-sleep", "3")])
        elapsed = time.monotonic() - start
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, (err.code(), err.details())
    assert elapsed < 2.0, f"DEADLINE_EXCEEDED after {elapsed:.2f}s for a 0.5s deadline"
    rec = t.server.wait_call(call_id)
    eventually(lambda: rec.cancelled, 3, 0.02, "the server saw the timed-out call end early")


def check_error_status_and_message(t: Target):
    message = "no such thing: ünïcødé ✓ 100% \"quoted\"\nsecond line"
    with t.channel() as ch:
        err = grpc_error(Stubs(ch).unary, b"", timeout=10, metadata=[
            ("x-abort-code", "NOT_FOUND"), ("x-abort-message", urllib.parse.quote(message))])
    assert err.code() == grpc.StatusCode.NOT_FOUND, (err.code(), err.details())
    assert err.details() == message, f"grpc-message changed on the way: {err.details()!r}"


def check_metadata_round_trip(t: Target):
    with t.channel() as ch:
        resp, call = Stubs(ch).unary.with_call(b"md", timeout=10,
                                               metadata=[("x-initial-md", "1"), ("x-trailing-md", "1")])
        initial = [(m.key, m.value) for m in call.initial_metadata()]
        trailing = [(m.key, m.value) for m in call.trailing_metadata()]
    assert resp == b"md"
    assert ("x-initial", "hello") in initial, initial
    assert ("x-initial-bin", INITIAL_BIN) in initial, initial
    assert ("x-trailer", "done") in trailing, trailing
    assert ("x-trailer-bin", TRAILER_BIN) in trailing, trailing


def check_trailing_metadata_with_error(t: Target):
    with t.channel() as ch:
        err = grpc_error(Stubs(ch).unary, b"", timeout=10, metadata=[
            ("x-trailing-md", "1"), ("x-abort-code", "PERMISSION_DENIED"), ("x-abort-message", "nope")])
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert err.details() == "nope"
    trailing = [(m.key, m.value) for m in err.trailing_metadata()]
    assert ("x-trailer-bin", TRAILER_BIN) in trailing, trailing


def check_large_messages(t: Target):
    big = pattern(4 << 20)[::-1]  # 4 MiB, not the pattern the server generates
    with t.channel() as ch:
        stubs = Stubs(ch)
        assert stubs.unary(big, timeout=30) == big, "4 MiB request echoed back changed"
        resp = stubs.unary(b"small", timeout=30, metadata=[("x-response-size", str(4 << 20))])
    assert len(resp) == 4 << 20 and resp == pattern(4 << 20), f"4 MiB response: {len(resp)} bytes"


def check_1000_concurrent_unary_one_channel(t: Target):
    batch = new_id("batch")
    with t.channel() as ch:
        unary = Stubs(ch).unary
        futures = [unary.future(b"call-%d" % i, timeout=60, metadata=[("x-batch", batch)]) for i in range(1000)]
        failures = []
        for i, f in enumerate(futures):
            try:
                if f.result() != b"call-%d" % i:
                    failures.append((i, "wrong reply"))
            except grpc.RpcError as e:
                failures.append((i, e.code(), e.details()))
    assert not failures, f"{len(failures)} of 1000 concurrent calls failed: {failures[:5]}"
    seen = t.server.calls_with("x-batch", batch)
    assert len(seen) == 1000, f"the server saw {len(seen)} of the 1000 calls"


def check_client_cancel_propagates(t: Target):
    call_id = new_id("cancel")
    with t.channel() as ch:
        call = Stubs(ch).server_stream(b"", timeout=30, metadata=[
            ("x-call-id", call_id), ("x-count", "1000"), ("x-interval", "0.05")])
        assert next(call) == b"msg-0"
        assert next(call) == b"msg-1"
        call.cancel()
        cancelled_at = time.monotonic()
        rec = t.server.wait_call(call_id)
        assert rec.done.wait(3), "the server's call was still running 3s after the client cancelled it"
    assert rec.cancelled, "the server's call ended normally, not cancelled"
    assert rec.finished - cancelled_at < 3
    assert rec.messages_out < 1000


CHECKS = [check_unary, check_server_streaming, check_client_streaming, check_bidi_interleaved,
          check_deadline_exceeded, check_error_status_and_message, check_metadata_round_trip,
          check_trailing_metadata_with_error, check_large_messages, check_1000_concurrent_unary_one_channel,
          check_client_cancel_propagates]
CHECK_IDS = [c.__name__.removeprefix("check_") for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=CHECK_IDS)
def test_direct(check, direct):
    """The check against the grpcio server itself (no ringway)."""
    check(direct)


@pytest.mark.parametrize("check", CHECKS, ids=CHECK_IDS)
def test_via_ringway(check, via_ringway):
    check(via_ringway)


# -- what ringway itself answers --------------------------------------------------

def raw_grpc_call(port: int, path: str, extra_headers=(), authority: str | None = None, timeout: float = 10.0):
    """One gRPC unary call over a plain HTTP/2 client; (response, seconds)."""
    with H2Client(port, timeout=timeout, authority=authority) as c:
        start = time.monotonic()
        r = c.request("POST", path, headers=[*GRPC_REQUEST_HEADERS, *extra_headers], body=grpc_frame(b"raw"))
        return r, time.monotonic() - start


def assert_trailers_only_grpc_error(r, code: grpc.StatusCode, what: str):
    """A local gRPC reply: HTTP 200, application/grpc, grpc-status and a
    non-empty grpc-message in the one (trailers-only) HEADERS frame."""
    assert r.reset is None, f"{what}: stream reset ({r.reset}) instead of a gRPC status"
    assert r.status == 200, f"{what}: gRPC errors are HTTP 200, got {r.status}: {r}"
    assert (r.header("content-type") or "").startswith("application/grpc"), f"{what}: {r}"
    status = r.header("grpc-status")
    assert status is not None, f"{what}: no grpc-status in the (trailers-only) response headers: {r}"
    assert int(status) == code.value[0], f"{what}: grpc-status {status} ({GRPC_STATUS.get(int(status))}), want {code}"
    assert r.header("grpc-message"), f"{what}: empty grpc-message: {r}"
    assert r.body == b"" and r.trailers == [], f"{what}: expected a trailers-only response: {r}"


def test_upstream_refused_is_unavailable(via_ringway):
    with via_ringway.channel() as ch:
        start = time.monotonic()
        err = grpc_error(Stubs(ch, "ringway.test.Dead").unary, b"x", timeout=10)
        elapsed = time.monotonic() - start
    assert err.code() == grpc.StatusCode.UNAVAILABLE, (err.code(), err.details())
    assert err.details(), "grpc-message should say what went wrong"
    assert elapsed < 3, f"a refused connection took {elapsed:.1f}s to report"
    r, _ = raw_grpc_call(via_ringway.proxy.port, method_path("Unary", "ringway.test.Dead"))
    assert_trailers_only_grpc_error(r, grpc.StatusCode.UNAVAILABLE, "refused upstream")


def test_route_timeout_is_deadline_exceeded(via_ringway):
    """Route timeout 1s, the server takes 3s, the client allows 10s: ringway
    answers DEADLINE_EXCEEDED itself after about 1s and cancels upstream."""
    call_id = new_id("route-timeout")
    with via_ringway.channel() as ch:
        start = time.monotonic()
        err = grpc_error(Stubs(ch, "ringway.test.Slow").unary, b"x", timeout=10,
                         metadata=[("x-sleep", "3"), ("x-call-id", call_id)])
        elapsed = time.monotonic() - start
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, (err.code(), err.details())
    assert err.details(), "grpc-message should say what went wrong"
    assert 0.8 <= elapsed <= 2.5, f"DEADLINE_EXCEEDED after {elapsed:.2f}s for a 1s route timeout"
    rec = via_ringway.server.wait_call(call_id)
    eventually(lambda: rec.cancelled, 3, 0.02, "the upstream call was cancelled when the route timed out")

    r, elapsed = raw_grpc_call(via_ringway.proxy.port, method_path("Unary", "ringway.test.Slow"),
                               [("x-sleep", "3")])
    assert_trailers_only_grpc_error(r, grpc.StatusCode.DEADLINE_EXCEEDED, "route timeout")
    assert 0.8 <= elapsed <= 2.5, f"raw: DEADLINE_EXCEEDED after {elapsed:.2f}s for a 1s route timeout"


def test_route_timeout_bounds_each_wait_not_the_stream(via_ringway):
    """A stream that outlives its 1s route timeout lives on while messages
    keep coming (each wait is under 1s), like a long download over
    HTTP/1.1; and `timeout: 0s` turns the route timeout off."""
    with via_ringway.channel() as ch:
        call = Stubs(ch, "ringway.test.Slow").server_stream(
            b"", timeout=10, metadata=[("x-count", "6"), ("x-interval", "0.4")])
        got = list(call)
        assert call.code() == grpc.StatusCode.OK, (call.code(), call.details())
        assert got == [f"msg-{i}".encode() for i in range(6)]
        # 1.5 s without a response byte: fine once the timeout is off.
        reply = Stubs(ch, "ringway.test.Forever").unary(b"late", timeout=10, metadata=[("x-sleep", "1.5")])
        assert reply == b"late"


def test_grpc_timeout_caps_route_timeout(via_ringway, hang_origin):
    """Route timeout 30s; the request's grpc-timeout (500ms) wins. The
    upstream here is an h2 origin that never answers and ignores
    grpc-timeout, so the DEADLINE_EXCEEDED can only come from ringway."""
    path = method_path("Unary", "ringway.test.Hang")
    before = len(hang_origin.heads)
    cancelled_before = hang_origin.cancellations()
    r, elapsed = raw_grpc_call(via_ringway.proxy.port, path, [("grpc-timeout", "500m")])
    assert_trailers_only_grpc_error(r, grpc.StatusCode.DEADLINE_EXCEEDED, "grpc-timeout 500m")
    assert 0.4 <= elapsed <= 2.5, f"DEADLINE_EXCEEDED after {elapsed:.2f}s for grpc-timeout 500m (route: 30s)"
    assert len(hang_origin.heads) > before, "the request never reached the upstream"
    eventually(lambda: hang_origin.cancellations() > cancelled_before, 3, 0.02,
               "the upstream stream was reset (or its connection closed) when the deadline passed")

    # The same through grpcio: the client's own 0.5s deadline, well before 3s.
    call_id = new_id("grpc-timeout")
    with via_ringway.channel() as ch:
        start = time.monotonic()
        err = grpc_error(Stubs(ch).unary, b"x", timeout=0.5, metadata=[("x-sleep", "3"), ("x-call-id", call_id)])
        elapsed = time.monotonic() - start
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, (err.code(), err.details())
    assert elapsed < 2.0, f"DEADLINE_EXCEEDED after {elapsed:.2f}s for a 0.5s deadline"
    rec = via_ringway.server.wait_call(call_id)
    eventually(lambda: rec.cancelled, 3, 0.02, "the upstream call was cancelled")


def test_no_route_is_unimplemented(via_ringway):
    # A path no route matches.
    with via_ringway.channel() as ch:
        err = grpc_error(Stubs(ch, "other.Service").unary, b"x", timeout=10)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, (err.code(), err.details())
    assert err.details(), "grpc-message should say what went wrong"
    r, _ = raw_grpc_call(via_ringway.proxy.port, method_path("Unary", "other.Service"))
    assert_trailers_only_grpc_error(r, grpc.StatusCode.UNIMPLEMENTED, "no route (path)")

    # A virtual host whose domains do not match the :authority.
    strict = via_ringway.proxy.port_of("strict")
    with channel(f"127.0.0.1:{strict}") as ch:
        err = grpc_error(Stubs(ch).unary, b"x", timeout=10)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, (err.code(), err.details())
    r, _ = raw_grpc_call(strict, method_path("Unary"))
    assert_trailers_only_grpc_error(r, grpc.StatusCode.UNIMPLEMENTED, "no virtual host")
    # ... while the matching domain is routed.
    with channel(f"127.0.0.1:{strict}", authority="only.example") as ch:
        assert Stubs(ch).unary(b"routed", timeout=10) == b"routed"


def test_grpc_stats(via_ringway):
    proxy = via_ringway.proxy
    with via_ringway.channel() as ch:
        assert Stubs(ch).unary(b"stats", timeout=10) == b"stats"

    def counted():
        s = proxy.stats()
        return (s.get("http.main.downstream_cx_http2_total", 0) >= 1
                and s.get("http.main.downstream_rq_http2_total", 0) >= 1
                and s.get("cluster.grpc.upstream_cx_http2_total", 0) >= 1) and s

    s = eventually(counted, 3, 0.05, "HTTP/2 counters after a gRPC call")
    assert s.get("cluster.grpc.upstream_cx_http1_total", 0) == 0, \
        "an http2 cluster opened HTTP/1.1 connections"


# -- ringway's gRPC replies on failure paths ---------------------------------------

SMALL = "ringway.test.Small"  # route limit 1,000 bytes; the listener's is 4,096


def stalling_handler(req, origin):
    """`?stall=1`: a gRPC response head and one message, then nothing (the
    stream is never ended); anything else: the echo with its knobs."""
    if "stall=1" in req.path:
        return H2Reply(200, [("content-type", "application/grpc")], grpc_frame(b"first message"), stall=True)
    return h2_echo_handler(req, origin)


@pytest.fixture
def failing(env, tmp_path):
    """An h2 origin (echo knobs, `stall=1`) behind ringway, with body limits
    and a text access log: (proxy, origin, log)."""
    origin = H2Origin("grpc-failing", handler=stalling_handler)
    env.origins.append(origin)
    log = tmp_path / "access.log"
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": f"/{SMALL}/"}, "cluster": "h2", "timeout": "30s", "max_request_body_bytes": 1000},
         {"match": {"prefix": "/"}, "cluster": "h2", "timeout": "30s"}],
        [cluster("h2", origin, protocol="http2")],
        limits={"max_request_body_bytes": 4096},
        access_log={"path": str(log), "format": "text"},
    ))
    return proxy, origin, log


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
@pytest.mark.parametrize("limit", ["route", "listener"])
def test_body_over_limit_is_resource_exhausted(failing, limit, declared):
    proxy, origin, log = failing
    path, size = (method_path("Unary", SMALL), 1001) if limit == "route" else (method_path("Unary"), 4097)
    body = grpc_frame(b"m" * (size - 5))
    assert len(body) == size
    headers = [*GRPC_REQUEST_HEADERS, *([("content-length", str(size))] if declared else [])]
    with H2Client(proxy.port) as c:
        ok = c.request("POST", path, headers=headers[:len(GRPC_REQUEST_HEADERS)], body=grpc_frame(b"small"))
        assert ok.status == 200 and ok.header("grpc-status") is None, ok
        r = c.request("POST", path + "?big", headers=headers, body=body)
    assert_trailers_only_grpc_error(r, grpc.StatusCode.RESOURCE_EXHAUSTED, f"{limit} limit")
    assert [q.path for q in origin.requests] == [path], "the oversized body reached the upstream whole"
    if declared:
        assert [h.path for h in origin.heads] == [path], "a declared oversized body was forwarded"
    eventually(lambda: proxy.stat("http.main.downstream_rq_too_large") == 1, 3, 0.02, "downstream_rq_too_large")
    entry = wait_access_log(log, lambda e: e["path"] == path + "?big")
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/2", "200", "LR"), entry


def test_upstream_reset_before_response_is_unavailable(failing):
    proxy, origin, log = failing
    path = method_path("Unary") + "?reset=2"  # the origin answers RST_STREAM INTERNAL_ERROR
    with H2Client(proxy.port) as c:
        r = c.request("POST", path, headers=GRPC_REQUEST_HEADERS, body=grpc_frame(b"x"))
    assert_trailers_only_grpc_error(r, grpc.StatusCode.UNAVAILABLE, "upstream reset")
    assert len(origin.requests) == 1
    eventually(lambda: proxy.stat("cluster.h2.upstream_rq_rx_reset") == 1, 3, 0.02, "upstream_rq_rx_reset")
    assert proxy.stat("cluster.h2.http2.rx_reset") == 1
    assert proxy.stat("cluster.h2.upstream_rq_retry") == 0
    entry = wait_access_log(log, lambda e: e["path"] == path)
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/2", "200", "UR"), entry


def test_grpc_timeout_mid_stream_is_deadline_exceeded_in_trailers(failing):
    """The response head and a message went down, then the upstream stalls:
    when grpc-timeout passes ringway ends the stream with trailers
    grpc-status 4 (not a reset) and resets the upstream stream."""
    proxy, origin, log = failing
    path = method_path("ServerStream") + "?stall=1"
    with H2Client(proxy.port) as c:
        start = time.monotonic()
        r = c.request("POST", path, headers=[*GRPC_REQUEST_HEADERS, ("grpc-timeout", "800m")],
                      body=grpc_frame(b"x"), timeout=10)
        elapsed = time.monotonic() - start
    assert r.reset is None, f"stream reset ({r.reset}) instead of DEADLINE_EXCEEDED trailers: {r}"
    assert r.status == 200 and r.header("content-type") == "application/grpc", r
    assert r.header("grpc-status") is None, "a trailers-only reply: the response head had gone already"
    assert r.body == grpc_frame(b"first message"), r
    assert r.trailer("grpc-status") == "4", r
    assert r.trailer("grpc-message"), r
    assert 0.7 <= elapsed <= 2.5, f"DEADLINE_EXCEEDED after {elapsed:.2f}s for grpc-timeout 800m"
    eventually(lambda: origin.cancellations() >= 1, 3, 0.02, "the upstream stream was reset")
    eventually(lambda: proxy.stat("cluster.h2.upstream_rq_timeout") == 1, 3, 0.02, "upstream_rq_timeout")
    entry = wait_access_log(log, lambda e: e["path"] == path)
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/2", "200", "UT"), entry


# -- drain ----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["sigterm", "drain_listeners"])
def test_drain_lets_inflight_stream_finish(env, grpc_server, how):
    """A server-streaming call is in flight when ringway starts draining: it
    runs to its end. With SIGTERM an idle HTTP/2 connection gets a GOAWAY,
    new calls on the channel stop being served (they fail: the listener is
    gone) and ringway exits 0 once the stream is done."""
    cfg = grpc_proxy_config(grpc_server.address, f"127.0.0.1:{closed_port()}")
    proxy = env.proxy(cfg, drain_time=10)
    address = f"127.0.0.1:{proxy.port}"
    call_id = new_id("drain")
    count = 30  # 30 x 0.1s: about 3s of streaming
    with channel(address) as ch:
        stubs = Stubs(ch)
        call = stubs.server_stream(b"", timeout=20, metadata=[
            ("x-call-id", call_id), ("x-count", str(count)), ("x-interval", "0.1")])
        assert next(call) == b"msg-0"
        probe = H2Client(proxy.port, timeout=5)
        try:
            r = probe.request("POST", method_path("Unary"), headers=GRPC_REQUEST_HEADERS, body=grpc_frame(b"p"))
            assert r.status == 200 and r.trailer("grpc-status") == "0", r
            if how == "sigterm":
                proxy.signal(signal.SIGTERM)
            else:
                proxy.admin_post("/drain_listeners")

            if how == "sigterm":
                assert probe.wait_goaway(3), "an idle HTTP/2 connection got no GOAWAY within 3s of SIGTERM"
                assert probe.goaway is not None, "the idle HTTP/2 connection was closed without a GOAWAY"

            def new_call_fails(on):
                try:
                    on.unary(b"after-drain", timeout=0.5)
                    return False
                except grpc.RpcError as e:
                    return e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

            if how == "sigterm":
                # After the GOAWAY the channel may not open streams on its old
                # connection, and the listener no longer takes new ones.
                eventually(lambda: new_call_fails(stubs), 4, 0.1,
                           "new calls on the same channel are no longer served after SIGTERM")
            else:
                # /drain_listeners stops new connections; whether existing
                # HTTP/2 connections get a GOAWAY too is not specified, so only
                # a fresh channel is checked.
                with channel(address) as fresh:
                    eventually(lambda: new_call_fails(Stubs(fresh)), 4, 0.1,
                               "new connections are not served after /drain_listeners")
        finally:
            probe.close()

        rest = list(call)
        assert call.code() == grpc.StatusCode.OK, f"the in-flight stream was cut: {call.code()} {call.details()}"
        assert [b"msg-0", *rest] == [f"msg-{i}".encode() for i in range(count)], \
            f"the in-flight stream got {1 + len(rest)} of {count} messages"
    rec = grpc_server.wait_call(call_id)
    assert rec.completed and not rec.cancelled
    if how == "sigterm":
        assert proxy.proc.wait(10) == 0
    else:
        assert proxy.alive()
