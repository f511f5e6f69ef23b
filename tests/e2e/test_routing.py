"""Routing: virtual hosts, path/header/method matches, weighted clusters,
redirects, direct responses, rewrites, load balancing."""

from __future__ import annotations

from collections import Counter

import pytest

from e2e_client import RawConn, curl
from e2e_proxy import cluster


def direct(body, status=200):
    return {"direct_response": {"status": status, "body": body}}


@pytest.fixture(scope="module")
def routed(module_env):
    o_main = module_env.origin("main")
    o_a = module_env.origin("a")
    o_b = module_env.origin("b")
    rr = [module_env.origin(f"rr{i}") for i in range(3)]
    w1 = module_env.origin("w1")
    w2 = module_env.origin("w2")
    lr = [module_env.origin(f"lr{i}") for i in range(2)]
    rnd = [module_env.origin(f"rnd{i}") for i in range(2)]
    routes = [
        {"match": {"path": "/exact"}, **direct("exact")},
        {"match": {"regex": "/a/[0-9]+"}, **direct("regex")},
        {"match": {"prefix": "/pre"}, **direct("prefix")},
        {"match": {"prefix": "/hdr", "headers": [{"name": "x-canary", "exact": "1"}]}, **direct("canary")},
        {"match": {"prefix": "/hdr", "headers": [{"name": "x-tenant", "prefix": "acme-"}]}, **direct("tenant-prefix")},
        {"match": {"prefix": "/hdr", "headers": [{"name": "x-ver", "regex": "v[0-9]+"}]}, **direct("ver-regex")},
        {"match": {"prefix": "/hdr", "headers": [{"name": "x-debug", "present": True}]}, **direct("debug-present")},
        {"match": {"prefix": "/hdr", "headers": [{"name": "x-block", "exact": "yes", "invert": True}]},
         **direct("not-blocked")},
        {"match": {"prefix": "/hdr"}, **direct("hdr-fallback")},
        {"match": {"prefix": "/method", "methods": ["POST", "PUT"]}, **direct("write")},
        {"match": {"prefix": "/method"}, **direct("read")},
        {"match": {"prefix": "/weighted"}, "weighted_clusters": [{"name": "a", "weight": 80},
                                                                  {"name": "b", "weight": 20}]},
        {"match": {"prefix": "/redirect-full"},
         "redirect": {"status": 301, "scheme": "https", "host": "secure.example", "path": "/new"}},
        {"match": {"prefix": "/redirect-host"}, "redirect": {"status": 302, "host": "other.example"}},
        {"match": {"prefix": "/direct"}, **direct("teapot\n", 418)},
        {"match": {"prefix": "/api/"}, "prefix_rewrite": "/v2/", "cluster": "main"},
        {"match": {"prefix": "/hostrw"}, "host_rewrite": "rewritten.example", "cluster": "main"},
        {"match": {"prefix": "/rr"}, "cluster": "rr"},
        {"match": {"prefix": "/wrr"}, "cluster": "wrr"},
        {"match": {"prefix": "/lr"}, "cluster": "lr"},
        {"match": {"prefix": "/random"}, "cluster": "rnd"},
        {"match": {"prefix": "/"}, "cluster": "main"},
    ]
    config = {
        "listeners": [{
            "name": "main",
            "address": "127.0.0.1:0",
            "virtual_hosts": [
                {"name": "exact", "domains": ["example.com", "foo.example.org"],
                 "routes": [{"match": {"prefix": "/"}, **direct("vh-exact")}]},
                {"name": "suffix", "domains": ["*.example.org"],
                 "routes": [{"match": {"prefix": "/"}, **direct("vh-suffix")}]},
                {"name": "longsuffix", "domains": ["*.deep.example.org"],
                 "routes": [{"match": {"prefix": "/"}, **direct("vh-longsuffix")}]},
                {"name": "prefix", "domains": ["api.*"],
                 "routes": [{"match": {"prefix": "/"}, **direct("vh-prefix")}]},
                {"name": "default", "domains": ["*"], "routes": routes},
            ],
        }],
        "clusters": [
            cluster("main", o_main),
            cluster("a", o_a),
            cluster("b", o_b),
            cluster("rr", *rr, lb_policy="round_robin"),
            {"name": "wrr", "lb_policy": "round_robin",
             "endpoints": [w1.address, {"address": w2.address, "weight": 2}]},
            cluster("lr", *lr, lb_policy="least_request"),
            cluster("rnd", *rnd, lb_policy="random"),
        ],
    }
    proxy = module_env.proxy(config)
    return proxy, {"main": o_main, "a": o_a, "b": o_b, "rr": rr, "w": (w1, w2), "lr": lr, "rnd": rnd}


