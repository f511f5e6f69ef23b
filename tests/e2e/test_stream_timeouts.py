"""Envoy's stream timeouts, from ringway's YAML and from an Envoy bootstrap:
the stream idle timeout (nothing moving either way: 408 before the request
is complete, 504 after, a cut once the response has begun; flag SI), the
request timeout (the whole request from its first byte: 408), and a
route's idle_timeout replacing the listener's. Over HTTP/1.1 and HTTP/2,
to HTTP/1.1 upstreams."""

from __future__ import annotations

import json
import select
import time

import pytest

from e2e_client import RawConn, build_request, curl, eventually
from e2e_h2 import H2Client
from e2e_origin import chunk, echo_handler, response_head
from e2e_proxy import cluster, simple_config, wait_access_log
from test_envoy_bootstrap import bootstrap, file_access_log, listener, static_cluster


def stalling_handler(req, conn):
    """`/stall`: a response head and 10 of its 100 body bytes, then nothing
    for 4 s. `/drip`: a chunked response, a chunk every 0.3 s for 2.4 s,
    without reading the request body."""
    if req.path.startswith("/stall"):
        conn.send(response_head(200, [("content-length", "100")]) + b"x" * 10)
        conn.origin.sleep(4)
        return "close"
    if req.path.startswith("/drip"):
        conn.send(response_head(200, [("transfer-encoding", "chunked")]))
        for i in range(8):
            conn.origin.sleep(0.3)
            conn.send(chunk(b"tick %d\n" % i))
        conn.send(b"0\r\n\r\n")
        return "close"
    return echo_handler(req, conn)


@pytest.fixture(scope="module")
def timed(module_env):
    origin = module_env.origin("timeouts")
    # Answers without reading the request body, which is left to the proxy.
    dripper = module_env.origin("dripper", handler=stalling_handler, read_body=False)
    log = module_env.workdir_fn() / "access.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proxy = module_env.proxy(simple_config(
        [
            {"match": {"prefix": "/patient"}, "cluster": "backend", "idle_timeout": "0s"},
            {"match": {"prefix": "/longer"}, "cluster": "backend", "idle_timeout": "3s"},
            {"match": {"prefix": "/drip"}, "cluster": "dripper"},
            {"match": {"prefix": "/stall"}, "cluster": "dripper"},
            {"match": {"prefix": "/"}, "cluster": "backend"},
        ],
        [cluster("backend", origin), cluster("dripper", dripper)],
        limits={"stream_idle_timeout": "1s", "request_timeout": "2500ms"},
        access_log={"path": str(log), "format": "text"},
    ))
    return proxy, origin, log


def timed_response(conn: RawConn):
    start = time.monotonic()
    resp = conn.read_response()
    return resp, time.monotonic() - start


def test_h1_stalled_request_body_gets_408_stream_timeout(timed):
    proxy, _, log = timed
    before = proxy.stat("http.main.downstream_rq_idle_timeout")
    with RawConn(proxy.port, timeout=6) as c:
        c.send(build_request("POST", "/upload-stalled", [("Content-Length", "100")]) + b"y" * 10)
        resp, elapsed = timed_response(c)
        assert (resp.status, resp.body) == (408, b"stream timeout\n")
        assert 0.8 <= elapsed <= 2.4, f"after {elapsed:.2f}s (stream_idle_timeout 1s)"
        assert c.closed_within(2), "the unread body must close the connection"
    entry = wait_access_log(log, lambda e: e["path"] == "/upload-stalled")
    assert (entry["code"], entry["flags"]) == ("408", "SI")
    eventually(lambda: proxy.stat("http.main.downstream_rq_idle_timeout") == before + 1, 3, 0.05,
               "downstream_rq_idle_timeout")


def test_h1_trickled_body_gets_408_request_timeout(timed):
    """Never idle for 1 s, but not whole within request_timeout (2.5 s)."""
    proxy, _, log = timed
    before = proxy.stat("http.main.downstream_rq_timeout")
    with RawConn(proxy.port, timeout=8) as c:
        start = time.monotonic()
        c.send(build_request("POST", "/upload-trickle", [("Content-Length", "100")]))
        # A byte every 0.4 s until the proxy answers (bounded: 5 s).
        while time.monotonic() - start < 5:
            try:
                c.send(b"z")
            except OSError:
                break
            readable, _, _ = select.select([c.sock], [], [], 0.4)
            if readable:
                break
        resp = c.read_response()
        elapsed = time.monotonic() - start
        assert (resp.status, resp.body) == (408, b"request timeout\n")
        assert 2.2 <= elapsed <= 4.0, f"after {elapsed:.2f}s (request_timeout 2.5s)"
    entry = wait_access_log(log, lambda e: e["path"] == "/upload-trickle")
    assert (entry["code"], entry["flags"]) == ("408", "-")
    eventually(lambda: proxy.stat("http.main.downstream_rq_timeout") == before + 1, 3, 0.05,
               "downstream_rq_timeout")


def test_h1_silent_upstream_gets_504_stream_timeout_before_the_route_timeout(timed):
    """The request is complete, so 504; the route timeout (15 s) is longer."""
    proxy, _, log = timed
    start = time.monotonic()
    r = curl(proxy.url("/silent?never=1"), timeout=8)
    elapsed = time.monotonic() - start
    assert (r.status, r.body) == (504, b"stream timeout\n")
    assert elapsed <= 3.0, f"after {elapsed:.2f}s"
    entry = wait_access_log(log, lambda e: e["path"] == "/silent?never=1")
    assert (entry["code"], entry["flags"]) == ("504", "SI")


