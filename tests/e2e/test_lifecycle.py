"""Process lifecycle: SIGHUP reload (good, bad, under load), --mode validate,
SIGTERM/SIGINT draining."""

from __future__ import annotations

import http.client
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e_client import RawConn, build_request, curl, eventually
from e2e_proxy import cluster, simple_config, strip_ansi


def config_with(origin, extra_routes=(), body="v1"):
    return simple_config(
        [*extra_routes,
         {"match": {"prefix": "/version"}, "direct_response": {"status": 200, "body": body}},
         {"match": {"prefix": "/a"}, "cluster": "backend"}],
        [cluster("backend", origin)],
    )


def test_sighup_reload_adds_route(env):
    origin = env.origin("reload")
    proxy = env.proxy(config_with(origin))
    port = proxy.port
    with RawConn(port) as c:
        assert c.request("GET", "/a/x").status == 200
        assert c.request("GET", "/b/x").status == 404
    proxy.reload(config_with(origin, [{"match": {"prefix": "/b"}, "cluster": "backend"}], body="v2"))
    eventually(lambda: curl(proxy.url("/b/x")).status == 200, 3, 0.05, "route /b after reload")
    assert curl(proxy.url("/version")).body == b"v2"
    proxy.refresh_listeners()
    assert proxy.port == port, "a reload with the same listener must keep its socket (and port)"
    assert proxy.server_info()["reloads"]["ok"] == 1


def test_reload_applies_to_existing_keepalive_connection(env):
    """Routes are per request (as Envoy's route config): a long-lived
    keep-alive connection opened before the reload must get the new routes
    on its next request, or clients that keep connections open never see
    route changes."""
    origin = env.origin("reload-ka")
    proxy = env.proxy(config_with(origin))
    keep = RawConn(proxy.port)
    try:
        assert keep.request("GET", "/version").body == b"v1"
        proxy.reload(config_with(origin, [{"match": {"prefix": "/b"}, "cluster": "backend"}], body="v2"))
        eventually(lambda: curl(proxy.url("/version")).body == b"v2", 3, 0.05, "new connections see v2")
        assert keep.request("GET", "/version").body == b"v2"
        assert keep.request("GET", "/b/y").status == 200
    finally:
        keep.close()


def test_invalid_reload_keeps_old_config(env):
    origin = env.origin("reload-bad")
    proxy = env.proxy(config_with(origin))
    bad = config_with(origin, [{"match": {"prefix": "/c"}, "cluster": "no-such-cluster"}], body="v2")
    proxy.reload(bad, expect_ok=False)
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/a/still").status == 200
        assert c.request("GET", "/version").body == b"v1"
        assert c.request("GET", "/c/x").status == 404
    log = eventually(lambda: "no-such-cluster" in proxy.log() and proxy.log(), 3, 0.05,
                     "reload error logged")
    lines = log.splitlines()
    i = next(i for i, l in enumerate(lines) if "no-such-cluster" in l)
    line = lines[i]
    assert str(proxy.config_path) in line, line
    assert "routes[0].cluster" in line, line
    event = "\n".join(lines[max(0, i - 3): i + 1])
    assert "ERROR" in event or "WARN" in event, f"not logged as an error: {event}"
    # Garbage YAML is rejected too.
    proxy.reload("listeners: [ {name: main, address: ", expect_ok=False)
    assert curl(proxy.url("/version")).body == b"v1"
    assert proxy.alive()
    assert proxy.server_info()["reloads"]["failed"] == 2


