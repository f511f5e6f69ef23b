"""ringway-control, the xDS-lite control plane: its admin API, and the delta
ADS exchange driven by a client built only on Envoy's published protobufs
(xds-protos + grpcio), which ringway did not write."""

from __future__ import annotations

import grpc
import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

from e2e_control import CLUSTER_TYPE, ENDPOINTS_TYPE, XdsClient, names, wait_for

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
    every cluster, then each change. (ringway-control serves no Listeners
    yet; the same rule is written for them.)"""
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
