#!/usr/bin/env python3
"""xDS-lite at scale: ringway-control feeding a ringway proxy.

Three measurements (standard library only; see bench-harness/README.md):

1. push    -- N clusters with E endpoints each appear in ringway-control's
              folder at once. Time from the files being written until the
              proxy has ACKed every ClusterLoadAssignment (ringway ACKs only
              after every worker serves the new snapshot), the proxy's RSS
              growth per cluster, and the CPU both processes spent.
2. updates -- with all N clusters loaded, K single-cluster endpoint changes,
              one at a time: time from the file write to the proxy's ACK of
              the new version (median, p90, max), and CPU per update on each
              side.
3. churn   -- constant-rate load through the proxy while, every 100 ms, the
              loaded clusters' endpoints change and other clusters appear
              and vanish. Counts failed requests (the target is zero).

    python3 bench-harness/xds_bench.py --out DIR [--quick]
        [--clusters N] [--endpoints-per-cluster E] [--updates K]
        [--churn-seconds S] [--rate R]

Needs target/release/{ringway,ringway-control,bench-origin,bench-load}.
Writes DIR/xds.json and DIR/xds.md. Process handling, /proc probes and the
bounded waits come from the ringbench package (bench-harness/ringbench/).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
from ringbench.util import free_port, http_request, read_address, wait_until

CLUSTERS_PER_FILE = 100


def http_get(address: str, path: str) -> bytes:
    """The body of a 200 answer from an admin API ("host:port")."""
    status, body = http_request(address, path)
    if status != 200:
        raise RuntimeError(f"http://{address}{path} answered {status}")
    return body


class Folder:
    """ringway-control's cluster folder, written file by file (atomically)."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, clusters: list[dict]) -> None:
        lines = []
        for c in clusters:
            eps = ", ".join(f'"{e}"' for e in c["endpoints"])
            lines.append(f"- name: {c['name']}\n  endpoints: [{eps}]\n")
            if "lb_policy" in c:
                lines.append(f"  lb_policy: {c['lb_policy']}\n")
        tmp = self.path / f".{name}.tmp"
        tmp.write_text("".join(lines))
        os.rename(tmp, self.path / f"{name}.yaml")

    def remove(self, name: str) -> None:
        try:
            os.unlink(self.path / f"{name}.yaml")
        except FileNotFoundError:
            pass


def fake_endpoints(i: int, per_cluster: int, salt: int = 0) -> list[str]:
    """Distinct loopback addresses nobody connects to (push/updates only)."""
    base = i * per_cluster
    out = []
    for j in range(per_cluster):
        n = base + j
        out.append(f"127.{1 + n // 65536 % 200}.{n // 256 % 256}.{n % 256}:{10000 + salt}")
    return out


class Stack:
    """ringway-control plus one ringway proxy following it."""

    def __init__(self, work: Path, workers: int, all_clusters: bool, routes: str):
        self.work = work
        self.folder = Folder(work / "clusters")
        self.procs: list[subprocess.Popen] = []
        xds_file, cadmin_file = work / "xds.addr", work / "cadmin.addr"
        self.control = self._spawn(
            [str(BIN / "ringway-control"), "--clusters-dir", str(self.folder.path),
             "--xds-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0",
             "--xds-address-path", str(xds_file), "--admin-address-path", str(cadmin_file),
             "--poll-interval", "50ms"],
            work / "control.log",
        )
        self.xds = read_address(xds_file, proc=self.control)
        self.control_admin = read_address(cadmin_file, proc=self.control)
        self.port = free_port()
        config = work / "proxy.yaml"
        config.write_text(
            f"""xds:
  address: "{self.xds}"
  node: {{ id: bench-proxy, cluster: bench }}
  initial_fetch_timeout: 1s
  all_clusters: {"true" if all_clusters else "false"}
listeners:
  - name: bench
    address: "127.0.0.1:{self.port}"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
{routes}
"""
        )
        admin_file = work / "padmin.addr"
        self.proxy = self._spawn(
            [str(BIN / "ringway"), "-c", str(config), "--concurrency", str(workers),
             "--admin-address", "127.0.0.1:0", "--admin-address-path", str(admin_file),
             "--log-level", "info,ringway::control=debug,ringway::xds=info"],
            work / "proxy.log",
        )
        self.proxy_admin = read_address(admin_file, proc=self.proxy)
        wait_until(lambda: self.stat("control_plane.connected_state") == 1, 15, "the proxy's stream", self.proxy)

    def _spawn(self, argv, log: Path) -> subprocess.Popen:
        with open(log, "wb") as lf:
            p = PROCS.spawn(argv, stdout=subprocess.DEVNULL, stderr=lf)
        self.procs.append(p)
        return p

    def stat(self, name: str):
        text = http_get(self.proxy_admin, "/stats").decode()
        for line in text.splitlines():
            key, _, value = line.partition(": ")
            if key == name:
                return int(value)
        return None

    def acked(self) -> dict[str, str]:
        """The ClusterLoadAssignment versions the proxy has ACKed."""
        nodes = json.loads(http_get(self.control_admin, "/v1/nodes"))
        for node in nodes:
            if node.get("node_id") == "bench-proxy":
                types = node.get("types", {})
                cla = types.get("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", {})
                return cla.get("acked", {})
        return {}

    def versions(self) -> dict[str, str]:
        doc = json.loads(http_get(self.control_admin, "/v1/resources"))
        return doc["versions"].get(
            "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", {})

    def stop(self) -> None:
        for p in reversed(self.procs):
            PROCS.stop(p, signal.SIGTERM, grace=10)