def test_validate_good_config(ringway_bin, tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text("""
listeners:
  - name: main
    address: "127.0.0.1:0"
    limits: { request_head_timeout: 1s, idle_timeout: 2s }
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            cluster: backend
            timeout: 15s
clusters:
  - name: backend
    lb_policy: round_robin
    endpoints: ["127.0.0.1:8080", {address: "127.0.0.1:8081", weight: 2}]
""")
    p = subprocess.run([ringway_bin, "--mode", "validate", "-c", str(path)], capture_output=True,
                       timeout=10)
    assert p.returncode == 0, p.stderr.decode()


@pytest.mark.parametrize("snippet,field,reason_word", [
    ("cluster: nope", "listeners[0].virtual_hosts[0].routes[0].cluster", "nope"),
    ("cluster: backend\n            timeout: 5", "listeners[0].virtual_hosts[0].routes[0].timeout", "unit"),
    ("cluster: backend\n            bogus_field: 1", "listeners[0].virtual_hosts[0].routes[0]", "bogus_field"),
])
def test_validate_bad_config(ringway_bin, tmp_path, snippet, field, reason_word):
    path = tmp_path / "bad.yaml"
    path.write_text(f"""
listeners:
  - name: main
    address: "127.0.0.1:0"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: {{ prefix: "/" }}
            {snippet}
clusters:
  - name: backend
    endpoints: ["127.0.0.1:8080"]
""")
    p = subprocess.run([ringway_bin, "--mode", "validate", "-c", str(path)], capture_output=True,
                       timeout=10)
    err = strip_ansi(p.stderr.decode())
    assert p.returncode == 1, (p.returncode, err)
    assert str(path) in err or "bad.yaml" in err, f"error does not name the file: {err}"
    assert field in err, f"error does not name the field {field}: {err}"
    assert reason_word in err, f"error does not give the reason ({reason_word}): {err}"


def test_validate_reports_every_error(ringway_bin, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("""
listeners:
  - name: main
    address: "127.0.0.1:0"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            cluster: missing-one
          - match: { prefix: "/x" }
            cluster: missing-two
clusters: []
""")
    p = subprocess.run([ringway_bin, "--mode", "validate", "-c", str(path)], capture_output=True,
                       timeout=10)
    err = strip_ansi(p.stderr.decode())
    assert p.returncode == 1
    assert "missing-one" in err and "missing-two" in err, err


def test_validate_missing_file(ringway_bin, tmp_path):
    path = tmp_path / "absent.yaml"
    p = subprocess.run([ringway_bin, "--mode", "validate", "-c", str(path)], capture_output=True,
                       timeout=10)
    assert p.returncode == 1
    assert "absent.yaml" in p.stderr.decode()


def test_invalid_config_at_startup_exits_1(env):
    proxy = env.unstarted_proxy()
    proxy.start("listeners: [{name: main}]\n", wait=False)
    assert proxy.proc.wait(10) == 1
    assert "listeners[0]" in proxy.log()


def test_sigterm_drains_in_flight_request(env):
    origin = env.origin("drain")
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "backend"}],
                                    [cluster("backend", origin)]), drain_time=5)
    result = {}

    def slow_request():
        try:
            with RawConn(proxy.port, timeout=10) as c:
                result["resp"] = c.request("GET", "/slow?delay=1.5")
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=slow_request)
    t.start()
    assert origin.wait_heads(1, 5), "slow request never reached the upstream"
    start = time.monotonic()
    proxy.signal(signal.SIGTERM)

    def refused():
        try:
            with RawConn(proxy.port, timeout=0.3) as c:
                c.send(build_request("GET", "/new"))
                data = c.sock.recv(100)
                return not data.startswith(b"HTTP/1.1 200")
        except OSError:
            return True

    eventually(refused, 2, 0.05, "no new requests served after SIGTERM")
    t.join(10)
    assert "error" not in result, result.get("error")
    assert result["resp"].status == 200
    assert "close" in result["resp"].connection_tokens, \
        f"a response on a connection closed for draining should say Connection: close: {result['resp'].raw_head!r}"
    assert proxy.proc.wait(10) == 0
    elapsed = time.monotonic() - start
    assert elapsed < 4.5, f"exit took {elapsed:.1f}s after the last request finished"


