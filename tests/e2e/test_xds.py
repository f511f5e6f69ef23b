"""ringway driven over delta xDS: the real ringway-control and real ringway
proxies with real origins. On-demand cluster discovery (found, missing,
timed out, many at once), cluster changes, static routes to control-plane
clusters, control-plane outages, several proxies, HTTP/2 downstream; and a
NACK from a tiny delta ADS server written here on Envoy's published
protobufs (xds-protos + grpcio), a control plane ringway did not write."""

from __future__ import annotations

import json
from collections import Counter
import queue
import threading
import time
from concurrent import futures

import grpc
import pytest
from envoy.config.cluster.v3 import cluster_pb2, outlier_detection_pb2
from envoy.config.core.v3 import address_pb2, config_source_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

from e2e_client import RawConn, build_request, curl, eventually
from e2e_control import CLUSTER_TYPE, ENDPOINTS_TYPE

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
from e2e_origin import closed_port
from e2e_proxy import wait_access_log

LISTENER = "egress"
STAT = f"http.{LISTENER}.on_demand_cluster_"


# -- configs -------------------------------------------------------------------

def xds_block(address: str, node_id: str = "sidecar-1", initial_fetch_timeout: str = "5s") -> dict:
    return {"address": address, "node": {"id": node_id, "cluster": "orders"},
            "initial_fetch_timeout": initial_fetch_timeout}


def route(source: str = "authority", timeout: str | None = "5s", prefix: str = "/") -> dict:
    """A route whose cluster comes from the authority (`authority`), a
    header (`header:NAME`) or is named (`cluster:NAME`)."""
    r: dict = {"match": {"prefix": prefix}}
    kind, _, arg = source.partition(":")
    if kind == "authority":
        r["cluster_from"] = "authority"
    elif kind == "header":
        r["cluster_header"] = arg
    else:
        r["cluster"] = arg
    if timeout is not None:
        r["on_demand"] = {"timeout": timeout}
    return r


def xds_config(address: str, routes=None, node_id: str = "sidecar-1",
               initial_fetch_timeout: str = "5s", access_log=None) -> dict:
    listener = {"name": LISTENER, "address": "127.0.0.1:0",
                "virtual_hosts": [{"name": "mesh", "domains": ["*"],
                                   "routes": list(routes or [route()])}]}
    if access_log:
        listener["access_log"] = access_log
    return {"xds": xds_block(address, node_id, initial_fetch_timeout),
            "listeners": [listener], "clusters": []}


def cluster_file(name: str, *endpoints, **kw) -> list:
    return [{"name": name, "lb_policy": "round_robin",
             "endpoints": [getattr(e, "address", e) for e in endpoints], **kw}]


# -- requests ------------------------------------------------------------------

def get(proxy, host: str, path: str = "/", headers=(), timeout: float = 10.0):
    """One request on a new connection; (response, seconds taken)."""
    started = time.monotonic()
    with RawConn(proxy.port, timeout=timeout) as c:
        resp = c.request("GET", path, list(headers), host=host)
    return resp, time.monotonic() - started


def origin_of(resp) -> str | None:
    return resp.header("x-origin")


def wait_origin(proxy, host: str, name: str, timeout: float = 5.0, desc: str = "") -> None:
    """Bounded poll: a request for `host` is answered by origin `name`."""
    def answered():
        resp, _ = get(proxy, host)
        return resp.status == 200 and origin_of(resp) == name
    eventually(answered, timeout, 0.05, desc or f"{host} served by {name}")


def wait_status(proxy, host: str, status: int, timeout: float = 5.0) -> None:
    eventually(lambda: get(proxy, host)[0].status == status, timeout, 0.05, f"{host} -> {status}")


def wait_stat(proxy, name: str, pred, timeout: float = 5.0):
    return eventually(lambda: pred(proxy.stat(name)), timeout, 0.02, f"stat {name}")


def connected(proxy) -> int:
    return proxy.stat("control_plane.connected_state")


def publish(ctl, name: str, clusters: list) -> None:
    """Write a cluster file and wait (bounded) until the control plane
    serves exactly what it says: its clusters' endpoints in /v1/resources."""
    ctl.write_clusters(f"{name}.yaml", clusters)

    def served():
        have = ctl.json("/v1/resources")["clusters"]
        return all(c["name"] in have and [e["address"] for e in have[c["name"]]["endpoints"]]
                   == [getattr(e, "address", e) for e in c["endpoints"]] for c in clusters)
    eventually(served, 5, 0.02, f"ringway-control serves {name}.yaml")


def unpublish(ctl, name: str, clusters: list) -> None:
    ctl.remove_clusters(f"{name}.yaml")
    eventually(lambda: not set(c["name"] for c in clusters) & set(ctl.json("/v1/resources")["clusters"]),
               5, 0.02, f"ringway-control dropped {name}.yaml")


def nodes(ctl) -> dict:
    return {n["node_id"]: n for n in ctl.json("/v1/nodes")}


@pytest.fixture
def ctl(control):
    """A running ringway-control with an empty clusters folder."""
    return control().start()


# -- 1. on-demand discovery, cluster exists ------------------------------------------

