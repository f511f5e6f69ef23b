"""The mesh as a Netflix shop would run it: real third-party Eureka clients
(py-eureka-client from PyPI, eureka-js-client from npm) register two
services with ringway-control's Eureka registry and heartbeat; a ringway
proxy with no cluster configured routes to them by VIP through on-demand
discovery. Instances come and go (a second one registers, one cancels on
stop, one dies silently and is evicted) and traffic follows; then the
registry stops and traffic goes on to the last known instances."""

from __future__ import annotations

from e2e_client import eventually
from test_eureka_routing import hits, only, xds_proxy


def test_real_clients_are_routed_by_vip_as_they_come_and_go(env, registry, clients):
    r = registry(eviction="200ms")
    url = r.url
    py_a, py_b, js_a = env.origin("py-a"), env.origin("py-b"), env.origin("js-a")
    first = clients.py(url, app="PY-SVC", vip="py-svc", port=py_a.port)
    js = clients.js(url, app="js-svc", vip="js-svc", port=js_a.port)
    proxy = xds_proxy(env, r.control)

    # No cluster configured: each VIP is found on demand, in any case.
    only(proxy, "py-svc", {"py-a"}, timeout=15)
    only(proxy, "JS-SVC:8080", {"js-a"}, timeout=15)

    # A second instance registers: it gets traffic too.
    clients.py(url, app="PY-SVC", vip="py-svc", port=py_b.port)
    only(proxy, "py-svc", {"py-a", "py-b"}, n=12, timeout=15)

    # The first stops (the client says DOWN and cancels): traffic moves off.
    assert first.stop() == 0
    only(proxy, "py-svc", {"py-b"})

    # The js instance dies without a word: evicted after its lease, then
    # its VIP has no healthy instance.
    assert hits(proxy, "js-svc", 4) == {"js-a": 4}
    js.kill()
    only(proxy, "js-svc", {503}, timeout=20)

    # The registry stops: the proxy keeps routing to the last instances.
    r.kill()
    assert hits(proxy, "py-svc", 10) == {"py-b": 10}
    eventually(lambda: proxy.stat("control_plane.connected_state") == 0, 10, 0.05, "stream lost")
    assert hits(proxy, "py-svc", 10) == {"py-b": 10}
