"""Requests routed by Eureka VIP, end to end, with the real binaries:
instances register with ringway-control's Eureka registry over its REST
API (the body a Java DiscoveryClient sends), and ringway routes to them

- through ringway-control and on-demand discovery (a proxy with no
  clusters at all; the VIP name comes from the Host header),
- reading Eureka directly (`eureka:` block, `type: eureka` clusters, and
  on-demand VIPs without any control plane),
- through ringway-control reading an external Eureka (`--eureka-url`),
  with failover between URLs.

Traffic follows instances that register, go OUT_OF_SERVICE or DOWN, and
cancel; when the registry goes away, the last known instances keep
serving. The third-party clients (py-eureka-client, eureka-js-client) are
in test_eureka_clients.py."""

from __future__ import annotations

import json

from e2e_client import RawConn, eventually
from e2e_origin import closed_port

FETCH = "300ms"


# -- the registry's REST API ------------------------------------------------------

def instance_body(app: str, origin, vip: str, status: str = "UP") -> bytes:
    host, port = origin.address.split(":")
    return json.dumps({"instance": {
        "instanceId": f"{host}:{app.lower()}:{port}", "hostName": host, "app": app.upper(),
        "ipAddr": host, "status": status, "overriddenStatus": "UNKNOWN",
        "port": {"$": int(port), "@enabled": "true"},
        "securePort": {"$": 443, "@enabled": "false"},
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                           "name": "MyOwn"},
        "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90},
        "vipAddress": vip, "metadata": {"@class": "java.util.Collections$EmptyMap"},
    }}).encode()


def call(r, method: str, path: str, body: bytes | None = None) -> int:
    """One request to the registry `r` under /eureka; its status."""
    return r.call(method, f"/eureka{path}", body, {"Content-Type": "application/json"}).status


def register(r, app: str, origin, vip: str) -> None:
    assert call(r, "POST", f"/apps/{app.upper()}", instance_body(app, origin, vip)) == 204


def instance_path(app: str, origin) -> str:
    host, port = origin.address.split(":")
    return f"/apps/{app.upper()}/{host}:{app.lower()}:{port}"


def set_status(r, app: str, origin, status: str) -> None:
    assert call(r, "PUT", f"{instance_path(app, origin)}/status?value={status}") == 200


def cancel(r, app: str, origin) -> None:
    assert call(r, "DELETE", instance_path(app, origin)) == 200


# -- proxies -----------------------------------------------------------------------

def on_demand_route(timeout: str = "5s") -> dict:
    return {"match": {"prefix": "/"}, "cluster_from": "authority", "on_demand": {"timeout": timeout}}


def listener(routes) -> list:
    return [{"name": "egress", "address": "127.0.0.1:0",
             "virtual_hosts": [{"name": "mesh", "domains": ["*"], "routes": routes}]}]


def xds_proxy(env, control) -> object:
    return env.proxy({"xds": {"address": control.xds, "node": {"id": "sidecar", "cluster": "mesh"},
                              "initial_fetch_timeout": "2s"},
                      "listeners": listener([on_demand_route()]), "clusters": []})


def eureka_block(*registries: str) -> dict:
    return {"urls": [f"http://{r}/eureka/" for r in registries], "fetch_interval": FETCH}


def origin_of(proxy, host: str, path: str = "/"):
    """The origin that answered one request, or the status if not 200."""
    with RawConn(proxy.port, timeout=10) as c:
        resp = c.request("GET", path, host=host)
    return resp.header("x-origin") if resp.status == 200 else resp.status


def hits(proxy, host: str, n: int) -> dict:
    """n requests with Host `host` (new connection each); origin name → count,
    and status → count for the others."""
    seen: dict = {}
    for _ in range(n):
        key = origin_of(proxy, host)
        seen[key] = seen.get(key, 0) + 1
    return seen


def only(proxy, host: str, expected: set, n: int = 8, timeout: float = 5.0):
    """Waits (bounded) until n requests all reach exactly the origins in
    `expected` (a set of names, or of statuses)."""
    return eventually(lambda: set(hits(proxy, host, n)) == expected and expected,
                      timeout, 0.05, f"{host} served by {expected}")


# -- tests ---------------------------------------------------------------------------

def test_on_demand_vips_through_the_control_plane_follow_instances(env, registry):
    r = registry()
    a, b = env.origin("a"), env.origin("b")
    register(r, "orders", a, "orders,orders-v2")
    proxy = xds_proxy(env, r.control)

    # A proxy with no clusters reaches the VIP by name, in any case.
    only(proxy, "orders", {"a"})
    only(proxy, "ORDERS-V2:80", {"a"})
    assert proxy.stat("http.egress.on_demand_cluster_success") >= 1

    # An instance that registers later gets traffic; one taken out of
    # service, then DOWN, stops; cancelled, it is gone.
    register(r, "orders", b, "orders")
    only(proxy, "orders", {"a", "b"}, n=12)
    set_status(r, "orders", a, "OUT_OF_SERVICE")
    only(proxy, "orders", {"b"})
    assert call(r, "DELETE", f"{instance_path('orders', a)}/status?value=UP") == 200
    only(proxy, "orders", {"a", "b"}, n=12)
    # A client whose health check fails registers again as DOWN (what the
    # Java client does): no more traffic for it.
    assert call(r, "POST", "/apps/ORDERS", instance_body("orders", b, "orders", "DOWN")) == 204
    only(proxy, "orders", {"a"})
    register(r, "orders", b, "orders")
    only(proxy, "orders", {"a", "b"}, n=12)
    cancel(r, "orders", b)
    only(proxy, "orders", {"a"})
    # Every instance of the VIP gone: no healthy upstream.
    cancel(r, "orders", a)
    only(proxy, "orders", {503})


