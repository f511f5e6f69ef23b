"""Plain (non-gRPC) HTTP/2: h2c prior knowledge downstream on a `protocol:
auto` listener, translation to and from HTTP/1.1, h2 -> h2, h2load, the
`protocol: http1` / `protocol: http2` listeners, advertised settings and
keepalive PINGs, and the HTTP/2 stats.

Clients: curl --http2-prior-knowledge (one call per request: Debian's curl
7.88 mishandles several URLs on one prior-knowledge connection), the
H2Client of e2e_h2.py (it validates what it receives, so connection-specific
headers in a response fail the request), raw frames, and h2load.
Origins: e2e_origin.Origin (HTTP/1.1) and e2e_h2.H2Origin (h2c).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import zlib

import pytest

from e2e_client import RawConn, build_request, chunked_body, curl, eventually
from e2e_h2 import (PING, PREFACE, SETTINGS, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS,
                    SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE, H2Client, H2Origin, RawH2, pattern)
from e2e_proxy import cluster

MIB = 1 << 20
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "x-hop"}

TUNED = {
    "max_concurrent_streams": 7,
    "initial_stream_window_size": 131072,
    "max_frame_size": 32768,
    "max_header_list_size": 16384,
    "keepalive": {"interval": "500ms", "timeout": "500ms"},
}


def h2_config(h1_addr: str, h2_addr: str) -> dict:
    """Listeners: main (protocol left to its default, auto), h1only
    (protocol http1), h2only (protocol http2), tuned (auto with the TUNED
    http2 settings). Routes: /h2up/* -> the h2c origin (cluster protocol
    http2), everything else -> the HTTP/1.1 origin."""
    routes = [
        {"match": {"prefix": "/h2up/"}, "cluster": "h2", "timeout": "10s"},
        {"match": {"prefix": "/"}, "cluster": "h1", "timeout": "10s"},
    ]

    def listener(name, **kw):
        return {"name": name, "address": "127.0.0.1:0", **kw,
                "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]}

    return {
        "listeners": [
            listener("main"),
            listener("h1only", protocol="http1"),
            listener("h2only", protocol="http2"),
            listener("tuned", protocol="auto", http2=TUNED),
        ],
        "clusters": [cluster("h1", h1_addr), cluster("h2", h2_addr, protocol="http2")],
    }


@pytest.fixture(scope="module")
def h2env(module_env):
    h1 = module_env.origin("h1")
    h2o = H2Origin("h2")
    module_env.origins.append(h2o)  # stopped with the module's group
    proxy = module_env.proxy(h2_config(h1.address, h2o.address))
    return proxy, h1, h2o


def upstream_headers(echo: dict) -> dict:
    """{lower name: [values]} from an echo body."""
    out: dict = {}
    for k, v in echo["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def h2_curl(proxy, path: str, *args: str, **kw):
    return curl(proxy.url(path), "--http2-prior-knowledge", *args, **kw)


# -- the helpers themselves (no ringway) ---------------------------------------------

def test_selfcheck_h2_origin_and_client_direct():
    """H2Client against H2Origin without ringway: what the tests below rely on."""
    o = H2Origin("direct")
    try:
        with H2Client(o.port) as c:
            r = c.get("/a?hdr=X-A:b&trailers=1")
            assert r.status == 200 and r.header("x-a") == "b" and r.trailer("x-trailer-two") == "two", r
            assert r.json()["authority"] == f"127.0.0.1:{o.port}"
            body = pattern(3 * MIB)
            r = c.request("POST", "/up", body=body, trailers=[("x-req", "t")])
            echo = r.json()
            assert echo["body_len"] == len(body) and echo["body_crc"] == zlib.crc32(body), echo
            assert echo["trailers"] == [["x-req", "t"]]
            r = c.get(f"/down?size={8 * MIB}")
            assert r.body == pattern(8 * MIB)
        r = curl(f"http://127.0.0.1:{o.port}/c", "--http2-prior-knowledge")
        assert r.status == 200 and r.all_heads[0].startswith("HTTP/2 200"), r
    finally:
        o.stop()


# -- (a) h2 client -> ringway -> HTTP/1.1 origin ------------------------------------

def test_h2_get_to_h1_origin_via_curl(h2env):
    proxy, _, _ = h2env
    r = h2_curl(proxy, "/get?x=1", "-H", "X-Custom: abc")
    assert r.returncode == 0, r.stderr
    assert r.all_heads and r.all_heads[0].startswith("HTTP/2 200"), f"not an HTTP/2 200: {r.all_heads} {r.stderr}"
    assert r.header("x-origin") == "h1"
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["target"] == "/get?x=1"
    assert echo["version"] == "HTTP/1.1"
    seen = upstream_headers(echo)
    assert seen["x-custom"] == ["abc"]
    assert seen["host"] == [f"127.0.0.1:{proxy.port}"], f":authority should become Host: {seen.get('host')}"


def test_h2_authority_becomes_host(h2env):
    proxy, _, _ = h2env
    with H2Client(proxy.port, authority="h2.example:8443") as c:
        r = c.get("/authority")
    assert r.status == 200, r
    seen = upstream_headers(r.json())
    assert seen.get("host") == ["h2.example:8443"], f"Host seen upstream: {seen.get('host')}"


def test_h2_post_bodies_to_h1_origin(h2env):
    proxy, _, _ = h2env
    r = h2_curl(proxy, "/form", "--data-binary", "@-", data=b"a=1&b=2")
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/2"), (r.all_heads, r.stderr)
    assert r.json()["method"] == "POST" and r.json()["body"] == "a=1&b=2"

    # Without content-length (legal in HTTP/2): ringway has to frame it for HTTP/1.1.
    body = pattern(300_000)
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/no-content-length", body=body)
        assert r.status == 200, r
        echo = r.json()
        assert echo["body_len"] == len(body) and echo["body_crc"] == zlib.crc32(body), \
            f"upstream got {echo['body_len']} bytes (crc {echo['body_crc']})"
        # And with one, on the same connection.
        r = c.request("POST", "/with-content-length", headers=[("content-length", "11")], body=b"hello world")
        assert r.status == 200 and r.json()["body"] == "hello world", r


def test_h2_status_codes_and_response_headers(h2env):
    proxy, _, _ = h2env
    with H2Client(proxy.port) as c:
        for status in (200, 201, 204, 302, 404, 500, 503):
            r = c.get(f"/status?status={status}&hdr=X-Resp:value-{status}")
            assert r.status == status, r
            assert r.header("x-origin") == "h1", f"{status} did not come from the origin: {r}"
            assert r.header("x-resp") == f"value-{status}", r
            if status == 204:
                assert r.body == b""
        # Connection-specific response headers (Connection: close,
        # Transfer-Encoding: chunked) must be dropped: H2Client rejects them.
        r = c.get("/conn-close?close=1")
        assert r.status == 200, r
    with H2Client(proxy.port) as c:
        r = c.get("/chunked?chunked=1")
        assert r.status == 200 and r.json()["target"] == "/chunked?chunked=1", r
        assert r.header("transfer-encoding") is None


def test_h2_large_response_from_h1_origin(h2env):
    proxy, _, _ = h2env
    r = h2_curl(proxy, f"/big?size={8 * MIB}", timeout=30)
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/2"), (r.all_heads, r.stderr)
    assert len(r.body) == 8 * MIB and r.body == pattern(8 * MIB), f"{len(r.body)} bytes, content differs"
    with H2Client(proxy.port, timeout=30) as c:
        r = c.get(f"/big-chunked?size={8 * MIB}&chunked=1")
    assert r.status == 200 and r.body == pattern(8 * MIB), f"chunked upstream: {len(r.body)} bytes"


def test_h2_gets_trailers_from_chunked_h1_origin(h2env):
    """Chunked trailers from the HTTP/1.1 origin arrive as a trailing HEADERS
    frame. (curl -i prints trailers after the body and -D writes them as a
    second header block, so H2Client checks them.)"""
    proxy, _, _ = h2env
    with H2Client(proxy.port) as c:
        r = c.get("/trailers?trailers=1", headers=[("te", "trailers")])
    assert r.status == 200, r
    assert r.json()["target"] == "/trailers?trailers=1"
    assert r.trailer("x-trailer-one") == "1" and r.trailer("x-trailer-two") == "two", \
        f"trailers: {r.trailers}, headers: {r.headers}"


# -- (b) HTTP/1.1 client -> ringway -> h2 origin -------------------------------------

def test_h1_client_to_h2_upstream_get(h2env):
    proxy, _, h2o = h2env
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/h2up/get?q=1", [("X-Custom", "v")], host="h1-host.example")
        assert r.status == 200, r.raw_head
        assert r.header("x-origin") == "h2"
        echo = r.json()
        assert echo["method"] == "GET" and echo["path"] == "/h2up/get?q=1", echo
        assert echo["scheme"] == "http", echo
        seen = upstream_headers(echo)
        # RFC 9113 8.3.1: the authority goes in :authority; a Host header, if
        # kept as well, must agree with it. (Some proxies send only Host.)
        assert echo["authority"] in ("h1-host.example", None), f":authority upstream: {echo['authority']!r}"
        assert seen.get("host", ["h1-host.example"]) == ["h1-host.example"], f"Host upstream: {seen.get('host')}"
        assert echo["authority"] or seen.get("host"), "neither :authority nor Host reached the h2 upstream"
        assert seen["x-custom"] == ["v"]
        # Keep-alive still works after it.
        assert c.request("GET", "/h2up/again").status == 200


def test_h1_client_to_h2_upstream_status_and_large_body(h2env):
    proxy, _, _ = h2env
    with RawConn(proxy.port, timeout=30) as c:
        r = c.request("GET", "/h2up/s?status=404&hdr=X-Resp:nf")
        assert r.status == 404 and r.header("x-resp") == "nf", r.raw_head
        r = c.request("GET", "/h2up/nc?status=204")
        assert r.status == 204 and r.body == b""
        r = c.request("GET", f"/h2up/big?size={8 * MIB}")
        assert r.status == 200 and r.body == pattern(8 * MIB), f"{len(r.body)} bytes"


def test_h1_request_bodies_reach_h2_upstream(h2env):
    proxy, _, _ = h2env
    body = pattern(200_000)
    with RawConn(proxy.port, timeout=10) as c:
        r = c.request("POST", "/h2up/cl", [("Content-Type", "application/octet-stream")], body)
        assert r.status == 200, r.raw_head
        echo = r.json()
        assert echo["body_len"] == len(body) and echo["body_crc"] == zlib.crc32(body), "content-length body"
        seen = upstream_headers(echo)
        assert seen.get("content-length", [str(len(body))]) == [str(len(body))]

        c.send(build_request("POST", "/h2up/chunked", [("Transfer-Encoding", "chunked")]) + chunked_body(body, 7000))
        r = c.read_response()
        assert r.status == 200, r.raw_head
        echo = r.json()
        assert echo["body_len"] == len(body) and echo["body_crc"] == zlib.crc32(body), "chunked body"
        assert "transfer-encoding" not in upstream_headers(echo)


def test_h1_chunked_request_trailers_reach_h2_upstream(h2env):
    proxy, _, _ = h2env
    with RawConn(proxy.port) as c:
        c.send(build_request("POST", "/h2up/req-trailers",
                             [("Transfer-Encoding", "chunked"), ("Trailer", "x-checksum")])
               + chunked_body(b"some body", 4, trailers=[("X-Checksum", "abc123")]))
        r = c.read_response()
    assert r.status == 200, r.raw_head
    echo = r.json()
    assert echo["body"] == "some body"
    assert ["x-checksum", "abc123"] in echo["trailers"], f"trailers seen upstream: {echo['trailers']}"


def test_h1_hop_by_hop_headers_not_sent_to_h2_upstream(h2env):
    """An h2 server must reject connection-specific headers (the origin's h2
    library does), so the request succeeding is half the check."""
    proxy, _, h2o = h2env
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/h2up/hop", [
            ("Connection", "keep-alive, X-Hop"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"),
            ("X-Hop", "1"), ("TE", "trailers, deflate"), ("X-End-To-End", "kept")])
        assert r.status == 200, f"{r.status}: {r.body[:300]!r} (origin errors: {h2o.errors[-3:]})"
        seen = upstream_headers(r.json())
        leaked = HOP_BY_HOP & set(seen)
        assert not leaked, f"hop-by-hop headers reached the h2 upstream: {leaked}"
        assert seen.get("te", ["trailers"]) == ["trailers"], f"te upstream may only be 'trailers': {seen.get('te')}"
        assert seen["x-end-to-end"] == ["kept"]
        assert "close" not in r.connection_tokens
        assert c.request("GET", "/h2up/after-hop").status == 200


def test_h2_upstream_trailers_reach_h1_client(h2env):
    proxy, _, _ = h2env
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/h2up/t?trailers=1", [("TE", "trailers")])
        assert r.status == 200, r.raw_head
        assert r.chunked, "trailers need a chunked response"
        trailers = dict(r.trailers)
        assert trailers.get("x-trailer-one") == "1" and trailers.get("x-trailer-two") == "two", r.trailers
        assert r.json()["path"] == "/h2up/t?trailers=1"
        assert c.request("GET", "/h2up/after-trailers").status == 200


# -- (c) h2 -> h2 -------------------------------------------------------------------

def test_h2_to_h2_get_post_trailers(h2env):
    proxy, _, _ = h2env
    body = pattern(MIB + 3)
    with H2Client(proxy.port, authority="both.example") as c:
        r = c.get("/h2up/get?hdr=X-Resp:v")
        assert r.status == 200 and r.header("x-resp") == "v" and r.header("x-origin") == "h2", r
        assert r.json()["authority"] == "both.example"
        r = c.request("POST", "/h2up/post", body=body)
        echo = r.json()
        assert r.status == 200 and echo["method"] == "POST"
        assert echo["body_len"] == len(body) and echo["body_crc"] == zlib.crc32(body)
        r = c.request("POST", "/h2up/req-trailers", body=b"x", trailers=[("x-req-trailer", "t")])
        assert ["x-req-trailer", "t"] in r.json()["trailers"], r.json()["trailers"]
        r = c.get("/h2up/resp-trailers?trailers=1", headers=[("te", "trailers")])
        assert r.trailer("x-trailer-two") == "two", r
    r = h2_curl(proxy, "/h2up/curl")
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/2") and r.header("x-origin") == "h2", \
        (r.all_heads, r.stderr)


def test_h2_concurrent_streams_one_connection(h2env):
    """Many streams in flight on one connection, answered out of order: every
    stream whose answer is not delayed ends before any delayed one (opened
    earlier) does."""
    import h2.events

    proxy, _, _ = h2env
    with H2Client(proxy.port) as c:
        sids = {}
        delayed = set()
        for i in range(40):
            delay = 1.5 if i % 2 == 0 else 0
            up = "/h2up" if i % 3 == 0 else ""
            sid = c.start("GET", f"{up}/multi/{i}?delay={delay}")
            sids[sid] = i
            if delay:
                delayed.add(sid)
        for sid, i in sids.items():
            r = c.wait(sid)
            assert r.status == 200, r
            target = r.json().get("target") or r.json().get("path")
            assert target.split("?")[0].endswith(f"/multi/{i}"), (i, target)
        ended = [ev.stream_id for ev in c.events if isinstance(ev, h2.events.StreamEnded)]
    assert sorted(ended) == sorted(sids), "a stream ended twice or not at all"
    first_delayed = min(ended.index(sid) for sid in delayed)
    early = [sids[sid] for sid in ended[first_delayed:] if sid not in delayed]
    assert not early, f"undelayed streams {early} ended after a delayed one: not answered out of order"
    assert ended != sorted(ended), "streams ended in the order they were opened"


# -- h2load ---------------------------------------------------------------------------

H2LOAD_REQUESTS = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored")
H2LOAD_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


@pytest.mark.parametrize("upstream", ["h2", "h1"])
def test_h2load(h2env, upstream):
    if not shutil.which("h2load"):
        pytest.fail("h2load is needed (Debian package nghttp2-client; scripts/setup.sh installs it)")
    proxy, _, _ = h2env
    n = 20000
    path = "/h2up/load" if upstream == "h2" else "/load"
    p = subprocess.run(["h2load", "-n", str(n), "-c", "4", "-m", "32", proxy.url(path)],
                       capture_output=True, text=True, timeout=120)
    m = H2LOAD_REQUESTS.search(p.stdout)
    assert m, f"no h2load summary (exit {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    total, started, done, ok, failed, errored = map(int, m.groups())
    summary = "\n".join(line for line in p.stdout.splitlines() if line.startswith(("requests:", "status codes:",
                                                                                  "finished", "traffic:")))
    assert (done, ok, failed, errored) == (n, n, 0, 0), f"h2load via {upstream} upstream:\n{summary}"
    s = H2LOAD_STATUS.search(p.stdout)
    assert s and int(s.group(1)) == n, f"not all 2xx:\n{summary}"


# -- listener protocol -------------------------------------------------------------------

def read_all(sock: socket.socket, limit: float = 2.0) -> tuple[bytes, bool]:
    """Bytes until EOF/reset (closed=True) or the time limit (closed=False)."""
    data = b""
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            got = sock.recv(65536)
        except socket.timeout:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not got:
            return data, True
        data += got


def test_protocol_http1_listener_does_not_speak_h2(h2env):
    proxy, _, _ = h2env
    port = proxy.port_of("h1only")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        data, closed = read_all(s, 3)
    # Any HTTP/1.1 error (400, 505, ...) or a bare close; never an HTTP/2 SETTINGS frame.
    assert re.match(rb"HTTP/1\.1 [45]\d\d ", data) or (data == b"" and closed), \
        f"an http1 listener answered the HTTP/2 preface with {data[:80]!r} (closed={closed})"
    assert closed, "the connection should be closed after a preface it cannot serve"
    r = curl(proxy.url("/h1-works", listener="h1only"))
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/1.1"), (r.all_heads, r.stderr)


def test_protocol_http2_listener_only_speaks_h2(h2env):
    proxy, _, _ = h2env
    port = proxy.port_of("h2only")
    with H2Client(port) as c:
        assert c.get("/h2-works").status == 200
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(build_request("GET", "/h1-here"))
        data, closed = read_all(s, 3)
    assert not data.startswith(b"HTTP/1."), f"an http2 listener answered HTTP/1.1: {data[:80]!r}"
    assert closed, "the connection should be closed after a request that is not HTTP/2"


def test_auto_listener_speaks_both(h2env):
    proxy, _, _ = h2env
    r = curl(proxy.url("/auto-h1"))
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/1.1"), (r.all_heads, r.stderr)
    r = h2_curl(proxy, "/auto-h2")
    assert r.status == 200 and r.all_heads[0].startswith("HTTP/2"), (r.all_heads, r.stderr)
    # A request line that merely starts like the preface is still HTTP/1.1.
    with RawConn(proxy.port) as c:
        r = c.request("PRI", "/not-a-preface")
        assert r.status in (200, 400, 405, 501), r.raw_head


# -- http2 settings and keepalive -------------------------------------------------------

def server_settings(port: int) -> dict:
    """{identifier: value} of the first SETTINGS frame a listener sends."""
    with RawH2(port, timeout=5) as c:
        c.handshake()
        assert c.wait_for(lambda s: s.frames_of(SETTINGS), 3), f"no SETTINGS from ringway: {c.summary()}"
        first = c.frames_of(SETTINGS)[0]
        assert not first.flags & 1, "ringway's first SETTINGS frame must not be an ACK"
        p = first.payload
        return {int.from_bytes(p[i:i + 2], "big"): int.from_bytes(p[i + 2:i + 6], "big") for i in range(0, len(p), 6)}


def test_listener_http2_settings_advertised(h2env):
    proxy, _, _ = h2env
    values = server_settings(proxy.port_of("tuned"))
    want = {SETTINGS_MAX_CONCURRENT_STREAMS: TUNED["max_concurrent_streams"],
            SETTINGS_INITIAL_WINDOW_SIZE: TUNED["initial_stream_window_size"],
            SETTINGS_MAX_FRAME_SIZE: TUNED["max_frame_size"],
            SETTINGS_MAX_HEADER_LIST_SIZE: TUNED["max_header_list_size"]}
    got = {k: values.get(k) for k in want}
    assert got == want, f"advertised SETTINGS {values}, want at least {want}"
    # The defaults (listener without an http2 block): 1024 streams, 1 MiB
    # stream window. (An absent MAX_FRAME_SIZE means the RFC default 16384.)
    values = server_settings(proxy.port)
    assert values.get(SETTINGS_MAX_CONCURRENT_STREAMS) == 1024, f"default SETTINGS {values}"
    assert values.get(SETTINGS_INITIAL_WINDOW_SIZE) == 1 << 20, f"default SETTINGS {values}"
    assert values.get(SETTINGS_MAX_FRAME_SIZE, 16384) == 16384, f"default SETTINGS {values}"


def test_listener_keepalive_ping(h2env):
    """keepalive {interval: 500ms, timeout: 500ms}: an idle connection is
    PINGed; a peer that answers stays connected, one that does not is
    closed."""
    proxy, _, _ = h2env
    port = proxy.port_of("tuned")
    before = proxy.stat("http.tuned.http2.keepalive_timeout")
    with RawH2(port, timeout=5) as silent:
        silent.handshake()  # its reader ACKs SETTINGS but never PINGs
        assert silent.wait_for(lambda s: s.frames_of(PING), 3), f"no PING within 3s: {silent.summary()}"
        assert silent.wait_closed(4), f"a connection that ignores PINGs was not closed: {silent.summary()}"
    # The H2Client answers PINGs (the h2 library does) whenever it reads, and
    # wait_goaway keeps reading.
    with H2Client(port) as good:
        assert good.get("/ka/1").status == 200
        assert not good.wait_goaway(2), f"a connection answering PINGs was closed: {good.goaway}"
        assert good.get("/ka/2").status == 200
    eventually(lambda: proxy.stat("http.tuned.http2.keepalive_timeout") > before, 3, 0.05,
               "http.tuned.http2.keepalive_timeout counted the unanswered PING")


# -- stats -----------------------------------------------------------------------------

def test_http2_and_http1_connection_stats(h2env):
    proxy, _, _ = h2env
    names = ["http.main.downstream_cx_http2_total", "http.main.downstream_rq_http2_total",
             "http.main.downstream_cx_http1_total", "http.main.downstream_rq_http1_total",
             "cluster.h2.upstream_cx_http2_total", "cluster.h1.upstream_cx_http1_total"]
    s0 = proxy.stats()
    with H2Client(proxy.port) as c:
        assert c.get("/stats/a").status == 200
        assert c.get("/stats/b").status == 200
        assert c.get("/h2up/stats").status == 200
    assert curl(proxy.url("/stats/h1")).status == 200

    def deltas():
        s = proxy.stats()
        return {n: s.get(n, 0) - s0.get(n, 0) for n in names}

    def enough():
        d = deltas()
        return (d["http.main.downstream_cx_http2_total"] >= 1 and d["http.main.downstream_rq_http2_total"] >= 3
                and d["http.main.downstream_cx_http1_total"] >= 1 and d["http.main.downstream_rq_http1_total"] >= 1)

    eventually(enough, 3, 0.05, f"downstream protocol counters moved: {deltas()}")
    s = proxy.stats()
    assert s.get("cluster.h2.upstream_cx_http2_total", 0) >= 1, "an http2 cluster counts HTTP/2 connections"
    assert s.get("cluster.h2.upstream_cx_http1_total", 0) == 0, "an http2 cluster opened HTTP/1.1 connections"
    assert s.get("cluster.h1.upstream_cx_http1_total", 0) >= 1
    assert s.get("cluster.h1.upstream_cx_http2_total", 0) == 0


# -- malformed HTTP/2 the h2 crate lets through (RFC 9113 3.4, 8.1) ---------------------

@pytest.mark.parametrize("upstream", ["h1", "h2"])
def test_pseudo_header_in_request_trailers_is_refused(h2env, upstream):
    from e2e_h2 import (DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PROTOCOL_ERROR, RST_STREAM, frame,
                        hpack_literal, request_block)

    proxy, h1, h2o = h2env
    origin = h1 if upstream == "h1" else h2o
    path = f"{'/h2up' if upstream == 'h2' else ''}/pseudo-trailer-{upstream}"
    with RawH2(proxy.port) as raw:
        raw.handshake()
        raw.send(frame(HEADERS, END_HEADERS, 1, request_block("POST", path))
                 + frame(DATA, 0, 1, b"abc")
                 + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                         hpack_literal(":path", "/evil") + hpack_literal("x-trailer", "1")))
        raw.wait_for(lambda s: s.stream_done(1) or s.goaway() is not None, 5)
        rst = raw.frames_of(RST_STREAM, 1)
        goaway = raw.goaway()
        status = raw.stream_status(1)
        refused = ((rst and rst[0].error_code() == PROTOCOL_ERROR)
                   or (goaway is not None and goaway.error_code() == PROTOCOL_ERROR)
                   or status == 400)
        assert refused, f"not refused: {raw.summary()}, status {status}"
        assert goaway is None or goaway.type == GOAWAY
    # Given time to arrive, no complete request reached the origin.
    time_limit = time.monotonic() + 1
    while time.monotonic() < time_limit:
        assert all(q.path != path for q in origin.requests), "the malformed request was forwarded whole"
        time.sleep(0.05)


@pytest.mark.parametrize("first", ["ping", "headers"])
def test_first_frame_not_settings_is_a_connection_error(h2env, first):
    from e2e_h2 import END_HEADERS, END_STREAM, HEADERS, PROTOCOL_ERROR, frame, ping_frame, request_block

    proxy, h1, _ = h2env
    path = f"/first-frame-{first}"
    request = frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", path))
    with RawH2(proxy.port) as raw:
        raw.send(PREFACE + (ping_frame(b"12345678") + request if first == "ping" else request))
        raw.start_reader()
        assert raw.wait_goaway_or_close(2), f"neither GOAWAY nor close: {raw.summary()}"
        goaway = raw.goaway()
        assert goaway is not None and goaway.error_code() == PROTOCOL_ERROR, raw.summary()
        assert raw.wait_closed(5), "the connection stayed open after GOAWAY(PROTOCOL_ERROR)"
        assert raw.stream_status(1) is None, f"the request was answered: {raw.summary()}"
    assert all(q.path != path for q in h1.requests), "the request was forwarded"
