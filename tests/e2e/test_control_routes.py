"""ringway-control deciding routes for every proxy, end to end with the real
binaries: route files in ringway's own shape (`route_configurations:`)
served over RDS, and the sidecar template (`--sidecar-listener`): a
Listener every wildcard LDS subscriber gets, whose generated
RouteConfiguration has a virtual host per cluster, from the clusters folder
and from Eureka (ringway-control's own registry)."""

from __future__ import annotations

import json

from e2e_client import curl, eventually
from test_eureka_routing import cancel, register
from test_xds import dynamic_port, lds_config

ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"


def edge_listener(route_name: str) -> dict:
    """An Envoy Listener on any port taking its routes by RDS."""
    return {
        "name": "edge",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network."
                         "http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "edge",
                "rds": {"route_config_name": route_name, "config_source": {"ads": {}}},
                "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
            }}]}],
    }


def shop_routes(timeout: str = "300ms", split=None) -> str:
    """A route file in ringway's shape."""
    action = (f"weighted_clusters: {json.dumps([{'name': n, 'weight': w} for n, w in split])}"
              if split else "cluster: a")
    return f"""
# ringway's own shape: virtual hosts as in ringway.yaml
route_configurations:
  - name: shop
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            {action}
            timeout: {timeout}
"""


def origin_at(port: int, path: str = "/"):
    r = curl(f"http://127.0.0.1:{port}{path}")
    return json.loads(r.body)["origin"] if r.status == 200 else r.status


def test_a_ringway_shape_route_file_over_rds(env, control):
    a, b = env.origin("a"), env.origin("b")
    ctl = control()
    ctl.write_clusters("c.yaml", [{"name": "a", "endpoints": [a.address]},
                                  {"name": "b", "endpoints": [b.address]}])
    ctl.write_listeners("edge.json", edge_listener("shop"))
    ctl.write_routes("shop.yaml", shop_routes("300ms"))
    ctl.start()
    proxy = env.proxy(lds_config(ctl.xds))
    port = dynamic_port(proxy, "edge")
    assert origin_at(port) == "a"
    # The route timeout (300ms) is the file's: a slower answer is a 504.
    assert curl(f"http://127.0.0.1:{port}/?delay=1").status == 504

    # The file changes: a longer timeout, then a split.
    ctl.write_routes("shop.yaml", shop_routes("5s"))
    eventually(lambda: curl(f"http://127.0.0.1:{port}/?delay=0.6").status == 200, 5, 0.1,
               "the longer timeout arrives")
    ctl.write_routes("shop.yaml", shop_routes("5s", split=[("a", 50), ("b", 50)]))
    eventually(lambda: {origin_at(port) for _ in range(20)} == {"a", "b"}, 5, 0.05,
               "the split arrives")

    # A bad file is refused whole (the log names file and field); the last
    # good routes keep serving.
    ctl.write_routes("shop.yaml", shop_routes("5s").replace("timeout: 5s", "timeout: 5"))
    eventually(lambda: ctl.metrics()['ringway_control_source_reloads_total{result="failed"}'] >= 1,
               5, 0.05, "the bad file counted")
    log = ctl.log()
    assert "shop.yaml" in log and "routes file refused" in log
    assert "route_configurations[0].virtual_hosts[0].routes[0].timeout" in log
    assert ctl.json("/v1/resources")["route_configurations"]["shop"]["routes"] == 1
    assert {origin_at(port) for _ in range(20)} == {"a", "b"}


def sidecar_control(control, *extra, template: str | None = None):
    ctl = control()
    args = ["--sidecar-listener", "127.0.0.1:0", *extra]
    if template is not None:
        path = ctl.dir / "sidecar.yaml"
        path.write_text(template)
        args += ["--sidecar-template", str(path)]
    return ctl, args


