"""Upgrade (WebSocket) tunnelling after 101."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from e2e_client import RawConn, build_request
from e2e_origin import response_head
from e2e_proxy import cluster, simple_config

WS_HEADERS = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
]


def ws_echo_handler(req, conn):
    """101 for an upgrade request, then echo raw bytes until EOF."""
    if (req.header("upgrade") or "").lower() != "websocket":
        body = b"not upgraded"
        conn.send(response_head(200, [("content-length", str(len(body)))]) + body)
        return "keep"
    seen = ";".join(f"{k.lower()}={v}" for k, v in req.headers
                    if k.lower() in ("upgrade", "connection", "sec-websocket-key"))
    conn.send(response_head(101, [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ("X-Seen", seen),
    ]))
    # Bytes already buffered behind the head belong to the tunnel.
    pending = bytes(conn.reader.buf)
    conn.reader.buf.clear()
    if pending:
        conn.send(pending)
    while True:
        try:
            data = conn.sock.recv(65536)
        except OSError:
            break
        if not data:
            try:
                conn.sock.sendall(b"[upstream saw EOF]")
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            break
        conn.sock.sendall(data)
    return "hijacked"


@pytest.fixture(scope="module")
def ws(module_env):
    origin = module_env.origin("ws", ws_echo_handler)
    proxy = module_env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "ws", "timeout": "2s"}],
        [cluster("ws", origin)],
        limits={"idle_timeout": "30s"},
    ))
    return proxy, origin


def recv_exact(c: RawConn, n: int) -> bytes:
    while len(c.buf) < n:
        data = c.sock.recv(65536)
        if not data:
            break
        c.buf += data
    out = bytes(c.buf[:n])
    del c.buf[:n]
    return out


def test_websocket_upgrade_and_echo(ws):
    proxy, origin = ws
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("GET", "/chat", WS_HEADERS))
        r = c.read_response()
        assert r.status == 101, r.raw_head
        assert (r.header("upgrade") or "").lower() == "websocket"
        assert "upgrade" in r.connection_tokens
        assert r.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        seen = r.header("x-seen") or ""
        assert "upgrade=websocket" in seen, f"Upgrade not forwarded upstream: {seen!r}"
        assert "connection=" in seen and "upgrade" in seen.split("connection=")[1].lower(), seen
        for msg in (b"hello", b"\x81\x05world", b"x" * 10000):
            c.send(msg)
            assert recv_exact(c, len(msg)) == msg
    # Idle timeouts (30s) do not matter here; the tunnel closed with the client.


def test_websocket_large_bidirectional(ws):
    proxy, _ = ws
    payload = os.urandom(1 << 20)
    with RawConn(proxy.port, timeout=10) as c:
        c.send(build_request("GET", "/big", WS_HEADERS))
        assert c.read_response().status == 101
        got = bytearray()
        t = threading.Thread(target=lambda: c.sock.sendall(payload))
        t.start()
        got += recv_exact(c, len(payload))
        t.join(10)
        assert bytes(got) == payload


def test_websocket_data_sent_with_upgrade_request(ws):
    """Bytes pipelined right behind the upgrade request reach the upstream."""
    proxy, _ = ws
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("GET", "/early", WS_HEADERS) + b"early-bytes")
        assert c.read_response().status == 101
        assert recv_exact(c, len(b"early-bytes")) == b"early-bytes"


def test_websocket_half_close_propagates(ws):
    proxy, _ = ws
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("GET", "/half", WS_HEADERS))
        assert c.read_response().status == 101
        c.send(b"ping")
        assert recv_exact(c, 4) == b"ping"
        c.sock.shutdown(socket.SHUT_WR)
        rest = c.read_to_close(5)
        assert rest == b"[upstream saw EOF]", rest


def test_upgrade_refused_by_upstream_stays_http(ws):
    proxy, _ = ws
    with RawConn(proxy.port, timeout=5) as c:
        r = c.request("GET", "/nope", [("Upgrade", "foo/2"), ("Connection", "Upgrade")])
        assert r.status == 200 and r.body == b"not upgraded"
        r = c.request("GET", "/again")
        assert r.status == 200 and r.body == b"not upgraded"


def test_upgrade_stats_counted(ws):
    proxy, _ = ws
    before = proxy.stat("http.main.downstream_cx_upgrades_total")
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("GET", "/count", WS_HEADERS))
        assert c.read_response().status == 101
    assert proxy.stat("http.main.downstream_cx_upgrades_total") == before + 1
