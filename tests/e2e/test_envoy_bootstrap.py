"""ringway started on Envoy v3 bootstraps written the way Envoy's
documentation writes them (front proxy, weighted routing, direct responses,
redirects, header matching, an ADS bootstrap), driven by real clients:
`ringway -c envoy.yaml`, JSON bootstraps, `--config-yaml` merged over `-c`,
and `--mode validate` errors naming file, field path and reason."""

from __future__ import annotations

import json
import time
import subprocess
from collections import Counter

from e2e_client import curl, eventually
from e2e_proxy import wait_access_log

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
H2_OPTIONS = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def listener(routes_yaml: str, name: str = "listener_0", extra_hcm: str = "") -> str:
    """A listener on 127.0.0.1:0 with an http_connection_manager whose one
    virtual host has `routes_yaml` (indented 14 spaces)."""
    return f"""
  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: 0 }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": {HCM}
          stat_prefix: ingress_http
          codec_type: AUTO{extra_hcm}
          route_config:
            name: local_route
            virtual_hosts:
            - name: local_service
              domains: ["*"]
              routes:
{routes_yaml}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": {ROUTER}
"""


def file_access_log(env) -> tuple:
    """An `access_log` block for a connection manager (to pass as
    `extra_hcm`) writing Envoy's default format to a fresh file, and the
    file's path."""
    logs = env.workdir_fn()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "access.log"
    block = f"""
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": {FILE_LOG}
              path: {log}"""
    return block, log


def static_cluster(name: str, *origins, kind: str = "STATIC", host: str = "127.0.0.1",
                   extra: str = "") -> str:
    endpoints = "".join(f"""
        - endpoint:
            address:
              socket_address: {{ address: {host}, port_value: {o.port} }}""" for o in origins)
    return f"""
  - name: {name}
    connect_timeout: 0.25s
    type: {kind}
    lb_policy: ROUND_ROBIN{extra}
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:{endpoints}
"""


def bootstrap(listeners: str, clusters: str = "", admin: bool = True) -> str:
    text = f"static_resources:\n  listeners:{listeners}"
    if clusters:
        text += f"  clusters:{clusters}"
    if admin:
        text += "admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 0 }\n"
    return text


def test_front_proxy_routes_rewrites_and_logs_like_envoy(env):
    service1 = env.origin("service1")
    service2 = env.origin("service2")
    logs = env.workdir_fn()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "access.log"
    routes = """
              - match: { prefix: "/service/1" }
                route: { cluster: service1, prefix_rewrite: "/" }
              - match: { prefix: "/service/2" }
                route: { cluster: service2, host_rewrite_literal: service2.internal }
              - match: { path: "/healthz" }
                direct_response: { status: 200, body: { inline_string: "ok\\n" } }
"""
    access_log = f"""
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": {FILE_LOG}
              path: {log}"""
    config = bootstrap(
        listener(routes, extra_hcm=access_log),
        static_cluster("service1", service1) + static_cluster("service2", service2, kind="STRICT_DNS",
                                                             host="localhost",
                                                             extra="\n    dns_lookup_family: V4_ONLY"),
    )
    proxy = env.proxy(config)
    r = curl(proxy.url("/service/1/users?id=7"))
    assert r.status == 200 and r.json()["origin"] == "service1"
    assert r.json()["target"] == "/users?id=7"
    r = curl(proxy.url("/service/2/x"))
    assert r.json()["origin"] == "service2"
    assert {k.lower(): v for k, v in r.json()["headers"]}["host"] == "service2.internal"
    r = curl(proxy.url("/healthz"))
    assert (r.status, r.body) == (200, b"ok\n")
    assert curl(proxy.url("/nothing")).status == 404
    entry = wait_access_log(log, lambda e: e["path"] == "/service/1/users?id=7")
    assert (entry["code"], entry["flags"], entry["upstream"]) == ("200", "-", service1.address)
    wait_access_log(log, lambda e: e["path"] == "/nothing" and e["flags"] == "NR")
    clusters = proxy.admin_get("/clusters")
    assert f"service1::{service1.address}::health_flags::healthy" in clusters
    assert f"service2::{service2.address}::hostname::localhost" in clusters
    # /config_dump as tools read it: the bootstrap as loaded, and the
    # listener and clusters under their dumps' types.
    dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin_get("/config_dump"))["configs"]}
    boot = dump["BootstrapConfigDump"]["bootstrap"]
    [boot_listener] = boot["static_resources"]["listeners"]
    assert boot_listener["name"] == "listener_0"
    assert boot_listener["address"]["socket_address"]["port_value"] == 0, "as loaded, not as bound"
    assert [c["name"] for c in boot["static_resources"]["clusters"]] == ["service1", "service2"]
    assert boot["static_resources"]["clusters"][1]["type"] == "STRICT_DNS"
    assert [s["cluster"]["name"] for s in dump["ClustersConfigDump"]["static_clusters"]] == ["service1", "service2"]
    assert "dynamic_active_clusters" not in dump["ClustersConfigDump"]
    [dumped] = dump["ListenersConfigDump"]["static_listeners"]
    assert dumped["listener"]["name"] == "listener_0"
    [routes] = dump["RoutesConfigDump"]["static_route_configs"]
    assert routes["route_config"]["virtual_hosts"][0]["routes"][0]["match"]["prefix"] == "/service/1"