def test_on_demand_by_authority(env, ctl):
    origin = env.origin("orders-a")
    publish(ctl, "orders", cluster_file("orders", origin))
    proxy = env.proxy(xds_config(ctl.xds))
    assert proxy.stat("cluster_manager.active_dynamic_clusters") == 0

    resp, _ = get(proxy, "orders")
    assert resp.status == 200 and origin_of(resp) == "orders-a"
    assert ["host", "orders"] in [[k.lower(), v] for k, v in resp.json()["headers"]]
    s = proxy.stats()
    assert (s[STAT + "discovery"], s[STAT + "success"], s.get(STAT + "hit", 0)) == (1, 1, 0)
    assert s["cluster_manager.active_dynamic_clusters"] == 1
    assert s["cluster_manager.xds.update_success"] >= 2  # the Cluster, then its endpoints
    assert s["cluster_manager.xds.update_rejected"] == 0

    # Known now: a hit, also when the authority needs normalising.
    resp, _ = get(proxy, "orders")
    assert resp.status == 200 and origin_of(resp) == "orders-a"
    resp, _ = get(proxy, "Orders:8080")
    assert resp.status == 200 and origin_of(resp) == "orders-a"
    s = proxy.stats()
    assert (s[STAT + "discovery"], s[STAT + "success"], s[STAT + "hit"]) == (1, 1, 2)
    assert f"orders::{origin.address}::" in proxy.admin_get("/clusters")
    assert origin.count == 3
    info = proxy.server_info()["xds"]
    assert info["address"] == ctl.xds and info["connected"] is True
    assert info["node"] == {"id": "sidecar-1", "cluster": "orders"}
    assert info["updates"]["rejected"] == 0 and info["last_nack"] is None

    # The control plane sees the proxy, subscribed to orders and ACKing.
    node = nodes(ctl)["sidecar-1"]
    assert node["types"][CLUSTER_TYPE]["subscribed"] == ["orders"]
    assert node["types"][ENDPOINTS_TYPE]["subscribed"] == ["orders"]
    assert set(node["types"][CLUSTER_TYPE]["acked"]) == {"orders"}
    assert not node["types"][CLUSTER_TYPE]["last_nack"]


def test_on_demand_first_request_normalises_authority(env, ctl):
    origin = env.origin("orders-n")
    publish(ctl, "orders", cluster_file("orders", origin))
    proxy = env.proxy(xds_config(ctl.xds))
    resp, _ = get(proxy, "ORDERS:8080")
    assert resp.status == 200 and origin_of(resp) == "orders-n"
    assert proxy.stat(STAT + "success") == 1
    assert nodes(ctl)["sidecar-1"]["types"][CLUSTER_TYPE]["subscribed"] == ["orders"]


def test_on_demand_by_header(env, ctl):
    origin = env.origin("payments")
    publish(ctl, "payments", cluster_file("payments", origin))
    proxy = env.proxy(xds_config(ctl.xds, [route("header:x-cluster")]))
    resp, _ = get(proxy, "whatever.example", headers=[("X-Cluster", "Payments")])
    assert resp.status == 200 and origin_of(resp) == "payments"
    resp, _ = get(proxy, "whatever.example", headers=[("X-Cluster", "payments")])
    assert resp.status == 200 and origin_of(resp) == "payments"
    s = proxy.stats()
    assert (s[STAT + "discovery"], s[STAT + "success"], s[STAT + "hit"]) == (1, 1, 1)

    # No header: nothing to discover, 503 NC.
    resp, _ = get(proxy, "whatever.example")
    assert resp.status == 503


# -- 2. on-demand, cluster does not exist ----------------------------------------------

def test_on_demand_missing_cluster_fails_fast_then_appears(env, ctl, tmp_path):
    log = tmp_path / "access.log"
    proxy = env.proxy(xds_config(ctl.xds, [route(timeout="5s")],
                                 access_log={"path": str(log), "format": "json"}))
    resp, took = get(proxy, "inventory")
    assert resp.status == 503, resp
    assert b"cluster not found" in resp.body
    assert took < 2.0, f"a missing cluster is said so at once, not after the 5s timeout ({took:.2f}s)"
    s = proxy.stats()
    assert s[STAT + "missing"] == 1 and s.get(STAT + "timeout", 0) == 0
    record = eventually(lambda: [json.loads(l) for l in log.read_text().splitlines()], 4, 0.05,
                        "access log line")[0]
    assert record["response_code"] == 503 and record["response_flags"] == "NC", record

    # The proxy stays subscribed to the name: when the file appears, the
    # cluster is pushed to it without another request asking.
    origin = env.origin("inventory")
    publish(ctl, "inventory", cluster_file("inventory", origin))
    wait_stat(proxy, "cluster_manager.active_dynamic_clusters", lambda v: v == 1)
    resp, _ = get(proxy, "inventory")
    assert resp.status == 200 and origin_of(resp) == "inventory"
    s = proxy.stats()
    assert (s[STAT + "hit"], s[STAT + "discovery"], s.get(STAT + "timeout", 0)) == (1, 1, 0)


# -- 3. on-demand timeout, control plane unreachable ------------------------------------

def test_on_demand_timeout_when_control_plane_unreachable(env):
    dead = f"127.0.0.1:{closed_port()}"
    proxy = env.unstarted_proxy()
    proxy.start(xds_config(dead, [route(timeout="1s")], initial_fetch_timeout="1500ms"), wait=False)
    # Before the initial fetch timeout: not ready.
    eventually(lambda: proxy.admin_path.exists() and proxy.admin_path.read_text().strip(), 5, 0.01)
    proxy.admin = proxy.admin_path.read_text().strip()
    status, body = proxy.admin_call("/ready")
    assert (status, body.strip()) == (503, "INITIALIZING")
    # After it: live, saying the control plane is unreachable.
    proxy.wait_ready(timeout=5, allow_detail=True)
    status, body = proxy.admin_call("/ready")
    lines = body.splitlines()
    assert status == 200 and lines[0] == "LIVE", body
    assert lines[1].startswith("xds: control plane") and "unreachable" in lines[1], body
    assert dead in lines[1]
    assert connected(proxy) == 0
    assert proxy.server_info()["xds"]["connected"] is False

    resp, took = get(proxy, "orders")
    assert resp.status == 503 and b"cluster discovery timed out" in resp.body, resp
    assert 0.8 <= took < 3.0, f"answered after {took:.2f}s, not about the 1s timeout"
    s = proxy.stats()
    assert s[STAT + "timeout"] == 1 and s[STAT + "discovery"] == 1 and s.get(STAT + "success", 0) == 0


# -- 4. many first requests at once -----------------------------------------------------

