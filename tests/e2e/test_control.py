"""ringway-control, the xDS-lite control plane: its admin API, and the delta
ADS exchange driven by a client built only on Envoy's published protobufs
(xds-protos + grpcio), which ringway did not write."""

from __future__ import annotations

import json

import grpc
import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import json_format
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

from e2e_control import (CLUSTER_TYPE, ENDPOINTS_TYPE, LISTENER_TYPE, ROUTE_TYPE, XdsClient, names,
                         wait_for)

ORDERS = {"name": "orders", "lb_policy": "least_request", "connect_timeout": "1500ms",
          "endpoints": ["127.0.0.1:8081", "127.0.0.1:8082"]}
USERS = {"name": "users", "protocol": "http2",
         "endpoints": [{"address": "127.0.0.1:9000", "weight": 3}]}
HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


@pytest.fixture
def ctl(control):
    c = control()
    c.write_clusters("mesh.yaml", [ORDERS, USERS])
    return c.start()


@pytest.fixture
def client(ctl):
    made = []

    def make(node_id="sidecar-1"):
        x = XdsClient(ctl.xds, node_id)
        made.append(x)
        return x

    yield make
    for x in made:
        x.close()


def endpoints_of(response, name):
    """[(ip, port, weight)] of a ClusterLoadAssignment in a response."""
    [resource] = [r for r in response.resources if r.name == name]
    cla = endpoint_pb2.ClusterLoadAssignment()
    assert resource.resource.Unpack(cla)
    assert cla.cluster_name == name
    return [(e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value,
             e.load_balancing_weight.value) for group in cla.endpoints for e in group.lb_endpoints]


def test_admin_endpoints(ctl):
    assert ctl.get("/ready") == (200, "LIVE\n")
    resources = ctl.json("/v1/resources")
    assert set(resources["versions"][CLUSTER_TYPE]) == {"orders", "users"}
    assert set(resources["versions"][ENDPOINTS_TYPE]) == {"orders", "users"}
    orders = resources["clusters"]["orders"]
    assert orders["lb_policy"] == "least_request" and orders["protocol"] == "http1"
    assert [e["address"] for e in orders["endpoints"]] == ["127.0.0.1:8081", "127.0.0.1:8082"]
    assert resources["clusters"]["users"]["endpoints"] == [{"address": "127.0.0.1:9000", "weight": 3}]
    assert ctl.json("/v1/nodes") == []

    m = ctl.metrics()
    assert m["ringway_control_xds_connected_proxies"] == 0
    assert m[f'ringway_control_xds_resources{{type_url="{CLUSTER_TYPE}"}}'] == 2
    assert m['ringway_control_source_reloads_total{result="ok"}'] == 1
    assert m["ringway_control_resource_set_generation"] == resources["generation"]
    for name in ("streams_total", "responses_sent_total", "acks_total", "nacks_total"):
        assert f"ringway_control_xds_{name}" in m

    assert ctl.get("/nope")[0] == 404
    assert ctl.get("/v1/nodes", "POST")[0] == 405

    # A bad file is refused, counted and logged (file, field, why); the
    # clusters it had stay.
    ctl.write_clusters("mesh.yaml", [{**ORDERS, "lb_policy": "fastest"}])
    wait_for(lambda: ctl.metrics()['ringway_control_source_reloads_total{result="failed"}'] == 1,
             desc="the bad file counted")
    assert "mesh.yaml" in ctl.log() and "lb_policy" in ctl.log()
    assert set(ctl.versions(CLUSTER_TYPE)) == {"orders", "users"}


