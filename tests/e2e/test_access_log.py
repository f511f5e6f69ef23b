"""Access logs: Envoy's default text format and JSON lines."""

from __future__ import annotations

import json
import re

from e2e_client import RawConn, curl, eventually
from e2e_proxy import cluster, simple_config

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
