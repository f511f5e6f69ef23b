"""Forwarding: keep-alive, bodies, pipelining, 100-continue, framing of
HEAD/1xx/204/304, Connection: close, hop-by-hop headers, X-Forwarded-*,
x-request-id, HTTP/1.0."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from e2e_client import ConnectionClosed, RawConn, build_request, chunked_body, curl, eventually
from e2e_origin import chunk, response_head
from e2e_proxy import cluster, simple_config

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
              "transfer-encoding"}


@pytest.fixture(scope="module")
def fwd(module_env):
    origin = module_env.origin("fwd")
    proxy = module_env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "backend", "timeout": "5s"}],
        [cluster("backend", origin)],
    ))
    return proxy, origin


def seen_headers(resp) -> dict:
    """Upstream-seen headers from an echo body: {lower name: [values]}."""
    out: dict = {}
    for k, v in resp.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_get_via_curl(fwd):
    proxy, origin = fwd
    r = curl(proxy.url("/hello?x=1"), "-H", "X-Custom: abc")
    assert r.status == 200, r.stderr
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["target"] == "/hello?x=1"
    assert echo["version"] == "HTTP/1.1"
    hdrs = {k.lower(): v for k, v in echo["headers"]}
    assert hdrs["x-custom"] == "abc"
    assert hdrs["host"] == f"127.0.0.1:{proxy.port}"
    assert r.header("x-origin") == "fwd"


def test_downstream_keepalive_many_requests_one_connection(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        for i in range(20):
            r = c.request("GET", f"/ka/{i}")
            assert r.status == 200
            assert r.json()["target"] == f"/ka/{i}"
            assert "close" not in r.connection_tokens


def test_upstream_connections_are_reused(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        conns = set()
        for i in range(10):
            r = c.request("GET", f"/reuse/{i}")
            assert r.status == 200
            conns.add(r.json()["conn"])
    # One downstream connection lives on one worker, which should keep using
    # its idle upstream connection.
    assert len(conns) == 1, f"upstream connections used: {conns}"


def test_post_content_length_body(fwd):
    proxy, _ = fwd
    body = bytes(range(256)) * 40
    with RawConn(proxy.port) as c:
        r = c.request("POST", "/upload", [("Content-Type", "application/octet-stream")], body)
    assert r.status == 200
    echo = r.json()
    assert echo["body"].encode("latin-1") == body
    assert echo["method"] == "POST"


def test_post_via_curl(fwd):
    proxy, _ = fwd
    r = curl(proxy.url("/form"), "--data-binary", "@-", data=b"a=1&b=2")
    assert r.status == 200
    assert r.json()["body"] == "a=1&b=2"


def test_chunked_request_body_and_trailers_reach_upstream(fwd):
    proxy, _ = fwd
    body = b"The quick brown fox jumps over the lazy dog" * 10
    head = build_request("POST", "/chunked-up", [("Transfer-Encoding", "chunked"),
                                                 ("Trailer", "x-checksum")])
    with RawConn(proxy.port) as c:
        c.send(head + chunked_body(body, 13, trailers=[("X-Checksum", "abc123")]))
        r = c.read_response()
    assert r.status == 200
    echo = r.json()
    assert echo["body"].encode() == body
    assert echo["chunked"], "a chunked request body must stay chunked upstream (trailers need it)"
    trailers = {k.lower(): v for k, v in echo["trailers"]}
    assert trailers.get("x-checksum") == "abc123", f"trailers seen upstream: {echo['trailers']}"


def test_chunked_response_with_trailers_reaches_client(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/chunked?trailers=1", [("TE", "trailers")])
        assert r.status == 200
        assert r.chunked
        assert r.json()["target"] == "/chunked?trailers=1"
        trailers = dict(r.trailers)
        assert trailers.get("x-trailer-one") == "1", r.trailers
        assert trailers.get("x-trailer-two") == "two", r.trailers
        # The connection is still in sync.
        assert c.request("GET", "/after-trailers").status == 200


def test_response_body_is_streamed(module_env, driver):
    """The first chunk reaches the client while the upstream still holds the
    rest back."""
    release = threading.Event()

    def handler(req, conn):
        conn.send(response_head(200, [("transfer-encoding", "chunked")]) + chunk(b"first-part"))
        release.wait(10)
        conn.send(chunk(b"second-part") + b"0\r\n\r\n")
        return "keep"

    origin = module_env.origin("stream", handler)
    proxy = module_env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "s"}],
                                           [cluster("s", origin)]))
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("GET", "/stream"))
        try:
            head = c.read_head()
            assert head.status == 200

            def got_first():
                if b"first-part" in c.buf:
                    return True
                c.sock.settimeout(0.1)
                try:
                    data = c.sock.recv(65536)
                    if data:
                        c.buf += data
                except socket.timeout:
                    pass
                finally:
                    c.sock.settimeout(5)
                return b"first-part" in c.buf

            eventually(got_first, 3, 0.01, "first chunk forwarded before the body ended")
        finally:
            release.set()


def test_request_body_is_streamed(module_env, driver):
    """The upstream sees the start of a request body before the client has
    sent the rest."""
    got_first = threading.Event()

    def handler(req, conn):
        # The origin leaves the body to us (read_body=False).
        total = int(req.header("content-length"))
        data = b""
        while b"first" not in data and len(data) < total:
            more = conn.reader.read_some()
            if not more:
                return "close"
            data += more
        got_first.set()
        if total - len(data) > 0:
            conn.reader.read_exact(total - len(data))
        conn.send(response_head(200, [("content-length", "2")]) + b"ok")
        return "keep"

    origin = module_env.origin("stream-up", handler, read_body=False)
    proxy = module_env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "s"}],
                                           [cluster("s", origin)]))
    with RawConn(proxy.port, timeout=5) as c:
        c.send(build_request("POST", "/upload-stream", [("Content-Length", "15")]) + b"first")
        assert got_first.wait(3), "the first body bytes were not forwarded before the rest arrived"
        c.send(b"-rest-of-b")
        r = c.read_response()
        assert r.status == 200 and r.body == b"ok"


def test_pipelined_requests_answered_in_order(fwd):
    proxy, _ = fwd
    reqs = b"".join(build_request("GET", f"/pipe/{i}") for i in range(5))
    reqs += build_request("POST", "/pipe/post", body=b"pipelined-body")
    reqs += build_request("GET", "/pipe/last")
    with RawConn(proxy.port) as c:
        c.send(reqs)
        targets = [c.read_response().json()["target"] for _ in range(7)]
    assert targets == [f"/pipe/{i}" for i in range(5)] + ["/pipe/post", "/pipe/last"]


def test_chunked_request_then_keepalive_request(fwd):
    """A chunked body that arrives in the same segment as its head is
    consumed exactly: the next request on the connection is parsed from
    the right offset."""
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        c.send(build_request("POST", "/ck/1", [("Transfer-Encoding", "chunked")]) + b"5\r\nhello\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.json()["body"] == "hello"
        r = c.request("GET", "/ck/2")
        assert r.status == 200, f"second request on the connection got {r.status} {r.body!r}"
        assert r.json()["target"] == "/ck/2"


def test_pipelined_chunked_requests(fwd):
    proxy, _ = fwd
    data = b"".join(build_request("POST", f"/pck/{i}", [("Transfer-Encoding", "chunked")])
                    + chunked_body(f"body-{i}".encode(), 4) for i in range(3))
    with RawConn(proxy.port) as c:
        c.send(data + build_request("GET", "/pck/end"))
        got = []
        for _ in range(4):
            try:
                r = c.read_response()
            except ConnectionClosed:
                got.append("connection closed")
                break
            got.append((r.status, r.json()["target"] if r.status == 200 else r.body))
    assert got == [(200, "/pck/0"), (200, "/pck/1"), (200, "/pck/2"), (200, "/pck/end")], got


def test_pipelined_slow_first_request_keeps_order(fwd):
    proxy, _ = fwd
    reqs = build_request("GET", "/slow?delay=0.4") + build_request("GET", "/fast")
    with RawConn(proxy.port) as c:
        c.send(reqs)
        first = c.read_response()
        second = c.read_response()
    assert first.json()["target"] == "/slow?delay=0.4"
    assert second.json()["target"] == "/fast"


def test_expect_100_continue(fwd):
    proxy, _ = fwd
    body = b"x" * 1000
    with RawConn(proxy.port, timeout=2) as c:
        c.send(build_request("POST", "/expect", [("Expect", "100-continue"),
                                                 ("Content-Length", str(len(body)))]))
        interim = c.read_head()
        assert interim.status == 100, f"expected 100 Continue first, got {interim.raw_head!r}"
        c.send(body)
        r = c.read_response()
        assert r.status == 200
        hdrs = seen_headers(r)
        assert "expect" not in hdrs, f"Expect forwarded upstream: {hdrs['expect']}"
        assert r.json()["body_len"] == len(body)
        assert c.request("GET", "/after-expect").status == 200


def test_expect_100_continue_via_curl(fwd):
    proxy, _ = fwd
    r = curl(proxy.url("/expect-curl"), "-H", "Expect: 100-continue", "--data-binary", "@-",
             data=b"y" * 5000)
    assert r.status == 200
    assert r.json()["body_len"] == 5000
    assert any(" 100" in s for s in r.all_heads), r.all_heads


def test_head_response_has_no_body(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("HEAD", "/head?size=12345")
        assert r.status == 200
        assert r.header("content-length") == "12345"
        # Any body bytes would corrupt the next response.
        r2 = c.request("GET", "/after-head")
        assert r2.status == 200 and r2.json()["target"] == "/after-head"


def test_head_of_chunked_response(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("HEAD", "/head?chunked=1")
        assert r.status == 200
        r2 = c.request("GET", "/after-head-chunked")
        assert r2.json()["target"] == "/after-head-chunked"


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_statuses(fwd, status):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        # 304 with a Content-Length describing the would-be body: no body follows.
        r = c.request("GET", f"/s?status={status}&cl304=50")
        assert r.status == status
        if status == 204:
            assert r.header("content-length") in (None, "0")
            assert r.header("transfer-encoding") is None
        r2 = c.request("GET", "/after-bodyless")
        assert r2.status == 200 and r2.json()["target"] == "/after-bodyless"


def test_informational_response_then_final(fwd):
    """A 103 Early Hints goes to the client as it comes, well before the
    final response (which the origin sends 1 s later)."""
    proxy, _ = fwd
    with RawConn(proxy.port, timeout=5) as c:
        start = time.monotonic()
        c.send(build_request("GET", "/early?early=1&delay=1"))
        info = c.read_head()
        info_at = time.monotonic() - start
        assert info.status == 103, f"first response is {info.status}, not the 103"
        assert info.header("link") == "</style.css>; rel=preload"
        assert info.header("content-length") is None
        assert info_at < 0.8, f"the 103 arrived after {info_at:.2f}s: held back until the final response"
        r = c.read_response()
        assert r.status == 200 and r.informational == []
        assert time.monotonic() - start >= 0.9
        assert r.json()["target"] == "/early?early=1&delay=1"
        r2 = c.request("GET", "/after-early")
        assert r2.status == 200


def test_connection_close_from_client(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/close-me", [("Connection", "close")])
        assert r.status == 200
        assert "close" in r.connection_tokens, r.headers
        assert c.closed_within(3), "proxy kept the connection open after Connection: close"
        assert c.buf == b""


def test_connection_close_from_upstream_keeps_client_informed(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/up-close?close=1")
        assert r.status == 200
        # The upstream's Connection: close is hop-by-hop; the client connection
        # may stay open and must still work.
        if "close" in r.connection_tokens:
            assert c.closed_within(3)
        else:
            assert c.request("GET", "/after-up-close").status == 200


def test_close_delimited_upstream_response(fwd):
    """An upstream response framed by closing the connection is forwarded
    whole."""
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/noframing?noframing=1")
        assert r.status == 200
        assert r.json()["target"] == "/noframing?noframing=1"


def test_request_hop_by_hop_headers_stripped(fwd):
    proxy, _ = fwd
    headers = [
        ("Connection", "keep-alive, X-Drop-Me"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("TE", "gzip"),
        ("Trailer", "x-foo"),
        ("Upgrade", "foo/1"),
        ("X-Drop-Me", "secret"),
        ("X-Keep-Me", "kept"),
    ]
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/hop", headers)
    assert r.status == 200
    hdrs = seen_headers(r)
    for name in ("keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-drop-me"):
        assert name not in hdrs, f"{name} forwarded upstream: {hdrs.get(name)}"
    for v in hdrs.get("connection", []):
        assert "x-drop-me" not in v.lower(), f"Connection forwarded upstream: {v}"
    assert hdrs["x-keep-me"] == ["kept"]


def test_response_hop_by_hop_headers_stripped(fwd):
    proxy, _ = fwd
    q = "&".join(f"hdr={h}" for h in [
        "Connection:x-secret", "Keep-Alive:timeout%3D5", "Proxy-Connection:keep-alive",
        "X-Secret:1", "Upgrade:h2c", "TE:trailers", "Trailer:x-nothing", "X-Public:yes"])
    with RawConn(proxy.port) as c:
        r = c.request("GET", f"/hop-resp?{q}")
        assert r.status == 200
        names = {k for k, _ in r.headers}
        for name in ("keep-alive", "proxy-connection", "x-secret", "upgrade", "te", "trailer"):
            assert name not in names, f"{name} forwarded to the client: {r.header(name)}"
        assert r.connection_tokens <= {"close", "keep-alive"}, r.header_all("connection")
        assert r.header("x-public") == "yes"
        assert c.request("GET", "/after-hop").status == 200


def test_x_forwarded_for_added(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/xff")
    assert seen_headers(r)["x-forwarded-for"] == ["127.0.0.1"]


def test_x_forwarded_for_appended(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/xff", [("X-Forwarded-For", "203.0.113.7, 198.51.100.2")])
    values = seen_headers(r)["x-forwarded-for"]
    joined = ", ".join(values)
    parts = [p.strip() for p in joined.split(",")]
    assert parts == ["203.0.113.7", "198.51.100.2", "127.0.0.1"], values


def test_x_forwarded_proto(fwd):
    # As Envoy with use_remote_address (ringway's default) and no trusted
    # hop: the peer is not a trusted proxy, so its value is replaced.
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/xfp")
        assert seen_headers(r)["x-forwarded-proto"] == ["http"]
        r = c.request("GET", "/xfp", [("X-Forwarded-Proto", "https")])
        assert seen_headers(r)["x-forwarded-proto"] == ["http"]


def test_request_id_generated_and_kept(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        a = seen_headers(c.request("GET", "/rid"))["x-request-id"]
        b = seen_headers(c.request("GET", "/rid"))["x-request-id"]
        kept = seen_headers(c.request("GET", "/rid", [("X-Request-Id", "my-id-123")]))["x-request-id"]
    assert len(a) == 1 and UUID4.match(a[0]), a
    assert len(b) == 1 and UUID4.match(b[0]), b
    assert a != b
    assert kept == ["my-id-123"]


def test_http10_client(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        c.send(b"GET /ten HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert r.json()["target"] == "/ten"
        assert c.closed_within(3), "HTTP/1.0 connection without keep-alive must be closed"


def test_http10_client_gets_no_chunked_response(fwd):
    """RFC 9112 6.1: chunked must not be sent to an HTTP/1.0 client."""
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        c.send(b"GET /ten-chunked?chunked=1 HTTP/1.0\r\nHost: a\r\n\r\n")
        head = c.read_head()
        assert head.status == 200
        assert head.header("transfer-encoding") is None, head.raw_head
        body = c.read_to_close(3) if head.header("content-length") is None else None
        if body is None:
            body = c._exact(int(head.header("content-length")))
        assert b'"/ten-chunked?chunked=1"' in body


def test_http10_via_curl(fwd):
    proxy, _ = fwd
    r = curl(proxy.url("/ten-curl"), "--http1.0")
    assert r.status == 200
    assert r.json()["target"] == "/ten-curl"


def test_large_header_value_forwarded(fwd):
    proxy, _ = fwd
    value = "v" * 8000
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/big-header", [("X-Big", value)])
    assert r.status == 200
    assert seen_headers(r)["x-big"] == [value]


def test_response_split_across_many_writes(module_env, driver):
    """Status line, headers and body arriving byte by byte are reassembled."""
    def handler(req, conn):
        data = response_head(200, [("content-length", "5"), ("x-slow", "1")]) + b"hello"
        for i in range(0, len(data), 3):
            conn.send(data[i:i + 3])
            time.sleep(0.002)
        return "keep"

    origin = module_env.origin("dribble", handler)
    proxy = module_env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "d"}],
                                           [cluster("d", origin)]))
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/dribble")
        assert r.status == 200 and r.body == b"hello" and r.header("x-slow") == "1"
        r = c.request("GET", "/dribble")
        assert r.body == b"hello"


def test_concurrent_clients(fwd):
    proxy, _ = fwd
    errors = []

    def worker(n):
        try:
            with RawConn(proxy.port) as c:
                for i in range(20):
                    r = c.request("GET", f"/conc/{n}/{i}")
                    if r.status != 200 or r.json()["target"] != f"/conc/{n}/{i}":
                        errors.append((n, i, r.status))
        except Exception as e:  # noqa: BLE001
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors[:5]



# -- more framing and ordering edge cases --------------------------------------

def test_connection_close_header_case_insensitive(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/close-upper", [("CONNECTION", "Close")])
        assert r.status == 200
        assert c.closed_within(3)


def test_pipelined_after_connection_close_not_served(fwd):
    proxy, origin = fwd
    with RawConn(proxy.port) as c:
        c.send(build_request("GET", "/pc/1", [("Connection", "close")]) + build_request("GET", "/pc/2"))
        r = c.read_response()
        assert r.json()["target"] == "/pc/1"
        assert c.closed_within(3)
        assert c.buf == b"", f"a response after Connection: close: {bytes(c.buf)[:100]!r}"


def test_deep_pipeline(fwd):
    proxy, _ = fwd
    n = 100
    with RawConn(proxy.port, timeout=10) as c:
        c.send(b"".join(build_request("GET", f"/deep/{i}") for i in range(n)))
        for i in range(n):
            assert c.read_response().json()["target"] == f"/deep/{i}"


def test_pipeline_with_large_response_first(fwd):
    proxy, _ = fwd
    size = 5 * 1024 * 1024
    with RawConn(proxy.port, timeout=10) as c:
        c.send(build_request("GET", f"/bigfirst?size={size}") + build_request("GET", "/small-second"))
        first = c.read_response()
        assert len(first.body) == size
        assert c.read_response().json()["target"] == "/small-second"


def test_requests_sent_byte_by_byte(fwd):
    """The parser resumes correctly at every byte boundary (pipelined GET,
    chunked POST with trailer, Content-Length POST)."""
    proxy, _ = fwd
    data = (build_request("GET", "/bytes/1")
            + build_request("POST", "/bytes/2", [("Transfer-Encoding", "chunked")])
            + chunked_body(b"abcdefghij", 3, trailers=[("X-T", "1")])
            + build_request("POST", "/bytes/3", body=b"0123456789"))
    with RawConn(proxy.port, timeout=10) as c:
        for i in range(len(data)):
            c.send(data[i:i + 1])
        rs = [c.read_response() for _ in range(3)]
    got = [(r.status, r.json()["target"] if r.status == 200 else r.body) for r in rs]
    assert got == [(200, "/bytes/1"), (200, "/bytes/2"), (200, "/bytes/3")], got
    assert rs[1].json()["body"] == "abcdefghij"
    assert rs[2].json()["body"] == "0123456789"


def test_many_tiny_chunks(fwd):
    proxy, _ = fwd
    body = bytes(i % 251 for i in range(20000))
    with RawConn(proxy.port, timeout=10) as c:
        c.send(build_request("POST", "/tiny", [("Transfer-Encoding", "chunked")]) + chunked_body(body, 1))
        r = c.read_response()
    assert r.status == 200 and r.json()["body"].encode("latin-1") == body


def test_zero_length_post(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("POST", "/empty", [("Content-Length", "0")])
        assert r.json()["body_len"] == 0
        r = c.request("POST", "/empty-chunked", [("Transfer-Encoding", "chunked")], b"0\r\n\r\n")
        assert r.json()["body_len"] == 0
        assert c.request("GET", "/after-empty").status == 200


def test_target_forwarded_verbatim(fwd):
    """No decoding or normalisation of the request-target."""
    proxy, _ = fwd
    target = "/p%20a/%2F/b;c=d?x=%2F&y=a+b&z=%7E&&w"
    with RawConn(proxy.port) as c:
        assert c.request("GET", target).json()["target"] == target


def test_repeated_headers_preserved(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/multi?hdr=Set-Cookie:a%3D1&hdr=Set-Cookie:b%3D2",
                      [("X-Multi", "one"), ("X-Other", "o"), ("X-Multi", "two"), ("X-Empty", "")])
    assert r.header_all("set-cookie") == ["a=1", "b=2"]
    hdrs = seen_headers(r)
    assert hdrs["x-multi"] == ["one", "two"] or hdrs["x-multi"] == ["one, two"], hdrs["x-multi"]
    assert hdrs["x-empty"] == [""]


def test_multiple_xff_lines(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/xff2", [("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "2.2.2.2")])
    joined = ", ".join(seen_headers(r)["x-forwarded-for"])
    assert [p.strip() for p in joined.split(",")] == ["1.1.1.1", "2.2.2.2", "127.0.0.1"], joined


def test_large_response_headers(fwd):
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/bighdr?bighdr=16000")
        assert r.status == 200 and r.header("x-large") == "L" * 16000
        assert c.request("GET", "/after-bighdr").status == 200


@pytest.mark.parametrize("raw_response,expected", [
    # An upstream response with both framings: Transfer-Encoding wins and the
    # Content-Length must not reach the client (RFC 9112 6.3).
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "te-wins-or-502"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "502"),
    (b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", "200-ok"),
], ids=["cl-and-te", "differing-cl", "empty-reason"])
def test_upstream_response_framing(module_env, driver, raw_response, expected):
    def handler(req, conn):
        conn.send(raw_response)
        return "close"

    origin = module_env.origin("framing", handler)
    proxy = module_env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "f"}],
                                           [cluster("f", origin)]))
    with RawConn(proxy.port) as c:
        c.send(build_request("GET", "/framing"))
        r = c.read_response()
        if expected == "te-wins-or-502":
            if r.status != 502:
                assert r.status == 200 and r.body == b"hello", (r.raw_head, r.body)
                assert not (r.has("content-length") and r.has("transfer-encoding")), r.raw_head
        elif expected == "502":
            assert r.status == 502, (r.raw_head, r.body)
        else:
            assert r.status == 200 and r.body == b"ok"


def test_client_abort_does_not_desync_pooled_upstream(env):
    """A client that goes away while its response is pending must not leave
    that response on a pooled upstream connection for the next request."""
    origin = env.origin("abort")
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "a"}], [cluster("a", origin)]),
                      concurrency=1)
    with RawConn(proxy.port) as warm:
        assert warm.request("GET", "/warm").status == 200
    a = RawConn(proxy.port)
    a.send(build_request("GET", "/aborted?delay=0.4"))
    assert origin.wait_heads(2, 3)
    a.close()
    time.sleep(0.7)  # the slow response has reached the proxy by now
    with RawConn(proxy.port) as b:
        for i in range(3):
            assert b.request("GET", f"/next/{i}").json()["target"] == f"/next/{i}"


def test_http10_keepalive(fwd):
    """An HTTP/1.0 client asking for keep-alive either gets a closed
    connection, or a response that says keep-alive and has a length."""
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        c.send(b"GET /ten-ka HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
        head = c.read_head()
        assert head.status == 200
        assert head.header("transfer-encoding") is None
        if head.header("content-length") is None:
            assert b"/ten-ka" in c.read_to_close(3)
            return
        c._exact(int(head.header("content-length")))
        if c.closed_within(0.5):
            return
        assert "keep-alive" in {t.lower() for t in head.connection_tokens}, \
            f"connection kept open for an HTTP/1.0 client without Connection: keep-alive: {head.raw_head!r}"
        c.send(b"GET /ten-ka2 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
        assert c.read_head().status == 200


@pytest.mark.parametrize("target, upstream_target", [
    ("http://api.example:8080/a/b?c=1", "/a/b?c=1"),
    ("http://api.example:8080", "/"),
    ("http://api.example:8080?q=2", "/?q=2"),
])
def test_absolute_form_goes_upstream_in_origin_form(fwd, target, upstream_target):
    """RFC 9112 3.2.2: the target's authority replaces Host, and the origin
    server gets origin-form."""
    proxy, _ = fwd
    with RawConn(proxy.port) as c:
        r = c.request("GET", target, host="ignored.example")
        assert r.status == 200
        echo = r.json()
        assert echo["target"] == upstream_target
        assert seen_headers(r)["host"] == ["api.example:8080"]
        # The connection stays usable.
        assert c.request("GET", "/after").status == 200