def test_subscribe_ack_and_incremental_changes(ctl, client):
    x = client()
    x.send(CLUSTER_TYPE, subscribe=["orders", "nope"])
    r = x.recv()
    assert r.type_url == CLUSTER_TYPE and r.nonce
    assert names(r) == ["orders"], "users was not asked for"
    assert list(r.removed_resources) == ["nope"], "a missing name is said not to exist"
    cluster = cluster_pb2.Cluster()
    assert r.resources[0].resource.Unpack(cluster)
    assert cluster.name == "orders"
    assert cluster.type == cluster_pb2.Cluster.EDS
    assert cluster.eds_cluster_config.eds_config.HasField("ads")
    assert cluster.lb_policy == cluster_pb2.Cluster.LEAST_REQUEST
    assert cluster.connect_timeout.ToMilliseconds() == 1500
    orders_version = r.resources[0].version
    x.ack(r)

    x.send(ENDPOINTS_TYPE, subscribe=["orders"])
    r = x.recv()
    assert r.type_url == ENDPOINTS_TYPE
    assert endpoints_of(r, "orders") == [("127.0.0.1", 8081, 1), ("127.0.0.1", 8082, 1)]
    cla_version = r.resources[0].version
    x.ack(r)
    x.expect_nothing(0.3)

    # HTTP/2 upstream options, when asked for.
    x.send(CLUSTER_TYPE, subscribe=["users"])
    r = x.recv()
    assert names(r) == ["users"] and not r.removed_resources, "only the new name"
    users = cluster_pb2.Cluster()
    r.resources[0].resource.Unpack(users)
    options = http_protocol_options_pb2.HttpProtocolOptions()
    assert users.typed_extension_protocol_options[HTTP_OPTIONS].Unpack(options)
    assert options.explicit_http_config.HasField("http2_protocol_options")
    x.ack(r)

    # Endpoints change: a new CLA version, nothing else.
    ctl.write_clusters("mesh.yaml", [{**ORDERS, "endpoints": ["127.0.0.1:8083"]}, USERS])
    r = x.recv()
    assert r.type_url == ENDPOINTS_TYPE and names(r) == ["orders"]
    assert endpoints_of(r, "orders") == [("127.0.0.1", 8083, 1)]
    assert r.resources[0].version != cla_version, "a change gets a new version"
    x.ack(r)
    x.expect_nothing(0.3)
    assert ctl.versions(CLUSTER_TYPE)["orders"] == orders_version, "the Cluster did not change"

    # A cluster goes away: removed, for both types the proxy holds.
    ctl.write_clusters("mesh.yaml", [USERS])
    got = {}
    for _ in range(2):
        r = x.recv()
        got[r.type_url] = r
        x.ack(r)
    assert list(got[CLUSTER_TYPE].removed_resources) == ["orders"] and not got[CLUSTER_TYPE].resources
    assert list(got[ENDPOINTS_TYPE].removed_resources) == ["orders"]

    # It comes back in a new file.
    ctl.write_clusters("more.yaml", [ORDERS])
    r = x.recv()
    assert r.type_url == CLUSTER_TYPE and names(r) == ["orders"]
    x.ack(r)
    m = ctl.metrics()
    assert m["ringway_control_xds_connected_proxies"] == 1
    assert m["ringway_control_xds_acks_total"] >= 6 and m["ringway_control_xds_nacks_total"] == 0


def test_nack_shows_in_nodes(ctl, client):
    x = client("sidecar-nack")
    x.send(CLUSTER_TYPE, subscribe=["orders"])
    r = x.recv()
    x.nack(r, "Cluster `orders`: outlier_detection: not supported")

    def nacked():
        [node] = ctl.json("/v1/nodes")
        return node if node["types"][CLUSTER_TYPE]["last_nack"] else None

    node = wait_for(nacked, desc="the NACK in /v1/nodes")
    assert node["node_id"] == "sidecar-nack" and node["node_cluster"] == "mesh"
    assert node["peer"].startswith("127.0.0.1:") and node["connected_at"]
    status = node["types"][CLUSTER_TYPE]
    assert status["last_nack"] == "Cluster `orders`: outlier_detection: not supported"
    assert status["subscribed"] == ["orders"] and status["acked"] == {}
    assert ctl.metrics()["ringway_control_xds_nacks_total"] == 1
    assert "sidecar-nack" in ctl.log() and "outlier_detection" in ctl.log()

    # A later change is sent; its ACK is recorded by version.
    ctl.write_clusters("mesh.yaml", [{**ORDERS, "lb_policy": "random"}, USERS])
    r = x.recv()
    x.ack(r)
    version = r.resources[0].version
    wait_for(lambda: ctl.json("/v1/nodes")[0]["types"][CLUSTER_TYPE]["acked"] == {"orders": version},
             desc="the ACKed version")