def test_many_first_requests_at_once_subscribe_once(env, ctl):
    origin = env.origin("burst")
    publish(ctl, "burst", cluster_file("burst", origin))
    proxy = env.proxy(xds_config(ctl.xds), concurrency=4)
    assert len(proxy.workers()) == 4
    n = 200
    gate = threading.Barrier(n)
    results: list = [None] * n

    def one(i):
        try:
            with RawConn(proxy.port, timeout=15) as c:
                gate.wait(10)
                results[i] = c.request("GET", f"/burst/{i}", host="burst").status
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            results[i] = repr(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200] * n, [r for r in results if r != 200][:5]
    assert origin.count == n

    s = proxy.stats()
    assert s[STAT + "discovery"] + s.get(STAT + "hit", 0) == n
    assert s[STAT + "discovery"] >= 1 and s[STAT + "success"] == s[STAT + "discovery"]
    assert s.get(STAT + "missing", 0) == 0 and s.get(STAT + "timeout", 0) == 0
    assert s["control_plane.streams_total"] == 1

    # One stream for the whole proxy, and the name in its subscriptions once.
    [node] = ctl.json("/v1/nodes")
    assert node["node_id"] == "sidecar-1"
    assert node["types"][CLUSTER_TYPE]["subscribed"] == ["burst"]
    assert node["types"][ENDPOINTS_TYPE]["subscribed"] == ["burst"]
    m = ctl.metrics()
    assert m["ringway_control_xds_connected_proxies"] == 1
    assert m["ringway_control_xds_streams_total"] == 1
    assert m["ringway_control_xds_nacks_total"] == 0
    # One Cluster response and one ClusterLoadAssignment, both ACKed: the
    # name was asked for once, however many requests waited for it.
    assert m["ringway_control_xds_responses_sent_total"] == 2
    assert m["ringway_control_xds_acks_total"] == 2


# -- 5. add / change / remove -------------------------------------------------------------

def test_cluster_endpoints_change_and_cluster_removed(env, ctl):
    a, b = env.origin("a"), env.origin("b")
    publish(ctl, "orders", cluster_file("orders", a))
    proxy = env.proxy(xds_config(ctl.xds))
    resp, _ = get(proxy, "orders")
    assert resp.status == 200 and origin_of(resp) == "a"

    # A -> B: traffic moves, and stays.
    publish(ctl, "orders", cluster_file("orders", b))
    wait_origin(proxy, "orders", "b", desc="traffic moved to b")
    assert {origin_of(get(proxy, "orders")[0]) for _ in range(10)} == {"b"}

    # Keep-alive connection stays usable across the change.
    with RawConn(proxy.port) as c:
        assert origin_of(c.request("GET", "/", host="orders")) == "b"
        # A second endpoint: both get traffic (round robin).
        publish(ctl, "orders", cluster_file("orders", a, b))
        seen = set()
        eventually(lambda: seen.add(origin_of(c.request("GET", "/", host="orders"))) or seen == {"a", "b"},
                   5, 0.01, "both endpoints get traffic")
    s = proxy.stats()
    assert s["cluster_manager.xds.update_rejected"] == 0 and s["control_plane.connected_state"] == 1

    # The file goes: the cluster goes, 503 NC at once.
    unpublish(ctl, "orders", cluster_file("orders", a, b))
    eventually(lambda: proxy.stat("cluster_manager.active_dynamic_clusters") == 0, 5, 0.02,
               "the cluster removed from the proxy")
    resp, took = get(proxy, "orders")
    assert resp.status == 503 and b"cluster not found" in resp.body, resp
    assert took < 2.0
    assert "orders::" not in proxy.admin_get("/clusters")

    # And back.
    publish(ctl, "orders", cluster_file("orders", a))
    wait_origin(proxy, "orders", "a", desc="the cluster back")


# -- 6. a static route naming a control-plane cluster -----------------------------------

def test_static_route_to_control_plane_cluster(env, control):
    origin = env.origin("billing")
    port = closed_port()
    proxy = env.unstarted_proxy()
    proxy.start(xds_config(f"127.0.0.1:{port}", [route("cluster:billing", timeout=None)],
                           initial_fetch_timeout="20s"), wait=False)
    eventually(lambda: proxy.admin_path.exists() and proxy.admin_path.read_text().strip(), 5, 0.01)
    proxy.admin = proxy.admin_path.read_text().strip()
    # No control plane yet: not ready (the initial fetch timeout is far).
    assert proxy.admin_call("/ready") == (503, "INITIALIZING\n")

    # The control plane comes up on that port with the cluster; the proxy
    # connects (backoff), gets it, and is LIVE with the route working.
    ctl = control()
    billing = cluster_file("billing", origin)
    ctl.write_clusters("billing.yaml", billing)
    ctl.start(xds_address=f"127.0.0.1:{port}")
    proxy.wait_ready(timeout=10)
    assert proxy.admin_call("/ready") == (200, "LIVE\n")
    proxy.refresh_listeners()
    resp, _ = get(proxy, "anything.example")
    assert resp.status == 200 and origin_of(resp) == "billing"
    assert proxy.server_info()["xds"]["connected"] is True
    assert nodes(ctl)["sidecar-1"]["types"][CLUSTER_TYPE]["subscribed"] == ["billing"]

    # Removed: `cluster` without on_demand answers 503 NC "unknown cluster".
    unpublish(ctl, "billing", billing)
    wait_status(proxy, "anything.example", 503)
    assert b"unknown cluster" in get(proxy, "anything.example")[0].body


# -- 7. control plane killed and restarted under load ------------------------------------