def push_and_updates(args, work: Path) -> dict:
    stack = Stack(work, args.workers, True, '          - match: { prefix: "/" }\n            cluster_from: authority\n')
    try:
        time.sleep(0.3)  # let start-up allocations settle before the baseline
        rss0, pcpu0, ccpu0 = rss_kib(stack.proxy.pid), cpu_seconds(stack.proxy.pid), cpu_seconds(stack.control.pid)
        n, e = args.clusters, args.endpoints_per_cluster
        # Write every file into a staging folder, then move them in at once.
        stage = Folder(work / "stage")
        for f in range(0, n, CLUSTERS_PER_FILE):
            stage.write(f"part-{f // CLUSTERS_PER_FILE:05d}", [
                {"name": f"svc-{i}", "endpoints": fake_endpoints(i, e)}
                for i in range(f, min(n, f + CLUSTERS_PER_FILE))
            ])
        started = time.monotonic()
        for p in sorted(stage.path.iterdir()):
            os.rename(p, stack.folder.path / p.name)
        wait_until(lambda: len(stack.acked()) >= n, 300, "every cluster ACKed", interval=0.05)
        push_seconds = time.monotonic() - started
        served = stack.stat("cluster_manager.active_dynamic_clusters")
        time.sleep(0.5)
        rss1 = rss_kib(stack.proxy.pid)
        push = {
            "clusters": n,
            "endpoints": n * e,
            "seconds_to_every_worker": round(push_seconds, 3),
            "proxy_rss_kib_before": rss0,
            "proxy_rss_kib_after": rss1,
            "proxy_rss_bytes_per_cluster": round((rss1 - rss0) * 1024 / n),
            "proxy_cpu_seconds": round(cpu_seconds(stack.proxy.pid) - pcpu0, 3),
            "control_cpu_seconds": round(cpu_seconds(stack.control.pid) - ccpu0, 3),
            "control_rss_kib": rss_kib(stack.control.pid),
            "clusters_serving": served,
        }
        print(f"push: {json.dumps(push)}", flush=True)

        latencies = []
        pcpu0, ccpu0 = cpu_seconds(stack.proxy.pid), cpu_seconds(stack.control.pid)
        for k in range(args.updates):
            i = (k * 7919) % n
            f = i // CLUSTERS_PER_FILE
            part = [{"name": f"svc-{j}", "endpoints": fake_endpoints(j, e, salt=(k + 1) if j == i else 0)}
                    for j in range(f * CLUSTERS_PER_FILE, min(n, (f + 1) * CLUSTERS_PER_FILE))]
            before = stack.acked().get(f"svc-{i}")
            t0 = time.monotonic()
            stack.folder.write(f"part-{f:05d}", part)
            wait_until(lambda: stack.acked().get(f"svc-{i}") not in (None, before), 30, "the update ACKed",
                       interval=0.005)
            latencies.append(time.monotonic() - t0)
            # Put the file back so each update changes one cluster only.
            stack.folder.write(f"part-{f:05d}", [dict(c, endpoints=fake_endpoints(int(c["name"][4:]), e)) for c in part])
            wait_until(lambda: stack.acked().get(f"svc-{i}") == before, 30, "the revert ACKed", interval=0.005)
        changes = 2 * args.updates
        latencies.sort()
        # CPU per update, without the latency phase's polling: the same
        # number of changes 200 ms apart, minus an idle stretch as long
        # (the folder poll and housekeeping).
        pace = 0.2
        pcpu0, ccpu0 = cpu_seconds(stack.proxy.pid), cpu_seconds(stack.control.pid)
        time.sleep(pace * changes)
        idle_p = cpu_seconds(stack.proxy.pid) - pcpu0
        idle_c = cpu_seconds(stack.control.pid) - ccpu0
        pcpu0, ccpu0 = cpu_seconds(stack.proxy.pid), cpu_seconds(stack.control.pid)
        for k in range(changes):
            i = (k * 104729) % n
            f = i // CLUSTERS_PER_FILE
            stack.folder.write(f"part-{f:05d}", [
                {"name": f"svc-{j}", "endpoints": fake_endpoints(j, e, salt=(1000 + k) if j == i else 0)}
                for j in range(f * CLUSTERS_PER_FILE, min(n, (f + 1) * CLUSTERS_PER_FILE))])
            time.sleep(pace)
        busy_p = cpu_seconds(stack.proxy.pid) - pcpu0
        busy_c = cpu_seconds(stack.control.pid) - ccpu0
        updates = {
            "updates": changes,
            "file_write_to_ack_ms": {
                "median": round(statistics.median(latencies) * 1000, 1),
                "p90": round(latencies[int(0.9 * (len(latencies) - 1))] * 1000, 1),
                "max": round(latencies[-1] * 1000, 1),
            },
            "control_cpu_ms_per_update": round(max(0.0, busy_c - idle_c) * 1000 / changes, 2),
            "proxy_cpu_ms_per_update": round(max(0.0, busy_p - idle_p) * 1000 / changes, 2),
            "idle_cpu_ms_per_second": {"control": round(idle_c * 1000 / (pace * changes), 2),
                                       "proxy": round(idle_p * 1000 / (pace * changes), 2)},
            "note": "write-to-ACK includes the folder poll (50 ms) and re-reading one 100-cluster file; CPU per update is measured apart from the latency phase (no admin polling), minus idle CPU over as long; /proc CPU times tick every 10 ms, so small figures are coarse",
        }
        print(f"updates: {json.dumps(updates)}", flush=True)
        return {"push": push, "updates": updates}
    finally:
        stack.stop()


