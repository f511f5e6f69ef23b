"""Failure paths pinned end to end, with their status, access log flag and
stat counters:

* HTTP/2 upstream refusals (RST_STREAM REFUSED_STREAM, GOAWAY below the
  stream): an HTTP/2 request is replayed once on a fresh connection with
  its body (up to 64 KiB kept); an HTTP/1.1 request to an HTTP/2 upstream
  is not replayed (503 UR);
* a new upstream HTTP/2 connection once every open one is at its stream
  limit (the cluster's ``http2.max_concurrent_streams`` or the peer's lower
  SETTINGS_MAX_CONCURRENT_STREAMS);
* a dead pooled HTTP/1.1 connection: an idempotent request without a body
  is retried on a fresh connection, a POST with a body is not (503 UC);
* upstream pools survive a config reload.
"""

from __future__ import annotations

import pytest

from e2e_client import RawConn, eventually
from e2e_h2 import REFUSED_STREAM, H2Client, H2Origin, pattern
from e2e_proxy import cluster, simple_config, wait_access_log

REPLAY_LIMIT = 64 * 1024


def h2_origin(env, name: str, **kw) -> H2Origin:
    o = H2Origin(name, **kw)
    env.origins.append(o)
    return o


def h2_proxy(env, origin, log, **cluster_kw):
    """/h2/* -> cluster h2 (protocol http2), access log at `log`."""
    return env.proxy(simple_config(
        [{"match": {"prefix": "/h2/"}, "cluster": "h2", "timeout": "10s"}],
        [cluster("h2", origin, protocol="http2", **cluster_kw)],
        access_log={"path": str(log), "format": "text"},
    ))


def refusing_h2_setup(env, tmp_path, name: str, refusal: str):
    """An HTTP/2 origin that refuses its next stream (REFUSED_STREAM, or a
    GOAWAY below it), behind a proxy that logs to tmp_path/access.log."""
    origin = h2_origin(env, name)
    log = tmp_path / "access.log"
    proxy = h2_proxy(env, origin, log)
    if refusal == "goaway":
        origin.goaway_streams(1)
    else:
        origin.refuse_streams(1)
    return origin, proxy, log


def stat_is(proxy, name: str, want: int) -> None:
    """Bounded poll: stat `name` reaches `want` (and is then checked equal)."""
    eventually(lambda: proxy.stat(name) >= want, 3, 0.02, f"{name} >= {want}")
    assert proxy.stat(name) == want, f"{name} = {proxy.stat(name)}, want {want}"


# -- 1. HTTP/2 upstream refusals ------------------------------------------------------

@pytest.mark.parametrize("refusal", ["refused_stream", "goaway"])
def test_h2_to_h2_refused_stream_is_replayed_with_its_body(env, driver, tmp_path, refusal):
    origin, proxy, log = refusing_h2_setup(env, tmp_path, "refusing", refusal)
    body = pattern(40_000)
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/h2/replay", body=body)
    assert r.status == 200 and r.reset is None, r
    # The first attempt got the whole body and was refused; the replay, on a
    # fresh connection, got it whole again.
    assert len(origin.refused) == 1 and bytes(origin.refused[0].body) == body
    assert len(origin.requests) == 1
    replayed = origin.requests[0]
    assert bytes(replayed.body) == body, (len(replayed.body), len(body))
    assert replayed.conn_id != origin.refused[0].conn_id
    assert origin.connections == 2
    assert r.json()["body_len"] == len(body)

    stat_is(proxy, "cluster.h2.upstream_rq_retry", 1)
    stat_is(proxy, "cluster.h2.upstream_rq_total", 2)
    stat_is(proxy, "cluster.h2.upstream_cx_http2_total", 2)
    if refusal == "goaway":
        assert proxy.stat("cluster.h2.http2.goaway_received") >= 1
        assert proxy.stat("cluster.h2.http2.rx_reset") == 0
    else:
        assert proxy.stat("cluster.h2.http2.goaway_received") == 0
        stat_is(proxy, "cluster.h2.http2.rx_reset", 1)
        stat_is(proxy, "cluster.h2.upstream_rq_rx_reset", 1)
    entry = wait_access_log(log, lambda e: e["path"] == "/h2/replay")
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/2", "200", "-"), entry