class LoadLoop(threading.Thread):
    """Sequential requests on a keep-alive connection until stopped; counts
    answers by origin and failures."""

    def __init__(self, proxy, host: str):
        super().__init__(daemon=True)
        self.proxy, self.host = proxy, host
        self.stopping = threading.Event()
        self.ok = 0
        self.by_origin: dict[str, int] = {}
        self.failures: list = []

    def run(self):
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = RawConn(self.proxy.port, timeout=5)
                resp = conn.request("GET", "/load", host=self.host)
                if resp.status == 200:
                    self.ok += 1
                    o = origin_of(resp)
                    self.by_origin[o] = self.by_origin.get(o, 0) + 1
                else:
                    self.failures.append((resp.status, resp.body[:100]))
            except Exception as e:  # noqa: BLE001 - recorded
                self.failures.append(repr(e))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()

    def wait_more(self, n: int, timeout: float = 5.0) -> None:
        target = self.ok + n
        eventually(lambda: self.ok >= target, timeout, 0.01, f"{n} more requests served")

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def test_control_plane_restart_under_load(env, ctl):
    a, b = env.origin("a"), env.origin("b")
    publish(ctl, "orders", cluster_file("orders", a))
    proxy = env.proxy(xds_config(ctl.xds))
    wait_origin(proxy, "orders", "a")
    assert connected(proxy) == 1
    xds_address = ctl.xds

    load = LoadLoop(proxy, "orders")
    load.start()
    try:
        load.wait_more(20)
        ctl.kill()
        eventually(lambda: connected(proxy) == 0, 5, 0.01, "connected_state 0")
        status, body = proxy.admin_call("/ready")
        assert status == 200 and body.startswith("LIVE\nxds: control plane"), body
        # Down for a while (about 1.5 s): served from the last good config.
        down_since = time.monotonic()
        ok_before = load.ok
        eventually(lambda: time.monotonic() - down_since >= 1.5 and load.ok >= ok_before + 50,
                   10, 0.05, "requests served while the control plane is down")
        assert connected(proxy) == 0

        ctl.start(xds_address=xds_address)
        assert ctl.xds == xds_address
        eventually(lambda: connected(proxy) == 1, 10, 0.02, "connected_state back to 1")
        assert proxy.admin_call("/ready") == (200, "LIVE\n")
        load.wait_more(20)

        # After the restart, a change reaches the proxy.
        publish(ctl, "orders", cluster_file("orders", b))
        eventually(lambda: load.by_origin.get("b", 0) > 0, 10, 0.01, "load moves to b")
        load.wait_more(20)
    finally:
        load.stop()
    assert load.failures == [], load.failures[:5]
    assert load.ok > 100
    s = proxy.stats()
    assert s["control_plane.streams_total"] >= 2
    assert s["cluster_manager.xds.update_rejected"] == 0
    assert nodes(ctl)["sidecar-1"]["types"][CLUSTER_TYPE]["subscribed"] == ["orders"]


# -- 8. two proxies, one control plane -------------------------------------------------

def test_two_proxies_share_a_control_plane(env, ctl):
    origin = env.origin("shared")
    publish(ctl, "orders", cluster_file("orders", origin))
    p1 = env.proxy(xds_config(ctl.xds, node_id="sidecar-1"))
    p2 = env.proxy(xds_config(ctl.xds, [route("header:x-cluster")], node_id="sidecar-2"))
    assert get(p1, "orders")[0].status == 200
    assert get(p2, "x", headers=[("x-cluster", "orders")])[0].status == 200
    assert origin.count == 2
    got = nodes(ctl)
    assert set(got) == {"sidecar-1", "sidecar-2"}
    for node in got.values():
        assert node["types"][CLUSTER_TYPE]["subscribed"] == ["orders"]
        assert set(node["types"][CLUSTER_TYPE]["acked"]) == {"orders"}
    assert ctl.metrics()["ringway_control_xds_connected_proxies"] == 2

    # A change reaches both.
    other = env.origin("other")
    publish(ctl, "orders", cluster_file("orders", other))
    wait_origin(p1, "orders", "other")
    eventually(lambda: origin_of(get(p2, "x", headers=[("x-cluster", "orders")])[0]) == "other", 5, 0.05)


# -- 10. HTTP/2 downstream -------------------------------------------------------------

def test_http2_downstream_on_demand(env, ctl):
    from e2e_h2 import H2Origin

    h1 = env.origin("h1-up")
    h2 = H2Origin("h2-up")
    env.origins.append(h2)
    publish(ctl, "orders", cluster_file("orders", h1) + cluster_file("streams", h2, protocol="http2"))
    proxy = env.proxy(xds_config(ctl.xds))
    port = proxy.port
    for host, name in (("orders", "h1-up"), ("streams", "h2-up"), ("orders", "h1-up")):
        r = curl(f"http://{host}:{port}/h2?x=1", "--http2-prior-knowledge",
                 "--resolve", f"{host}:{port}:127.0.0.1")
        assert r.returncode == 0, r.stderr
        assert r.status == 200 and r.header("x-origin") == name, (r.status, r.body[:200])
        assert r.all_heads[0].startswith("HTTP/2 ")
    s = proxy.stats()
    assert (s[STAT + "discovery"], s[STAT + "success"], s[STAT + "hit"]) == (2, 2, 1)
    assert h2.count == 1 and h1.count == 2

    # Several streams of one connection waiting for discovery at once, next
    # to a missing cluster and a known one.
    from e2e_h2 import H2Client
    publish(ctl, "fresh", cluster_file("fresh", h1))
    with H2Client(port) as c:
        fresh = [c.start("GET", f"/f/{i}", authority=f"fresh:{port}") for i in range(10)]
        nope = c.start("GET", "/n", authority="nope")
        known = c.start("GET", "/k", authority="streams")
        got = {sid: c.wait(sid) for sid in [*fresh, nope, known]}
    assert [got[sid].status for sid in fresh] == [200] * 10
    assert {got[sid].header("x-origin") for sid in fresh} == {"h1-up"}
    assert got[nope].status == 503 and b"cluster not found" in bytes(got[nope].body)
    assert got[known].status == 200 and got[known].header("x-origin") == "h2-up"
    assert h1.count == 12


# -- 9. a NACK, from a control plane ringway did not write ----------------------------