def test_weighted_clusters_split_traffic(env):
    a, b = env.origin("a"), env.origin("b")
    routes = """
              - match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: a, weight: 75 }
                    - { name: b, weight: 25 }
"""
    proxy = env.proxy(bootstrap(listener(routes), static_cluster("a", a) + static_cluster("b", b)))
    seen = Counter(curl(proxy.url("/")).json()["origin"] for _ in range(200))
    assert 110 <= seen["a"] <= 190 and seen["a"] + seen["b"] == 200, seen


def test_header_matching_redirects_and_cluster_header(env):
    a, b = env.origin("a"), env.origin("b")
    routes = """
              - match:
                  prefix: "/"
                  headers:
                  - name: x-canary
                    string_match: { exact: "yes" }
                route: { cluster: b }
              - match:
                  prefix: "/"
                  headers:
                  - name: ":method"
                    string_match: { exact: "POST" }
                route: { cluster_header: x-cluster }
              - match: { prefix: "/old" }
                redirect: { path_redirect: "/new", strip_query: true, response_code: PERMANENT_REDIRECT }
              - match: { prefix: "/secure" }
                redirect: { https_redirect: true, host_redirect: "example.com" }
              - match: { prefix: "/" }
                route: { cluster: a }
"""
    proxy = env.proxy(bootstrap(listener(routes), static_cluster("a", a) + static_cluster("b", b)))
    assert curl(proxy.url("/x")).json()["origin"] == "a"
    assert curl(proxy.url("/x"), "-H", "x-canary: yes").json()["origin"] == "b"
    assert curl(proxy.url("/x"), "-X", "POST", "-H", "x-cluster: b").json()["origin"] == "b"
    r = curl(proxy.url("/old?q=1"))
    assert (r.status, r.header("location")) == (308, "http://127.0.0.1:%d/new" % proxy.port)
    r = curl(proxy.url("/secure/page"))
    assert (r.status, r.header("location")) == (301, "https://example.com/secure/page")


def test_redirect_forms_range_match_and_auto_host_rewrite(env):
    """Envoy's other redirect forms (port_redirect, prefix_rewrite, a
    path_redirect that keeps the query), range_match, and auto_host_rewrite
    on a STRICT_DNS cluster."""
    a, b = env.origin("a"), env.origin("b")
    routes = """
              - match: { prefix: "/port" }
                redirect: { port_redirect: 8443 }
              - match: { prefix: "/v1/" }
                redirect: { prefix_rewrite: "/v2/", response_code: FOUND }
              - match: { path: "/moved" }
                redirect: { path_redirect: "/here" }
              - match: { path: "/moved-own-query" }
                redirect: { path_redirect: "/here?from=old", strip_query: true }
              - match:
                  prefix: "/"
                  headers:
                  - name: x-build
                    range_match: { start: 100, end: 200 }
                route: { cluster: b }
              - match: { prefix: "/" }
                route: { cluster: dns, auto_host_rewrite: true }
"""
    clusters = static_cluster("b", b) + static_cluster("dns", a, kind="STRICT_DNS", host="localhost",
                                                       extra="\n    dns_lookup_family: V4_ONLY")
    proxy = env.proxy(bootstrap(listener(routes), clusters))
    host = "127.0.0.1:%d" % proxy.port
    r = curl(proxy.url("/port/x?q=1"))
    assert (r.status, r.header("location")) == (301, "http://127.0.0.1:8443/port/x?q=1")
    r = curl(proxy.url("/v1/items?page=2"))
    assert (r.status, r.header("location")) == (302, "http://%s/v2/items?page=2" % host)
    r = curl(proxy.url("/moved?q=1"))
    assert (r.status, r.header("location")) == (301, "http://%s/here?q=1" % host)
    r = curl(proxy.url("/moved-own-query?q=1"))
    assert r.header("location") == "http://%s/here?from=old" % host
    assert curl(proxy.url("/x"), "-H", "x-build: 150").json()["origin"] == "b"
    answer = curl(proxy.url("/x"), "-H", "x-build: 200").json()
    assert answer["origin"] == "a"
    assert [v for k, v in answer["headers"] if k.lower() == "host"] == ["localhost"]


