"""Retries under a route's (or virtual host's) retry_policy, from ringway's
YAML and an Envoy bootstrap, against upstreams that fail on command:
retried 5xx, gRPC statuses and connect failures, a new endpoint for each
retry, URX when retries run out, the retry stats, requests with a held
body retried and HTTP/2 clients retried the same way."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from e2e_client import RawConn, curl, eventually
from e2e_h2 import H2Client, H2Origin, H2Reply
from e2e_origin import closed_port, echo_handler, response_head
from e2e_proxy import cluster, simple_config, wait_access_log
from test_envoy_bootstrap import bootstrap, file_access_log, listener, static_cluster


class Flaky:
    """`?key=K&fail=N[&code=S]`: the first N requests with key K get
    status S (503), then the echo. Counts every request by key."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: Counter = Counter()

    def __call__(self, req, conn):
        q = req.query
        key = q.get("key", [None])[0]
        if key is None:
            return echo_handler(req, conn)
        with self.lock:
            self.seen[key] += 1
            n = self.seen[key]
        if n <= int(q.get("fail", ["0"])[0]):
            status = int(q.get("code", ["503"])[0])
            body = b"failing\n"
            conn.send(response_head(status, [("content-length", str(len(body)))]) + body)
            return "keep"
        return echo_handler(req, conn)


@pytest.fixture(scope="module")
def retrying(module_env):
    flaky = Flaky()
    origin = module_env.origin("flaky", handler=flaky)
    log = module_env.workdir_fn() / "access.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    dead = f"127.0.0.1:{closed_port()}"
    config = simple_config(
        [
            {"match": {"prefix": "/none"}, "cluster": "backend"},
            {"match": {"prefix": "/gateway"}, "cluster": "backend",
             "retry_policy": {"retry_on": "gateway-error", "num_retries": 2}},
            {"match": {"prefix": "/conflict"}, "cluster": "backend",
             "retry_policy": {"retry_on": "retriable-4xx,retriable-status-codes",
                              "retriable_status_codes": [418], "num_retries": 3}},
            {"match": {"prefix": "/half-dead"}, "cluster": "half-dead",
             "retry_policy": {"retry_on": "connect-failure", "num_retries": 1}},
            {"match": {"prefix": "/"}, "cluster": "backend"},
        ],
        [cluster("backend", origin), cluster("half-dead", dead, origin)],
        access_log={"path": str(log), "format": "text"},
    )
    # The virtual host's policy covers the routes without their own.
    config["listeners"][0]["virtual_hosts"][0]["retry_policy"] = {
        "retry_on": "5xx", "num_retries": 2,
        "retry_back_off": {"base_interval": "10ms", "max_interval": "50ms"},
    }
    proxy = module_env.proxy(config)
    return proxy, flaky, log


def retry_stats(proxy) -> dict:
    names = ("upstream_rq_retry", "upstream_rq_retry_success", "upstream_rq_retry_limit_exceeded")
    return {n: proxy.stat(f"cluster.backend.{n}") for n in names}


def wait_stats(proxy, before: dict, **delta):
    want = {n: before[n] + delta.get(n, 0) for n in before}
    eventually(lambda: retry_stats(proxy) == want, 3, 0.05, f"retry stats {want}")


def test_a_5xx_is_retried_until_it_succeeds(retrying):
    proxy, flaky, log = retrying
    before = retry_stats(proxy)
    r = curl(proxy.url("/a?key=two-fails&fail=2"))
    assert r.status == 200, r.body
    assert flaky.seen["two-fails"] == 3
    wait_stats(proxy, before, upstream_rq_retry=2, upstream_rq_retry_success=1)
    entry = wait_access_log(log, lambda e: e["path"] == "/a?key=two-fails&fail=2")
    assert (entry["code"], entry["flags"]) == ("200", "-")


def test_retries_run_out_and_the_last_answer_goes_down_with_urx(retrying):
    proxy, flaky, log = retrying
    before = retry_stats(proxy)
    r = curl(proxy.url("/b?key=three-fails&fail=3"))
    assert (r.status, r.body) == (503, b"failing\n")
    assert flaky.seen["three-fails"] == 3, "one attempt and num_retries: 2"
    wait_stats(proxy, before, upstream_rq_retry=2, upstream_rq_retry_limit_exceeded=1)
    entry = wait_access_log(log, lambda e: e["path"] == "/b?key=three-fails&fail=3")
    assert (entry["code"], entry["flags"]) == ("503", "URX")


def test_the_routes_own_policy_replaces_the_virtual_hosts(retrying):
    proxy, flaky, _ = retrying
    # gateway-error: a 500 is not retried, a 502 is.
    assert curl(proxy.url("/gateway?key=gw500&fail=1&code=500")).status == 500
    assert flaky.seen["gw500"] == 1
    assert curl(proxy.url("/gateway?key=gw502&fail=2&code=502")).status == 200
    assert flaky.seen["gw502"] == 3
    assert curl(proxy.url("/conflict?key=c409&fail=1&code=409")).status == 200
    assert curl(proxy.url("/conflict?key=c418&fail=2&code=418")).status == 200
    assert curl(proxy.url("/conflict?key=c503&fail=1&code=503")).status == 503
    assert (flaky.seen["c409"], flaky.seen["c418"], flaky.seen["c503"]) == (2, 3, 1)