class TinyAds(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
    """A minimal delta ADS server on grpcio and Envoy's protobufs: it holds
    resources by type and name, answers each subscription with what it has
    (unknown names in removed_resources), pushes updates with ``push``, and
    records every request."""

    def __init__(self, eager_headers: bool = True):
        self.eager_headers = eager_headers
        # Names whose subscriptions are answered only on release(name).
        self.hold: set[str] = set()
        self._parked: list = []  # (stream queue, type_url, names)
        self.resources: dict[str, dict[str, tuple[str, object]]] = {
            CLUSTER_TYPE: {}, ENDPOINTS_TYPE: {}, LISTENER_TYPE: {}, ROUTE_TYPE: {}}
        self.lock = threading.Condition()
        self.requests: list = []
        self.streams: list[queue.Queue] = []
        self.nonce = 0
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"
        self.server.start()

    def stop(self):
        with self.lock:
            for q in self.streams:
                q.put(None)
        self.server.stop(0)

    def _response(self, type_url, names=(), removed=()):
        with self.lock:
            self.nonce += 1
            nonce = f"n{self.nonce}"
        resources = []
        for name in names:
            version, msg = self.resources[type_url][name]
            packed = any_pb2.Any()
            packed.Pack(msg)
            resources.append(discovery_pb2.Resource(name=name, version=version, resource=packed))
        return discovery_pb2.DeltaDiscoveryResponse(
            type_url=type_url, resources=resources, removed_resources=list(removed),
            nonce=nonce, system_version_info="tiny")

    def DeltaAggregatedResources(self, request_iterator, context):
        if self.eager_headers:
            # As tonic (ringway-control) does; grpcio and grpc-go send the
            # response headers with the first message unless told to.
            context.send_initial_metadata(())
        out: queue.Queue = queue.Queue()
        with self.lock:
            self.streams.append(out)

        def read():
            try:
                for request in request_iterator:
                    with self.lock:
                        self.requests.append(request)
                        self.lock.notify_all()
                    names = list(request.resource_names_subscribe)
                    with self.lock:
                        held = [n for n in names if n in self.hold]
                        if held:
                            self._parked.append((out, request.type_url, held))
                    names = [n for n in names if n not in held]
                    if names:
                        self._answer(out, request.type_url, names)
            except grpc.RpcError:
                pass
            out.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            item = out.get()
            if item is None:
                return
            yield item

    def _answer(self, out: queue.Queue, type_url: str, names) -> None:
        have = self.resources.get(type_url, {})
        if "*" in names:  # the wildcard: everything of the type
            names = sorted(set(have) | (set(names) - {"*"}))
        out.put(self._response(type_url, [n for n in names if n in have], [n for n in names if n not in have]))

    def release(self, name: str) -> None:
        """Answers the held subscriptions to `name` (and stops holding it)."""
        with self.lock:
            self.hold.discard(name)
            parked, self._parked = self._parked, []
        for out, type_url, names in parked:
            if name in names:
                self._answer(out, type_url, [name])
                names = [n for n in names if n != name]
            if names:
                with self.lock:
                    self._parked.append((out, type_url, names))

    def set(self, type_url: str, name: str, version: str, msg) -> None:
        with self.lock:
            self.resources[type_url][name] = (version, msg)

    def push(self, type_url: str, name: str, version: str, msg) -> str:
        """Store and send to every stream; returns the nonce."""
        self.set(type_url, name, version, msg)
        response = self._response(type_url, [name])
        with self.lock:
            for q in self.streams:
                q.put(response)
        return response.nonce

    def remove(self, type_url: str, name: str) -> str:
        """Forget `name` and tell every stream (removed_resources)."""
        with self.lock:
            self.resources[type_url].pop(name, None)
        response = self._response(type_url, (), [name])
        with self.lock:
            for q in self.streams:
                q.put(response)
        return response.nonce

    def wait_request(self, pred, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for r in self.requests:
                    if pred(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching request within {timeout}s; got {self.requests}")
                self.lock.wait(left)


def socket_address(origin) -> address_pb2.Address:
    return address_pb2.Address(socket_address=address_pb2.SocketAddress(
        address="127.0.0.1", port_value=origin.port))


def load_assignment(name: str, *origins) -> endpoint_pb2.ClusterLoadAssignment:
    return endpoint_pb2.ClusterLoadAssignment(cluster_name=name, endpoints=[
        endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[
            endpoint_components_pb2.LbEndpoint(endpoint=endpoint_components_pb2.Endpoint(
                address=socket_address(o))) for o in origins])])


def eds_cluster(name: str) -> cluster_pb2.Cluster:
    return cluster_pb2.Cluster(
        name=name, type=cluster_pb2.Cluster.EDS, lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
        connect_timeout=duration_pb2.Duration(seconds=1),
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(
            eds_config=config_source_pb2.ConfigSource(ads=config_source_pb2.AggregatedConfigSource())))


def static_cluster(name: str, *origins, **kw) -> cluster_pb2.Cluster:
    return cluster_pb2.Cluster(
        name=name, type=cluster_pb2.Cluster.STATIC, lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
        connect_timeout=duration_pb2.Duration(seconds=1), load_assignment=load_assignment(name, *origins),
        **kw)


@pytest.fixture
def tiny_ads():
    ads = TinyAds()
    yield ads
    ads.stop()


def test_nack_from_foreign_control_plane_keeps_last_good_config(env, tiny_ads):
    a, b = env.origin("a"), env.origin("b")
    tiny_ads.set(CLUSTER_TYPE, "orders", "c1", eds_cluster("orders"))
    tiny_ads.set(ENDPOINTS_TYPE, "orders", "e1", load_assignment("orders", a))
    proxy = env.proxy(xds_config(tiny_ads.address, node_id="sidecar-foreign"))

    # Driven by a control plane ringway did not write: discovery works.
    resp, _ = get(proxy, "orders")
    assert resp.status == 200 and origin_of(resp) == "a"
    first = tiny_ads.wait_request(lambda r: r.HasField("node"))
    assert first.node.id == "sidecar-foreign" and first.node.cluster == "orders"
    s = proxy.stats()
    assert s["cluster_manager.xds.update_success"] == 2 and s["cluster_manager.xds.update_rejected"] == 0

    # A Cluster with outlier detection, which would also move orders to b:
    # refused whole, NACKed with the resource and the field named.
    bad = static_cluster("orders", b, outlier_detection=outlier_detection_pb2.OutlierDetection(
        consecutive_5xx=wrappers_pb2.UInt32Value(value=3)))
    nonce = tiny_ads.push(CLUSTER_TYPE, "orders", "c2", bad)
    nack = tiny_ads.wait_request(lambda r: r.response_nonce == nonce)
    assert nack.type_url == CLUSTER_TYPE
    assert nack.HasField("error_detail"), "the bad update was ACKed"
    assert nack.error_detail.code == 3
    assert "orders" in nack.error_detail.message and "outlier_detection" in nack.error_detail.message
    wait_stat(proxy, "cluster_manager.xds.update_rejected", lambda v: v == 1)
    info = proxy.server_info()["xds"]
    assert "outlier_detection" in (info["last_nack"] or ""), info

    # Nothing changed: still a, for new and kept-alive connections.
    assert {origin_of(get(proxy, "orders")[0]) for _ in range(5)} == {"a"}
    assert b.count == 0
    assert proxy.stat("cluster_manager.active_dynamic_clusters") == 1
    assert connected(proxy) == 1

    # A good update after the NACK applies (STATIC now, to b) and is ACKed.
    nonce = tiny_ads.push(CLUSTER_TYPE, "orders", "c3", static_cluster("orders", b))
    ack = tiny_ads.wait_request(lambda r: r.response_nonce == nonce)
    assert not ack.HasField("error_detail"), ack.error_detail
    wait_origin(proxy, "orders", "b")
    assert proxy.stat("cluster_manager.xds.update_rejected") == 1


# A gRPC server need not send its response headers before its first
# message: grpcio and grpc-go (so go-control-plane) send them with it. A
# proxy that subscribes to something at start gets a first message, so
# that works; one with only on-demand routes has nothing to ask for yet.

def test_lazy_headers_control_plane_with_a_route_naming_the_cluster(env):
    a = env.origin("a")
    ads = TinyAds(eager_headers=False)
    env.origins.append(ads)
    ads.set(CLUSTER_TYPE, "orders", "c1", eds_cluster("orders"))
    ads.set(ENDPOINTS_TYPE, "orders", "e1", load_assignment("orders", a))
    proxy = env.proxy(xds_config(ads.address, [route("cluster:orders", timeout=None)]))
    resp, _ = get(proxy, "x")
    assert resp.status == 200 and origin_of(resp) == "a"
    assert connected(proxy) == 1


# A control plane that sends its response headers only with its first
# response (grpcio, grpc-go): on-demand questions must still go out.
def test_lazy_headers_control_plane_on_demand_only(env):
    a = env.origin("a")
    ads = TinyAds(eager_headers=False)
    env.origins.append(ads)
    ads.set(CLUSTER_TYPE, "orders", "c1", eds_cluster("orders"))
    ads.set(ENDPOINTS_TYPE, "orders", "e1", load_assignment("orders", a))
    proxy = env.unstarted_proxy()
    proxy.start(xds_config(ads.address, [route(timeout="2s")], initial_fetch_timeout="1s"), wait=False)
    proxy.wait_ready(timeout=10, allow_detail=True)
    resp, took = get(proxy, "orders")
    assert resp.status == 200 and origin_of(resp) == "a", (resp.status, resp.body, round(took, 2))
    assert connected(proxy) == 1


def test_changes_while_control_plane_down_arrive_on_resume(env, ctl):
    """The proxy resumes with the versions it holds; what changed or went
    while the control plane was down arrives, nothing else is lost."""
    a, b = env.origin("a"), env.origin("b")
    publish(ctl, "orders", cluster_file("orders", a))
    publish(ctl, "billing", cluster_file("billing", a))
    proxy = env.proxy(xds_config(ctl.xds))
    assert origin_of(get(proxy, "orders")[0]) == "a"
    assert origin_of(get(proxy, "billing")[0]) == "a"
    xds_address = ctl.xds

    ctl.kill()
    eventually(lambda: connected(proxy) == 0, 5, 0.01, "connected_state 0")
    ctl.write_clusters("orders.yaml", cluster_file("orders", b))
    ctl.remove_clusters("billing.yaml")
    assert origin_of(get(proxy, "orders")[0]) == "a", "the last good config while down"
    assert origin_of(get(proxy, "billing")[0]) == "a"

    ctl.start(xds_address=xds_address)
    eventually(lambda: connected(proxy) == 1, 10, 0.02, "connected_state back to 1")
    wait_origin(proxy, "orders", "b", desc="the change made while down")
    wait_status(proxy, "billing", 503)
    assert proxy.stat("cluster_manager.active_dynamic_clusters") == 1


# -- 11. request bodies wait with their request; no endpoint is 503 UH ----------------

def test_on_demand_request_bodies_held_while_discovery_waits(env, tiny_ads):
    """Three requests with bodies (Content-Length, chunked, HTTP/2 DATA) for
    a cluster whose discovery answer the control plane holds back: nothing
    reaches the origin meanwhile; once the cluster arrives each body reaches
    it whole."""
    from e2e_client import build_request, chunked_body
    from e2e_h2 import H2Client, pattern

    origin = env.origin("late")
    tiny_ads.hold.add("late")
    tiny_ads.set(CLUSTER_TYPE, "late", "c1", static_cluster("late", origin))
    proxy = env.proxy(xds_config(tiny_ads.address, [route(timeout="10s")]))
    cl_body, chunked, h2_body = pattern(100_000), pattern(30_000)[::-1], pattern(50_000)[7:]

    with RawConn(proxy.port, timeout=10) as c1, RawConn(proxy.port, timeout=10) as c2, \
            H2Client(proxy.port, timeout=10) as h:
        c1.send(build_request("POST", "/cl", body=cl_body, host="late"))
        c2.send(build_request("POST", "/chunked", [("Transfer-Encoding", "chunked")], host="late")
                + chunked_body(chunked, 4096, trailers=[("x-sum", "t")]))
        sid = h.start("POST", "/h2", body=h2_body, authority="late")
        tiny_ads.wait_request(lambda r: "late" in r.resource_names_subscribe)
        eventually(lambda: proxy.stat(STAT + "discovery") == 3, 5, 0.02, "three requests waiting")
        assert origin.heads == [], "a request went upstream before its cluster was known"
        tiny_ads.release("late")
        r1, r2, r3 = c1.read_response(), c2.read_response(), h.wait(sid)
    assert (r1.status, r2.status, r3.status) == (200, 200, 200), (r1.body[:200], r2.body[:200], r3)
    got = {q.path: q for q in origin.requests}
    assert set(got) == {"/cl", "/chunked", "/h2"}
    assert got["/cl"].body == cl_body
    assert got["/chunked"].body == chunked and ("x-sum", "t") in got["/chunked"].trailers
    assert got["/h2"].body == h2_body
    s = proxy.stats()
    assert (s[STAT + "discovery"], s[STAT + "success"], s.get(STAT + "timeout", 0)) == (3, 3, 0)


def test_cluster_without_endpoints_is_503_uh(env, tiny_ads, tmp_path):
    log = tmp_path / "access.log"
    # (A STATIC cluster without endpoints is refused; EDS may have none.)
    tiny_ads.set(CLUSTER_TYPE, "empty", "c1", eds_cluster("empty"))
    tiny_ads.set(ENDPOINTS_TYPE, "empty", "e1", load_assignment("empty"))
    proxy = env.proxy(xds_config(tiny_ads.address, access_log={"path": str(log), "format": "text"}))
    resp, _ = get(proxy, "empty", "/uh")
    assert resp.status == 503, resp
    assert b"no healthy upstream" in resp.body, resp.body
    assert proxy.stat("cluster.empty.upstream_cx_none_healthy") == 1
    entry = wait_access_log(log, lambda e: e["path"] == "/uh")
    assert (entry["code"], entry["flags"], entry["upstream"]) == ("503", "UH", "-"), entry


# -- listeners and routes over ADS (LDS, RDS) ------------------------------------

def rds_listener(name: str, route_name: str):
    """A Listener on 127.0.0.1:0 whose routes come by RDS over ADS, built
    with Envoy's protobufs."""
    from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
    from envoy.extensions.filters.http.router.v3 import router_pb2
    from envoy.extensions.filters.network.http_connection_manager.v3 import (
        http_connection_manager_pb2 as hcm_pb2)

    router = any_pb2.Any()
    router.Pack(router_pb2.Router())
    hcm = hcm_pb2.HttpConnectionManager(
        stat_prefix=name,
        rds=hcm_pb2.Rds(route_config_name=route_name, config_source=config_source_pb2.ConfigSource(
            ads=config_source_pb2.AggregatedConfigSource())),
        http_filters=[hcm_pb2.HttpFilter(name="envoy.filters.http.router", typed_config=router)])
    packed = any_pb2.Any()
    packed.Pack(hcm)
    return listener_pb2.Listener(
        name=name,
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address="127.0.0.1", port_value=0)),
        filter_chains=[listener_components_pb2.FilterChain(filters=[listener_components_pb2.Filter(
            name="envoy.filters.network.http_connection_manager", typed_config=packed)])])