def test_reconnect_with_initial_versions_gets_only_changes(ctl, client):
    x = client("sidecar-resume")
    x.send(CLUSTER_TYPE, subscribe=["orders", "users"])
    r = x.recv()
    held = {res.name: res.version for res in r.resources}
    assert set(held) == {"orders", "users"}
    x.ack(r)
    x.close()
    wait_for(lambda: ctl.json("/v1/nodes") == [], desc="the stream gone")

    # Unchanged: nothing is re-sent.
    y = client("sidecar-resume")
    y.send(CLUSTER_TYPE, subscribe=["orders", "users"], initial_versions=held)
    y.expect_nothing(0.5)
    y.close()

    # One changed while away: only that one.
    ctl.write_clusters("mesh.yaml", [ORDERS, {**USERS, "lb_policy": "random"}])
    wait_for(lambda: ctl.versions(CLUSTER_TYPE)["users"] != held["users"], desc="users changed")
    z = client("sidecar-resume")
    z.send(CLUSTER_TYPE, subscribe=["orders", "users"], initial_versions=held)
    r = z.recv()
    assert names(r) == ["users"] and not r.removed_resources


def test_state_of_the_world_is_refused(ctl):
    with grpc.insecure_channel(ctl.xds) as channel:
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        call = stub.StreamAggregatedResources(iter([discovery_pb2.DiscoveryRequest(type_url=CLUSTER_TYPE)]))
        with pytest.raises(grpc.RpcError) as e:
            list(call)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "delta" in e.value.details()


def test_sigterm_with_a_proxy_connected_exits_cleanly(ctl, client):
    x = client()
    x.send(CLUSTER_TYPE, subscribe=["orders"])
    x.recv()
    assert ctl.stop(timeout=8) == 0


def test_envoy_first_cds_request_is_a_wildcard(ctl, client):
    """Envoy's first delta CDS request names nothing (the legacy wildcard:
    xDS protocol, "How the client specifies what resources to return"):
    node set, type_url Cluster, no names, no initial versions. It gets
    every cluster, then each change. (Listeners follow the same rule:
    test_envoy_first_lds_request_gets_every_listener.)"""
    x = client("envoy-1")
    x.send(CLUSTER_TYPE)
    r = x.recv()
    assert r.type_url == CLUSTER_TYPE and names(r) == ["orders", "users"], "every cluster"
    assert not r.removed_resources
    x.ack(r)
    x.expect_nothing(0.3)

    # Then EDS by name, as Envoy asks for each EDS cluster's assignment.
    x.send(ENDPOINTS_TYPE, subscribe=["orders", "users"])
    r = x.recv()
    assert r.type_url == ENDPOINTS_TYPE and names(r) == ["orders", "users"]
    assert endpoints_of(r, "users") == [("127.0.0.1", 9000, 3)]
    x.ack(r)
    x.expect_nothing(0.3)
    [node] = ctl.json("/v1/nodes")
    assert node["types"][CLUSTER_TYPE]["subscribed"] == ["*"]

    # A folder change is pushed to the wildcard: a new cluster, then one gone.
    ctl.write_clusters("more.yaml", [{"name": "payments", "endpoints": ["127.0.0.1:7000"]}])
    r = x.recv()
    assert r.type_url == CLUSTER_TYPE and names(r) == ["payments"], "the new cluster, unasked"
    x.ack(r)
    x.expect_nothing(0.3)  # its assignment only once asked for
    x.send(ENDPOINTS_TYPE, subscribe=["payments"])
    r = x.recv()
    assert r.type_url == ENDPOINTS_TYPE and names(r) == ["payments"]
    x.ack(r)

    ctl.write_clusters("mesh.yaml", [ORDERS])
    got = {}
    for _ in range(2):
        r = x.recv()
        got[r.type_url] = r
        x.ack(r)
    assert list(got[CLUSTER_TYPE].removed_resources) == ["users"]
    assert list(got[ENDPOINTS_TYPE].removed_resources) == ["users"]

    # Later names add to the wildcard; only unsubscribing "*" ends it.
    x.send(CLUSTER_TYPE, subscribe=["orders"])
    x.expect_nothing(0.3)
    x.send(CLUSTER_TYPE, unsubscribe=["*"])
    ctl.write_clusters("more.yaml", [{"name": "payments", "endpoints": ["127.0.0.1:7001"]},
                                     {"name": "late", "endpoints": ["127.0.0.1:7002"]}])
    r = x.recv()
    assert r.type_url == ENDPOINTS_TYPE and names(r) == ["payments"], "no Cluster for late"
    x.ack(r)
    x.expect_nothing(0.3)


