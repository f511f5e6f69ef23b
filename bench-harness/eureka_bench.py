#!/usr/bin/env python3
"""Eureka at scale: ringway-control's built-in registry holding N instances
(N/10 applications, one VIP each, 10 instances per VIP), read two ways.

1. direct  -- a ringway proxy with an `eureka:` block and one `type: eureka`
              cluster per VIP: time from start until every instance is in
              its copy and every cluster has its endpoints, RSS growth, and
              CPU of that first (full) fetch.
2. updates -- K single-instance status flips (OUT_OF_SERVICE, then back):
              time from the registry's 200 until the proxy's /clusters shows
              the change (fetch interval 1 s, so 0-1 s plus the work), and
              CPU per update on both sides. The same for a proxy fed by
              ringway-control over xDS (its Eureka source rebuilds the VIP
              clusters on each change).

    python3 bench-harness/eureka_bench.py --out DIR [--quick] [--instances N] [--updates K]

Needs target/release/{ringway,ringway-control}. Writes DIR/eureka.json.
Process handling, /proc probes and the bounded waits come from the
ringbench package (bench-harness/ringbench/).
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ringbench.procfs import pid_cpu_seconds as cpu_seconds
from ringbench.procfs import pid_rss_kib as rss_kib
from ringbench.procs import PROCS, Interrupted, install_signal_handlers
from ringbench.util import TARGET as BIN
from ringbench.util import http_request, read_address, wait_until


def start(args: list, log: Path) -> subprocess.Popen:
    with open(log, "wb") as lf:
        return PROCS.spawn(args, stderr=lf)


def body(app: str, i: int) -> bytes:
    host = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    return json.dumps({"instance": {
        "instanceId": f"{host}:{app.lower()}:8080", "hostName": host, "app": app, "ipAddr": host,
        "status": "UP", "port": {"$": 8080, "@enabled": "true"},
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                           "name": "MyOwn"},
        "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 3600},
        "vipAddress": app.lower()}}).encode()


def register_all(registry: str, n: int) -> float:
    """Registers n instances over 4 keep-alive connections; seconds taken."""
    host, port = registry.split(":")
    jobs = [(f"APP-{i // 10:05d}", i) for i in range(n)]

    def worker(part):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for app, i in part:
            conn.request("POST", f"/eureka/apps/{app}", body(app, i),
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 204, resp.status
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(jobs[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def admin(address: str, path: str, method: str = "GET") -> tuple[int, str]:
    status, body = http_request(address, path, method, timeout=30)
    return status, body.decode(errors="replace")


def proxy_config(eureka: str | None, xds: str | None, vips: int) -> dict:
    routes = [{"match": {"prefix": "/"}, "cluster_from": "authority", "on_demand": {"timeout": "5s"}}]
    config: dict = {"listeners": [{"name": "egress", "address": "127.0.0.1:0",
                                   "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]}]}
    if eureka:
        config["eureka"] = {"urls": [f"http://{eureka}/eureka/"], "fetch_interval": "1s"}
        config["clusters"] = [{"name": f"app-{v:05d}", "type": "eureka", "vip": f"app-{v:05d}"}
                              for v in range(vips)]
    if xds:
        config["xds"] = {"address": xds, "node": {"id": "bench", "cluster": "bench"}, "all_clusters": True}
        config["clusters"] = []
    return config


def run_proxy(work: Path, name: str, config: dict) -> tuple[subprocess.Popen, str]:
    path = work / f"{name}.json"
    path.write_text(json.dumps(config))
    addr = work / f"{name}.admin"
    proc = start([str(BIN / "ringway"), "-c", str(path), "--concurrency", "2",
                  "--admin-address", "127.0.0.1:0", "--admin-address-path", str(addr)],
                 work / f"{name}.log")
    return proc, read_address(addr, 20, proc)


def endpoint_count(proxy_admin: str, cluster: str) -> int:
    _, text = admin(proxy_admin, "/clusters")
    return sum(1 for line in text.splitlines()
               if line.startswith(f"{cluster}::") and line.endswith("::health_flags::healthy"))


def flips(registry: str, proxy_admin: str, control_pid: int, proxy_pid: int, k: int) -> dict:
    """k status flips of instance 0 of app-00000 (10 → 9 → 10 endpoints)."""
    lat, cpu_c, cpu_p = [], [], []
    path = "/eureka/apps/APP-00000/10.0.0.0:app-00000:8080/status"
    for i in range(k):
        method, want = ("PUT", 9) if i % 2 == 0 else ("DELETE", 10)
        c0, p0 = cpu_seconds(control_pid), cpu_seconds(proxy_pid)
        started = time.monotonic()
        status, _ = admin(registry, f"{path}?value={'OUT_OF_SERVICE' if method == 'PUT' else 'UP'}", method)
        assert status == 200, status
        wait_until(lambda: endpoint_count(proxy_admin, "app-00000") == want, 30, "the change at the proxy")
        lat.append((time.monotonic() - started) * 1000)
        time.sleep(0.3)  # let the last fetch's work finish before reading CPU
        cpu_c.append((cpu_seconds(control_pid) - c0) * 1000)
        cpu_p.append((cpu_seconds(proxy_pid) - p0) * 1000)
    q = statistics.quantiles(lat, n=10) if len(lat) >= 2 else lat * 9
    return {"change_to_proxy_ms": {"median": round(statistics.median(lat)), "p90": round(q[8]),
                                   "max": round(max(lat))},
            "cpu_ms_per_change_incl_polling": {"control": round(statistics.median(cpu_c), 1),
                                               "proxy": round(statistics.median(cpu_p), 1)}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--quick", action="store_true", help="1,000 instances, 4 updates")
    ap.add_argument("--instances", type=int)
    ap.add_argument("--updates", type=int)
    args = ap.parse_args()
    args.instances = args.instances or (1_000 if args.quick else 10_000)
    args.updates = args.updates or (4 if args.quick else 10)
    args.out.mkdir(parents=True, exist_ok=True)
    n, vips = args.instances, args.instances // 10
    result: dict = {"instances": n, "vips": vips}
    install_signal_handlers()
    with tempfile.TemporaryDirectory(prefix="eureka-bench-") as tmp:
        work = Path(tmp)
        procs = []
        try:
            reg_addr, xds_addr = work / "reg.addr", work / "xds.addr"
            control = start([str(BIN / "ringway-control"), "--xds-address", "127.0.0.1:0",
                             "--admin-address", "127.0.0.1:0", "--xds-address-path", str(xds_addr),
                             "--eureka-registry-address", "127.0.0.1:0",
                             "--eureka-registry-address-path", str(reg_addr)], work / "control.log")
            procs.append(control)
            registry, xds = read_address(reg_addr, 20, control), read_address(xds_addr, 20, control)
            c0 = cpu_seconds(control.pid)
            seconds = register_all(registry, n)
            result["register"] = {"per_second": round(n / seconds),
                                  "control_cpu_s": round(cpu_seconds(control.pid) - c0, 2),
                                  "control_rss_mib": round(rss_kib(control.pid) / 1024, 1)}

            # 1. ringway reading the registry directly.
            proxy, proxy_admin = run_proxy(work, "direct", proxy_config(registry, None, vips))
            procs.append(proxy)
            base_rss = None
            started = time.monotonic()
            wait_until(lambda: endpoint_count(proxy_admin, f"app-{vips - 1:05d}") == 10, 120,
                       "every instance fetched")
            result["direct_first_fetch"] = {
                "start_to_all_endpoints_s": round(time.monotonic() - started, 2),
                "proxy_cpu_s": round(cpu_seconds(proxy.pid), 2),
                "proxy_rss_mib": round(rss_kib(proxy.pid) / 1024, 1)}
            del base_rss
            result["direct_updates"] = flips(registry, proxy_admin, control.pid, proxy.pid, args.updates)
            PROCS.stop(proxy, signal.SIGTERM, grace=10)

            # 2. ringway fed over xDS by ringway-control's Eureka source.
            proxy, proxy_admin = run_proxy(work, "xds", proxy_config(None, xds, vips))
            procs.append(proxy)
            started = time.monotonic()
            wait_until(lambda: endpoint_count(proxy_admin, f"app-{vips - 1:05d}") == 10, 120,
                       "every VIP pushed")
            result["xds_push"] = {"start_to_all_endpoints_s": round(time.monotonic() - started, 2),
                                  "proxy_rss_mib": round(rss_kib(proxy.pid) / 1024, 1)}
            result["xds_updates"] = flips(registry, proxy_admin, control.pid, proxy.pid, args.updates)
        except TimeoutError as e:
            print(f"eureka bench: {e}", file=sys.stderr)
            return 1
        except Interrupted as e:
            print(f"eureka bench: interrupted ({e})", file=sys.stderr)
            return 130
        finally:
            for p in procs:
                PROCS.stop(p, signal.SIGKILL, grace=1)
    (args.out / "eureka.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