def churn(args, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    origins = []
    ports = []
    for k in range(4):
        addr_file = work / f"origin{k}.addr"
        origins.append(PROCS.spawn(
            [str(BIN / "bench-origin"), "--listen", "127.0.0.1:0", "--threads", "1",
             "--port-file", str(addr_file)]))
        ports.append(read_address(addr_file, proc=origins[-1]))
    loaded = ["live-0", "live-1"]
    routes = "".join(
        f'          - match: {{ prefix: "/{name}/" }}\n            cluster: {name}\n' for name in loaded)
    stack = Stack(work, args.workers, False, routes)
    stop = threading.Event()
    ticks = [0]

    def churner():
        k = 0
        while not stop.is_set():
            # Each loaded cluster lists 2 or 3 of the 4 origins, rotating.
            live = [{"name": name, "lb_policy": "least_request" if (k // 10) % 2 else "round_robin",
                     "endpoints": [ports[(k + i + j) % 4] for j in range(2 + (k + i) % 2)]}
                    for i, name in enumerate(loaded)]
            stack.folder.write("live", live)
            # Other clusters come and go.
            stack.folder.write(f"extra-{k % 5}", [
                {"name": f"extra-{k}-{j}", "endpoints": fake_endpoints(k * 10 + j, 3)} for j in range(10)])
            stack.folder.remove(f"extra-{(k + 3) % 5}")
            k += 1
            ticks[0] = k
            stop.wait(0.1)

    try:
        stack.folder.write("live", [{"name": n, "endpoints": ports[:2]} for n in loaded])
        def serving() -> bool:
            return all(http_request(f"127.0.0.1:{stack.port}", f"/{n}/", timeout=5)[0] == 200 for n in loaded)

        wait_until(serving, 15, "the loaded clusters")
        t = threading.Thread(target=churner, daemon=True)
        t.start()
        results = []
        loads = [PROCS.spawn(
            [str(BIN / "bench-load"), "--url", f"http://127.0.0.1:{stack.port}/{name}/",
             "--rate", str(args.rate), "--duration", str(args.churn_seconds), "--connections", "8",
             "--json"], stdout=subprocess.PIPE) for name in loaded]
        for p in loads:
            out, _ = p.communicate(timeout=args.churn_seconds + 60)
            PROCS.stop(p)
            results.append(json.loads(out))
        stop.set()
        t.join(5)
        failed = sum(r.get("errors", 0) + r.get("non_2xx", 0) for r in results)
        sent = sum(r.get("requests", 0) for r in results)
        out = {
            "seconds": args.churn_seconds,
            "changes": ticks[0],
            "requests": sent,
            "failed": failed,
            "rate_per_cluster": args.rate,
            "load": results,
            "update_success": stack.stat("cluster_manager.xds.update_success"),
        }
        print(f"churn: {json.dumps({k: v for k, v in out.items() if k != 'load'})}", flush=True)
        return out
    finally:
        stop.set()
        stack.stop()
        for o in origins:
            PROCS.stop(o, signal.SIGTERM, grace=5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="1,000 clusters, 10 updates, 5 s of churn")
    ap.add_argument("--clusters", type=int)
    ap.add_argument("--endpoints-per-cluster", type=int, default=10)
    ap.add_argument("--updates", type=int)
    ap.add_argument("--churn-seconds", type=float)
    ap.add_argument("--rate", type=int, default=1000, help="requests per second per loaded cluster")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    args.clusters = args.clusters or (1000 if args.quick else 10000)
    args.updates = args.updates or (10 if args.quick else 25)
    args.churn_seconds = args.churn_seconds or (5.0 if args.quick else 20.0)
    for b in ("ringway", "ringway-control", "bench-origin", "bench-load"):
        if not (BIN / b).exists():
            print(f"xds bench: missing {BIN / b}; run scripts/bench-xds.sh", file=sys.stderr)
            return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ringway-xds-bench-"))
    install_signal_handlers()
    try:
        result = push_and_updates(args, work / "scale")
        result["churn"] = churn(args, work / "churn")
    except TimeoutError as e:
        print(f"xds bench: {e}", file=sys.stderr)
        return 1
    except Interrupted as e:
        print(f"xds bench: interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        PROCS.stop_all()
        if os.environ.get("XDS_BENCH_KEEP"):
            print(f"xds bench: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"] = {"cpus": os.cpu_count(), "workers": args.workers}
    (out / "xds.json").write_text(json.dumps(result, indent=2) + "\n")
    p, u, c = result["push"], result["updates"], result["churn"]
    (out / "xds.md").write_text(f"""# xDS-lite at scale

| measure | value |
|---|---|
| clusters / endpoints pushed | {p['clusters']:,} / {p['endpoints']:,} |
| files written → every worker serves (ACK) | {p['seconds_to_every_worker']} s |
| proxy RSS per cluster | {p['proxy_rss_bytes_per_cluster']:,} bytes ({p['proxy_rss_kib_before']:,} → {p['proxy_rss_kib_after']:,} KiB) |
| CPU for the push: control / proxy | {p['control_cpu_seconds']} s / {p['proxy_cpu_seconds']} s |
| one-cluster update, write → ACK (median / p90 / max) | {u['file_write_to_ack_ms']['median']} / {u['file_write_to_ack_ms']['p90']} / {u['file_write_to_ack_ms']['max']} ms |
| CPU per update: control / proxy | {u['control_cpu_ms_per_update']} ms / {u['proxy_cpu_ms_per_update']} ms |
| churn: changes every 100 ms for {c['seconds']} s | {c['changes']} changes, {c['requests']:,} requests, **{c['failed']} failed** |
""")
    print((out / "xds.md").read_text())
    return 0 if result["churn"]["failed"] == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
