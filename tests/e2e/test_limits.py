"""Listener and route limits: 431, 414, 413, 408, idle timeout, connection
cap per worker."""

from __future__ import annotations

import socket
import time

import pytest

from e2e_client import ConnectionClosed, RawConn, build_request, chunked_body, eventually, raw_exchange
from e2e_proxy import cluster, simple_config

LIMITS = {
    "max_request_head_bytes": 4096,
    "max_request_headers": 20,
    "max_uri_bytes": 256,
    "request_head_timeout": "1s",
    "idle_timeout": "2s",
    "max_request_body_bytes": 2048,
}


@pytest.fixture(scope="module")
def limited(module_env):
    origin = module_env.origin("limits")
    proxy = module_env.proxy(simple_config(
        [
            {"match": {"prefix": "/small"}, "cluster": "backend", "max_request_body_bytes": 1024},
            {"match": {"prefix": "/"}, "cluster": "backend"},
        ],
        [cluster("backend", origin)],
        limits=LIMITS,
    ))
    return proxy, origin


def expect_status(proxy, origin, raw: bytes, status: int, must_close: bool = True):
    origin.reset()
    resp, closed, rest = raw_exchange(proxy.port, raw, timeout=4, close_wait=3 if must_close else 0.5)
    assert resp is not None, f"no response (expected {status})"
    assert resp.status == status, f"expected {status}, got {resp.status} {resp.body[:200]!r}"
    if must_close:
        assert closed, f"connection left open after {status}"
    assert rest == b"", f"bytes after the {status} response (unread body parsed as a request?): {rest[:200]!r}"
    return resp


def test_head_too_large_431(limited):
    proxy, origin = limited
    raw = build_request("GET", "/", [("X-Big", "a" * 5000)])
    expect_status(proxy, origin, raw, 431)
    assert origin.heads == []


def test_head_just_under_limit_ok(limited):
    proxy, _ = limited
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/", [("X-Big", "a" * 3000)])
        assert r.status == 200


def test_too_many_headers_431(limited):
    proxy, origin = limited
    raw = build_request("GET", "/", [(f"X-H{i}", "v") for i in range(30)])
    expect_status(proxy, origin, raw, 431)
    assert origin.heads == []


def test_header_count_at_limit_ok(limited):
    proxy, _ = limited
    with RawConn(proxy.port) as c:
        # Host + 19 = 20 header fields.
        r = c.request("GET", "/", [(f"X-H{i}", "v") for i in range(19)])
        assert r.status == 200


def test_uri_too_long_414(limited):
    proxy, origin = limited
    raw = build_request("GET", "/" + "u" * 400)
    expect_status(proxy, origin, raw, 414)
    assert origin.heads == []


def test_uri_under_limit_ok(limited):
    proxy, _ = limited
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/" + "u" * 200).status == 200


def test_route_body_limit_content_length_413(limited):
    proxy, origin = limited
    raw = build_request("POST", "/small", body=b"b" * 2000)
    expect_status(proxy, origin, raw, 413, must_close=False)
    assert origin.count == 0, "body over the route limit reached the upstream"


def test_route_body_limit_chunked_413(limited):
    proxy, origin = limited
    raw = build_request("POST", "/small", [("Transfer-Encoding", "chunked")]) + \
        chunked_body(b"c" * 3000, 500)
    expect_status(proxy, origin, raw, 413, must_close=False)
    assert all(r.body_len <= 1024 for r in origin.requests), "an over-limit body completed upstream"