def test_a_success_is_never_retried_and_a_4xx_is_not_a_5xx(retrying):
    proxy, flaky, _ = retrying
    assert curl(proxy.url("/c?key=ok")).status == 200
    assert curl(proxy.url("/c?key=nf&fail=5&code=404")).status == 404
    assert (flaky.seen["ok"], flaky.seen["nf"]) == (1, 1)


def test_connect_failures_are_retried_on_another_endpoint(retrying):
    """Round robin over a dead and a live endpoint: every request that
    meets the dead one is retried on the live one."""
    proxy, _, log = retrying
    statuses = Counter(curl(proxy.url(f"/half-dead/{i}")).status for i in range(6))
    assert statuses == Counter({200: 6}), statuses
    eventually(lambda: proxy.stat("cluster.half-dead.upstream_rq_retry") >= 3, 3, 0.05,
               "connect failures retried")


def test_a_held_request_body_is_sent_again(retrying):
    proxy, flaky, _ = retrying
    with RawConn(proxy.port) as c:
        r = c.request("POST", "/post?key=post&fail=1", body=b"hello body")
        assert r.status == 200
        assert r.json()["body"] == "hello body"
    assert flaky.seen["post"] == 2


def test_http2_clients_are_retried_too(retrying):
    proxy, flaky, _ = retrying
    with H2Client(proxy.port) as c:
        r = c.get("/h2?key=h2-two&fail=2")
        assert r.status == 200
        r = c.get("/h2?key=h2-many&fail=9")
        assert (r.status, r.body) == (503, b"failing\n")
    assert (flaky.seen["h2-two"], flaky.seen["h2-many"]) == (3, 3)


def test_grpc_unavailable_from_an_http2_upstream_is_retried(env):
    tries: Counter = Counter()

    def handler(req, origin):
        tries[req.path] += 1
        if tries[req.path] <= 1:
            return H2Reply(200, [("content-type", "application/grpc"), ("grpc-status", "14"),
                                 ("grpc-message", "try again")])
        return H2Reply(200, [("content-type", "application/grpc")], b"\0\0\0\0\0",
                       trailers=[("grpc-status", "0")])

    h2o = H2Origin("grpc-flaky", handler)
    env.origins.append(h2o)
    proxy = env.proxy(simple_config(
        [{"match": {"prefix": "/"}, "cluster": "grpc",
          "retry_policy": {"retry_on": "unavailable", "num_retries": 1}}],
        [cluster("grpc", h2o.address, protocol="http2")],
    ))
    with H2Client(proxy.port) as c:
        r = c.request("POST", "/svc.Echo/Unary", headers=[("content-type", "application/grpc"),
                                                          ("te", "trailers")],
                      body=b"\0\0\0\0\0")
        assert r.status == 200
        assert r.trailer("grpc-status") == "0", r
    assert tries["/svc.Echo/Unary"] == 2


def test_envoy_bootstrap_retry_policy(env):
    flaky = Flaky()
    origin = env.origin("envoy-flaky", handler=flaky)
    extra, log = file_access_log(env)
    routes = """
              - match: { prefix: "/own" }
                route:
                  cluster: backend
                  retry_policy: { retry_on: "gateway-error", num_retries: 1 }
              - match: { prefix: "/" }
                route: { cluster: backend }
"""
    text = bootstrap(listener(routes, extra_hcm=extra), static_cluster("backend", origin))
    # The virtual host's policy, as Envoy's docs write it.
    text = text.replace("              domains: [\"*\"]\n",
                        "              domains: [\"*\"]\n"
                        "              retry_policy:\n"
                        "                retry_on: 5xx\n"
                        "                num_retries: 3\n"
                        "                retry_back_off: { base_interval: 0.01s }\n", 1)
    proxy = env.proxy(text)
    assert curl(proxy.url("/x?key=e3&fail=3")).status == 200
    assert flaky.seen["e3"] == 4
    assert curl(proxy.url("/own?key=own&fail=2")).status == 503
    assert flaky.seen["own"] == 2
    entry = wait_access_log(log, lambda e: e["path"] == "/own?key=own&fail=2")
    assert entry["flags"] == "URX"
    eventually(lambda: proxy.stat("cluster.backend.upstream_rq_retry") == 4, 3, 0.05, "retries")
    # /config_dump shows each route's policy: its own, or the virtual host's.
    dump = {c["@type"].rsplit(".", 1)[-1]: c for c in json.loads(proxy.admin_get("/config_dump"))["configs"]}
    [routes] = dump["RoutesConfigDump"]["static_route_configs"]
    policies = [r["route"]["retry_policy"] for r in routes["route_config"]["virtual_hosts"][0]["routes"]]
    assert [(p["retry_on"], p["num_retries"]) for p in policies] == [("gateway-error", 1), ("5xx", 3)]


def test_envoy_refuses_retry_fields_it_does_not_act_on(env, tmp_path):
    import subprocess
    routes = """
              - match: { prefix: "/" }
                route:
                  cluster: backend
                  retry_policy: { retry_on: 5xx, per_try_timeout: 1s }
"""
    origin = env.origin("unused")
    path = tmp_path / "envoy.yaml"
    path.write_text(bootstrap(listener(routes), static_cluster("backend", origin)))
    out = subprocess.run([env.binary, "-c", str(path), "--mode", "validate"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "retry_policy.per_try_timeout" in out.stderr, out.stderr
