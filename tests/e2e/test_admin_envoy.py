"""The admin API in Envoy's shapes, read the way tools written for Envoy
read it (json.loads and walking the documented fields; curl for the text
forms): /config_dump, /clusters, /server_info, /listeners, /ready,
/stats (filter regex, usedonly, JSON), /reset_counters, /runtime and
/runtime_modify, /logging, /memory, and POST-only endpoints."""

from __future__ import annotations

import json
import re

import pytest

from e2e_client import RawConn, curl, eventually
from e2e_proxy import cluster, simple_config

ADMIN = "type.googleapis.com/envoy.admin.v3."


@pytest.fixture
def proxy_origin(env):
    origin = env.origin("admin-envoy")
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/up"}, "cluster": "backend"}],
        [cluster("backend", origin)],
    ))
    return proxy, origin


def admin_url(proxy, path: str) -> str:
    return f"http://{proxy.admin}{path}"


def configs_by_type(dump: dict) -> dict:
    return {c["@type"].removeprefix(ADMIN): c for c in dump["configs"]}


def test_config_dump_walks_like_envoys(proxy_origin):
    proxy, origin = proxy_origin
    r = curl(admin_url(proxy, "/config_dump"))
    assert r.status == 200 and r.header("content-type") == "application/json"
    dump = json.loads(r.body)
    assert [c["@type"].removeprefix(ADMIN) for c in dump["configs"]] == [
        "BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
        "RoutesConfigDump", "ScopedRoutesConfigDump", "SecretsConfigDump"]
    by_type = configs_by_type(dump)
    boot = by_type["BootstrapConfigDump"]
    assert boot["bootstrap"]["static_resources"]["listeners"][0]["name"] == "main"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", boot["last_updated"])
    [static] = by_type["ClustersConfigDump"]["static_clusters"]
    c = static["cluster"]
    assert c["@type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    assert c["name"] == "backend" and c["type"] == "STATIC"
    sa = c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert (sa["address"], sa["port_value"]) == ("127.0.0.1", origin.port)
    [listener] = by_type["ListenersConfigDump"]["static_listeners"]
    assert listener["listener"]["name"] == "main"
    hcm = listener["listener"]["filter_chains"][0]["filters"][0]["typed_config"]
    assert hcm["@type"].endswith("HttpConnectionManager")
    assert hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"]["cluster"] == "backend"
    [route] = by_type["RoutesConfigDump"]["static_route_configs"]
    assert route["route_config"]["virtual_hosts"][0]["domains"] == ["*"]


def test_config_dump_parameters(proxy_origin):
    proxy, _ = proxy_origin
    names = json.loads(proxy.admin_get("/config_dump?resource=static_clusters&mask=cluster.name"))
    assert names == {"configs": [{
        "@type": ADMIN + "ClustersConfigDump.StaticCluster",
        "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "backend"},
    }]}
    only = json.loads(proxy.admin_get("/config_dump?mask=static_listeners"))
    assert [c["@type"] for c in only["configs"]] == [ADMIN + "ListenersConfigDump"]
    none = json.loads(proxy.admin_get("/config_dump?name_regex=nothing.*"))
    assert "static_clusters" not in configs_by_type(none)["ClustersConfigDump"]
    eds = configs_by_type(json.loads(proxy.admin_get("/config_dump?include_eds")))
    assert eds["EndpointsConfigDump"]["static_endpoint_configs"][0]["endpoint_config"]["cluster_name"] == "backend"
    assert proxy.admin_call("/config_dump?resource=nope")[0] == 404
    status, body = proxy.admin_call("/config_dump?resource=bootstrap")
    assert status == 400 and "not a repeated field" in body
    status, body = proxy.admin_call("/config_dump?fields=x")
    assert status == 400 and "`fields`" in body


def test_clusters_text_and_json_with_host_stats(proxy_origin):
    proxy, origin = proxy_origin
    with RawConn(proxy.port) as c:
        for i in range(3):
            assert c.request("GET", f"/up/{i}").status == 200
        assert c.request("GET", "/up/x?status=503").status == 503
    lines = set(curl(admin_url(proxy, "/clusters")).body.decode().splitlines())
    a = origin.address

    def host(stat):
        return next(int(l.rsplit("::", 1)[1]) for l in lines if l.startswith(f"backend::{a}::{stat}::"))

    for line in ("backend::default_priority::max_connections::1024", "backend::added_via_api::false",
                 f"backend::{a}::health_flags::healthy", f"backend::{a}::weight::1",
                 f"backend::{a}::canary::false", f"backend::{a}::success_rate::-1"):
        assert line in lines, line
    assert (host("rq_total"), host("rq_success"), host("rq_error")) == (4, 3, 1)
    assert host("cx_total") >= 1 and host("cx_connect_fail") == 0 and host("rq_active") == 0

    data = json.loads(proxy.admin_get("/clusters?format=json"))
    [status] = data["cluster_statuses"]
    assert status["name"] == "backend" and not status.get("added_via_api", False)
    [h] = status["host_statuses"]
    assert h["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": origin.port}
    stats = {s["name"]: s for s in h["stats"]}
    assert int(stats["rq_total"]["value"]) == 4
    assert stats["rq_active"]["type"] == "GAUGE"
    assert h["health_status"]["eds_health_status"] == "HEALTHY" and h["weight"] == 1


def test_server_info_is_envoys(proxy_origin):
    proxy, _ = proxy_origin
    info = proxy.server_info()
    assert info["state"] == "LIVE"
    assert re.fullmatch(r"\d+s", info["uptime_current_epoch"]) and info["uptime_all_epochs"]
    assert info["hot_restart_version"] == "disabled"
    opts = info["command_line_options"]
    assert opts["concurrency"] == 2 and opts["mode"] == "Serve" and opts["drain_time"].endswith("s")
    assert opts["base_id"] == "0", "uint64 as a string, as in Envoy"
    assert info["node"]["user_agent_name"] == "ringway"
    assert info["reloads"] == {"ok": 0, "failed": 0}


def test_ready_and_state_follow_envoys_names(proxy_origin):
    proxy, _ = proxy_origin
    assert proxy.admin_call("/ready") == (200, "LIVE\n")
    proxy.admin_post("/healthcheck/fail")
    assert proxy.admin_call("/ready") == (503, "DRAINING\n")
    assert proxy.server_info()["state"] == "DRAINING"
    proxy.admin_post("/healthcheck/ok")
    assert proxy.admin_call("/ready") == (200, "LIVE\n")


def test_post_only_endpoints_refuse_get(proxy_origin):
    proxy, _ = proxy_origin
    for path in ("/reset_counters", "/runtime_modify?a=b", "/logging?level=debug",
                 "/healthcheck/ok", "/drain_listeners", "/quitquitquit"):
        status, body = proxy.admin_call(path)
        assert (status, body) == (405, "Method GET not allowed, POST required."), path
    assert proxy.alive() and proxy.admin_call("/ready")[0] == 200
    assert "/reset_counters (POST)" in proxy.admin_get("/help")


def test_stats_filter_usedonly_json_and_reset_counters(proxy_origin):
    proxy, _ = proxy_origin
    with RawConn(proxy.port) as c:
        for i in range(2):
            assert c.request("GET", f"/up/{i}").status == 200
    used = proxy.admin_get("/stats?usedonly")
    assert "cluster.backend.upstream_rq_total: 2" in used
    assert not [l for l in used.splitlines() if l.endswith(": 0")], used
    # Envoy's filter is a regular expression, matched anywhere in the name.
    filtered = proxy.admin_get("/stats?filter=" + "%5Ecluster%5C.backend%5C.upstream_rq_%5B0-9%5Dxx%24")
    assert sorted(l.split(":")[0] for l in filtered.splitlines()) == [
        f"cluster.backend.upstream_rq_{n}xx" for n in range(1, 6)]
    data = json.loads(proxy.admin_get("/stats?format=json&filter=downstream_rq_total"))
    values = {s["name"]: s["value"] for s in data["stats"] if "name" in s}
    assert values == {"http.main.downstream_rq_total": 2}
    assert "histograms" in data["stats"][-1]
    assert proxy.admin_call("/stats?filter=(")[0] == 400
    prom = proxy.admin_get("/stats/prometheus?usedonly&filter=upstream_rq_total")
    assert 'envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 2' in prom
    assert "envoy_http_downstream_rq_total" not in prom

    assert proxy.admin_post("/reset_counters") == "OK\n"
    stats = proxy.stats()
    assert stats["cluster.backend.upstream_rq_total"] == 0
    assert stats["http.main.downstream_rq_total"] == 0
    assert stats["cluster.backend.membership_total"] == 1, "gauges keep their values"
    assert "backend::" + proxy_origin[1].address + "::rq_total::0" in proxy.admin_get("/clusters")
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/up/after").status == 200
    assert proxy.stat("cluster.backend.upstream_rq_total") == 1


def test_runtime_and_runtime_modify(proxy_origin):
    proxy, _ = proxy_origin
    assert json.loads(proxy.admin_get("/runtime")) == {"layers": ["admin"], "entries": {}}
    assert proxy.admin_post("/runtime_modify?health_check.min_interval=5&feature=on") == "OK\n"
    r = curl(admin_url(proxy, "/runtime_modify"), "-X", "POST", "--data", "other=x")
    assert (r.status, r.body) == (200, b"OK\n")
    entries = json.loads(proxy.admin_get("/runtime"))["entries"]
    assert entries["health_check.min_interval"] == {"layer_values": ["5"], "final_value": "5"}
    assert entries["other"]["final_value"] == "x"
    proxy.admin_post("/runtime_modify?feature=")
    assert "feature" not in json.loads(proxy.admin_get("/runtime"))["entries"]
    assert proxy.admin_call("/runtime_modify", "POST")[0] == 400


def test_logging_lists_and_changes_levels(proxy_origin):
    proxy, _ = proxy_origin
    listed = proxy.admin_post("/logging")
    assert listed.startswith("active loggers:\n")
    levels = dict(l.strip().split(": ") for l in listed.splitlines()[1:] if l.strip())
    assert levels["upstream"] == "info" and levels["admin"] == "info"
    changed = proxy.admin_post("/logging?paths=upstream:debug,router:warning")
    assert "  upstream: debug\n" in changed and "  router: warning\n" in changed
    proxy.admin_post("/logging?admin=trace")
    assert "  admin: trace\n" in proxy.admin_get("/logging")
    # The change is live: the admin module now logs at trace level.
    eventually(lambda: "log levels changed" in proxy.log(), 5, 0.05, "the change logged")
    everything = proxy.admin_post("/logging?level=warning")
    assert all(l.endswith(": warning") for l in everything.splitlines()[1:] if l.strip())
    status, body = proxy.admin_call("/logging?lua=debug", "POST")
    assert status == 400 and body.startswith("error: unknown logger name")
    assert proxy.admin_call("/logging?level=loud", "POST")[0] == 400


def test_memory_and_small_endpoints(proxy_origin):
    proxy, _ = proxy_origin
    mem = json.loads(proxy.admin_get("/memory"))
    assert set(mem) == {"allocated", "heap_size", "pageheap_unmapped", "pageheap_free",
                        "total_thread_cache", "total_physical_bytes"}
    assert int(mem["total_physical_bytes"]) > 0 and int(mem["allocated"]) > 0
    assert proxy.admin_get("/hot_restart_version") == "disabled"
    assert json.loads(proxy.admin_get("/certs")) == {"certificates": []}
    r = curl(admin_url(proxy, "/no/such"))
    assert r.status == 404 and r.body.decode().startswith("invalid path. admin commands are:")