def test_sigterm_gives_up_after_drain_time(env):
    origin = env.origin("stuck")
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"}, "cluster": "backend", "timeout": "60s"}],
                                    [cluster("backend", origin)]), drain_time=1)
    c = RawConn(proxy.port, timeout=10)
    try:
        c.send(build_request("GET", "/stuck?never=1"))
        assert origin.wait_heads(1, 5)
        start = time.monotonic()
        proxy.signal(signal.SIGTERM)
        assert proxy.proc.wait(10) == 0
        assert time.monotonic() - start < 4, "drain-time-s 1 was not honoured"
    finally:
        c.close()


def test_sigterm_idle_exits_promptly(env):
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"},
                                      "direct_response": {"status": 200, "body": "x"}}]), drain_time=10)
    idle = RawConn(proxy.port)  # an idle keep-alive connection must not hold up exit
    try:
        assert idle.request("GET", "/").status == 200
        start = time.monotonic()
        proxy.signal(signal.SIGTERM)
        assert proxy.proc.wait(12) == 0
        assert time.monotonic() - start < 3, "idle keep-alive connections delayed shutdown"
    finally:
        idle.close()


def test_sigint_exits_zero(env):
    proxy = env.proxy(simple_config([{"match": {"prefix": "/"},
                                      "direct_response": {"status": 200, "body": "x"}}]))
    proxy.signal(signal.SIGINT)
    assert proxy.proc.wait(10) == 0


def test_reload_under_load_no_failures(env):
    origin = env.origin("load")
    proxy = env.proxy(config_with(origin))
    port = proxy.port
    stop = threading.Event()
    failures = []
    counts = [0]
    lock = threading.Lock()

    def hammer(n):
        conn = None
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if conn is None or i % 10 == 0:  # mix reused and fresh connections
                    if conn is not None:
                        conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                path = f"/a/{n}/{i}" if i % 2 else "/version"
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    failures.append((path, r.status))
                with lock:
                    counts[0] += 1
            except Exception as e:  # noqa: BLE001
                failures.append((n, i, repr(e)))
                conn = None
        if conn is not None:
            conn.close()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer, n) for n in range(4)]
        try:
            time.sleep(0.3)
            for k in range(5):
                proxy.reload(config_with(origin, body=f"v{k + 2}"))
                time.sleep(0.5)
        finally:
            stop.set()
            for f in futures:
                f.result(10)
    assert not failures, f"{len(failures)} failed requests out of {counts[0]}: {failures[:5]}"
    assert counts[0] > 100, f"only {counts[0]} requests in ~3s"
    assert proxy.server_info()["reloads"]["ok"] == 5
    assert curl(proxy.url("/version")).body == b"v6"


def test_reload_changes_cluster_endpoints(env):
    old = env.origin("old")
    new = env.origin("new")
    proxy = env.proxy(config_with(old))
    with RawConn(proxy.port) as c:
        assert c.request("GET", "/a/1").header("x-origin") == "old"
    proxy.reload(config_with(new))

    def on_new():
        with RawConn(proxy.port) as c:
            return all(c.request("GET", f"/a/{i}").header("x-origin") == "new" for i in range(4))

    eventually(on_new, 3, 0.05, "requests go to the new endpoint")


def test_reload_adds_listener(env):
    origin = env.origin("second")
    cfg = config_with(origin)
    proxy = env.proxy(cfg)
    second = {"name": "second", "address": "127.0.0.1:0", "virtual_hosts": [
        {"name": "all", "domains": ["*"],
         "routes": [{"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": "second"}}]}]}
    cfg2 = dict(cfg, listeners=[*cfg["listeners"], second])
    proxy.reload(cfg2)
    eventually(lambda: (proxy.refresh_listeners() or "second" in proxy.listeners), 3, 0.05)
    assert curl(proxy.url("/", listener="second")).body == b"second"
    assert curl(proxy.url("/version")).body == b"v1"