# -- routes (RDS) and listeners (LDS) ---------------------------------------

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

LOCAL_ROUTE = """
name: local_route
virtual_hosts:
- name: backend
  domains: ["api.example.com", "*.api.example.com"]
  routes:
  - match:
      prefix: /orders
      headers:
      - name: x-canary
        string_match: { exact: "1" }
    route: { cluster: orders-canary, timeout: 1.5s }
  - match: { prefix: /orders }
    route:
      timeout: 3s
      prefix_rewrite: /v2/orders
      weighted_clusters:
        clusters:
        - { name: orders, weight: 90 }
        - { name: orders-canary, weight: 10 }
  - match: { path: /old }
    redirect: { path_redirect: /new, strip_query: true }
- name: fallback
  domains: ["*"]
  routes:
  - match: { prefix: / }
    direct_response: { status: 404 }
"""


def hcm(routes: dict) -> dict:
    return {"name": "envoy.filters.network.http_connection_manager",
            "typed_config": {"@type": HCM, "stat_prefix": "ingress_http", **routes,
                             "http_filters": [{"name": "envoy.filters.http.router",
                                               "typed_config": {"@type": ROUTER}}]}}


def listener(name: str, port: int, rds: str | None = "local_route") -> dict:
    """An Envoy Listener with one http_connection_manager: routes over
    RDS (ADS) by name, or inline when `rds` is None."""
    if rds is not None:
        routes = {"rds": {"route_config_name": rds, "config_source": {"ads": {}}}}
    else:
        routes = {"route_config": {"name": f"{name}_routes", "virtual_hosts": [
            {"name": "all", "domains": ["*"], "routes": [
                {"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}}
    return {"name": name,
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"filters": [hcm(routes)]}]}


@pytest.fixture
def lctl(control):
    """Clusters, routes and listeners in their folders."""
    c = control()
    c.write_clusters("mesh.yaml", [ORDERS, USERS])
    c.write_routes("local.yaml", LOCAL_ROUTE)
    c.write_listeners("ingress.json", [listener("ingress", 10000), listener("admin", 10001, rds=None)])
    return c.start()


@pytest.fixture
def lclient(lctl):
    made = []

    def make(node_id="envoy-1"):
        x = XdsClient(lctl.xds, node_id)
        made.append(x)
        return x

    yield make
    for x in made:
        x.close()


def unpack_route(response, name) -> route_pb2.RouteConfiguration:
    [resource] = [r for r in response.resources if r.name == name]
    config = route_pb2.RouteConfiguration()
    assert resource.resource.Unpack(config)
    return config


def test_envoy_first_lds_request_gets_every_listener(lctl, lclient):
    """Envoy's first delta LDS request names nothing: every listener, then
    each change, and each removal."""
    assert lctl.get("/ready") == (200, "LIVE\n")
    x = lclient()
    x.send(LISTENER_TYPE)
    r = x.recv()
    assert r.type_url == LISTENER_TYPE and names(r) == ["admin", "ingress"]
    assert not r.removed_resources
    by_name = {}
    for res in r.resources:
        lis = listener_pb2.Listener()
        assert res.resource.Unpack(lis)
        by_name[res.name] = lis
    ingress = by_name["ingress"]
    assert ingress.name == "ingress"
    assert ingress.address.socket_address.address == "127.0.0.1"
    assert ingress.address.socket_address.port_value == 10000
    [chain] = ingress.filter_chains
    [network_filter] = chain.filters
    manager = http_connection_manager_pb2.HttpConnectionManager()
    assert network_filter.typed_config.Unpack(manager)
    assert manager.stat_prefix == "ingress_http"
    assert manager.rds.route_config_name == "local_route"
    assert manager.rds.config_source.HasField("ads")
    assert [f.name for f in manager.http_filters] == ["envoy.filters.http.router"]
    manager = http_connection_manager_pb2.HttpConnectionManager()
    assert by_name["admin"].filter_chains[0].filters[0].typed_config.Unpack(manager)
    assert manager.route_config.virtual_hosts[0].routes[0].route.cluster == "users"
    x.ack(r)
    x.expect_nothing(0.3)
    [node] = lctl.json("/v1/nodes")
    assert node["types"][LISTENER_TYPE]["subscribed"] == ["*"]
    assert set(node["types"][LISTENER_TYPE]["acked"]) == {"admin", "ingress"}

    # Then RDS for the name the listener gives, as Envoy does.
    x.send(ROUTE_TYPE, subscribe=["local_route"])
    r = x.recv()
    assert r.type_url == ROUTE_TYPE and names(r) == ["local_route"]
    x.ack(r)

    # A new listener file is pushed; a changed one too; a removed file's
    # listeners are removed.
    lctl.write_listeners("edge.yaml", listener("edge", 10002))
    r = x.recv()
    assert r.type_url == LISTENER_TYPE and names(r) == ["edge"] and not r.removed_resources
    x.ack(r)
    lctl.write_listeners("ingress.json", [listener("ingress", 10010), listener("admin", 10001, rds=None)])
    r = x.recv()
    assert names(r) == ["ingress"], "admin did not change"
    lis = listener_pb2.Listener()
    r.resources[0].resource.Unpack(lis)
    assert lis.address.socket_address.port_value == 10010
    x.ack(r)
    lctl.remove_listeners("ingress.json")
    r = x.recv()
    assert r.type_url == LISTENER_TYPE and sorted(r.removed_resources) == ["admin", "ingress"]
    assert not r.resources
    x.ack(r)
    x.expect_nothing(0.3)
    assert set(lctl.versions(LISTENER_TYPE)) == {"edge"}


def test_rds_by_name_field_by_field_then_changes_and_removal(lctl, lclient):
    x = lclient()
    x.send(ROUTE_TYPE, subscribe=["local_route", "ghost"])
    r = x.recv()
    assert r.type_url == ROUTE_TYPE and names(r) == ["local_route"]
    assert list(r.removed_resources) == ["ghost"], "a missing name is said not to exist"
    config = unpack_route(r, "local_route")
    assert config.name == "local_route"
    backend, fallback = config.virtual_hosts
    assert backend.name == "backend"
    assert list(backend.domains) == ["api.example.com", "*.api.example.com"]
    canary, split, redirect = backend.routes
    assert canary.match.prefix == "/orders"
    [header] = canary.match.headers
    assert header.name == "x-canary" and header.string_match.exact == "1"
    assert canary.route.cluster == "orders-canary"
    assert canary.route.timeout.ToMilliseconds() == 1500
    assert split.match.prefix == "/orders" and not split.match.headers
    assert split.route.timeout.seconds == 3
    assert split.route.prefix_rewrite == "/v2/orders"
    assert [(c.name, c.weight.value) for c in split.route.weighted_clusters.clusters] == [
        ("orders", 90), ("orders-canary", 10)]
    assert redirect.match.path == "/old"
    assert redirect.redirect.path_redirect == "/new" and redirect.redirect.strip_query
    assert fallback.domains == ["*"]
    assert fallback.routes[0].direct_response.status == 404
    assert isinstance(fallback.routes[0], route_components_pb2.Route)
    version = r.resources[0].version
    x.ack(r)
    x.expect_nothing(0.3)

    # A route file change is pushed with a new version.
    lctl.write_routes("local.yaml", LOCAL_ROUTE.replace("timeout: 3s", "timeout: 5s"))
    r = x.recv()
    assert names(r) == ["local_route"] and r.resources[0].version != version
    assert unpack_route(r, "local_route").virtual_hosts[0].routes[1].route.timeout.seconds == 5
    version = r.resources[0].version
    x.ack(r)

    # A file with one bad resource is refused whole: logged with the file,
    # the field path and why; the previous version keeps being served.
    bad = [{"name": "local_route", "virtual_hosts": [
               {"name": "v", "domains": ["*"], "routes": [
                   {"match": {"prefix": "/"}, "route": {"cluster": "orders"}}]}]},
           {"name": "other", "virtual_hosts": [
               {"name": "o", "domains": ["o.example"], "routes": [
                   {"match": {"prefix": "/"}, "route": {"cluster": "orders", "timeout": "-1s"}}]}]}]
    lctl.write_routes("local.yaml", json.dumps(bad))
    wait_for(lambda: lctl.metrics()['ringway_control_source_reloads_total{result="failed"}'] == 1,
             desc="the bad route file counted")
    log = lctl.log()
    assert "local.yaml" in log and "routes file refused" in log
    assert "[1].virtual_hosts[0].routes[0].route.timeout" in log, log[-2000:]
    x.expect_nothing(0.5)
    assert lctl.versions(ROUTE_TYPE) == {"local_route": version}
    y = lclient("envoy-late")
    y.send(ROUTE_TYPE, subscribe=["local_route"])
    r = y.recv()
    assert r.resources[0].version == version, "a new proxy gets the last good version"
    assert unpack_route(r, "local_route").virtual_hosts[0].name == "backend"
    y.ack(r)

    # A removed file: its route configurations are removed.
    lctl.remove_routes("local.yaml")
    r = x.recv()
    assert r.type_url == ROUTE_TYPE and list(r.removed_resources) == ["local_route"]
    assert not r.resources
    x.ack(r)
    assert lctl.versions(ROUTE_TYPE) == {}
    assert "the listener's route configuration is not served" in lctl.log(), "ingress names it"


def test_route_nack_shows_in_nodes_and_resources_are_summarised(lctl, lclient):
    x = lclient("envoy-nack")
    x.send(ROUTE_TYPE, subscribe=["local_route"])
    r = x.recv()
    x.nack(r, "RouteConfiguration `local_route`: virtual_hosts[0]: not supported")

    def nacked():
        [node] = lctl.json("/v1/nodes")
        return node if node["types"].get(ROUTE_TYPE, {}).get("last_nack") else None

    node = wait_for(nacked, desc="the RDS NACK in /v1/nodes")
    status = node["types"][ROUTE_TYPE]
    assert status["last_nack"] == "RouteConfiguration `local_route`: virtual_hosts[0]: not supported"
    assert status["subscribed"] == ["local_route"] and status["acked"] == {}
    assert lctl.metrics()["ringway_control_xds_nacks_total"] == 1

    resources = lctl.json("/v1/resources")
    assert set(resources["versions"][ROUTE_TYPE]) == {"local_route"}
    assert set(resources["versions"][LISTENER_TYPE]) == {"admin", "ingress"}
    summary = resources["route_configurations"]["local_route"]
    assert summary["virtual_hosts"] == ["backend", "fallback"] and summary["routes"] == 4
    assert summary["file"].endswith("local.yaml")
    assert resources["listeners"]["ingress"]["rds"] == "local_route"
    assert resources["listeners"]["admin"]["rds"] is None
    m = lctl.metrics()
    assert m[f'ringway_control_xds_resources{{type_url="{ROUTE_TYPE}"}}'] == 1
    assert m[f'ringway_control_xds_resources{{type_url="{LISTENER_TYPE}"}}'] == 2


def test_replicas_give_routes_and_listeners_the_same_versions(lctl, lclient, control):
    """Versions hash content, so two control planes over the same resources
    agree (a proxy moving between them is sent nothing new), whatever the
    files' format, key order or split."""
    x = lclient()
    x.send(ROUTE_TYPE, subscribe=["local_route"])
    served = unpack_route(x.recv(), "local_route")
    other = control()
    other.write_clusters("mesh.yaml", [ORDERS, USERS])
    # The same route configuration as Envoy's protobuf library writes JSON.
    other.write_routes("local.json", json_format.MessageToJson(served, sort_keys=True))
    other.write_listeners("a.json", listener("admin", 10001, rds=None))
    other.write_listeners("b.json", [listener("ingress", 10000)])
    other.start()
    for type_url in (ROUTE_TYPE, LISTENER_TYPE, CLUSTER_TYPE):
        assert other.versions(type_url) == lctl.versions(type_url), type_url