@pytest.mark.parametrize("host,expected", [
    ("example.com", "vh-exact"),
    ("EXAMPLE.COM", "vh-exact"),
    ("example.com:8080", "vh-exact"),
    ("foo.example.org", "vh-exact"),          # exact beats *.example.org
    ("bar.example.org", "vh-suffix"),
    ("x.y.example.org", "vh-suffix"),
    ("a.deep.example.org", "vh-longsuffix"),  # the longest suffix wins
    ("api.internal", "vh-prefix"),
    ("api.internal:9000", "vh-prefix"),
    ("bar.example.org:81", "vh-suffix"),
    ("API.Internal:9000", "vh-prefix"),
    ("unknown.test", None),                   # falls to "*"
])
def test_virtual_host_selection(routed, host, expected):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/exact", host=host)
    assert r.status == 200
    assert r.body.decode() == (expected or "exact"), f"Host {host!r} -> {r.body!r}"


def test_virtual_host_via_curl_host_header(routed):
    proxy, _ = routed
    r = curl(proxy.url("/"), "-H", "Host: example.com")
    assert r.status == 200 and r.body == b"vh-exact"


@pytest.mark.parametrize("target,expected", [
    ("/exact", "exact"),
    ("/exact?q=1", "exact"),
    ("/exact/more", None),
    ("/exactly", None),
    ("/a/123", "regex"),
    ("/a/123?x=y", "regex"),
    ("/a/12x", None),
    ("/a/", None),
    ("/prefix", "prefix"),
    ("/pre", "prefix"),
    ("/pr", None),
])
def test_path_matching(routed, target, expected):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request("GET", target)
    assert r.status == 200
    if expected is None:
        assert r.header("x-origin") == "main", f"{target} should fall through to the catch-all, got {r.body!r}"
    else:
        assert r.body.decode() == expected, f"{target} -> {r.body!r}"


@pytest.mark.parametrize("headers,expected", [
    ([("X-Canary", "1")], "canary"),
    ([("x-canary", "2"), ("x-block", "no")], "not-blocked"),
    ([("x-tenant", "acme-eu")], "tenant-prefix"),
    ([("x-tenant", "other"), ("x-block", "yes")], "hdr-fallback"),
    ([("x-ver", "v12")], "ver-regex"),
    ([("x-ver", "v12b"), ("x-block", "yes")], "hdr-fallback"),
    ([("x-debug", "")], "debug-present"),
    ([], "not-blocked"),
    ([("x-block", "yes")], "hdr-fallback"),
])
def test_header_matching(routed, headers, expected):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/hdr", headers)
    assert r.body.decode() == expected, f"{headers} -> {r.body!r}"


@pytest.mark.parametrize("method,expected", [("POST", "write"), ("PUT", "write"), ("GET", "read"),
                                              ("DELETE", "read")])
def test_method_matching(routed, method, expected):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request(method, "/method", body=b"x" if method in ("POST", "PUT") else None)
    assert r.body.decode() == expected


