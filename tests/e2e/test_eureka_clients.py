"""The mesh as a Netflix shop would run it: real third-party Eureka clients
(py-eureka-client from PyPI, eureka-js-client from npm) register two
services with ringway-control's Eureka registry and heartbeat; a ringway
proxy with no cluster configured routes to them by VIP through on-demand
discovery. Instances come and go (a second one registers, one cancels on
stop, one dies silently and is evicted) and traffic follows; then the
registry stops and traffic goes on to the last known instances."""

from __future__ import annotations

import json
import sys

import pytest

from e2e_client import eventually
from e2e_eureka import start_js_client, start_py_client
from test_eureka_routing import hits, only, registry_control, xds_proxy


@pytest.fixture
def clients(tmp_path, request):
    made = []

    def start(kind, url, **kw):
        fn = start_py_client if kind == "py" else start_js_client
        made.append(fn(tmp_path / "clients", url, **kw))
        return made[-1]

    yield start
    failed = getattr(request.node, "rep_call", None)
    for c in made:
        if failed is not None and failed.failed:
            sys.stderr.write(f"\n--- {c.name} stderr ---\n{c.log()[-3000:]}\n--- events ---\n"
                             f"{json.dumps(c.events[-20:])}\n")
        c.kill()


def test_real_clients_are_routed_by_vip_as_they_come_and_go(env_once, control, clients):
    c, registry = registry_control(control, "--eureka-eviction-interval", "200ms")
    url = f"http://{registry}/eureka/"
    py_a, py_b, js_a = env_once.origin("py-a"), env_once.origin("py-b"), env_once.origin("js-a")
    first = clients("py", url, app="PY-SVC", vip="py-svc", port=py_a.port)
    js = clients("js", url, app="js-svc", vip="js-svc", port=js_a.port)
    proxy = xds_proxy(env_once, c)

    # No cluster configured: each VIP is found on demand, in any case.
    only(proxy, "py-svc", {"py-a"}, timeout=15)
    only(proxy, "JS-SVC:8080", {"js-a"}, timeout=15)

    # A second instance registers: it gets traffic too.
    clients("py", url, app="PY-SVC", vip="py-svc", port=py_b.port)
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
    c.kill()
    assert hits(proxy, "py-svc", 10) == {"py-b": 10}
    eventually(lambda: proxy.stat("control_plane.connected_state") == 0, 10, 0.05, "stream lost")
    assert hits(proxy, "py-svc", 10) == {"py-b": 10}