def test_generate_request_id_false(env):
    """`generate_request_id: false`: a request without x-request-id goes up
    without one; one the client sent still goes through."""
    a = env.origin("a")
    routes = """
              - match: { prefix: "/" }
                route: { cluster: a }
"""
    on = listener(routes, name="on")
    off = listener(routes, name="off", extra_hcm="\n          generate_request_id: false")
    proxy = env.proxy(bootstrap(on + off, static_cluster("a", a)))

    def request_ids(name, *args):
        answer = curl(proxy.url("/x", listener=name), *args).json()
        return [v for k, v in answer["headers"] if k.lower() == "x-request-id"]

    assert len(request_ids("on")) == 1
    assert request_ids("off") == []
    assert request_ids("off", "-H", "x-request-id: mine") == ["mine"]


def test_json_bootstrap_and_http2_upstream_options(env):
    """The same bootstrap as JSON (Envoy reads either), with an h2c upstream
    selected by typed_extension_protocol_options."""
    from e2e_h2 import H2Origin

    origin = H2Origin()
    env.origins.append(origin)
    config = {
        "static_resources": {
            "listeners": [{
                "name": "json_listener",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": HCM, "stat_prefix": "json",
                        "route_config": {"virtual_hosts": [{
                            "name": "all", "domains": ["*"],
                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "grpcish"}}]}]},
                        "http_filters": [{"name": "envoy.filters.http.router",
                                          "typed_config": {"@type": ROUTER}}]}}]}],
            }],
            "clusters": [{
                "name": "grpcish", "connect_timeout": "1s",
                "typed_extension_protocol_options": {
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                        "@type": H2_OPTIONS, "explicit_http_config": {"http2_protocol_options": {}}}},
                "load_assignment": {"cluster_name": "grpcish", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": {"socket_address": {
                        "address": "127.0.0.1", "port_value": origin.port}}}}]}]},
            }],
        },
    }
    proxy = env.unstarted_proxy()
    proxy.config_path = proxy.dir / "envoy.json"
    proxy.start(json.dumps(config))
    r = curl(proxy.url("/hello"))
    assert r.status == 200, r
    assert origin.requests and origin.requests[-1].path == "/hello"


def test_config_yaml_is_merged_over_the_file(env, ringway_bin):
    a, b = env.origin("a"), env.origin("b")
    routes = """
              - match: { prefix: "/" }
                route: { cluster: a }
"""
    extra = bootstrap(listener("""
              - match: { prefix: "/" }
                route: { cluster: b }
""", name="listener_1"), static_cluster("b", b), admin=False)
    proxy = env.proxy(bootstrap(listener(routes), static_cluster("a", a)),
                      extra_args=["--config-yaml", extra])
    # Lists are appended: both listeners and both clusters.
    assert curl(proxy.url("/", listener="listener_0")).json()["origin"] == "a"
    assert curl(proxy.url("/", listener="listener_1")).json()["origin"] == "b"
    # Used alone, --config-yaml is the whole bootstrap.
    alone = subprocess.run([ringway_bin, "--mode", "validate", "--config-yaml", extra],
                           capture_output=True, text=True, timeout=30)
    assert alone.returncode == 0, alone.stderr
    assert "OK" in alone.stdout


def validate(ringway_bin, path, text, *extra):
    path.write_text(text)
    return subprocess.run([ringway_bin, "-c", str(path), "--mode", "validate", *extra],
                          capture_output=True, text=True, timeout=30)


def test_validate_names_file_field_path_and_reason(env, ringway_bin):
    a = env.origin("a")
    path = env.workdir_fn() / "envoy.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    good = bootstrap(listener("""
              - match: { prefix: "/" }
                route: { cluster: a }