def test_an_unknown_vip_fails_fast_and_works_once_registered(env, registry):
    r = registry()
    proxy = xds_proxy(env, r.control)
    with RawConn(proxy.port, timeout=10) as conn:
        resp = conn.request("GET", "/", host="payments")
    assert resp.status == 503
    assert proxy.stat("http.egress.on_demand_cluster_missing") == 1
    p = env.origin("p")
    register(r, "payments", p, "payments")
    only(proxy, "payments", {"p"})


def test_ringway_reads_eureka_directly_and_keeps_routing_when_it_goes(env, registry):
    r = registry()
    a, b = env.origin("a"), env.origin("b")
    register(r, "orders", a, "orders")
    proxy = env.proxy({
        "eureka": eureka_block(r.address),
        "listeners": listener([{"match": {"prefix": "/"}, "cluster": "orders"}]),
        "clusters": [{"name": "orders", "type": "eureka", "vip": "orders",
                      "lb_policy": "least_request"}],
    })
    only(proxy, "anything", {"a"})
    register(r, "orders", b, "orders")
    only(proxy, "anything", {"a", "b"}, n=12)
    set_status(r, "orders", a, "OUT_OF_SERVICE")
    only(proxy, "anything", {"b"})
    assert proxy.stat("eureka.fetch_full") >= 1
    assert proxy.stat("eureka.fetch_delta") >= 1
    info = proxy.server_info()["eureka"]
    assert info["fetched"] and not info["stale"]

    # The registry goes away: the last known instances keep serving, and
    # /ready says so while staying LIVE.
    r.kill()
    eventually(lambda: proxy.stat("eureka.stale") == 1, 10, 0.05, "stale")
    assert hits(proxy, "anything", 10) == {"b": 10}
    status, body = proxy.admin_call("/ready")
    assert status == 200 and body.startswith("LIVE"), body
    assert "eureka: no registry server answers" in body and "last known instances" in body


def test_without_a_control_plane_routes_ask_eureka_for_vips(env, registry):
    r = registry()
    a = env.origin("a")
    register(r, "inventory", a, "inventory")
    named = {"match": {"prefix": "/named"}, "cluster": "inventory"}
    proxy = env.proxy({"eureka": eureka_block(r.address),
                            "listeners": listener([named, on_demand_route()]), "clusters": []})
    # A route naming a VIP the file does not define.
    eventually(lambda: origin_of(proxy, "x", "/named") == "a", 5, 0.05, "named VIP")
    only(proxy, "inventory", {"a"})
    assert proxy.stat("eureka.on_demand_clusters") == 1
    # Unknown: 503 once a fresh fetch has not found it (not the 5 s timeout).
    with RawConn(proxy.port, timeout=10) as conn:
        resp = conn.request("GET", "/", host="nothing-here")
    assert resp.status == 503
    assert proxy.stat("http.egress.on_demand_cluster_missing") == 1
    assert proxy.stat("http.egress.on_demand_cluster_timeout") == 0
    # Registered later: found on the next question.
    b = env.origin("b")
    register(r, "nothing-here", b, "nothing-here")
    only(proxy, "nothing-here", {"b"})


def test_the_control_plane_reads_an_external_eureka_with_failover(env, registry, control):
    upstream = registry()
    a = env.origin("a")
    register(upstream, "orders", a, "orders")
    dead = f"127.0.0.1:{closed_port()}"
    c = control()
    c.start(extra_args=["--eureka-url", f"http://{dead}/eureka/",
                        "--eureka-url", upstream.url,
                        "--eureka-fetch-interval", FETCH])
    proxy = xds_proxy(env, c)
    only(proxy, "orders", {"a"})
    b = env.origin("b")
    register(upstream, "orders", b, "orders")
    only(proxy, "orders", {"a", "b"}, n=12)
    set_status(upstream, "orders", a, "OUT_OF_SERVICE")
    only(proxy, "orders", {"b"})
    # The external registry goes: ringway-control keeps what it had.
    upstream.kill()
    eventually(lambda: c.metrics().get("ringway_control_source_failed_total", 0) > 0
               or "fetch failed" in c.log(), 10, 0.1, "fetches failing")
    assert hits(proxy, "orders", 6) == {"b": 6}
