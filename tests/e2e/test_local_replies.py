"""Local replies (404 NR, 503 UF, 504 UT) keep the connection usable; a
request on a stale pooled upstream connection is retried."""

from __future__ import annotations

import threading
import time

import pytest

from e2e_client import RawConn, build_request, curl, eventually
from e2e_origin import closed_port, response_head
from e2e_proxy import cluster, simple_config


@pytest.fixture(scope="module")
def local(module_env, tmp_path_factory):
    ok = module_env.origin("ok")
    hang = module_env.origin("hang")
    flaky = module_env.origin("flaky")
    log = tmp_path_factory.mktemp("alog") / "access.log"
    proxy = module_env.proxy(simple_config(
        [
            {"match": {"prefix": "/known"}, "cluster": "ok"},
            {"match": {"prefix": "/dead"}, "cluster": "dead"},
            {"match": {"prefix": "/hang"}, "cluster": "hang", "timeout": "500ms"},
            {"match": {"prefix": "/flaky"}, "cluster": "flaky"},
        ],
        [
            cluster("ok", ok),
            cluster("dead", f"127.0.0.1:{closed_port()}", connect_timeout="1s"),
            cluster("hang", hang),
            cluster("flaky", flaky),
        ],
        access_log={"path": str(log), "format": "text"},
    ))
    return proxy, {"ok": ok, "hang": hang, "flaky": flaky}, log


def log_lines(path):
    return path.read_text().splitlines() if path.exists() else []


def wait_log(path, needle, timeout=4.0):
    return eventually(lambda: [l for l in log_lines(path) if needle in l], timeout, 0.1,
                      f"access log line containing {needle!r}")


def test_no_route_404_and_connection_usable(local):
    proxy, _, log = local
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/nowhere/nr-check")
        assert r.status == 404
        assert c.request("GET", "/known").status == 200
        assert c.request("GET", "/nowhere/again").status == 404
        assert c.request("GET", "/known/2").status == 200
    line = wait_log(log, "/nowhere/nr-check")[0]
    assert '" 404 NR ' in line, line


def test_connect_failure_503_and_connection_usable(local):
    proxy, _, log = local
    with RawConn(proxy.port) as c:
        start = time.monotonic()
        r = c.request("GET", "/dead/uf-check")
        assert r.status == 503
        assert time.monotonic() - start < 2.5, "connection refused should fail fast"
        assert c.request("GET", "/known").status == 200
        r = c.request("POST", "/dead/again", body=b"abc")
        assert r.status == 503
        assert c.request("GET", "/known").status == 200
    line = wait_log(log, "/dead/uf-check")[0]
    assert '" 503 UF ' in line, line


def test_upstream_timeout_504_and_connection_usable(local):
    proxy, origins, log = local
    with RawConn(proxy.port, timeout=5) as c:
        start = time.monotonic()
        r = c.request("GET", "/hang/ut-check?never=1")
        elapsed = time.monotonic() - start
        assert r.status == 504
        assert 0.4 <= elapsed <= 2.0, f"504 after {elapsed:.2f}s for a 500ms route timeout"
        assert c.request("GET", "/known").status == 200
    line = wait_log(log, "/hang/ut-check")[0]
    assert '" 504 UT ' in line, line


def test_upstream_timeout_via_curl(local):
    proxy, _, _ = local
    r = curl(proxy.url("/hang/curl?never=1"), timeout=5)
    assert r.status == 504


def test_slow_upstream_within_timeout_ok(local):
    proxy, _, _ = local
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/hang/ok?delay=0.2").status == 200


def test_upstream_closes_idle_connection_retried(local):
    """The upstream closes every keep-alive connection right after its
    response without saying Connection: close. Idempotent requests that land
    on such a stale pooled connection are retried: the client sees no
    error."""
    proxy, origins, _ = local
    flaky = origins["flaky"]
    flaky.reset()
    statuses = []
    with RawConn(proxy.port) as c:
        for i in range(30):
            r = c.request("GET", f"/flaky/{i}?silentclose=1")
            statuses.append(r.status)
            if i % 3 == 1:
                time.sleep(0.05)  # let the close be seen before the next request
    assert statuses == [200] * 30, statuses
    assert flaky.connections >= 2


def test_stale_connection_retry_many_clients(local):
    proxy, _, _ = local
    bad = []

    def worker(n):
        try:
            with RawConn(proxy.port) as c:
                for i in range(15):
                    r = c.request("GET", f"/flaky/{n}/{i}?silentclose=1")
                    if r.status != 200:
                        bad.append((n, i, r.status))
        except Exception as e:  # noqa: BLE001
            bad.append((n, repr(e)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not bad, bad[:5]


def test_upstream_reset_mid_response_does_not_poison_connection(env):
    """An upstream that dies mid-body: the client connection is closed (the
    response cannot be completed) but the proxy keeps serving others."""
    def handler(req, conn):
        if req.path == "/die":
            conn.send(response_head(200, [("content-length", "100")]) + b"partial")
            return "close"
        conn.send(response_head(200, [("content-length", "2")]) + b"ok")
        return "keep"

    origin = env.origin("dies", handler)
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "d"}], [cluster("d", origin)]))
    with RawConn(proxy.port) as c:
        c.send(build_request("GET", "/die"))
        head = c.read_head()
        assert head.status == 200
        assert c.closed_within(3), "truncated response: the client connection must be closed"
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/fine").body == b"ok"


def test_upstream_garbage_response_502(env):
    def handler(req, conn):
        conn.send(b"this is not http\r\n\r\n")
        return "close"

    origin = env.origin("garbage", handler)
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "g"}], [cluster("g", origin)]))
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/garbage")
        assert r.status == 502


@pytest.mark.parametrize("target", ["/nowhere/body", "/dead/body"], ids=["404-NR", "503-UF"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_local_reply_with_unread_body_does_not_desync(local, target, framing):
    """A local reply sent before the request body was read: the body must be
    discarded (or the connection closed), never parsed as the next request."""
    proxy, _, _ = local
    body = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    if framing == "chunked":
        req = build_request("POST", target, [("Transfer-Encoding", "chunked")]) + \
            f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    else:
        req = build_request("POST", target, body=body)
    with RawConn(proxy.port) as c:
        c.send(req + build_request("GET", "/known/next"))
        first = c.read_response()
        assert first.status in (404, 503)
        if "close" in first.connection_tokens:
            assert c.closed_within(3)
            assert c.buf == b""
        else:
            second = c.read_response()
            assert second.status == 200, f"next request got {second.status}: {second.body[:100]!r}"
            assert second.json()["target"] == "/known/next"


def test_direct_response_and_redirect_with_body_do_not_desync(env):
    proxy = env.proxy(simple_config([
        {"match": {"prefix": "/direct"}, "direct_response": {"status": 200, "body": "direct"}},
        {"match": {"prefix": "/redir"}, "redirect": {"status": 302, "host": "elsewhere.example"}},
    ]))
    body = b"GET /direct/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    for target in ("/direct/a", "/redir/a"):
        with RawConn(proxy.port) as c:
            c.send(build_request("POST", target, [("Transfer-Encoding", "chunked")])
                   + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
                   + build_request("GET", "/direct/next"))
            first = c.read_response()
            assert first.status in (200, 302)
            if "close" in first.connection_tokens:
                assert c.closed_within(3) and c.buf == b""
            else:
                second = c.read_response()
                assert second.status == 200 and second.body == b"direct", (second.status, second.body)
                assert c.open_after(0.3), "connection closed after the second response"
                assert c.buf == b"", f"extra response: {bytes(c.buf)[:100]!r}"
