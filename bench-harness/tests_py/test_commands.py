"""ringbench.measure's load-generator command lines."""

from __future__ import annotations

from types import SimpleNamespace

from ringbench.measure import wrk_command
from ringbench.scenarios import SCENARIOS


def test_wrk_and_wrk2_command_lines():
    ctx = SimpleNamespace(load_threads=2)
    url = "http://127.0.0.1:1/small"
    keepalive = SCENARIOS["h1-keepalive"]
    assert wrk_command("wrk", ctx, keepalive, url, 2.4) == [
        "wrk", "-t", "2", "-c", "64", "-d", "2s", "--timeout", "5s", "--latency", url,
    ]
    newconn = SCENARIOS["h1-newconn"]
    assert wrk_command("wrk2", ctx, newconn, url, 0.2, rate=3000) == [
        "wrk2", "-t", "2", "-c", str(newconn.connections), "-d", "1s", "-R", "3000",
        "--timeout", "5s", "--latency", "-H", "Connection: close", url,
    ]