def test_weighted_clusters(routed):
    proxy, origins = routed
    n = 400
    seen = Counter()
    with RawConn(proxy.port) as c1, RawConn(proxy.port) as c2:
        for i in range(n):
            r = (c1 if i % 2 else c2).request("GET", f"/weighted/{i}")
            assert r.status == 200
            seen[r.header("x-origin")] += 1
    assert set(seen) <= {"a", "b"}
    share = seen["a"] / n
    assert 0.70 <= share <= 0.90, f"cluster a got {share:.0%} of requests (weight 80%): {seen}"


def test_redirect_full(routed):
    proxy, _ = routed
    r = curl(proxy.url("/redirect-full/x?y=1"))
    assert r.status == 301
    assert r.header("location") == "https://secure.example/new"


def test_redirect_host_only_keeps_path(routed):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request("GET", "/redirect-host/p?q=1")
        assert r.status == 302
        assert r.header("location") == "http://other.example/redirect-host/p?q=1"
        assert c.request("GET", "/exact").status == 200


def test_direct_response(routed):
    proxy, _ = routed
    r = curl(proxy.url("/direct"))
    assert r.status == 418
    assert r.body == b"teapot\n"
    assert r.header("content-length") == "7"


def test_direct_response_to_head(routed):
    proxy, _ = routed
    with RawConn(proxy.port) as c:
        r = c.request("HEAD", "/direct")
        assert r.status == 418 and r.body == b""
        assert c.request("GET", "/exact").body == b"exact"


def test_prefix_rewrite(routed):
    proxy, origins = routed
    r = curl(proxy.url("/api/users/7?full=1"))
    assert r.status == 200
    assert r.json()["target"] == "/v2/users/7?full=1"


def test_host_rewrite(routed):
    proxy, _ = routed
    r = curl(proxy.url("/hostrw/x"), "-H", "Host: original.example")
    hosts = [v for k, v in r.json()["headers"] if k.lower() == "host"]
    assert hosts == ["rewritten.example"]


def test_host_preserved_without_rewrite(routed):
    proxy, _ = routed
    r = curl(proxy.url("/keep"), "-H", "Host: original.example")
    hosts = [v for k, v in r.json()["headers"] if k.lower() == "host"]
    assert hosts == ["original.example"]


def test_round_robin_spreads_evenly(routed):
    proxy, origins = routed
    seen = Counter()
    with RawConn(proxy.port) as c:
        for i in range(30):
            seen[c.request("GET", f"/rr/{i}").header("x-origin")] += 1
    assert set(seen) == {"rr0", "rr1", "rr2"}, seen
    assert max(seen.values()) - min(seen.values()) <= 2, seen


def test_round_robin_respects_endpoint_weights(routed):
    proxy, _ = routed
    seen = Counter()
    with RawConn(proxy.port) as c:
        for i in range(60):
            seen[c.request("GET", f"/wrr/{i}").header("x-origin")] += 1
    assert 15 <= seen["w1"] <= 25 and 35 <= seen["w2"] <= 45, f"weights 1:2 -> {seen}"


@pytest.mark.parametrize("prefix,names", [("/lr", {"lr0", "lr1"}), ("/random", {"rnd0", "rnd1"})])
def test_other_lb_policies_use_all_endpoints(routed, prefix, names):
    proxy, _ = routed
    seen = Counter()
    with RawConn(proxy.port) as c:
        for i in range(40):
            r = c.request("GET", f"{prefix}/{i}")
            assert r.status == 200
            seen[r.header("x-origin")] += 1
    assert set(seen) == names, seen


def test_hostname_endpoint(env):
    origin = env.origin("byname")
    proxy = env.proxy({
        "listeners": [{"name": "main", "address": "127.0.0.1:0", "virtual_hosts": [
            {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "cluster": "n"}]}]}],
        "clusters": [{"name": "n", "endpoints": [f"localhost:{origin.port}"]}],
    })
    r = curl(proxy.url("/named"))
    assert r.status == 200 and r.header("x-origin") == "byname"
