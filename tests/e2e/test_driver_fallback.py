"""io_uring blocked by the kernel (as container runtimes often do): `auto`
falls back to epoll and serves; `uring` refuses to start with a clear error.

The kernel switch is global, so the window in which io_uring is disabled is
kept to the start-up of one process and always restored."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from e2e_client import RawConn
from e2e_proxy import cluster, simple_config

SWITCH = Path("/proc/sys/kernel/io_uring_disabled")


@contextlib.contextmanager
def io_uring_disabled():
    before = SWITCH.read_text().strip()
    SWITCH.write_text("2")
    try:
        yield
    finally:
        SWITCH.write_text(before)


pytestmark = pytest.mark.skipif(
    not SWITCH.exists() or not os.access(SWITCH, os.W_OK),
    reason="needs root and a kernel with kernel.io_uring_disabled (6.6+)",
)


def test_auto_falls_back_to_epoll_and_serves(env_once):
    origin = env_once.origin("fallback")
    proxy = env_once.unstarted_proxy()
    config = simple_config([{"match": {"prefix": "/"}, "cluster": "backend"}], [cluster("backend", origin)])
    with io_uring_disabled():
        proxy.start(config, driver="auto")
    assert {w["io_driver"] for w in proxy.workers()} == {"epoll"}
    assert "io_uring is not available" in proxy.log()
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/a").status == 200
        assert c.request("GET", "/b").status == 200


def test_uring_demanded_but_blocked_is_a_clear_start_up_error(env_once):
    proxy = env_once.unstarted_proxy()
    with io_uring_disabled():
        proxy.start(simple_config([{"match": {"prefix": "/"}, "direct_response": {"status": 200}}]),
                    driver="uring", wait=False)
        code = proxy.proc.wait(10)
    assert code == 1
    assert "io_uring unavailable" in proxy.log()