@pytest.mark.parametrize("refusal", ["refused_stream", "goaway"])
def test_h2_to_h2_refused_body_over_replay_limit_is_503_ur(env, driver, tmp_path, refusal):
    """More than 64 KiB of body went up before the refusal: not kept, so
    not replayed."""
    origin, proxy, log = refusing_h2_setup(env, tmp_path, "refusing-big", refusal)
    body = pattern(REPLAY_LIMIT + 1)
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/h2/too-big-to-replay", body=body)
    assert r.status == 503, r
    assert len(origin.refused) == 1 and len(origin.refused[0].body) == len(body)
    assert origin.requests == [], "replayed although the body was not kept"
    assert origin.connections == 1
    assert proxy.stat("cluster.h2.upstream_rq_retry") == 0
    if refusal == "goaway":
        assert proxy.stat("cluster.h2.http2.goaway_received") >= 1
    else:
        stat_is(proxy, "cluster.h2.http2.rx_reset", 1)
    entry = wait_access_log(log, lambda e: e["path"] == "/h2/too-big-to-replay")
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/2", "503", "UR"), entry

    # Exactly at the limit it is still replayed.
    origin.refuse_streams(1)
    body = pattern(REPLAY_LIMIT)
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/h2/at-the-limit", body=body)
    assert r.status == 200, r
    assert len(origin.requests) == 1 and bytes(origin.requests[0].body) == body
    stat_is(proxy, "cluster.h2.upstream_rq_retry", 1)


@pytest.mark.parametrize("refusal", ["refused_stream", "goaway"])
def test_h1_to_h2_refused_stream_is_not_replayed(env, driver, tmp_path, refusal):
    """Today an HTTP/1.1 request to an HTTP/2 upstream that refuses the
    stream is not replayed, even without a body: 503 UR and the client
    connection closes."""
    origin, proxy, log = refusing_h2_setup(env, tmp_path, "refusing-h1", refusal)
    with RawConn(proxy.port) as c:
        r = c.request("POST", "/h2/from-h1", body=b"short body")
        assert r.status == 503, (r.status, r.body)
        assert "close" in r.connection_tokens
        assert c.closed_within(3)
    assert len(origin.refused) == 1 and bytes(origin.refused[0].body) == b"short body"
    assert origin.requests == []
    assert proxy.stat("cluster.h2.upstream_rq_retry") == 0
    if refusal == "goaway":
        assert proxy.stat("cluster.h2.http2.goaway_received") >= 1
        assert proxy.stat("cluster.h2.http2.rx_reset") == 0
    else:
        stat_is(proxy, "cluster.h2.http2.rx_reset", 1)
        stat_is(proxy, "cluster.h2.upstream_rq_rx_reset", 1)
    entry = wait_access_log(log, lambda e: e["path"] == "/h2/from-h1")
    assert (entry["proto"], entry["code"], entry["flags"]) == ("HTTP/1.1", "503", "UR"), entry

    # The next request succeeds; after a GOAWAY, never on that connection.
    # (After REFUSED_STREAM the connection stays pooled on this path.)
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/h2/after").status == 200
    assert len(origin.requests) == 1
    if refusal == "goaway":
        assert origin.requests[0].conn_id != origin.refused[0].conn_id


def test_h2_upstream_reset_other_than_refused_is_not_replayed(env, driver, tmp_path):
    """Only REFUSED_STREAM/GOAWAY mean "not processed": another reset code
    is a 503 UR with no retry."""
    origin = h2_origin(env, "resetting")
    log = tmp_path / "access.log"
    proxy = h2_proxy(env, origin, log)
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/h2/reset?reset=2", body=b"x" * 100)
    assert r.status == 503, r
    assert len(origin.requests) == 1
    assert proxy.stat("cluster.h2.upstream_rq_retry") == 0
    stat_is(proxy, "cluster.h2.upstream_rq_rx_reset", 1)
    entry = wait_access_log(log, lambda e: e["path"] == "/h2/reset?reset=2")
    assert (entry["code"], entry["flags"]) == ("503", "UR"), entry


# -- 2. a new HTTP/2 connection when every open one is full ------------------------------

@pytest.mark.parametrize("limit_by", ["cluster", "peer"])
def test_new_h2_connection_when_all_are_at_their_stream_limit(env, driver, tmp_path, limit_by):
    if limit_by == "cluster":
        origin = h2_origin(env, "slots")
        proxy = h2_proxy(env, origin, tmp_path / "access.log", http2={"max_concurrent_streams": 2})
    else:
        origin = h2_origin(env, "slots-peer", max_concurrent_streams=2)
        proxy = h2_proxy(env, origin, tmp_path / "access.log")
    # Five streams held open (answered after 3 s), opened one by one so each
    # sees the slots the earlier ones took. One client connection: one
    # worker, one per-core pool.
    with H2Client(proxy.port, timeout=15) as c:
        sids = []
        for i in range(5):
            sids.append(c.start("GET", f"/h2/held/{i}?delay=3"))
            assert origin.wait_heads(i + 1, 5), f"stream {i} did not reach the origin"
        assert origin.connections == 3, f"{origin.connections} upstream connections for 5 streams, 2 per connection"
        per_conn = sorted(sum(1 for h in origin.heads if h.conn_id == cid) for cid in (1, 2, 3))
        assert per_conn == [1, 2, 2], per_conn
        stat_is(proxy, "cluster.h2.upstream_cx_http2_total", 3)
        got = [c.wait(sid) for sid in sids]
        assert [r.status for r in got] == [200] * 5
        # With the streams done, the next request (same worker) reuses an
        # open connection.
        assert c.get("/h2/after").status == 200
    assert origin.connections == 3
    assert proxy.stat("cluster.h2.upstream_cx_http2_total") == 3