"""), static_cluster("a", a))
    ok = validate(ringway_bin, path, good)
    assert ok.returncode == 0 and f"configuration '{path}' OK" in ok.stdout, ok.stderr
    cases = [
        # A field Envoy has and ringway does not: refused by name, never dropped.
        (good.replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBIN\n    outlier_detection: { consecutive_5xx: 3 }"),
         "static_resources.clusters[0].outlier_detection", "not supported"),
        # A field Envoy does not have at all.
        (good.replace("codec_type: AUTO", "codec_type: AUTO\n          bogus_field: 1"),
         "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.bogus_field", "no such field"),
        # An HTTP filter ringway does not have.
        (good.replace("          http_filters:\n", "          http_filters:\n          - name: envoy.filters.http.cors\n"
                      "            typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n"),
         "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config",
         "envoy.extensions.filters.http.cors.v3.Cors is not supported"),
        # A value out of range.
        (good.replace("lb_policy: ROUND_ROBIN", "lb_policy: MAGLEV"),
         "static_resources.clusters[0].lb_policy", "MAGLEV is not supported"),
        # A route to a cluster nobody defines.
        (good.replace("cluster: a }", "cluster: nowhere }"), "static_resources.listeners", "`nowhere`"),
        # State-of-the-world ADS.
        (good + "dynamic_resources:\n  ads_config: { api_type: GRPC, transport_api_version: V3 }\n",
         "dynamic_resources.ads_config.api_type", "DELTA_GRPC"),
    ]
    for text, field, words in cases:
        r = validate(ringway_bin, path, text)
        assert r.returncode != 0, text
        assert f"{path}: {field}: " in r.stderr and words in r.stderr, (field, r.stderr)


def test_ads_bootstrap_takes_clusters_from_ringway_control(env, control):
    """Envoy's ADS bootstrap shape: a static xds_cluster (h2c) for the
    control plane, delta ADS, CDS over ADS; routes name clusters that only
    the control plane has."""
    origin = env.origin("orders")
    c = control()
    c.write_clusters("orders.yaml", [{"name": "orders", "endpoints": [origin.address]}])
    c.start()
    host, port = c.xds.rsplit(":", 1)
    xds_cluster = f"""
  - name: xds_cluster
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": {H2_OPTIONS}
        explicit_http_config:
          http2_protocol_options: {{}}
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: {host}, port_value: {port} }}
"""
    config = bootstrap(listener("""
              - match: { prefix: "/" }
                route: { cluster: orders }
"""), xds_cluster) + """node:
  id: sidecar-7
  cluster: checkout
dynamic_resources:
  ads_config:
    api_type: DELTA_GRPC
    transport_api_version: V3
    grpc_services:
    - envoy_grpc: { cluster_name: xds_cluster }
  cds_config: { ads: {}, resource_api_version: V3 }
"""
    proxy = env.proxy(config)
    eventually(lambda: curl(proxy.url("/x")).status == 200, 10, 0.1, "orders from the control plane")
    assert curl(proxy.url("/x")).json()["origin"] == "orders"
    nodes = c.json("/v1/nodes")
    assert [n["node_id"] for n in nodes] == ["sidecar-7"], nodes
    # /config_dump: the bootstrap's node and ADS source as loaded, the
    # control plane's cluster among the dynamic ones with its version.
    dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin_get("/config_dump"))["configs"]}
    boot = dump["BootstrapConfigDump"]["bootstrap"]
    assert boot["node"]["id"] == "sidecar-7"
    assert boot["dynamic_resources"]["ads_config"]["api_type"] == "DELTA_GRPC"
    [dynamic] = dump["ClustersConfigDump"]["dynamic_active_clusters"]
    assert dynamic["cluster"]["name"] == "orders" and dynamic["version_info"]
    assert dynamic["cluster"]["type"] == "EDS"
    static = [s["cluster"]["name"] for s in dump["ClustersConfigDump"].get("static_clusters", [])]
    assert "orders" not in static
    assert dump["ListenersConfigDump"]["static_listeners"][0]["listener"]["name"] == "listener_0"
    only = json.loads(proxy.admin_get("/config_dump?resource=dynamic_active_clusters&mask=cluster.name"))
    assert [c["cluster"]["name"] for c in only["configs"]] == ["orders"]
    assert "orders::added_via_api::true" in proxy.admin_get("/clusters")


def test_envoy_route_matchers_rewrites_and_headers(env):
    """Query-parameter and case-insensitive matching, regex_rewrite with
    x-envoy-original-path, and use_remote_address, from Envoy's fields."""
    a, b = env.origin("a"), env.origin("b")
    routes = r"""
              - match:
                  prefix: "/"
                  query_parameters:
                  - name: debug
                    string_match: { exact: "1" }
                route: { cluster: b }
              - match: { prefix: "/API/", case_sensitive: false }
                route:
                  cluster: a
                  regex_rewrite:
                    pattern: { regex: "^/api/v(\\d+)/(.*)$" }
                    substitution: "/\\2?version=\\1"
              - match: { prefix: "/" }
                route: { cluster: a }
"""
    hcm = "\n          use_remote_address: true"
    proxy = env.proxy(bootstrap(listener(routes, extra_hcm=hcm), static_cluster("a", a) + static_cluster("b", b)))
    assert curl(proxy.url("/x?debug=1")).json()["origin"] == "b"
    assert curl(proxy.url("/x?debug=2")).json()["origin"] == "a"
    r = curl(proxy.url("/api/v2/users"))
    headers = {k.lower(): v for k, v in r.json()["headers"]}
    assert r.json()["origin"] == "a"
    assert r.json()["target"].startswith("/users"), r.json()["target"]
    assert headers["x-envoy-original-path"] == "/api/v2/users"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert r.header("x-envoy-upstream-service-time") is not None


