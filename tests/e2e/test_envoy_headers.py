"""Envoy's route and header features, over HTTP/1.1 and HTTP/2 alike:
query parameter and string matches, case_sensitive, regex_rewrite with
x-envoy-original-path, auto_host_rewrite, use_remote_address /
xff_num_trusted_hops / internal_address_config (x-forwarded-for,
x-envoy-internal, x-envoy-external-address, stripped x-envoy-* controls),
suppress_envoy_headers, x-envoy-upstream-service-time,
x-envoy-expected-rq-timeout-ms and x-envoy-upstream-rq-timeout-ms."""

from __future__ import annotations

import pytest

from e2e_client import RawConn, curl
from e2e_h2 import H2Client, H2Origin
from e2e_proxy import cluster

LOOPBACK_INTERNAL = {"cidr_ranges": [{"address_prefix": "127.0.0.1", "prefix_len": 32},
                                     {"address_prefix": "10.0.0.0", "prefix_len": 8}]}


def direct(body):
    return {"direct_response": {"status": 200, "body": body}}


def listener(name, routes, **settings):
    return {"name": name, "address": "127.0.0.1:0",
            "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}], **settings}


def seen(echo: dict) -> dict:
    """{lower name: [values]} of the headers an echo origin saw."""
    out: dict = {}
    for k, v in echo["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def one(headers: dict, name: str):
    values = headers.get(name)
    assert values is None or len(values) == 1, f"{name} sent {len(values)} times: {values}"
    return values[0] if values else None


MATCH_ROUTES = [
    {"match": {"prefix": "/Case", "case_sensitive": False}, **direct("case")},
    {"match": {"path": "/Exact", "case_sensitive": False}, **direct("case-exact")},
    {"match": {"prefix": "/q", "query_parameters": [
        {"name": "debug"}, {"name": "v", "string_match": {"exact": "2"}}]}, **direct("q-debug-v2")},
    {"match": {"prefix": "/q", "query_parameters": [
        {"name": "tag", "string_match": {"suffix": "-EU", "ignore_case": True}},
        {"name": "off", "present_match": False}]}, **direct("q-tag")},
    {"match": {"prefix": "/h", "headers": [{"name": "x-zone", "suffix": ".eu"}]}, **direct("h-suffix")},
    {"match": {"prefix": "/h", "headers": [
        {"name": "x-agent", "string_match": {"contains": "BOT", "ignore_case": True}}]}, **direct("h-contains")},
    {"match": {"prefix": "/h", "headers": [{"name": "x-a", "present_match": False},
                                           {"name": "x-b", "exact": "1"}]}, **direct("h-absent")},
    {"match": {"prefix": "/h", "headers": [{"name": "x-c", "exact": "no", "invert_match": True}]},
     **direct("h-invert-match")},
    {"match": {"prefix": "/"}, **direct("fallback")},
]


@pytest.fixture(scope="module")
def envoy_env(module_env):
    h1 = module_env.origin("h1")
    h2o = H2Origin("h2")
    module_env.origins.append(h2o)
    forward = [
        {"match": {"prefix": "/svc"}, "cluster": "h1", "timeout": "5s",
         "regex_rewrite": {"pattern": {"regex": "^/svc/([^/]+)/(.*)$"}, "substitution": "/\\2/of/\\1"}},
        {"match": {"prefix": "/pre"}, "cluster": "h1", "prefix_rewrite": "/post"},
        {"match": {"prefix": "/h2svc"}, "cluster": "h2", "timeout": "5s",
         "regex_rewrite": {"pattern": {"regex": "^/h2svc"}, "substitution": "/rewritten"}},
        {"match": {"prefix": "/auto-ip"}, "cluster": "h1", "auto_host_rewrite": True},
        {"match": {"prefix": "/auto"}, "cluster": "named", "auto_host_rewrite": True},
        {"match": {"prefix": "/h2"}, "cluster": "h2", "timeout": "5s"},
        {"match": {"prefix": "/"}, "cluster": "h1", "timeout": "5s"},
    ]
    config = {
        "listeners": [
            listener("match", MATCH_ROUTES),
            listener("edge", forward),
            listener("internal", forward, internal_address_config=LOOPBACK_INTERNAL),
            listener("behind", forward, use_remote_address=False, internal_address_config=LOOPBACK_INTERNAL),
            listener("hops", forward, xff_num_trusted_hops=1, internal_address_config=LOOPBACK_INTERNAL),
            listener("quiet", forward, suppress_envoy_headers=True, internal_address_config=LOOPBACK_INTERNAL),
        ],
        "clusters": [
            cluster("h1", h1),
            cluster("h2", h2o.address, protocol="http2"),
            {"name": "named", "endpoints": [f"localhost:{h1.port}"]},
        ],
    }
    proxy = module_env.proxy(config)
    return proxy, h1, h2o


def port(proxy, name):
    return proxy.port_of(name)


def h1_get(proxy, name, target, headers=()):
    with RawConn(port(proxy, name)) as c:
        return c.request("GET", target, list(headers))


def h2_get(proxy, name, target, headers=()):
    with H2Client(port(proxy, name)) as c:
        return c.request("GET", target, headers=list(headers))


# -- matching ------------------------------------------------------------------------

@pytest.mark.parametrize("target,headers,expected", [
    ("/case/x", [], "case"),
    ("/CASE", [], "case"),
    ("/exact?x=1", [], "case-exact"),
    ("/EXACT", [], "case-exact"),
    ("/exact/", [], "fallback"),
    ("/q?debug&v=2", [], "q-debug-v2"),
    ("/q?v=2&debug=1", [], "q-debug-v2"),
    ("/q?v=3&debug", [], "fallback"),
    ("/q?v=2&v=3&debug", [], "q-debug-v2"),      # the first value counts
    ("/q?tag=west-eu", [], "q-tag"),
    ("/q?tag=west-eu&off", [], "fallback"),
    ("/q?tag=west%2Deu", [], "fallback"),         # not percent-decoded
    ("/h", [("x-zone", "shop.eu")], "h-suffix"),
    ("/h", [("x-agent", "a-Bot-b")], "h-contains"),
    ("/h", [("x-b", "1")], "h-absent"),
    ("/h", [("x-b", "1"), ("x-a", "")], "fallback"),
    ("/h", [("x-c", "yes")], "h-invert-match"),
    ("/h", [("x-c", "no")], "fallback"),
    ("/h", [], "fallback"),                       # missing fails even inverted
])
def test_match_forms(envoy_env, target, headers, expected):
    proxy, _, _ = envoy_env
    r = h1_get(proxy, "match", target, headers)
    assert r.status == 200 and r.body.decode() == expected, f"HTTP/1.1 {target} {headers}: {r.body!r}"
    r2 = h2_get(proxy, "match", target, headers)
    assert r2.status == 200 and r2.body.decode() == expected, f"HTTP/2 {target} {headers}: {r2.body!r}"


# -- rewrites --------------------------------------------------------------------------

def test_regex_rewrite_and_original_path(envoy_env):
    proxy, _, h2o = envoy_env
    for get in (h1_get, h2_get):
        r = get(proxy, "edge", "/svc/users/list/all?page=2")
        assert r.status == 200, r
        echo = r.json()
        assert echo.get("target", echo.get("path")) == "/list/all/of/users?page=2", echo
        assert one(seen(echo), "x-envoy-original-path") == "/svc/users/list/all?page=2"
    # HTTP/1.1 -> HTTP/2 upstream too.
    r = h1_get(proxy, "edge", "/h2svc/x?y=1")
    assert r.status == 200 and r.json()["path"] == "/rewritten/x?y=1", r.body
    assert one(seen(r.json()), "x-envoy-original-path") == "/h2svc/x?y=1"
    # Envoy: the header goes up whenever a rewrite applies, even unchanged;
    # a prefix rewrite too; none without one.
    r = h1_get(proxy, "edge", "/svc")
    assert r.json()["target"] == "/svc" and one(seen(r.json()), "x-envoy-original-path") == "/svc"
    r = h1_get(proxy, "edge", "/pre/a")
    assert r.json()["target"] == "/post/a" and one(seen(r.json()), "x-envoy-original-path") == "/pre/a"
    r = h1_get(proxy, "edge", "/plain", [("x-envoy-original-path", "/kept")])
    assert one(seen(r.json()), "x-envoy-original-path") == "/kept"
    # suppress_envoy_headers: rewritten, but no x-envoy-original-path.
    r = h1_get(proxy, "quiet", "/svc/a/b")
    assert r.json()["target"] == "/b/of/a" and "x-envoy-original-path" not in seen(r.json())


def test_auto_host_rewrite(envoy_env):
    proxy, _, _ = envoy_env
    for get in (h1_get, h2_get):
        r = get(proxy, "edge", "/auto/x")
        assert r.status == 200, r
        assert one(seen(r.json()), "host") == "localhost", f"{get.__name__}: {seen(r.json()).get('host')}"
        # An endpoint given by IP has no hostname: Host is left alone.
        r = get(proxy, "edge", "/auto-ip/x")
        sent = "test.local" if get is h1_get else f"127.0.0.1:{port(proxy, 'edge')}"
        assert one(seen(r.json()), "host") == sent


# -- trust: x-forwarded-for, x-envoy-internal, stripped controls ------------------------------

CONTROLS = [("x-envoy-retry-on", "5xx"), ("x-envoy-max-retries", "3"), ("x-envoy-internal", "true"),
            ("x-envoy-decorator-operation", "op"), ("x-envoy-something", "kept")]


@pytest.mark.parametrize("get", [h1_get, h2_get], ids=["h1", "h2"])
def test_edge_request_is_external(envoy_env, get):
    """ringway's default listener (use_remote_address, no internal
    address): the peer is appended, the request is external."""
    proxy, _, _ = envoy_env
    r = get(proxy, "edge", "/e", [("x-forwarded-for", "10.9.9.9"), ("x-forwarded-proto", "https"), *CONTROLS])
    h = seen(r.json())
    assert [p.strip() for p in one(h, "x-forwarded-for").split(",")] == ["10.9.9.9", "127.0.0.1"]
    assert one(h, "x-forwarded-proto") == "http"
    assert one(h, "x-envoy-external-address") == "127.0.0.1"
    for name in ("x-envoy-internal", "x-envoy-retry-on", "x-envoy-max-retries", "x-envoy-decorator-operation"):
        assert name not in h, f"{name} reached the upstream"
    assert one(h, "x-envoy-something") == "kept"


@pytest.mark.parametrize("get", [h1_get, h2_get], ids=["h1", "h2"])
def test_internal_peer(envoy_env, get):
    proxy, _, _ = envoy_env
    r = get(proxy, "internal", "/i", CONTROLS)
    h = seen(r.json())
    assert one(h, "x-envoy-internal") == "true"
    assert one(h, "x-envoy-retry-on") == "5xx" and one(h, "x-envoy-decorator-operation") == "op"
    assert "x-envoy-external-address" not in h
    assert one(h, "x-forwarded-for") == "127.0.0.1"
    # Any x-forwarded-for: not internal (Envoy's rule), and an edge request.
    r = get(proxy, "internal", "/i", [("x-forwarded-for", "10.1.1.1"), *CONTROLS])
    h = seen(r.json())
    assert "x-envoy-internal" not in h and "x-envoy-retry-on" not in h
    assert one(h, "x-envoy-external-address") == "127.0.0.1"


@pytest.mark.parametrize("get", [h1_get, h2_get], ids=["h1", "h2"])
def test_not_using_the_remote_address(envoy_env, get):
    """use_remote_address: false: nothing appended; internal when the
    x-forwarded-for holds one internal address."""
    proxy, _, _ = envoy_env
    r = get(proxy, "behind", "/b", [("x-forwarded-for", "10.1.1.1"), ("x-forwarded-proto", "https"), *CONTROLS])
    h = seen(r.json())
    assert one(h, "x-forwarded-for") == "10.1.1.1"
    assert one(h, "x-forwarded-proto") == "https"
    assert one(h, "x-envoy-internal") == "true" and one(h, "x-envoy-retry-on") == "5xx"
    # Two addresses, or an external one, or none: external, not edge.
    for xff in (["10.1.1.1, 10.2.2.2"], ["8.8.8.8"], []):
        r = get(proxy, "behind", "/b", [*(("x-forwarded-for", v) for v in xff), *CONTROLS])
        h = seen(r.json())
        assert "x-envoy-internal" not in h and "x-envoy-retry-on" not in h, (xff, h)
        assert "x-envoy-external-address" not in h
        assert one(h, "x-envoy-decorator-operation") == "op"   # stripped from edge requests only
        assert h.get("x-forwarded-for", []) == xff
        assert one(h, "x-forwarded-proto") == "http"


def test_trusted_hop(envoy_env):
    proxy, _, _ = envoy_env
    r = h1_get(proxy, "hops", "/t", [("x-forwarded-for", "203.0.113.9, 198.51.100.1"),
                                     ("x-forwarded-proto", "https")])
    h = seen(r.json())
    assert one(h, "x-envoy-external-address") == "198.51.100.1"
    assert one(h, "x-forwarded-proto") == "https"      # from a trusted hop: kept
    assert [p.strip() for p in one(h, "x-forwarded-for").split(",")] == ["203.0.113.9", "198.51.100.1", "127.0.0.1"]


# -- timing headers ----------------------------------------------------------------------

@pytest.mark.parametrize("name,target", [("edge", "/s"), ("edge", "/h2/s")], ids=["h1-upstream", "h2-upstream"])
def test_service_time_and_expected_timeout(envoy_env, name, target):
    proxy, _, _ = envoy_env
    for get in (h1_get, h2_get):
        r = get(proxy, name, f"{target}?delay=0.2")
        assert r.status == 200
        ms = int(r.header("x-envoy-upstream-service-time"))
        assert 150 <= ms < 5000, ms
        assert one(seen(r.json()), "x-envoy-expected-rq-timeout-ms") == "5000"
    # suppressed: neither, and the upstream's own service time goes through.
    for get in (h1_get, h2_get):
        r = get(proxy, "quiet", target)
        assert r.header("x-envoy-upstream-service-time") is None, get.__name__
        assert "x-envoy-expected-rq-timeout-ms" not in seen(r.json())
    r = curl(f"http://127.0.0.1:{port(proxy, 'quiet')}/x?hdr=x-envoy-upstream-service-time:7")
    assert r.header("x-envoy-upstream-service-time") == "7"
    r = curl(f"http://127.0.0.1:{port(proxy, 'edge')}/x?hdr=x-envoy-upstream-service-time:7777")
    assert r.header("x-envoy-upstream-service-time") != "7777"


@pytest.mark.parametrize("get", [h1_get, h2_get], ids=["h1", "h2"])
def test_upstream_rq_timeout_header(envoy_env, get):
    proxy, _, _ = envoy_env
    # Honoured from an internal client: 504 UT well before the route's 5 s.
    r = get(proxy, "internal", "/slow?delay=2", [("x-envoy-upstream-rq-timeout-ms", "300")])
    assert r.status == 504, r
    r = get(proxy, "internal", "/fast", [("x-envoy-upstream-rq-timeout-ms", "1234")])
    h = seen(r.json())
    assert one(h, "x-envoy-expected-rq-timeout-ms") == "1234"
    assert "x-envoy-upstream-rq-timeout-ms" not in h
    # From an external one it is stripped and ignored.
    r = get(proxy, "edge", "/slow?delay=0.6", [("x-envoy-upstream-rq-timeout-ms", "100")])
    assert r.status == 200
    assert "x-envoy-upstream-rq-timeout-ms" not in seen(r.json())