def test_route_body_limit_chunked_mid_stream(limited):
    """A chunked body crossing the limit after the head was forwarded still
    ends in 413 for the client."""
    proxy, origin = limited
    origin.reset()
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("POST", "/small/mid", [("Transfer-Encoding", "chunked")]))
        c.send(b"200\r\n" + b"m" * 512 + b"\r\n")
        assert origin.wait_heads(1, 5), "the head was not forwarded before the body crossed the limit"
        try:
            c.send(b"400\r\n" + b"m" * 1024 + b"\r\n0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        assert r.status == 413
    assert [h.path for h in origin.heads] == ["/small/mid"]
    assert origin.requests == [], "the over-limit body completed upstream"


def test_route_body_under_limit_ok(limited):
    proxy, _ = limited
    with RawConn(proxy.port) as c:
        r = c.request("POST", "/small", body=b"b" * 1000)
        assert r.status == 200 and r.json()["body_len"] == 1000


def test_listener_body_limit_applies_to_routes_without_one(limited):
    proxy, origin = limited
    expect_status(proxy, origin, build_request("POST", "/big", body=b"b" * 3000), 413,
                  must_close=False)
    with RawConn(proxy.port) as c:
        assert c.request("POST", "/big", body=b"b" * 2000).status == 200


def test_head_timeout_slowloris_408(limited):
    proxy, origin = limited
    origin.reset()
    with RawConn(proxy.port, timeout=5) as c:
        start = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\n")
        resp = None
        # Keep dribbling header bytes well past the 1 s head timeout.
        for i in range(20):
            try:
                c.send(f"X-Slow-{i}: y\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                break
            if not c.open_after(0.25):
                break
        elapsed = time.monotonic() - start
        try:
            resp = c.read_response()
        except (ConnectionClosed, ConnectionResetError):
            resp = None
        assert resp is not None, f"connection closed without a 408 after {elapsed:.1f}s"
        assert resp.status == 408
        assert 0.8 <= elapsed <= 3.5, f"408 after {elapsed:.2f}s (timeout is 1s)"
        assert c.closed_within(2)
    assert origin.heads == []


def test_head_timeout_on_keepalive_connection(limited):
    """The head timeout also guards the second request on a connection."""
    proxy, _ = limited
    with RawConn(proxy.port, timeout=5) as c:
        assert c.request("GET", "/first").status == 200
        c.send(b"GET /second HTTP/1.1\r\nHost: a\r\n")
        start = time.monotonic()
        r = c.read_response()
        elapsed = time.monotonic() - start
        assert r.status == 408
        assert elapsed <= 3.0


def test_expect_continue_over_body_limit_gets_413_without_100(limited):
    proxy, origin = limited
    origin.reset()
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("POST", "/small", [("Expect", "100-continue"), ("Content-Length", "5000")]))
        r = c.read_head()
        assert r.status == 413, f"expected 413 before any body was sent, got {r.raw_head!r}"
    assert origin.heads == []


def test_head_timeout_does_not_hit_complete_slow_client(limited):
    """A head finished within the timeout is served even if it was slow."""
    proxy, _ = limited
    with RawConn(proxy.port, timeout=5) as c:
        for part in (b"GET /slowish HTTP/1.1\r\n", b"Host: a\r\n", b"\r\n"):
            c.send(part)
            time.sleep(0.2)
        assert c.read_response().status == 200


def test_idle_keepalive_connection_closed(limited):
    proxy, _ = limited
    with RawConn(proxy.port, timeout=5) as c:
        assert c.request("GET", "/idle").status == 200
        start = time.monotonic()
        assert c.open_after(1.2), "closed well before idle_timeout (2s)"
        assert c.closed_within(3.5), "idle keep-alive connection not closed after idle_timeout"
        elapsed = time.monotonic() - start
        assert 1.2 <= elapsed <= 4.7


def test_active_connection_not_closed_by_idle_timeout(limited):
    """Requests every 0.5s keep a connection alive past idle_timeout."""
    proxy, _ = limited
    with RawConn(proxy.port, timeout=5) as c:
        for _ in range(7):
            assert c.request("GET", "/busy").status == 200
            time.sleep(0.5)


def test_slow_response_not_cut_by_idle_timeout(limited):
    """A request in flight is not idle: an upstream taking longer than
    idle_timeout is still answered."""
    proxy, _ = limited
    with RawConn(proxy.port, timeout=6) as c:
        r = c.request("GET", "/slow?delay=2.6")
        assert r.status == 200


def test_never_used_connection_closed(limited):
    """A connection that never sends a byte does not live forever."""
    proxy, _ = limited
    with RawConn(proxy.port, timeout=5) as c:
        assert c.closed_within(4.5), "silent connection held open past idle_timeout"


def test_max_connections_per_worker_queues_extra(env):
    origin = env.origin("cap")
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "backend"}],
        [cluster("backend", origin)],
        limits={"max_connections_per_worker": 2, "idle_timeout": "30s"},
    ), concurrency=1)
    a = RawConn(proxy.port)
    b = RawConn(proxy.port)
    try:
        assert a.request("GET", "/a").status == 200
        assert b.request("GET", "/b").status == 200
        # A third connection is not refused: the connect succeeds...
        c = RawConn(proxy.port, timeout=5)
        try:
            c.send(build_request("GET", "/c"))
            # ...but it is not served while the worker is at its cap.
            c.sock.settimeout(0.8)
            try:
                early = c.sock.recv(100)
            except socket.timeout:
                early = None
            c.sock.settimeout(5)
            assert early is None, f"third connection got {early!r} while the cap was reached"
            a.close()
            r = c.read_response()
            assert r.status == 200 and r.json()["target"] == "/c"
        finally:
            c.close()
        assert b.request("GET", "/b2").status == 200
    finally:
        a.close()
        b.close()
    eventually(lambda: proxy.stat("http.main.downstream_cx_total") >= 3, 3)
