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

    python3 bench-harness/eureka_bench.py --out DIR [--instances N] [--updates K]

Needs target/release/{ringway,ringway-control}. Writes DIR/eureka.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from xds_bench import BIN, cpu_seconds, read_address, rss_kib, wait_for


def start(args: list, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            stderr=open(log, "wb"))


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
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request(method, path)
    resp = conn.getresponse()
    return resp.status, resp.read().decode(errors="replace")


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
    wait_for(f"{name} admin", lambda: addr.exists() and addr.read_text().strip(), 20)
    return proc, read_address(addr)


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
        wait_for("the change at the proxy", lambda: endpoint_count(proxy_admin, "app-00000") == want, 30, 0.02)
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
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--updates", type=int, default=10)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    n, vips = args.instances, args.instances // 10
    result: dict = {"instances": n, "vips": vips}
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
            wait_for("ringway-control", lambda: reg_addr.exists() and xds_addr.exists(), 20)
            registry, xds = read_address(reg_addr), read_address(xds_addr)
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
            wait_for("every instance fetched",
                     lambda: endpoint_count(proxy_admin, f"app-{vips - 1:05d}") == 10, 120, 0.02)
            result["direct_first_fetch"] = {
                "start_to_all_endpoints_s": round(time.monotonic() - started, 2),
                "proxy_cpu_s": round(cpu_seconds(proxy.pid), 2),
                "proxy_rss_mib": round(rss_kib(proxy.pid) / 1024, 1)}
            del base_rss
            result["direct_updates"] = flips(registry, proxy_admin, control.pid, proxy.pid, args.updates)
            proxy.terminate()
            proxy.wait(10)

            # 2. ringway fed over xDS by ringway-control's Eureka source.
            proxy, proxy_admin = run_proxy(work, "xds", proxy_config(None, xds, vips))
            procs.append(proxy)
            started = time.monotonic()
            wait_for("every VIP pushed",
                     lambda: endpoint_count(proxy_admin, f"app-{vips - 1:05d}") == 10, 120, 0.02)
            result["xds_push"] = {"start_to_all_endpoints_s": round(time.monotonic() - started, 2),
                                  "proxy_rss_mib": round(rss_kib(proxy.pid) / 1024, 1)}
            result["xds_updates"] = flips(registry, proxy_admin, control.pid, proxy.pid, args.updates)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    (args.out / "eureka.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
