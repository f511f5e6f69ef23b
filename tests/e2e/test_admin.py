"""The admin API: readiness, stats (text, JSON, Prometheus), clusters,
config dump, server info, workers, health check, drain, quit."""

from __future__ import annotations

import json
import math
import os
import re
import socket

import pytest

from e2e_client import RawConn, eventually
from e2e_proxy import cluster, simple_config

# -- a small Prometheus text-format (0.0.4) validator -------------------------

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _parse_labels(text: str, where: str) -> dict:
    labels = {}
    i = 0
    while i < len(text):
        m = LABEL_NAME.match(text, i)
        assert m, f"{where}: bad label name at {text[i:]!r}"
        name = m.group()
        i = m.end()
        assert text[i:i + 2] == '="', f"{where}: expected =\" after label {name}"
        i += 2
        value = []
        while True:
            assert i < len(text), f"{where}: unterminated label value"
            ch = text[i]
            if ch == "\\":
                nxt = text[i + 1]
                assert nxt in '\\"n', f"{where}: bad escape \\{nxt}"
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif ch == '"':
                i += 1
                break
            else:
                assert ch != "\n"
                value.append(ch)
                i += 1
        assert name not in labels, f"{where}: duplicate label {name}"
        labels[name] = "".join(value)
        if i < len(text):
            assert text[i] == ",", f"{where}: expected , between labels, got {text[i:]!r}"
            i += 1
    return labels


def _parse_value(text: str, where: str) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise AssertionError(f"{where}: bad sample value {text!r}") from None