def test_h1_response_stalling_mid_body_is_cut(timed):
    proxy, _, log = timed
    with RawConn(proxy.port, timeout=6) as c:
        c.send(build_request("GET", "/stall"))
        head = c.read_head()
        assert head.status == 200
        start = time.monotonic()
        assert c.closed_within(3), "a response idle for the stream idle timeout must be cut"
        assert time.monotonic() - start >= 0.5
    entry = wait_access_log(log, lambda e: e["path"] == "/stall")
    assert (entry["code"], entry["flags"]) == ("200", "SI")


def test_route_idle_timeout_replaces_the_listeners(timed):
    proxy, _, _ = timed
    # Off on /patient: a 1.6 s wait for the upstream is answered.
    assert curl(proxy.url("/patient?delay=1.6"), timeout=8).status == 200
    # 3 s on /longer: 1.6 s is fine, silence is cut after 3 s, not 1 s.
    assert curl(proxy.url("/longer?delay=1.6"), timeout=8).status == 200
    start = time.monotonic()
    r = curl(proxy.url("/longer/silent?never=1"), timeout=8)
    elapsed = time.monotonic() - start
    assert (r.status, r.body) == (504, b"stream timeout\n")
    assert 2.7 <= elapsed <= 4.5, f"after {elapsed:.2f}s (route idle_timeout 3s)"
    # The listener's 1 s still applies elsewhere.
    assert curl(proxy.url("/plain?delay=1.6"), timeout=8).status == 504


def test_h2_stalled_request_body_gets_408_and_silent_upstream_504(timed):
    proxy, _, log = timed
    with H2Client(proxy.port, timeout=6) as c:
        sid = c.start("POST", "/h2-upload-stalled", body=b"y" * 10, end_stream=False)
        start = time.monotonic()
        resp = c.wait(sid)
        elapsed = time.monotonic() - start
        assert (resp.status, resp.body) == (408, b"stream timeout\n")
        assert 0.8 <= elapsed <= 2.4, f"after {elapsed:.2f}s"
        resp = c.get("/h2-silent?never=1")
        assert (resp.status, resp.body) == (504, b"stream timeout\n")
    entry = wait_access_log(log, lambda e: e["path"] == "/h2-upload-stalled")
    assert (entry["code"], entry["flags"], entry["proto"]) == ("408", "SI", "HTTP/2")


def test_h2_response_moving_keeps_a_silent_request_body_alive(timed):
    """Envoy's stream idle timeout counts both directions: a response that
    drips for 2.4 s while the request body stays silent is not idle."""
    proxy, _, _ = timed
    with H2Client(proxy.port, timeout=8) as c:
        sid = c.start("POST", "/drip", body=b"partial", end_stream=False)
        resp = c.wait(sid)
        assert resp.status == 200
        # The response ends the stream; the open request half may be reset
        # with NO_ERROR (RFC 9113, 8.1), never with an error.
        assert resp.reset in (None, 0), resp
        assert resp.body.count(b"tick") == 8, resp


def test_h1_response_moving_keeps_a_silent_request_body_alive(timed):
    proxy, _, log = timed
    with RawConn(proxy.port, timeout=8) as c:
        c.send(build_request("POST", "/drip-h1", [("Content-Length", "100")]) + b"p" * 10)
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body.count(b"tick") == 8
    entry = wait_access_log(log, lambda e: e["path"] == "/drip-h1")
    assert entry["code"] == "200"


def test_envoy_bootstrap_stream_timeouts(env):
    origin = env.origin("envoy-timeouts")
    access_log, log = file_access_log(env)
    routes = """
              - match: { prefix: "/patient" }
                route: { cluster: backend, idle_timeout: 0s }
              - match: { prefix: "/" }
                route: { cluster: backend }
"""
    extra = """
          stream_idle_timeout: 1s
          request_timeout: 10s""" + access_log
    config = bootstrap(listener(routes, extra_hcm=extra), static_cluster("backend", origin))
    proxy = env.proxy(config)
    start = time.monotonic()
    r = curl(proxy.url("/silent?never=1"), timeout=8)
    assert (r.status, r.body) == (504, b"stream timeout\n")
    assert time.monotonic() - start <= 3.0
    assert curl(proxy.url("/patient?delay=1.5"), timeout=8).status == 200
    wait_access_log(log, lambda e: e["path"] == "/silent?never=1" and e["flags"] == "SI")
    eventually(lambda: proxy.stat("http.ingress_http.downstream_rq_idle_timeout") >= 1, 3, 0.05,
               "http.<stat_prefix>.downstream_rq_idle_timeout")
    dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin_get("/config_dump"))["configs"]}
    [active] = dump["ListenersConfigDump"]["static_listeners"]
    hcm = active["listener"]["filter_chains"][0]["filters"][0]["typed_config"]
    assert (hcm["stream_idle_timeout"], hcm["request_timeout"]) == ("1s", "10s")
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    assert routes[0]["route"]["idle_timeout"] == "0s"
    assert "idle_timeout" not in routes[1]["route"]


def test_envoy_default_stream_idle_timeout_is_five_minutes(env):
    origin = env.origin("envoy-default")
    routes = """
              - match: { prefix: "/" }
                route: { cluster: backend }
"""
    proxy = env.proxy(bootstrap(listener(routes), static_cluster("backend", origin)))
    dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin_get("/config_dump"))["configs"]}
    [active] = dump["ListenersConfigDump"]["static_listeners"]
    hcm = active["listener"]["filter_chains"][0]["filters"][0]["typed_config"]
    assert hcm["stream_idle_timeout"] == "300s"
    assert "request_timeout" not in hcm
    assert eventually(lambda: curl(proxy.url("/")).status == 200)