def route_config(name: str, cluster: str, **route_extra):
    from envoy.config.route.v3 import route_components_pb2, route_pb2

    action = route_components_pb2.RouteAction(cluster=cluster, **route_extra)
    return route_pb2.RouteConfiguration(name=name, virtual_hosts=[route_components_pb2.VirtualHost(
        name="all", domains=["*"], routes=[route_components_pb2.Route(
            match=route_components_pb2.RouteMatch(prefix="/"), route=action)])])


def serve_origins(ads, **origins) -> None:
    """An EDS cluster per origin, named as the keyword, on `ads`."""
    for name, origin in origins.items():
        ads.set(CLUSTER_TYPE, name, "c1", eds_cluster(name))
        ads.set(ENDPOINTS_TYPE, name, "e1", load_assignment(name, origin))


def lds_config(address: str) -> dict:
    """ringway's own config with no listener of its own: every listener (and
    its routes, and their clusters) from the control plane."""
    return {"xds": {**xds_block(address), "all_listeners": True, "all_clusters": True},
            "listeners": [], "clusters": []}


def dynamic_port(proxy, name: str, timeout: float = 10.0) -> int:
    def bound():
        proxy.refresh_listeners()
        return proxy.listeners.get(name, (None, None))[1]
    return eventually(bound, timeout, 0.05, f"listener {name} bound")