def parse_prometheus(text: str) -> dict:
    """Validate exposition text; returns {family: {"type", "samples": [(name,
    labels, value)]}}. Raises AssertionError on any violation."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families: dict = {}
    types: dict = {}
    order: list = []
    seen_series = set()

    def family_of(name: str) -> str:
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                return base
        return name

    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                assert len(parts) >= 3 and METRIC_NAME.fullmatch(parts[2]), where
                if parts[1] == "TYPE":
                    assert len(parts) == 4 and parts[3] in TYPES, where
                    assert parts[2] not in types, f"{where}: second TYPE for {parts[2]}"
                    assert parts[2] not in families, f"{where}: TYPE after samples of {parts[2]}"
                    types[parts[2]] = parts[3]
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?", line)
        assert m, f"{where}: not a valid sample line"
        name, label_text, value_text = m.group(1), m.group(2), m.group(3)
        labels = _parse_labels(label_text or "", where)
        value = _parse_value(value_text, where)
        fam = family_of(name)
        if fam in families:
            assert order[-1] == fam, f"{where}: samples of {fam} are not contiguous"
        else:
            families[fam] = {"type": types.get(fam, "untyped"), "samples": []}
            order.append(fam)
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, f"{where}: duplicate series"
        seen_series.add(key)
        if types.get(fam) == "counter":
            assert value >= 0, f"{where}: negative counter"
        families[fam]["samples"].append((name, labels, value))

    for fam, data in families.items():
        if data["type"] != "histogram":
            continue
        groups: dict = {}
        for name, labels, value in data["samples"]:
            assert name in (fam + "_bucket", fam + "_sum", fam + "_count"), f"{fam}: stray sample {name}"
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name.endswith("_bucket"):
                assert "le" in labels, f"{fam}: bucket without le"
                g["buckets"].append((_parse_value(labels["le"], fam), value))
            elif name.endswith("_sum"):
                g["sum"] = value
            else:
                g["count"] = value
        for rest, g in groups.items():
            assert g["buckets"], f"{fam}{rest}: no buckets"
            les = [le for le, _ in g["buckets"]]
            assert les == sorted(les) and len(set(les)) == len(les), f"{fam}{rest}: le not increasing"
            assert les[-1] == math.inf, f"{fam}{rest}: no +Inf bucket"
            counts = [c for _, c in g["buckets"]]
            assert counts == sorted(counts), f"{fam}{rest}: bucket counts not cumulative"
            assert g["count"] is not None and g["sum"] is not None, f"{fam}{rest}: _count/_sum missing"
            assert counts[-1] == g["count"], f"{fam}{rest}: +Inf bucket != _count"
    return families


def sample(families: dict, name: str, **labels):
    for fam in families.values():
        for n, l, v in fam["samples"]:
            if n == name and all(l.get(k) == val for k, val in labels.items()):
                return v
    return None


def test_prometheus_parser_rejects_bad_text():
    """The validator itself must be able to fail."""
    for bad in ["x{a=\"1\"} 1",                         # no final newline
                "# TYPE x counter\nx 1\n# TYPE x counter\n",
                "x{a=1} 1\n",
                "x 1\ny 2\nx{a=\"b\"} 3\n",
                "x one\n",
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"]:
        with pytest.raises(AssertionError):
            parse_prometheus(bad)
    fams = parse_prometheus("# HELP x a thing\n# TYPE x counter\nx{a=\"q\\\"\"} 3\n")
    assert sample(fams, "x", a='q"') == 3


# -- the admin API ------------------------------------------------------------

@pytest.fixture
def admin_proxy(env):
    origin = env.origin("admin-backend")
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/up"}, "cluster": "backend"}],
        [cluster("backend", origin)],
    ))
    return proxy, origin


def test_ready(admin_proxy):
    proxy, _ = admin_proxy
    assert proxy.admin_call("/ready") == (200, "LIVE\n")


def test_stats_text_counts_requests(admin_proxy):
    proxy, _ = admin_proxy
    with RawConn(proxy.port) as c:
        for i in range(3):
            assert c.request("GET", f"/up/{i}").status == 200
        assert c.request("GET", "/nope").status == 404
    stats = proxy.stats()
    assert stats["cluster.backend.upstream_rq_total"] == 3
    assert stats["http.main.downstream_rq_total"] == 4
    assert stats["http.main.downstream_rq_2xx"] == 3
    assert stats["http.main.downstream_rq_4xx"] == 1
    assert stats["http.main.no_route"] == 1
    for line in proxy.admin_get("/stats").splitlines():
        assert re.fullmatch(r"[a-zA-Z0-9_.:-]+: .+", line), f"bad stats line {line!r}"


def test_stats_json(admin_proxy):
    proxy, _ = admin_proxy
    with RawConn(proxy.port) as c:
        c.request("GET", "/up/json")
    data = json.loads(proxy.admin_get("/stats?format=json"))
    text = json.dumps(data)
    assert "cluster.backend.upstream_rq_total" in text
    assert "http.main.downstream_rq_total" in text


def test_prometheus_exposition(admin_proxy):
    proxy, _ = admin_proxy
    with RawConn(proxy.port) as c:
        for i in range(3):
            assert c.request("GET", f"/up/{i}").status == 200
    status, text = proxy.admin_call("/stats/prometheus")
    assert status == 200
    fams = parse_prometheus(text)
    assert sample(fams, "envoy_cluster_upstream_rq_total", envoy_cluster_name="backend") == 3
    assert sample(fams, "envoy_http_downstream_rq_total", envoy_http_conn_manager_prefix="main") == 3
    assert fams["envoy_cluster_upstream_rq_total"]["type"] == "counter"
    assert fams["envoy_http_downstream_rq_time"]["type"] == "histogram"
    assert sample(fams, "envoy_http_downstream_rq_time_count", envoy_http_conn_manager_prefix="main") == 3
    assert sample(fams, "envoy_http_downstream_rq_time_bucket",
                  envoy_http_conn_manager_prefix="main", le="+Inf") == 3
    # Same content from /stats?format=prometheus.
    parse_prometheus(proxy.admin_get("/stats?format=prometheus"))


def test_clusters(admin_proxy):
    proxy, origin = admin_proxy
    text = proxy.admin_get("/clusters")
    assert "backend" in text and origin.address in text


def test_config_dump(admin_proxy):
    """Envoy's ConfigDump (more in test_admin_envoy.py); ringway's own
    snapshot stays at /ringway/config."""
    proxy, origin = admin_proxy
    dump = json.loads(proxy.admin_get("/config_dump"))
    text = json.dumps(dump)
    assert '"main"' in text and '"backend"' in text and str(origin.port) in text
    own = json.loads(proxy.admin_get("/ringway/config"))
    assert own["listeners"][0]["name"] == "main"
    assert own["clusters"]["backend"]["endpoints"][0]["address"] == origin.address


def test_server_info(admin_proxy):
    proxy, _ = admin_proxy
    info = proxy.server_info()
    assert info["state"] == "LIVE"
    assert info["version"]


def test_listeners(admin_proxy):
    proxy, _ = admin_proxy
    data = json.loads(proxy.admin_get("/listeners?format=json"))
    [st] = data["listener_statuses"]
    assert st["name"] == "main"
    sa = st["local_address"]["socket_address"]
    assert sa["address"] == "127.0.0.1" and sa["port_value"] == proxy.port
    assert proxy.admin_get("/listeners") == f"main::127.0.0.1:{proxy.port}\n"


def test_workers_report_driver(admin_proxy, driver):
    proxy, _ = admin_proxy
    with RawConn(proxy.port) as c:
        for i in range(4):
            c.request("GET", f"/up/{i}")
    workers = proxy.workers()
    assert len(workers) == 2
    expected = {"uring": "io_uring", "epoll": "epoll"}[driver]
    assert [w["io_driver"] for w in workers] == [expected, expected]
    assert sorted(w["id"] for w in workers) == [0, 1]
    assert sum(w["requests_total"] for w in workers) == 4


def test_one_worker_per_cpu_by_default(env):
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"},
                                      "direct_response": {"status": 200, "body": "x"}}]),
                      concurrency=None)
    workers = proxy.workers()
    cpus = sorted(os.sched_getaffinity(0))
    assert len(workers) == len(cpus)
    assert sorted(w["cpu"] for w in workers) == cpus


def test_admin_unknown_path_404(admin_proxy):
    proxy, _ = admin_proxy
    assert proxy.admin_call("/no/such/thing")[0] == 404


def test_mutating_endpoints_need_post(admin_proxy):
    proxy, _ = admin_proxy
    for path in ("/healthcheck/fail", "/drain_listeners", "/quitquitquit"):
        assert proxy.admin_call(path)[0] == 405
    assert proxy.alive()
    assert proxy.admin_call("/ready") == (200, "LIVE\n")


def test_healthcheck_fail_and_ok(admin_proxy):
    proxy, _ = admin_proxy
    proxy.admin_post("/healthcheck/fail")
    status, body = proxy.admin_call("/ready")
    assert status == 503
    # Traffic still flows while failing health checks.
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/up/hc").status == 200
    proxy.admin_post("/healthcheck/ok")
    assert proxy.admin_call("/ready") == (200, "LIVE\n")


def test_drain_listeners(admin_proxy):
    proxy, _ = admin_proxy
    existing = RawConn(proxy.port)
    try:
        assert existing.request("GET", "/up/before").status == 200
        proxy.admin_post("/drain_listeners")
        assert proxy.admin_call("/ready")[0] == 503

        def new_connections_not_served():
            try:
                with RawConn(proxy.port, timeout=0.5) as c:
                    c.send(b"GET /up/after HTTP/1.1\r\nHost: a\r\n\r\n")
                    data = c.sock.recv(100)
                    return not data.startswith(b"HTTP/1.1 200")
            except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
                return True

        eventually(new_connections_not_served, 3, 0.1, "listener drained")
    finally:
        existing.close()
    assert proxy.alive()


def test_quitquitquit(admin_proxy):
    proxy, _ = admin_proxy
    proxy.admin_post("/quitquitquit")
    assert proxy.proc.wait(10) == 0


def test_gauges_return_to_zero_after_mixed_traffic(env):
    """No leaked connection/request accounting after normal requests, local
    replies, malformed input, aborted clients and upgrades."""
    from e2e_client import build_request
    from test_upgrade import WS_HEADERS, ws_echo_handler

    origin = env.origin("gauges")
    ws = env.origin("gauges-ws", ws_echo_handler)
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/up"}, "cluster": "backend"},
         {"match": {"prefix": "/ws"}, "cluster": "ws"}],
        [cluster("backend", origin), cluster("ws", ws)],
        limits={"request_head_timeout": "1s"},
    ))
    with RawConn(proxy.port) as c:
        for i in range(5):
            c.request("GET", f"/up/{i}")
        c.request("GET", "/missing")
    with RawConn(proxy.port) as c:
        c.send(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")
        c.closed_within(2)
    a = RawConn(proxy.port)
    a.send(build_request("GET", "/up/slow?delay=0.3"))
    a.close()  # aborted mid-request
    p = RawConn(proxy.port)
    p.send(b"GET /up/partial HTTP/1.1\r\n")  # partial head, then gone
    p.close()
    w = RawConn(proxy.port)
    w.send(build_request("GET", "/ws", WS_HEADERS))
    assert w.read_response().status == 101
    w.send(b"x")
    w.close()

    def settled():
        s = proxy.stats()
        ws_ = proxy.workers()
        return (s.get("http.main.downstream_cx_active") == 0
                and s.get("http.main.downstream_rq_active") == 0
                and all(x["connections_active"] == 0 and x.get("requests_active", 0) == 0 for x in ws_))

    eventually(settled, 5, 0.1, f"gauges back to zero: {proxy.admin_get('/stats')[:600]}")
    s = proxy.stats()
    assert s["http.main.downstream_cx_total"] == s["http.main.downstream_cx_destroy"]


def test_auto_driver_picks_one_for_all_workers(env):
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"},
                                      "direct_response": {"status": 200, "body": "x"}}]), driver="auto")
    drivers = {w["io_driver"] for w in proxy.workers()}
    assert len(drivers) == 1 and drivers <= {"io_uring", "epoll"}, drivers
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/").body == b"x"