# -- 3. dead pooled HTTP/1.1 connections -------------------------------------------------

def h1_proxy(env, origin, log):
    return env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "backend"}],
        [cluster("backend", origin)],
        access_log={"path": str(log), "format": "text"},
    ))


def idle_connection_closed(origin) -> None:
    """Bounded poll: the origin has closed every connection it accepted (so
    the proxy's pooled one is dead)."""
    eventually(lambda: origin.open_connections == 0, 3, 0.01, "the origin closed its side")


def test_dead_pooled_connection_get_is_retried_on_a_fresh_one(env, driver, tmp_path):
    origin = env.origin("silent-closer")
    log = tmp_path / "access.log"
    proxy = h1_proxy(env, origin, log)
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/first?silentclose=1")
        assert r.status == 200 and r.header("x-origin-conn") == "1"
        idle_connection_closed(origin)
        assert proxy.stat("cluster.backend.upstream_rq_retry") == 0
        r = c.request("GET", "/second")
        assert r.status == 200, (r.status, r.body)
        assert r.header("x-origin-conn") == "2", "not answered on a fresh connection"
    assert [q.target for q in origin.requests] == ["/first?silentclose=1", "/second"]
    stat_is(proxy, "cluster.backend.upstream_rq_retry", 1)
    stat_is(proxy, "cluster.backend.upstream_cx_total", 2)
    # upstream_rq_total counts attempts (as Envoy's pools count streams):
    # /first, then /second twice (the dead connection, then the fresh one).
    stat_is(proxy, "cluster.backend.upstream_rq_total", 3)
    entry = wait_access_log(log, lambda e: e["path"] == "/second")
    assert (entry["code"], entry["flags"]) == ("200", "-"), entry


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_dead_pooled_connection_request_with_body_is_not_replayed(env, driver, tmp_path, method):
    """A request with a body (POST, or even a GET) on a dead pooled
    connection is not replayed: 503 UC."""
    origin = env.origin("silent-closer-post")
    log = tmp_path / "access.log"
    proxy = h1_proxy(env, origin, log)
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/first?silentclose=1").status == 200
        idle_connection_closed(origin)
        r = c.request(method, "/with-body", body=b"payload bytes")
        assert r.status == 503, (r.status, r.body)
    assert [q.target for q in origin.requests] == ["/first?silentclose=1"], "the request reached the origin"
    assert proxy.stat("cluster.backend.upstream_rq_retry") == 0
    assert origin.connections == 1
    entry = wait_access_log(log, lambda e: e["path"] == "/with-body")
    assert (entry["code"], entry["flags"]) == ("503", "UC"), entry


# -- 7. upstream pools survive a config reload -------------------------------------------

@pytest.mark.parametrize("change", ["other_listener", "cluster_settings"])
def test_reload_keeps_upstream_connections(env, driver, change):
    """A reload that adds a listener and a route (the cluster unchanged), or
    one that changes the cluster's settings but keeps its endpoint: the next
    request on the same client connection (same worker) reuses the pooled
    upstream connection."""
    origin = env.origin("pooled")
    config = simple_config([{"match": {"prefix": "/"}, "cluster": "backend"}], [cluster("backend", origin)])
    proxy = env.proxy(config)
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/before")
        assert r.status == 200 and r.header("x-origin-conn") == "1"
        if change == "other_listener":
            config["listeners"][0]["virtual_hosts"][0]["routes"].insert(
                0, {"match": {"prefix": "/direct"}, "direct_response": {"status": 200, "body": "new"}})
            config["listeners"].append({
                "name": "second", "address": "127.0.0.1:0",
                "virtual_hosts": [{"name": "all", "domains": ["*"],
                                   "routes": [{"match": {"prefix": "/"}, "cluster": "backend"}]}]})
        else:
            config["clusters"][0]["connect_timeout"] = "3s"
        proxy.reload(config)
        if change == "other_listener":
            assert c.request("GET", "/direct").body == b"new", "the reload did not apply"
        r = c.request("GET", "/after")
        assert r.status == 200
        assert r.header("x-origin-conn") == "1", "a new upstream connection after the reload"
    assert origin.connections == 1
    assert proxy.stat("cluster.backend.upstream_cx_total") == 1
    assert proxy.stat("cluster.backend.upstream_cx_destroy") == 0