def test_ads_bootstrap_takes_listeners_and_routes_from_ringway_control(env, control):
    """Envoy's full ADS bootstrap (LDS and CDS over delta ADS, routes by
    RDS) against ringway-control's listener and route folders: a listener
    is bound live, its routes change under load with no failed request,
    and it goes when its file does."""
    import threading

    from e2e_client import RawConn

    a, b = env.origin("a"), env.origin("b")
    c = control()
    c.write_clusters("c.yaml", [{"name": "a", "endpoints": [a.address]},
                                {"name": "b", "endpoints": [b.address]}])
    c.write_routes("edge.yaml", {"name": "edge-routes", "virtual_hosts": [
        {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "a"}}]}]})
    c.write_listeners("edge.yaml", {
        "name": "edge",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {"@type": HCM, "stat_prefix": "edge",
                             "rds": {"route_config_name": "edge-routes", "config_source": {"ads": {}}},
                             "http_filters": [{"name": "envoy.filters.http.router",
                                               "typed_config": {"@type": ROUTER}}]}}]}]})
    c.start()
    host, port = c.xds.rsplit(":", 1)
    config = f"""node: {{ id: edge-1, cluster: edge }}
dynamic_resources:
  ads_config:
    api_type: DELTA_GRPC
    transport_api_version: V3
    grpc_services:
    - envoy_grpc: {{ cluster_name: xds_cluster }}
  cds_config: {{ ads: {{}}, resource_api_version: V3 }}
  lds_config: {{ ads: {{}}, resource_api_version: V3 }}
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": {H2_OPTIONS}
        explicit_http_config: {{ http2_protocol_options: {{}} }}
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: {host}, port_value: {port} }} }} }}
admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
"""
    proxy = env.proxy(config)

    def edge_port():
        proxy.refresh_listeners()
        return proxy.listeners.get("edge", (None, None))[1]
    edge = eventually(edge_port, 10, 0.05, "listener edge from ringway-control")
    url = f"http://127.0.0.1:{edge}/"
    eventually(lambda: curl(url).status == 200, 10, 0.05, "edge routes to a")
    assert curl(url).json()["origin"] == "a"

    stop = threading.Event()
    failures, seen = [], set()

    def load():
        deadline = time.monotonic() + 60  # bounded
        with RawConn(edge, timeout=10) as conn:
            while not stop.is_set() and time.monotonic() < deadline:
                resp = conn.request("GET", "/load")
                if resp.status != 200:
                    failures.append(resp.status)
                else:
                    seen.add(json.loads(resp.body)["origin"])

    t = threading.Thread(target=load)
    t.start()
    try:
        for i in range(6):
            target = "b" if i % 2 == 0 else "a"
            c.write_routes("edge.yaml", {"name": "edge-routes", "virtual_hosts": [
                {"name": "all", "domains": ["*"],
                 "routes": [{"match": {"prefix": "/"}, "route": {"cluster": target}}]}]})
            eventually(lambda: curl(url).json()["origin"] == target, 10, 0.05, f"route change {i}")
    finally:
        stop.set()
        t.join(30)
    assert failures == [] and seen == {"a", "b"}, (failures, seen)

    c.remove_listeners("edge.yaml")

    def gone():
        proxy.refresh_listeners()
        return "edge" not in proxy.listeners
    eventually(gone, 10, 0.05, "listener edge removed")