def test_listeners_and_routes_from_the_control_plane(env, tiny_ads):
    a, b = env.origin("a"), env.origin("b")
    serve_origins(tiny_ads, a=a, b=b)
    tiny_ads.set(LISTENER_TYPE, "edge", "l1", rds_listener("edge", "edge-routes"))
    tiny_ads.set(ROUTE_TYPE, "edge-routes", "r1", route_config("edge-routes", "a"))
    proxy = env.proxy(lds_config(tiny_ads.address))
    port = dynamic_port(proxy, "edge")
    assert curl(f"http://127.0.0.1:{port}/x").json()["origin"] == "a"
    # The route changes: the same listener (same socket) now sends to b.
    tiny_ads.push(ROUTE_TYPE, "edge-routes", "r2", route_config("edge-routes", "b"))
    eventually(lambda: curl(f"http://127.0.0.1:{port}/x").json()["origin"] == "b", 5, 0.05, "route to b")
    assert dynamic_port(proxy, "edge") == port
    # A second listener arrives and binds live.
    tiny_ads.push(LISTENER_TYPE, "side", "l1", rds_listener("side", "edge-routes"))
    side = dynamic_port(proxy, "side")
    assert curl(f"http://127.0.0.1:{side}/y").json()["origin"] == "b"
    # The first one goes: no longer listed, and nothing accepts there.
    tiny_ads.remove(LISTENER_TYPE, "edge")

    def gone():
        proxy.refresh_listeners()
        return "edge" not in proxy.listeners
    eventually(gone, 5, 0.05, "listener edge removed")
    eventually(lambda: curl(f"http://127.0.0.1:{port}/x", timeout=2).status == 0, 5, 0.05,
               "nothing accepts on the removed listener's port")
    assert curl(f"http://127.0.0.1:{side}/y").status == 200
    stats = proxy.stats()
    assert stats["listener_manager.total_listeners_active"] == 1