def test_the_sidecar_listener_routes_by_cluster_name(env, control):
    a, u = env.origin("a"), env.origin("u")
    ctl, args = sidecar_control(control, template="route: { timeout: 300ms }\n")
    ctl.write_clusters("c.yaml", [{"name": "orders", "endpoints": [a.address]}])
    ctl.start(extra_args=args)
    proxy = env.proxy(lds_config(ctl.xds))
    port = dynamic_port(proxy, "outbound")
    proxy_url = f"http://127.0.0.1:{port}"
    # An application calls http://orders/ through its sidecar (as an HTTP proxy).
    r = curl("http://orders/x", "--proxy", proxy_url)
    assert r.status == 200 and json.loads(r.body)["origin"] == "a"
    r = curl("http://orders:8080/x", "--proxy", proxy_url)
    assert r.status == 200 and json.loads(r.body)["origin"] == "a"
    # The template's timeout applies to every generated route.
    assert curl("http://orders/?delay=1", "--proxy", proxy_url).status == 504
    # An unknown name: no virtual host, 404 NR (as Envoy).
    assert curl("http://nobody/", "--proxy", proxy_url).status == 404

    # A cluster file appears: its name routes too.
    ctl.write_clusters("u.yaml", [{"name": "users", "endpoints": [u.address]}])
    eventually(lambda: curl("http://users/", "--proxy", proxy_url).status == 200, 5, 0.05,
               "users routed")
    resources = ctl.json("/v1/resources")
    assert resources["route_configurations"]["mesh"]["virtual_hosts"] == ["orders", "users"]
    assert resources["listeners"]["outbound"]["rds"] == "mesh"
    # ... and goes.
    ctl.remove_clusters("u.yaml")
    eventually(lambda: curl("http://users/", "--proxy", proxy_url).status == 404, 5, 0.05,
               "users gone")


def test_the_sidecar_follows_eureka_registrations(env, registry):
    p = env.origin("p")
    r = registry(extra_args=["--sidecar-listener", "127.0.0.1:0"])
    proxy = env.proxy(lds_config(r.control.xds))
    port = dynamic_port(proxy, "outbound")
    proxy_url = f"http://127.0.0.1:{port}"
    assert curl("http://payments/", "--proxy", proxy_url).status == 404

    # An app registers with ringway-control's registry: reachable by its VIP.
    register(r, "payments", p, "payments")
    eventually(lambda: curl("http://payments/", "--proxy", proxy_url).status == 200, 5, 0.05,
               "payments routed by name")
    assert json.loads(curl("http://PAYMENTS:80/", "--proxy", proxy_url).body)["origin"] == "p"

    # Deregistered: no virtual host any more, 404 (NR), as Envoy answers.
    cancel(r, "payments", p)
    eventually(lambda: curl("http://payments/", "--proxy", proxy_url).status == 404, 5, 0.05,
               "payments gone: 404")
    assert r.control.json("/v1/resources")["route_configurations"]["mesh"]["virtual_hosts"] == []


def test_replicas_serve_the_generated_resources_with_the_same_versions(control):
    first, args = sidecar_control(control, template="route: { timeout: 2s }\n")
    second = control()
    second.clusters_dir = first.clusters_dir
    second.routes_dir = first.routes_dir
    first.write_clusters("c.yaml", [{"name": "orders", "endpoints": ["127.0.0.1:1"]},
                                    {"name": "users", "endpoints": ["127.0.0.1:2"]}])
    first.write_routes("shop.yaml", shop_routes("5s", split=[("orders", 1), ("users", 1)]))
    first.start(extra_args=args)
    second.start(extra_args=args)

    def versions(c):
        v = c.json("/v1/resources")["versions"]
        return v[ROUTE_TYPE], v[LISTENER_TYPE]

    routes, listeners = eventually(lambda: versions(first)[0].keys() == {"mesh", "shop"}
                                   and versions(first), 5, 0.05, "served")
    assert set(listeners) == {"outbound"}
    eventually(lambda: versions(second) == (routes, listeners), 5, 0.05, "the replica agrees")
    # A change reaches both, with the same new versions.
    first.write_clusters("c.yaml", [{"name": "orders", "endpoints": ["127.0.0.1:1"]}])
    eventually(lambda: versions(first)[0]["mesh"] != routes["mesh"], 5, 0.05, "first changed")
    eventually(lambda: versions(second) == versions(first), 5, 0.05, "both agree again")
