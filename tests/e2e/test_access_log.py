"""Access logs: Envoy's default text format and JSON lines."""

from __future__ import annotations

import json
import re

from e2e_client import RawConn, build_request, curl, eventually
from e2e_origin import echo_handler
from e2e_proxy import access_log_entries, cluster, simple_config

TEXT_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] '
    r'"(?P<method>\S+) (?P<path>\S+) (?P<proto>HTTP/1\.[01])" '
    r'(?P<code>\d{3}) (?P<flags>\S+) (?P<rx>\d+) (?P<tx>\d+) (?P<duration>\d+) (?P<upstream_time>\d+|-) '
    r'"(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream>[^"]*)"$'
)


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def test_text_access_log(env, tmp_path):
    origin = env.origin("logged")
    log = tmp_path / "access.log"
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/app"}, "cluster": "backend"}],
        [cluster("backend", origin)],
        access_log={"path": str(log), "format": "text"},
    ))
    r = curl(proxy.url("/app/item?id=5"), "-H", "X-Forwarded-For: 10.1.2.3", "-A", "e2e-agent/1.0",
             "-H", "X-Request-Id: rid-42", "--data-binary", "@-", data=b"0123456789")
    assert r.status == 200
    curl(proxy.url("/missing"), "-A", "e2e-agent/1.0")

    found = eventually(lambda: [l for l in lines(log) if "/app/item" in l], 4, 0.1, "access log line")
    m = TEXT_LINE.match(found[0])
    assert m, f"line does not match Envoy's default format: {found[0]!r}"
    f = m.groupdict()
    assert f["method"] == "POST"
    assert f["path"] == "/app/item?id=5"
    assert f["proto"] == "HTTP/1.1"
    assert f["code"] == "200"
    assert f["flags"] == "-"
    assert f["rx"] == "10"
    assert int(f["tx"]) == len(r.body)
    assert f["upstream_time"] != "-"
    assert f["xff"] == "10.1.2.3"
    assert f["ua"] == "e2e-agent/1.0"
    assert f["rid"] == "rid-42"
    assert f["authority"] == f"127.0.0.1:{proxy.port}"
    assert f["upstream"] == origin.address

    nr = eventually(lambda: [l for l in lines(log) if '"GET /missing ' in l], 4, 0.1)
    m = TEXT_LINE.match(nr[0])
    assert m, nr[0]
    assert m["code"] == "404" and m["flags"] == "NR" and m["upstream"] == "-"


def test_json_access_log(env, tmp_path):
    origin = env.origin("logged-json")
    log = tmp_path / "access.jsonl"
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "backend"}],
        [cluster("backend", origin)],
        access_log={"path": str(log), "format": "json"},
    ))
    tricky_ua = 'agent "quoted" \\ back'
    with RawConn(proxy.port) as c:
        for i in range(3):
            assert c.request("GET", f"/j/{i}", [("User-Agent", tricky_ua)]).status == 200

    found = eventually(lambda: len(lines(log)) >= 3 and lines(log), 4, 0.1, "3 json log lines")
    records = [json.loads(l) for l in found]  # every line is one JSON object
    paths = sorted(r["path"] for r in records)
    assert paths == ["/j/0", "/j/1", "/j/2"]
    for rec in records:
        assert rec["method"] == "GET"
        assert rec["response_code"] == 200
        assert rec["user_agent"] == tricky_ua
        assert rec["upstream_host"] == origin.address


# -- response flags, each provoked -------------------------------------------------

def flags_setup(env, tmp_path):
    """/h1/* -> an HTTP/1.1 origin (`/h1/uc` is closed unanswered), /h2/* -> an
    h2c origin (echo knobs: reset=N, stall=1), /small/* body limit 10 bytes."""
    from e2e_h2 import H2Origin

    def h1_handler(req, conn):
        if req.path == "/h1/uc":
            return "close"  # closes without a word
        return echo_handler(req, conn)

    h1 = env.origin("flags-h1", h1_handler)
    h2o = H2Origin("flags-h2")
    env.origins.append(h2o)
    log = tmp_path / "access.log"
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/small"}, "cluster": "h1", "max_request_body_bytes": 10},
         {"match": {"prefix": "/h1/"}, "cluster": "h1"},
         {"match": {"prefix": "/h2/"}, "cluster": "h2"}],
        [cluster("h1", h1), cluster("h2", h2o, protocol="http2")],
        access_log={"path": str(log), "format": "text"},
    ))
    return proxy, h1, h2o, log


def test_response_flags_in_text_log(env, tmp_path):
    from e2e_h2 import H2Client

    proxy, h1, h2o, log = flags_setup(env, tmp_path)

    # UC: the upstream closes the connection before responding.
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/h1/uc").status == 503
    # LR: a body over the route's limit.
    with RawConn(proxy.port) as c:
        assert c.request("POST", "/small/lr", body=b"x" * 11).status == 413
    # DC: the client goes away in the middle of its request body.
    with RawConn(proxy.port) as c:
        c.send(build_request("POST", "/h1/dc", [("Content-Length", "100")]) + b"only ten b")
        assert h1.wait_heads(1, 5), "the request head never reached the origin"
    # UR: the HTTP/2 upstream resets the stream (from HTTP/1.1 and from HTTP/2).
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/h2/ur-h1?reset=2").status == 503
    with H2Client(proxy.port) as c:
        assert c.get("/h2/ur-h2?reset=2").status == 503
        # DR: the client resets the stream once the response has begun.
        sid = c.start("GET", "/h2/dr?stall=1")
        eventually(lambda: c._pump(0.2) or c.responses[sid].status, 5, 0, "the response head")
        c.conn.reset_stream(sid, 8)
        c._flush()
        # HTTP/2 and no flag: a plain request.
        assert c.get("/h2/ok").status == 200

    want = {
        "/h1/uc": ("HTTP/1.1", "503", "UC"),
        "/small/lr": ("HTTP/1.1", "413", "LR"),
        "/h1/dc": ("HTTP/1.1", "0", "DC"),
        "/h2/ur-h1?reset=2": ("HTTP/1.1", "503", "UR"),
        "/h2/ur-h2?reset=2": ("HTTP/2", "503", "UR"),
        "/h2/dr?stall=1": ("HTTP/2", "200", "DR"),
        "/h2/ok": ("HTTP/2", "200", "-"),
    }

    def logged():
        got = {e["path"]: (e["proto"], e["code"], e["flags"]) for e in access_log_entries(log)}
        return got if set(want) <= set(got) else None

    got = eventually(logged, 5, 0.05, "an access log line for each request")
    assert {k: got[k] for k in want} == want
    s = proxy.stats()
    assert s["http.main.downstream_rq_too_large"] == 1
    assert s["cluster.h2.upstream_rq_rx_reset"] == 2
    assert s["http.main.downstream_rq_rx_reset"] == 1