def test_a_removed_listener_drains_its_connections(env, tiny_ads):
    """When LDS removes a listener, its connections are drained as Envoy
    drains them: a request in flight finishes (with `connection: close`),
    an idle HTTP/1.1 keep-alive connection is closed, an HTTP/2 one gets
    GOAWAY and still finishes its open stream; the other listener is
    untouched."""
    from e2e_h2 import END_HEADERS, END_STREAM, HEADERS, RawH2, frame, request_block

    a = env.origin("a")
    serve_origins(tiny_ads, a=a)
    for name in ("edge", "side"):
        tiny_ads.set(LISTENER_TYPE, name, "l1", rds_listener(name, "routes"))
    tiny_ads.set(ROUTE_TYPE, "routes", "r1", route_config("routes", "a"))
    proxy = env.proxy(lds_config(tiny_ads.address))
    port, side = dynamic_port(proxy, "edge"), dynamic_port(proxy, "side")
    with RawConn(port) as idle, RawConn(port) as busy, RawConn(side) as other, \
            RawH2(port, timeout=10) as h2c:
        for conn in (idle, busy, other):
            assert conn.request("GET", "/warm").status == 200
        h2c.handshake()
        busy.send(build_request("GET", "/slow?delay=1.5"))
        h2c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/slow?delay=1.5")))
        eventually(lambda: proxy.stat("http.edge.downstream_rq_active") >= 2, 5, 0.02,
                   "both slow requests in flight")
        tiny_ads.remove(LISTENER_TYPE, "edge")
        assert idle.closed_within(5), "the idle keep-alive connection was not closed"
        slow = busy.read_response()
        assert slow.status == 200 and "close" in slow.connection_tokens, slow
        assert busy.closed_within(5)
        assert h2c.wait_goaway_or_close(5) and h2c.goaway() is not None, h2c.summary()
        assert h2c.wait_for(lambda s: s.stream_done(1), 5), h2c.summary()
        assert h2c.stream_status(1) == 200, h2c.summary()
        # The other listener keeps its connection.
        assert other.request("GET", "/after").status == 200
        assert "close" not in other.request("GET", "/again").connection_tokens


def test_a_bad_route_update_is_refused_whole(env, tiny_ads):
    from envoy.config.route.v3 import route_components_pb2

    a = env.origin("a")
    serve_origins(tiny_ads, a=a)
    tiny_ads.set(LISTENER_TYPE, "edge", "l1", rds_listener("edge", "edge-routes"))
    tiny_ads.set(ROUTE_TYPE, "edge-routes", "r1", route_config("edge-routes", "a"))
    proxy = env.proxy(lds_config(tiny_ads.address))
    port = dynamic_port(proxy, "edge")
    assert curl(f"http://127.0.0.1:{port}/").status == 200
    # hash_policy would change how endpoints are chosen: refused by name.
    bad = route_config("edge-routes", "a", hash_policy=[route_components_pb2.RouteAction.HashPolicy(
        header=route_components_pb2.RouteAction.HashPolicy.Header(header_name="x-user"))])
    nonce = tiny_ads.push(ROUTE_TYPE, "edge-routes", "r2", bad)
    nack = tiny_ads.wait_request(lambda r: r.response_nonce == nonce)
    assert nack.error_detail.code == 3
    assert "RouteConfiguration `edge-routes`: virtual_hosts[0].routes[0].route.hash_policy" in nack.error_detail.message
    assert curl(f"http://127.0.0.1:{port}/").status == 200


def test_route_changes_under_load_fail_no_request(env, tiny_ads):
    a, b = env.origin("a"), env.origin("b")
    serve_origins(tiny_ads, a=a, b=b)
    tiny_ads.set(LISTENER_TYPE, "edge", "l1", rds_listener("edge", "edge-routes"))
    tiny_ads.set(ROUTE_TYPE, "edge-routes", "r0", route_config("edge-routes", "a"))
    proxy = env.proxy(lds_config(tiny_ads.address))
    port = dynamic_port(proxy, "edge")
    stop = threading.Event()
    results = Counter()

    def load():
        deadline = time.monotonic() + 60  # bounded
        with RawConn(port, timeout=10) as c:
            while not stop.is_set() and time.monotonic() < deadline:
                resp = c.request("GET", "/load")
                results[resp.status] += 1
                results[json.loads(resp.body)["origin"] if resp.status == 200 else "failed"] += 1

    workers = [threading.Thread(target=load) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for version in range(1, 11):
            target = "b" if version % 2 else "a"
            tiny_ads.push(ROUTE_TYPE, "edge-routes", f"r{version}", route_config("edge-routes", target))
            eventually(lambda: curl(f"http://127.0.0.1:{port}/probe").json()["origin"] == target, 5, 0.02,
                       f"route version {version}")
    finally:
        stop.set()
        for w in workers:
            w.join(30)
    assert results["failed"] == 0 and set(results) <= {200, "a", "b"}, results
    assert results["a"] > 0 and results["b"] > 0, results


# -- control plane replicas ----------------------------------------------------------

def test_failover_between_control_plane_replicas_resends_nothing(env, control):
    """Two ringway-control replicas read one folder. The proxy follows the
    first; when it dies, the proxy moves to the second, resuming with the
    versions it holds: the replica serves identical (content-hashed)
    versions, so nothing is sent again, and the next change arrives."""
    a, b = env.origin("a"), env.origin("b")
    first = control()
    second = control()
    second.clusters_dir = first.clusters_dir
    first.start()
    second.start()
    publish(first, "orders", cluster_file("orders", a))
    publish(second, "orders", cluster_file("orders", a))
    config = xds_config(first.xds)
    config["xds"]["address"] = [first.xds, second.xds]
    proxy = env.proxy(config)
    wait_origin(proxy, "orders", "a")
    assert [n["node_id"] for n in first.json("/v1/nodes")] == ["sidecar-1"]
    assert second.json("/v1/nodes") == []
    applied = proxy.stat("cluster_manager.xds.update_success")

    load = LoadLoop(proxy, "orders")
    load.start()
    try:
        load.wait_more(20)
        first.kill()
        eventually(lambda: [n["node_id"] for n in second.json("/v1/nodes")] == ["sidecar-1"],
                   10, 0.05, "the proxy on the second replica")
        eventually(lambda: connected(proxy) == 1, 10, 0.02, "connected again")
        load.wait_more(20)
        # A change made now reaches the proxy through the second replica;
        # it is the only update applied since the move.
        publish(second, "orders", cluster_file("orders", b))
        wait_origin(proxy, "orders", "b")
        load.wait_more(20)
    finally:
        load.stop()
    assert load.failures == [], load.failures[:5]
    assert proxy.stat("cluster_manager.xds.update_success") == applied + 1
    info = proxy.server_info()
    assert info["xds"]["address"] == second.xds, info["xds"]
