#!/usr/bin/env python3
"""ringway's benchmark orchestrator: ringway against nginx, HAProxy and Envoy.

Runs every proxy under the same conditions (same worker count, same CPU
pinning, upstream keep-alive pools, access logs off, 127.0.0.1 only) in front
of the same origin, with the load generator and the origin on other CPUs, and
measures per scenario and proxy:

  max req/s        wrk (HTTP/1.1) or h2load (h2, gRPC), closed loop
  CPU per request  proxy utime+stime (/proc/PID/stat, all its processes)
                   over the measured window of a fixed-rate run, / requests
  latency          p50/p90/p99/p99.9 at the fixed rate (bench-load or wrk2:
                   open loop, coordinated-omission corrected; h2load --rps
                   for h2/gRPC: not corrected)
  memory           peak sum of VmRSS over the proxy's processes (sampled every
                   100 ms for the whole scenario) and the sum of their VmHWM
  errors           socket errors, non-2xx answers, failed exchanges
  instructions     per request (h1-keepalive): perf stat, or callgrind's Ir
                   difference between two runs of N1 and N2 requests

Proxies are interleaved across rounds; each figure is the median over rounds
with min and max, and its ratio to nginx's median. Writes results.json,
results.md, latency-<scenario>.svg and throughput.svg. `--check DIR` verifies
that a results directory is complete. See bench-harness/README.md.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "target" / "release"
SCHEMA_VERSION = 1
HOST = "127.0.0.1"

# --------------------------------------------------------------------------
# What each proxy can do. Flip an entry when a proxy gains a protocol; the
# reason is what the results show for a protocol it does not speak yet.

CAPABILITIES: dict[str, dict[str, bool]] = {
    "ringway": {"h1": True, "h2": True, "grpc": True},
    "nginx": {"h1": True, "h2": True, "grpc": True},
    "haproxy": {"h1": True, "h2": True, "grpc": True},
    "envoy": {"h1": True, "h2": True, "grpc": True},
}
UNSUPPORTED_REASON: dict[str, str] = {}
ALL_PROXIES = ["ringway", "nginx", "haproxy", "envoy"]
# Proxies that must have complete results wherever they are capable (--check):
# the others may be skipped when not installed.
REQUIRED_PROXIES = ("ringway", "nginx", "haproxy")


@dataclass(frozen=True)
class Scenario:
    name: str
    protocol: str  # "h1" | "h2" | "grpc"
    summary: str
    connections: int
    streams: int = 1  # concurrent streams per connection (h2, gRPC)
    body_bytes: int = 128
    rate_scale: float = 1.0  # offered rate = --rate x rate_scale
    new_connection: bool = False
    ringway_only: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "h1-keepalive",
            "h1",
            "HTTP/1.1 keep-alive, 128-byte responses, 64 client connections",
            connections=64,
        ),
        Scenario(
            "h1-1mib",
            "h1",
            "HTTP/1.1 keep-alive, 1 MiB responses, 16 client connections",
            connections=16,
            body_bytes=1 << 20,
            rate_scale=0.03,
        ),
        Scenario(
            "h1-newconn",
            "h1",
            "HTTP/1.1, a new client connection per request (Connection: close), "
            "128-byte responses, 64 concurrent",
            connections=64,
            new_connection=True,
            rate_scale=0.3,
        ),
        Scenario(
            "h2-multiplexed",
            "h2",
            "HTTP/2 cleartext (prior knowledge) from the client, 4 connections x "
            "32 concurrent streams, 128-byte responses; HTTP/1.1 keep-alive to the origin",
            connections=4,
            streams=32,
        ),
        Scenario(
            "grpc-unary",
            "grpc",
            "gRPC unary calls over h2c, 4 connections x 32 concurrent streams, "
            "64-byte request and 128-byte response messages; h2c to the origin",
            connections=4,
            streams=32,
            rate_scale=0.5,
        ),
        Scenario(
            "ringway-reload",
            "h1",
            "ringway alone: constant-rate HTTP/1.1 keep-alive load (64 connections) "
            "while the configuration file is rewritten and SIGHUP sent every 150 ms",
            connections=64,
            ringway_only=True,
        ),
    ]
}
SCENARIO_ORDER = list(SCENARIOS)
RELOAD_INTERVAL_S = 0.15
# h2load --rps is trusted when it achieves the target within this fraction.
H2LOAD_RATE_TOLERANCE = 0.10
GRPC_PATH = "/ringway.bench.Bench/Unary"

# Metric name -> (label, unit, better: "higher" | "lower" | None).
METRICS: dict[str, tuple[str, str, str | None]] = {
    "max_rps": ("max req/s", "req/s", "higher"),
    "cpu_us_per_request": ("CPU µs/req", "µs", "lower"),
    "latency_p50_us": ("p50", "µs", "lower"),
    "latency_p90_us": ("p90", "µs", "lower"),
    "latency_p99_us": ("p99", "µs", "lower"),
    "latency_p999_us": ("p99.9", "µs", "lower"),
    "achieved_rate": ("achieved req/s", "req/s", None),
    "peak_rss_mib": ("peak RSS MiB", "MiB", "lower"),
    "vmhwm_mib": ("VmHWM MiB", "MiB", "lower"),
    "errors": ("errors", "count", "lower"),
    "instructions_per_request": ("instructions/req", "instructions", "lower"),
    "swaps": ("config swaps", "count", None),
    "reloads_ok": ("reloads ok", "count", None),
    "reloads_failed": ("reloads failed", "count", "lower"),
}
RATE_METRICS = [
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "achieved_rate",
]
MEMORY_METRICS = ["peak_rss_mib", "vmhwm_mib"]


def scenario_metrics(sc: Scenario) -> list[str]:
    """The metrics every capable proxy must have for this scenario."""
    if sc.ringway_only:
        return ["swaps", "reloads_ok", "reloads_failed", "errors"] + RATE_METRICS + MEMORY_METRICS
    names = ["max_rps"] + RATE_METRICS + MEMORY_METRICS + ["errors"]
    if sc.name == "h1-keepalive":
        names.append("instructions_per_request")
    return names


# --------------------------------------------------------------------------
# Processes: every one started here is tracked by PID and ended on exit, on
# error and on signals.


class Interrupted(BaseException):
    """Raised from a signal handler so that every `finally` runs."""


class Procs:
    def __init__(self) -> None:
        self.live: dict[int, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def spawn(
        self,
        cmd: list[str],
        *,
        cpus: list[int] | None = None,
        stdout: Any = subprocess.DEVNULL,
        stderr: Any = subprocess.DEVNULL,
        stdin: Any = subprocess.DEVNULL,
        cwd: str | Path | None = None,
    ) -> subprocess.Popen:
        full = list(cmd)
        if cpus:
            full = ["taskset", "-c", cpu_list_str(cpus)] + full
        # The child dies with us even if we are SIGKILLed (best effort).
        if shutil.which("setpriv"):
            full = ["setpriv", "--pdeathsig", "KILL", "--"] + full
        p = subprocess.Popen(
            full,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            start_new_session=True,  # own process group: nginx workers etc.
        )
        with self.lock:
            self.live[p.pid] = p
        return p

    def stop(
        self, p: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 5.0, repeat: float = 0.0
    ) -> None:
        """Signals the process (again every `repeat` s if set), waits up to
        `grace` s, then SIGKILLs its process group."""
        try:
            deadline = time.monotonic() + grace
            while p.poll() is None:
                try:
                    os.kill(p.pid, sig)
                except ProcessLookupError:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    p.wait(timeout=min(left, repeat) if repeat > 0 else left)
                except subprocess.TimeoutExpired:
                    pass
                if repeat <= 0:
                    break
            # Whatever is left of its session (workers of a dead master),
            # each by PID.
            for pid in session_members(p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        finally:
            with self.lock:
                self.live.pop(p.pid, None)

    def stop_all(self) -> None:
        with self.lock:
            procs = list(self.live.values())
        for p in procs:
            self.stop(p, signal.SIGTERM, grace=2.0)

    def run(
        self,
        cmd: list[str],
        *,
        timeout: float,
        cpus: list[int] | None = None,
        cwd: str | Path | None = None,
    ) -> tuple[int, str, str]:
        """Runs a command to completion, bounded by `timeout` seconds."""
        p = self.spawn(cmd, cpus=cpus, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p, signal.SIGKILL, grace=1.0)
            raise RuntimeError(f"timed out after {timeout:.0f}s: {shlex.join(cmd)}") from None
        finally:
            if p.poll() is None:
                self.stop(p, signal.SIGKILL, grace=1.0)
            with self.lock:
                self.live.pop(p.pid, None)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


PROCS = Procs()


def session_members(sid: int) -> list[int]:
    """PIDs of the processes in session `sid` (one we started with setsid)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # field 6: session id
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return pids


_interrupted = False


def _on_signal(signum: int, _frame: Any) -> None:
    global _interrupted
    if _interrupted:
        return  # already stopping: let the clean-up finish
    _interrupted = True
    raise Interrupted(f"received {signal.Signals(signum).name}")


def install_signal_handlers() -> None:
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    atexit.register(PROCS.stop_all)


# --------------------------------------------------------------------------
# Small helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_cpu_list(text: str) -> list[int]:
    cpus: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            cpus.extend(range(int(a), int(b) + 1))
        else:
            cpus.append(int(part))
    if not cpus:
        raise ValueError(f"empty CPU list: {text!r}")
    return sorted(set(cpus))


def cpu_list_str(cpus: list[int]) -> str:
    return ",".join(str(c) for c in cpus)


def raise_fd_limit(want: int = 65536) -> str | None:
    """Lets every proxy hold its connections (root may raise the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
        return None
    except (ValueError, OSError):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    got = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    # HAProxy's maxconn 4096 needs about 8200 descriptors.
    return None if got >= 10000 else f"open-file limit is only {got}"


def fd_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def default_cpu_split() -> tuple[list[int], list[int]]:
    """(proxy CPUs, load CPUs): on 2 CPUs 1 and 0; else the upper and lower half."""
    avail = sorted(os.sched_getaffinity(0))
    if len(avail) == 1:
        return avail, avail
    half = len(avail) // 2
    return avail[half:], avail[:half]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    pred: Callable[[], Any],
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    interval: float = 0.02,
) -> Any:
    """Polls `pred` until it returns something true; bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    last_err = ""
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with status {proc.returncode}")
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last_err = f" (last error: {e})"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{last_err}")
        time.sleep(interval)


def http_get(port: int, path: str, timeout: float = 2.0, host: str = HOST) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "bench"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def which_or(path: Path, name: str) -> str | None:
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    return shutil.which(name)


def first_line(cmd: list[str], timeout: float = 10.0) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (r.stdout + r.stderr).decode(errors="replace").strip()
    return text.splitlines()[0].strip() if text else "unknown"


# --------------------------------------------------------------------------
# /proc: CPU time and memory of a process tree

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_tree(root: int) -> list[int]:
    """`root` and all its descendants (via /proc/PID/task/*/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if not os.path.exists(f"/proc/{pid}"):
            continue
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
                except OSError:
                    pass
        except OSError:
            pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """Sum of utime+stime (seconds) over `pids`, all threads included."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / CLK_TCK


def sched_cpu_seconds(pids: list[int]) -> float:
    """Sum of on-CPU time from /proc/PID/task/*/schedstat (ns precision)."""
    ns = 0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                        ns += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            pass
    return ns / 1e9


def mem_kib(pids: list[int]) -> tuple[int, int]:
    """(sum of VmRSS, sum of VmHWM) in KiB over `pids`."""
    rss = hwm = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return rss, hwm


class MemSampler(threading.Thread):
    """Samples the summed VmRSS / VmHWM of a process tree every 100 ms."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.stop_event = threading.Event()
        self.peak_rss_kib = 0
        self.peak_hwm_kib = 0
        self.samples = 0
        self.max_procs = 0

    def sample(self) -> None:
        pids = proc_tree(self.root)
        rss, hwm = mem_kib(pids)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        self.peak_hwm_kib = max(self.peak_hwm_kib, hwm)
        self.max_procs = max(self.max_procs, len(pids))
        self.samples += 1

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def finish(self) -> dict[str, Any]:
        self.sample()  # last one, processes still alive
        self.stop_event.set()
        self.join(timeout=5)
        return {
            "peak_rss_kib": self.peak_rss_kib,
            "vmhwm_kib": self.peak_hwm_kib,
            "samples": self.samples,
            "processes": self.max_procs,
        }


# --------------------------------------------------------------------------
# Load generators and their output parsers (strict: a missing field is an
# error, not a zero, except for wrk's optional error lines).

_UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def wrk_duration_us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_US[m.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    m = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'Requests/sec:' line:\n" + out[-2000:])
    res: dict[str, Any] = {"rps": float(m.group(1))}
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'N requests in' line:\n" + out[-2000:])
    res["requests"] = int(m.group(1))
    res["elapsed_s"] = float(m.group(2)) * _UNIT_US[m.group(3)] / 1e6
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'Latency' line:\n" + out[-2000:])
    res["latency_mean_us"] = wrk_duration_us(m.group(1))
    res["latency_max_us"] = wrk_duration_us(m.group(3))
    errs = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if m:
        errs = dict(zip(errs, map(int, m.groups())))
    res["socket_errors"] = errs
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    pcts = {}
    for pm in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M):
        pcts[pm.group(1)] = wrk_duration_us(pm.group(2))
    res["latency_percentiles_us"] = pcts
    res["errors"] = sum(errs.values()) + res["non_2xx"]
    return res


def parse_wrk2(out: str) -> dict[str, Any]:
    """wrk2 --latency: the HdrHistogram recorded-latency section and spectrum."""
    res = parse_wrk(out)
    sec = out.split("Latency Distribution (HdrHistogram - Recorded Latency)", 1)
    if len(sec) != 2:
        raise ValueError("wrk2 output has no 'Latency Distribution (HdrHistogram - Recorded Latency)'")
    body = sec[1]
    pct = {}
    for m in re.finditer(r"^\s*([\d.]+)%\s+(\S+)\s*$", body.split("Detailed Percentile spectrum", 1)[0], re.M):
        pct[float(m.group(1))] = wrk_duration_us(m.group(2))
    need = {50.0: "p50", 90.0: "p90", 99.0: "p99", 99.9: "p999"}
    lat = {}
    for p, key in need.items():
        if p not in pct:
            raise ValueError(f"wrk2 output lacks the {p}% percentile")
        lat[key] = pct[p]
    spectrum = []
    for m in re.finditer(r"^\s+([\d.]+)\s+([01]\.\d+)\s+(\d+)\s+(\S+)\s*$", body, re.M):
        spectrum.append([float(m.group(2)) * 100.0, float(m.group(1)) * 1e3])  # ms -> us
    res["latency_us"] = lat
    res["spectrum"] = spectrum
    return res


def parse_h2load(out: str) -> dict[str, Any]:
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", out)
    if not m:
        raise ValueError("h2load output has no 'finished in' line:\n" + out[-2000:])
    res: dict[str, Any] = {
        "elapsed_s": float(m.group(1)) * _UNIT_US[m.group(2)] / 1e6,
        "rps": float(m.group(3)),
    }
    m = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        out,
    )
    if not m:
        raise ValueError("h2load output has no 'requests:' line:\n" + out[-2000:])
    keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
    res["requests"] = dict(zip(keys, map(int, m.groups())))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not m:
        raise ValueError("h2load output has no 'status codes:' line:\n" + out[-2000:])
    res["status"] = dict(zip(["2xx", "3xx", "4xx", "5xx"], map(int, m.groups())))
    r = res["requests"]
    non_2xx = res["status"]["3xx"] + res["status"]["4xx"] + res["status"]["5xx"]
    res["non_2xx"] = non_2xx
    res["errors"] = r["failed"] + r["errored"] + r["timeout"] + non_2xx
    return res


def percentile(sorted_vals: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an ascending list."""
    if not sorted_vals:
        raise ValueError("no values")
    if p <= 0:
        return sorted_vals[0]
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


SPECTRUM_PCTS = [0.0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100.0]


def latency_summary(lat_us: list[float]) -> tuple[dict[str, float], list[list[float]]]:
    s = sorted(lat_us)
    lat = {
        "min": s[0],
        "mean": sum(s) / len(s),
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "p999": percentile(s, 99.9),
        "max": s[-1],
    }
    return lat, [[p, percentile(s, p)] for p in SPECTRUM_PCTS]


@dataclass
class Tools:
    wrk: str | None
    wrk2: str | None  # a wrk2 binary, or a wrk that takes -R
    h2load: str | None
    bench_load: str | None
    bench_origin: str | None
    valgrind: str | None
    perf_instructions: bool


def detect_tools() -> Tools:
    wrk = shutil.which("wrk")
    wrk2 = shutil.which("wrk2")
    if wrk2 is None and wrk:
        r = subprocess.run([wrk], capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
        if b"--rate" in r.stdout + r.stderr:
            wrk2 = wrk
    perf_ok = False
    if shutil.which("perf"):
        try:
            r = subprocess.run(
                ["perf", "stat", "-x,", "-e", "instructions:u", "true"],
                capture_output=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
            )
            first = r.stderr.decode(errors="replace").strip().splitlines()
            perf_ok = bool(first) and first[-1].split(",")[0].strip().isdigit()
        except (OSError, subprocess.TimeoutExpired):
            perf_ok = False
    return Tools(
        wrk=wrk,
        wrk2=wrk2,
        h2load=shutil.which("h2load"),
        bench_load=which_or(TARGET / "bench-load", "bench-load"),
        bench_origin=which_or(TARGET / "bench-origin", "bench-origin"),
        valgrind=shutil.which("valgrind"),
        perf_instructions=perf_ok,
    )


# --------------------------------------------------------------------------
# Run context


@dataclass
class Ctx:
    args: argparse.Namespace
    tools: Tools
    tmp: Path
    out: Path
    proxy_cpus: list[int]
    load_cpus: list[int]
    workers: int
    duration: float
    warmup: float
    rounds: int
    rate: float
    quick: bool
    origin: Any = None
    rate_tool: str = "bench-load"

    def scenario_rate(self, sc: Scenario) -> float:
        return max(1.0, round(self.rate * sc.rate_scale))

    @property
    def workers_cpus(self) -> int:
        """How many CPUs the proxy's workers can keep busy."""
        return max(1, min(self.workers, len(self.proxy_cpus)))

    @property
    def load_threads(self) -> int:
        return max(1, len(self.load_cpus))


def fmt_secs(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def wrk_max(ctx: Ctx, url: str, sc: Scenario, duration: float) -> dict[str, Any]:
    assert ctx.tools.wrk
    threads = min(ctx.load_threads, sc.connections)
    cmd = [
        ctx.tools.wrk,
        "-t", str(threads),
        "-c", str(sc.connections),
        "-d", f"{max(1, round(duration))}s",
        "--timeout", "5s",
        "--latency",
    ]
    if sc.new_connection:
        cmd += ["-H", "Connection: close"]
    cmd.append(url)
    rc, out, err = PROCS.run(cmd, timeout=duration + 30, cpus=ctx.load_cpus)
    if rc != 0:
        raise RuntimeError(f"wrk exited {rc}: {err.strip()[-500:]}")
    res = parse_wrk(out)
    res["tool"] = "wrk"
    res["command"] = shlex.join(cmd)
    return res


def h2load_base(ctx: Ctx, sc: Scenario) -> list[str]:
    assert ctx.tools.h2load
    threads = min(ctx.load_threads, sc.connections)
    cmd = [ctx.tools.h2load, "-c", str(sc.connections), "-m", str(sc.streams), "-t", str(threads)]
    if sc.protocol == "grpc":
        cmd += [
            "-H", "content-type: application/grpc",
            "-H", "te: trailers",
            "-d", str(grpc_request_file(ctx)),
        ]
    return cmd


def grpc_request_file(ctx: Ctx) -> Path:
    """One length-prefixed gRPC message: field 1 (string) of 62 bytes."""
    path = ctx.tmp / "grpc-request.bin"
    if not path.exists():
        msg = b"\x0a" + bytes([62]) + b"r" * 62
        path.write_bytes(b"\x00" + len(msg).to_bytes(4, "big") + msg)
    return path


def h2load_max(ctx: Ctx, url: str, sc: Scenario, duration: float, warmup: float) -> dict[str, Any]:
    cmd = h2load_base(ctx, sc) + ["-D", str(max(1, round(duration)))]
    if warmup > 0:
        cmd += ["--warm-up-time", str(max(1, round(warmup)))]
    cmd.append(url)
    rc, out, err = PROCS.run(cmd, timeout=duration + warmup + 30, cpus=ctx.load_cpus)
    if rc != 0:
        raise RuntimeError(f"h2load exited {rc}: {(out + err).strip()[-500:]}")
    res = parse_h2load(out)
    res["tool"] = "h2load"
    res["command"] = shlex.join(cmd)
    return res


def timed_load(
    ctx: Ctx, cmd: list[str], proxy_root: int, warmup: float, timeout: float
) -> tuple[int, str, str, dict[str, float]]:
    """Runs a fixed-rate load command; samples the proxy's CPU time when its
    warm-up is over and again when it exits (the measured window)."""
    p = PROCS.spawn(cmd, cpus=ctx.load_cpus, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_start = time.monotonic()
    out_chunks: dict[str, bytes] = {}

    def reader(name: str, stream: Any) -> None:
        out_chunks[name] = stream.read()

    readers = [
        threading.Thread(target=reader, args=("out", p.stdout), daemon=True),
        threading.Thread(target=reader, args=("err", p.stderr), daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        # Not a readiness wait: the generator's own clock decides the window.
        delay = warmup - (time.monotonic() - t_start)
        if delay > 0:
            time.sleep(delay)
        pids0 = proc_tree(proxy_root)
        c0, s0, w0 = cpu_seconds(pids0), sched_cpu_seconds(pids0), time.monotonic()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"timed out after {timeout:.0f}s: {shlex.join(cmd)}") from None
        pids1 = proc_tree(proxy_root)
        c1, s1, w1 = cpu_seconds(pids1), sched_cpu_seconds(pids1), time.monotonic()
    finally:
        PROCS.stop(p, signal.SIGKILL, grace=0.5)
        for t in readers:
            t.join(timeout=5)
    cpu = {"cpu_s": c1 - c0, "sched_cpu_s": s1 - s0, "wall_s": w1 - w0}
    return (
        p.returncode,
        out_chunks.get("out", b"").decode(errors="replace"),
        out_chunks.get("err", b"").decode(errors="replace"),
        cpu,
    )


def fixed_rate(ctx: Ctx, url: str, sc: Scenario, proxy_root: int, duration: float) -> dict[str, Any]:
    """Constant offered rate: latency spectrum, errors, proxy CPU per request."""
    rate = ctx.scenario_rate(sc)
    warmup = ctx.warmup
    if sc.protocol in ("h2", "grpc"):
        per_client = rate / sc.connections
        logf = ctx.tmp / f"h2load-{time.monotonic_ns()}.log"
        cmd = h2load_base(ctx, sc) + [
            "--rps", f"{per_client:g}",
            "-D", str(max(1, round(duration))),
            "--warm-up-time", str(max(1, round(warmup))),
            "--log-file", str(logf),
            url,
        ]
        warmup = max(1, round(warmup))
        rc, out, err, cpu = timed_load(ctx, cmd, proxy_root, warmup, duration + warmup + 30)
        if rc != 0:
            raise RuntimeError(f"h2load exited {rc}: {(out + err).strip()[-500:]}")
        res = parse_h2load(out)
        res.update(h2load_log_latency(logf, res))
        logf.unlink(missing_ok=True)
        res["requests_measured"] = res["requests"]["done"]
        res["achieved_rate"] = res["rps"]  # over the main duration only
        res["tool"] = "h2load --rps"
        res["latency_corrected"] = False
        if abs(res["achieved_rate"] - rate) > H2LOAD_RATE_TOLERANCE * rate:
            res["unreliable"] = (
                f"h2load --rps achieved {res['achieved_rate']:.0f} req/s of the {rate:g} req/s target, "
                "so its rate mode is not trusted here: max throughput only"
            )
    elif ctx.rate_tool == "bench-load":
        assert ctx.tools.bench_load
        cmd = [
            ctx.tools.bench_load,
            "--url", url,
            "--rate", f"{rate:g}",
            "--duration", fmt_secs(duration),
            "--connections", str(sc.connections),
            "--threads", str(min(ctx.load_threads, sc.connections)),
            "--cpus", cpu_list_str(ctx.load_cpus),
            "--warmup", fmt_secs(warmup),
            "--timeout-ms", "5000",
            "--json",
        ]
        if sc.new_connection:
            cmd.append("--new-connection-per-request")
        rc, out, err, cpu = timed_load(ctx, cmd, proxy_root, warmup, duration + warmup + 60)
        if rc != 0:
            raise RuntimeError(f"bench-load exited {rc}: {err.strip()[-800:]}")
        try:
            res = json.loads(out)
        except json.JSONDecodeError as e:
            raise RuntimeError(f"bench-load printed no JSON ({e}): {out[-500:]}") from None
        for key in ("requests", "responses_2xx", "non_2xx", "errors", "achieved_rate", "latency_us", "spectrum"):
            if key not in res:
                raise RuntimeError(f"bench-load JSON lacks {key!r}")
        res["requests_measured"] = res["requests"]
        res["tool"] = "bench-load"
        res["latency_corrected"] = True
    elif ctx.rate_tool == "wrk2":
        assert ctx.tools.wrk2
        cmd = [
            ctx.tools.wrk2,
            "-t", str(min(ctx.load_threads, sc.connections)),
            "-c", str(sc.connections),
            "-d", f"{max(1, round(duration))}s",
            "-R", f"{rate:g}",
            "--timeout", "5s",
            "--latency",
        ]
        if sc.new_connection:
            cmd += ["-H", "Connection: close"]
        cmd.append(url)
        warmup = 0.0  # wrk2 has no warm-up: the whole run is measured
        rc, out, err, cpu = timed_load(ctx, cmd, proxy_root, 0.0, duration + 60)
        if rc != 0:
            raise RuntimeError(f"wrk2 exited {rc}: {err.strip()[-500:]}")
        res = parse_wrk2(out)
        res["requests_measured"] = res["requests"]
        res["achieved_rate"] = res["rps"]
        res["tool"] = "wrk2"
        res["latency_corrected"] = True
    else:
        raise RuntimeError("no fixed-rate load generator (build bench-load or install wrk2)")
    res["command"] = shlex.join(cmd)
    res["target_rate"] = rate
    res["proxy_cpu"] = cpu
    n = res["requests_measured"]
    if n <= 0:
        raise RuntimeError(f"the fixed-rate run completed no requests: {res}")
    res["cpu_us_per_request"] = cpu["cpu_s"] / n * 1e6
    res["sched_cpu_us_per_request"] = cpu["sched_cpu_s"] / n * 1e6
    res["proxy_cpu_utilization"] = cpu["cpu_s"] / max(cpu["wall_s"], 1e-9)
    return res


def h2load_log_latency(logf: Path, parsed: dict[str, Any]) -> dict[str, Any]:
    """Latency percentiles from h2load's --log-file (columns: start µs since
    epoch, status, µs until the end of the response). Rows of the warm-up are
    dropped by count: the last `done` rows are the measured ones."""
    rows = []
    try:
        with open(logf) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3:
                    rows.append((int(parts[0]), int(parts[1]), int(parts[2])))
    except OSError as e:
        raise RuntimeError(f"h2load wrote no log file: {e}") from None
    rows.sort()
    done = parsed["requests"]["done"]
    measured = rows[-done:] if 0 < done <= len(rows) else rows
    lat = [float(r[2]) for r in measured if r[1] >= 0]
    if not lat:
        raise RuntimeError("h2load logged no completed request")
    summary, spectrum = latency_summary(lat)
    return {"latency_us": summary, "spectrum": spectrum, "logged_rows": len(rows)}


# --------------------------------------------------------------------------
# Origins


class Origin:
    kind = ""
    h1_port = 0
    h2_port = 0

    def path(self, sc: Scenario) -> str:
        raise NotImplementedError

    def addr(self, sc: Scenario) -> int:
        return self.h2_port if sc.protocol == "grpc" else self.h1_port


class BenchOriginServer(Origin):
    kind = "bench-origin"

    def __init__(self, ctx: Ctx) -> None:
        assert ctx.tools.bench_origin
        pf = ctx.tmp / "origin.port"
        pf.unlink(missing_ok=True)
        self.log = ctx.tmp / "origin.log"
        cmd = [
            ctx.tools.bench_origin,
            "--listen", f"{HOST}:0",
            "--port-file", str(pf),
            "--threads", str(ctx.load_threads),
            "--cpus", cpu_list_str(ctx.load_cpus),
            "--body-bytes", "128",
        ]
        self.command = shlex.join(cmd)
        with open(self.log, "wb") as lf:
            self.proc = PROCS.spawn(cmd, cpus=ctx.load_cpus, stdout=lf, stderr=lf)

        def read_port() -> int | None:
            text = pf.read_text().strip() if pf.exists() else ""
            if not text or ":" not in text:
                return None
            return int(text.rsplit(":", 1)[1])

        port = wait_until(read_port, 20, "bench-origin's port file", self.proc)
        self.h1_port = self.h2_port = port
        wait_until(lambda: http_get(port, "/?size=1")[0] == 200, 20, "bench-origin to answer", self.proc)

    def path(self, sc: Scenario) -> str:
        if sc.protocol == "grpc":
            return GRPC_PATH
        return f"/bench?size={sc.body_bytes}"

    def stop(self) -> None:
        PROCS.stop(self.proc)


class NginxOrigin(Origin):
    kind = "nginx"

    def __init__(self, ctx: Ctx) -> None:
        prefix = ctx.tmp / "origin-nginx"
        (prefix / "html").mkdir(parents=True, exist_ok=True)
        (prefix / "html" / "1mib").write_bytes(b"y" * (1 << 20))
        self.h1_port, self.h2_port = free_port(), free_port()
        small = "x" * 128
        conf = f"""# origin (nginx): fixed answers
daemon off;
master_process on;
worker_processes {ctx.load_threads};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile {fd_limit()};
events {{ worker_connections 16384; }}
http {{
  access_log off;
  {nginx_temp_paths(prefix)}
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  server {{
    listen {HOST}:{self.h1_port} reuseport;
    listen {HOST}:{self.h2_port} http2 reuseport;
    root {prefix}/html;
    location = /small {{ return 200 "{small}"; }}
    location = /1mib {{ }}
    location {GRPC_PATH} {{
      default_type application/grpc;
      add_trailer grpc-status 0 always;
      return 200 "{small}";
    }}
  }}
}}
"""
        cf = prefix / "nginx.conf"
        cf.write_text(conf)
        self.log = prefix / "stderr.log"
        cmd = ["nginx", "-p", str(prefix), "-c", str(cf), "-e", str(prefix / "error.log")]
        self.command = shlex.join(cmd)
        with open(self.log, "wb") as lf:
            self.proc = PROCS.spawn(cmd, cpus=ctx.load_cpus, stdout=lf, stderr=lf)
        wait_until(lambda: http_get(self.h1_port, "/small")[0] == 200, 20, "the nginx origin", self.proc)
        wait_until(lambda: port_open(self.h2_port), 20, "the nginx origin's h2c port", self.proc)

    def path(self, sc: Scenario) -> str:
        if sc.protocol == "grpc":
            return GRPC_PATH
        return "/1mib" if sc.body_bytes == 1 << 20 else "/small"

    def stop(self) -> None:
        PROCS.stop(self.proc, signal.SIGQUIT)


def nginx_temp_paths(prefix: Path) -> str:
    return " ".join(
        f"{d}_temp_path {prefix}/tmp-{d};"
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )


# --------------------------------------------------------------------------
# Proxies: configuration and start-up


@dataclass
class Instance:
    proxy: str
    proc: subprocess.Popen
    port: int
    log: Path
    config: Path
    admin_port: int | None = None


class Proxy:
    name = ""
    binary_name = ""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    #: Where a distribution installs it when it is not on PATH.
    sbin: str | None = None
    version_flag = "--version"
    #: Cut from the version line (e.g. "nginx version: ").
    version_prefix = ""

    def binary(self) -> str | None:
        found = shutil.which(self.binary_name)
        if found is None and self.sbin and os.access(self.sbin, os.X_OK):
            found = self.sbin
        return found

    def version(self) -> str:
        b = self.binary()
        return first_line([b, self.version_flag]).replace(self.version_prefix, "") if b else "not installed"

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        raise NotImplementedError

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        raise NotImplementedError

    def config_path(self, d: Path) -> Path:
        return d / f"{self.name}.conf"

    def start(self, sc: Scenario, tag: str, valgrind: list[str] | None = None) -> Instance:
        """Starts the proxy for `sc`; under valgrind it runs one worker."""
        ctx = self.ctx
        d = ctx.tmp / f"{self.name}-{tag}"
        d.mkdir(parents=True, exist_ok=True)
        single = valgrind is not None
        workers = 1 if single else ctx.workers
        port = free_port()
        self.run_dir = d
        cfg = self.config_path(d)
        cfg.write_text(self.config_text(sc, port, workers, ctx.proxy_cpus, single))
        saved = ctx.out / "configs" / f"{sc.name}-{cfg.name}"
        if not single and not saved.exists():
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(cfg.read_text())
        cmd = self.command(cfg, workers, ctx.proxy_cpus, single)
        if valgrind:
            cmd = valgrind + cmd
        logf = d / "stderr.log"
        with open(logf, "wb") as lf:
            proc = PROCS.spawn(cmd, cpus=ctx.proxy_cpus, stdout=lf, stderr=lf, cwd=d)
        inst = Instance(self.name, proc, port, logf, cfg)
        inst.command = shlex.join(cmd)  # type: ignore[attr-defined]
        try:
            if single:
                # Only the listener: readiness probes would add instructions.
                wait_until(lambda: port_open(port), 120, f"{self.name} (valgrind) to listen", proc, 0.1)
            else:
                self.wait_ready(inst, sc)
        except BaseException as e:
            PROCS.stop(proc, signal.SIGKILL, grace=1)
            if isinstance(e, Interrupted):
                raise
            raise RuntimeError(f"{self.name} did not start: {e}\n{tail(logf)}") from None
        return inst

    def wait_ready(self, inst: Instance, sc: Scenario) -> None:
        wait_until(lambda: port_open(inst.port), 20, f"{self.name} to listen", inst.proc)
        probe_through(self.ctx, inst, sc)

    def stop(self, inst: Instance, grace: float = 5.0, repeat: float = 0.0) -> None:
        PROCS.stop(inst.proc, signal.SIGTERM, grace=grace, repeat=repeat)


def probe_through(ctx: Ctx, inst: Instance, sc: Scenario) -> None:
    """A request through the proxy answered 2xx (bounded retries)."""
    path = ctx.origin.path(sc)
    if sc.protocol == "h1":
        wait_until(
            lambda: 200 <= http_get(inst.port, path)[0] < 300,
            20,
            f"{inst.proxy} to forward a request",
            inst.proc,
            0.05,
        )
        return
    assert ctx.tools.h2load

    def h2_ok() -> bool:
        one = Scenario(sc.name, sc.protocol, "", connections=1, streams=1)
        cmd = h2load_base(ctx, one) + ["-n", "1", f"http://{HOST}:{inst.port}{path}"]
        rc, out, _ = PROCS.run(cmd, timeout=10, cpus=ctx.load_cpus)
        return rc == 0 and "1 succeeded" in out

    wait_until(h2_ok, 20, f"{inst.proxy} to forward an h2 request", inst.proc, 0.1)


def worker_masks(cpus: list[int], workers: int) -> list[int]:
    return [cpus[i % len(cpus)] for i in range(workers)]


class Ringway(Proxy):
    name = "ringway"
    binary_name = "ringway"

    def binary(self) -> str | None:
        return which_or(TARGET / "ringway", "ringway")

    def version(self) -> str:
        b = self.binary()
        return first_line([b, "--version"]) if b else "not built"

    def config_path(self, d: Path) -> Path:
        return d / "ringway.yaml"

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        return ringway_config(port, self.ctx.origin.addr(sc), variant=None,
                              upstream_h2=sc.protocol == "grpc")

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        b = self.binary()
        assert b
        self.admin_file = cfg.parent / "admin.addr"
        self.admin_file.unlink(missing_ok=True)
        return [
            b,
            "-c", str(cfg),
            "--concurrency", str(workers),
            "--cpu-set", cpu_list_str(worker_masks(cpus, workers) if workers <= len(cpus) else cpus),
            "--admin-address", f"{HOST}:0",
            "--admin-address-path", str(self.admin_file),
            "--log-level", "warn",
            "--drain-time-s", "1",
        ] + (["--io-driver", "epoll"] if single else [])

    def wait_ready(self, inst: Instance, sc: Scenario) -> None:
        af = self.admin_file

        def admin_port() -> int | None:
            text = af.read_text().strip() if af.exists() else ""
            return int(text.rsplit(":", 1)[1]) if ":" in text else None

        inst.admin_port = wait_until(admin_port, 20, "ringway's admin address file", inst.proc)
        wait_until(lambda: http_get(inst.admin_port, "/ready")[0] == 200, 20, "ringway /ready", inst.proc)
        status, body = http_get(inst.admin_port, "/listeners?format=json")
        listeners = json.loads(body).get("listener_statuses", []) if status == 200 else []
        addrs = [lst.get("local_address", "") for lst in listeners]
        if not any(a.endswith(f":{inst.port}") for a in addrs):
            raise RuntimeError(f"ringway /listeners shows {addrs}, expected port {inst.port}")
        probe_through(self.ctx, inst, sc)

    def server_info(self, inst: Instance) -> dict[str, Any]:
        assert inst.admin_port
        status, body = http_get(inst.admin_port, "/server_info")
        if status != 200:
            raise RuntimeError(f"ringway /server_info answered {status}")
        return json.loads(body)


def ringway_config(port: int, origin_port: int, variant: int | None, upstream_h2: bool = False) -> str:
    """ringway's configuration; `variant` k (reload scenario) adds a route and
    a cluster and alternates the main cluster's pool size, so every swap
    changes routes and clusters. The listener takes HTTP/1.1 and h2c alike;
    with `upstream_h2` (gRPC) the origin is spoken to over h2c, as nginx's
    grpc_pass and HAProxy's `proto h2` do."""
    extra_route = extra_cluster = ""
    protocol = "\n    protocol: http2" if upstream_h2 else ""
    idle = 256
    if variant is not None:
        idle = 256 if variant % 2 == 0 else 255
        extra_route = f"""
          - match: {{ prefix: "/swap-{variant}/" }}
            cluster: spare-{variant % 2}"""
        extra_cluster = f"""
  - name: spare-{variant % 2}
    endpoints: ["{HOST}:{origin_port}"]
    max_idle_per_endpoint: 8"""
    return f"""# generated by bench-harness/bench.py
listeners:
  - name: main
    address: "{HOST}:{port}"
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:{extra_route}
          - match: {{ prefix: "/" }}
            cluster: origin
clusters:
  - name: origin
    endpoints: ["{HOST}:{origin_port}"]
    max_idle_per_endpoint: {idle}{protocol}{extra_cluster}
"""


class Nginx(Proxy):
    name = "nginx"
    binary_name = "nginx"

    sbin = "/usr/sbin/nginx"
    version_flag = "-v"
    version_prefix = "nginx version: "

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        prefix = self.run_dir
        origin = self.ctx.origin.addr(sc)
        masks = " ".join(format(1 << c, "b") for c in worker_masks(cpus, workers))
        listen = f"{HOST}:{port}" + (" http2" if sc.protocol in ("h2", "grpc") else "")
        if sc.protocol == "grpc":
            location = "grpc_pass grpc://origin;"
        else:
            location = (
                "proxy_pass http://origin;\n"
                "      proxy_http_version 1.1;\n"
                '      proxy_set_header Connection "";\n'
                # Large bodies: in memory, 16k at a time like HAProxy's
                # tune.bufsize (nginx's 4k default costs it 2-3x the CPU on
                # 1 MiB responses), never spilled to temp files.
                "      proxy_buffer_size 16k;\n"
                "      proxy_buffers 8 16k;\n"
                "      proxy_max_temp_file_size 0;"
            )
        return f"""# generated by bench-harness/bench.py
daemon off;
master_process {"off" if single else "on"};
worker_processes {workers};
{"" if single else f"worker_cpu_affinity {masks};"}
worker_rlimit_nofile {fd_limit()};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  {nginx_temp_paths(prefix)}
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  upstream origin {{
    server {HOST}:{origin};
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
  server {{
    listen {listen};
    location / {{
      {location}
    }}
  }}
}}
"""

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        b = self.binary()
        assert b
        return [b, "-p", str(cfg.parent), "-c", str(cfg), "-e", str(cfg.parent / "error.log")]


class Haproxy(Proxy):
    name = "haproxy"
    binary_name = "haproxy"

    sbin = "/usr/sbin/haproxy"
    version_flag = "-v"
    version_prefix = "HAProxy version "

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        origin = self.ctx.origin.addr(sc)
        cpu_map = "\n".join(
            f"  cpu-map 1/{i + 1} {c}" for i, c in enumerate(worker_masks(cpus, workers))
        )
        bind_proto = " proto h2" if sc.protocol in ("h2", "grpc") else ""
        server_proto = " proto h2" if sc.protocol == "grpc" else ""
        return f"""# generated by bench-harness/bench.py
global
  nbthread {workers}
{cpu_map}
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always

frontend main
  bind {HOST}:{port}{bind_proto}
  default_backend origin

backend origin
  server origin {HOST}:{origin}{server_proto}
"""

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        b = self.binary()
        assert b
        return [b, "-db", "-f", str(cfg)]


class Envoy(Proxy):
    name = "envoy"
    binary_name = "envoy"

    def config_path(self, d: Path) -> Path:
        return d / "envoy.json"

    def config_text(self, sc: Scenario, port: int, workers: int, cpus: list[int], single: bool) -> str:
        origin = self.ctx.origin.addr(sc)
        cluster: dict[str, Any] = {
            "name": "origin",
            "connect_timeout": "5s",
            "type": "STATIC",
            "load_assignment": {
                "cluster_name": "origin",
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {"endpoint": {"address": {"socket_address": {"address": HOST, "port_value": origin}}}}
                        ]
                    }
                ],
            },
            "circuit_breakers": {
                "thresholds": [
                    {"max_connections": 100000, "max_pending_requests": 100000, "max_requests": 100000}
                ]
            },
        }
        if sc.protocol == "grpc":
            cluster["typed_extension_protocol_options"] = {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            }
        hcm = {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "ingress",
            "codec_type": "AUTO",
            "route_config": {
                "virtual_hosts": [
                    {
                        "name": "all",
                        "domains": ["*"],
                        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "origin"}}],
                    }
                ]
            },
            "http_filters": [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                }
            ],
        }
        conf = {
            "admin": {"address": {"socket_address": {"address": HOST, "port_value": 0}}},
            "static_resources": {
                "listeners": [
                    {
                        "name": "main",
                        "address": {"socket_address": {"address": HOST, "port_value": port}},
                        "filter_chains": [
                            {
                                "filters": [
                                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                                ]
                            }
                        ],
                    }
                ],
                "clusters": [cluster],
            },
        }
        return json.dumps(conf, indent=2) + "\n"

    def command(self, cfg: Path, workers: int, cpus: list[int], single: bool) -> list[str]:
        b = self.binary()
        assert b
        return [
            b,
            "-c", str(cfg),
            "--concurrency", str(workers),
            "--disable-hot-restart",
            "--base-id", str(os.getpid() % 60000 + 1),
            "--log-level", "warn",
            "--admin-address-path", str(cfg.parent / "admin.addr"),
        ]


PROXY_CLASSES: dict[str, type[Proxy]] = {
    "ringway": Ringway,
    "nginx": Nginx,
    "haproxy": Haproxy,
    "envoy": Envoy,
}


# --------------------------------------------------------------------------
# Scenario runs


def run_http_round(ctx: Ctx, proxy: Proxy, sc: Scenario, rnd: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"round": rnd}
    inst = proxy.start(sc, f"{sc.name}-r{rnd}")
    sampler = MemSampler(inst.proc.pid)
    sampler.start()
    url = f"http://{HOST}:{inst.port}{ctx.origin.path(sc)}"
    try:
        if sc.protocol == "h1" and not ctx.quick:
            wrk_max(ctx, url, sc, ctx.warmup)  # warm-up, not recorded
        pids = proc_tree(inst.proc.pid)
        c0, w0 = cpu_seconds(pids), time.monotonic()
        if sc.protocol == "h1":
            rec["max"] = wrk_max(ctx, url, sc, ctx.duration)
        else:
            rec["max"] = h2load_max(ctx, url, sc, ctx.duration, ctx.warmup)
        c1, w1 = cpu_seconds(proc_tree(inst.proc.pid)), time.monotonic()
        # Below ~90% of its CPUs the proxy was not the bottleneck: the load
        # generator or the origin was.
        rec["max"]["proxy_cpu_utilization"] = (c1 - c0) / max(w1 - w0, 1e-9) / ctx.workers_cpus
        rec["rate"] = fixed_rate(ctx, url, sc, inst.proc.pid, ctx.duration)
        if inst.proc.poll() is not None:
            raise RuntimeError(f"{proxy.name} exited during the run ({inst.proc.returncode})\n{tail(inst.log)}")
    finally:
        rec["memory"] = sampler.finish()
        proxy.stop(inst)
    rec["command"] = getattr(inst, "command", "")
    return rec


def run_reload_round(ctx: Ctx, proxy: Ringway, sc: Scenario, rnd: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"round": rnd}
    inst = proxy.start(sc, f"{sc.name}-r{rnd}")
    sampler = MemSampler(inst.proc.pid)
    sampler.start()
    url = f"http://{HOST}:{inst.port}{ctx.origin.path(sc)}"
    origin_port = ctx.origin.addr(sc)
    stop = threading.Event()
    swaps = {"sent": 0, "error": ""}

    def swapper() -> None:
        k = 0
        try:
            # Swaps start when bench-load's warm-up ends, so every one of them
            # falls in the measured window, where errors are counted.
            if stop.wait(ctx.warmup):
                return
            while not stop.wait(RELOAD_INTERVAL_S):
                k += 1
                tmp = inst.config.with_suffix(".next")
                tmp.write_text(ringway_config(inst.port, origin_port, variant=k))
                os.replace(tmp, inst.config)  # atomic: never a half-written file
                os.kill(inst.proc.pid, signal.SIGHUP)
                swaps["sent"] += 1
        except Exception as e:  # noqa: BLE001
            swaps["error"] = str(e)

    before = proxy.server_info(inst)["reloads"]
    t = threading.Thread(target=swapper, daemon=True)
    try:
        t.start()
        rec["rate"] = fixed_rate(ctx, url, sc, inst.proc.pid, ctx.duration)
        stop.set()
        t.join(timeout=5)
        if swaps["error"]:
            raise RuntimeError(f"config swap failed: {swaps['error']}")
        # Let the last SIGHUP be handled (bounded poll), then count.
        def settled() -> dict[str, int] | None:
            r = proxy.server_info(inst)["reloads"]
            done = (r["ok"] - before["ok"]) + (r["failed"] - before["failed"])
            return r if done >= swaps["sent"] else None

        try:
            after = wait_until(settled, 10, "ringway to finish the last reload", inst.proc, 0.05)
        except TimeoutError:
            after = proxy.server_info(inst)["reloads"]  # signals may coalesce
        rec["reload"] = {
            "swaps": swaps["sent"],
            "reloads_ok": after["ok"] - before["ok"],
            "reloads_failed": after["failed"] - before["failed"],
            "interval_s": RELOAD_INTERVAL_S,
        }
        if inst.proc.poll() is not None:
            raise RuntimeError(f"ringway exited during the run\n{tail(inst.log)}")
    finally:
        stop.set()
        rec["memory"] = sampler.finish()
        proxy.stop(inst)
    return rec


def round_metrics(sc: Scenario, rec: dict[str, Any]) -> dict[str, float]:
    """The per-round values of the scenario's metrics."""
    m: dict[str, float] = {}
    rate = rec["rate"]
    lat = rate["latency_us"]
    if not rate.get("unreliable"):
        m["cpu_us_per_request"] = rate["cpu_us_per_request"]
        m["latency_p50_us"] = float(lat["p50"])
        m["latency_p90_us"] = float(lat["p90"])
        m["latency_p99_us"] = float(lat["p99"])
        m["latency_p999_us"] = float(lat["p999"])
        m["achieved_rate"] = float(rate["achieved_rate"])
    m["peak_rss_mib"] = rec["memory"]["peak_rss_kib"] / 1024
    m["vmhwm_mib"] = rec["memory"]["vmhwm_kib"] / 1024
    # bench-load counts non-2xx apart from errors; the parsers of wrk2 and
    # h2load already include them.
    errors = rate["errors"] + (rate["non_2xx"] if rate.get("tool") == "bench-load" else 0)
    if "max" in rec:
        m["max_rps"] = rec["max"]["rps"]
        errors += rec["max"]["errors"]
    m["errors"] = float(errors)
    if "reload" in rec:
        for k in ("swaps", "reloads_ok", "reloads_failed"):
            m[k] = float(rec["reload"][k])
    return m


def summarize(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


# --------------------------------------------------------------------------
# Instructions per request


def sequential_requests(port: int, path: str, n: int, timeout: float) -> None:
    """`n` requests one after another on one keep-alive connection."""
    deadline = time.monotonic() + timeout
    req = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    with socket.create_connection((HOST, port), timeout=30) as s:
        buf = b""

        def fill() -> None:
            nonlocal buf
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} sequential requests took over {timeout:.0f}s")
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed by the proxy")
            buf += chunk

        for _ in range(n):
            s.sendall(req)
            while b"\r\n\r\n" not in buf:
                fill()
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            if not 200 <= status < 300:
                raise RuntimeError(f"status {status} from the proxy")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                headers[k.strip().lower()] = v.strip()
            if b"content-length" in headers:
                need = int(headers[b"content-length"])
                while len(buf) < need:
                    fill()
                buf = buf[need:]
            elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                while True:
                    while b"\r\n" not in buf:
                        fill()
                    size_line, buf = buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    while len(buf) < size + 2:
                        fill()
                    buf = buf[size + 2 :]
                    if size == 0:
                        break
            else:
                raise RuntimeError("response without Content-Length or chunked framing")


def callgrind_total(files: list[Path]) -> int:
    total = 0
    found = False
    for f in files:
        text = f.read_text(errors="replace")
        m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
        if m:
            total += int(m.group(1))
            found = True
    if not found:
        raise RuntimeError(f"no 'summary:'/'totals:' line in {[str(f) for f in files]}")
    return total


def instructions_per_request(ctx: Ctx, proxy: Proxy, sc: Scenario) -> dict[str, Any]:
    n1, n2 = ctx.args.instr_requests
    path = ctx.origin.path(sc)
    if ctx.tools.perf_instructions:
        try:
            return perf_instructions(ctx, proxy, sc, n1, n2)
        except (RuntimeError, OSError, TimeoutError) as e:
            log(f"  perf stat failed ({e}); counting with callgrind instead")
    if not ctx.tools.valgrind:
        raise RuntimeError("neither `perf stat -e instructions` nor valgrind is available")
    totals = {}
    for n in (n1, n2):
        outdir = ctx.tmp / f"callgrind-{proxy.name}-{n}"
        outdir.mkdir(parents=True, exist_ok=True)
        vg = [
            ctx.tools.valgrind,
            "--tool=callgrind",
            "-q",
            f"--callgrind-out-file={outdir}/callgrind.out.%p",
        ]
        inst = proxy.start(sc, f"callgrind-{n}", valgrind=vg)
        try:
            sequential_requests(inst.port, path, n, timeout=300)
        finally:
            # callgrind writes its file at exit. Under valgrind a signal that
            # lands just before a blocking epoll_wait can be left unseen, so
            # SIGTERM is repeated until the process is gone.
            proxy.stop(inst, grace=120, repeat=1.0)
        files = sorted(outdir.glob("callgrind.out.*"))
        if not files:
            raise RuntimeError(f"callgrind wrote no output for {proxy.name}\n{tail(inst.log)}")
        totals[n] = callgrind_total(files)
    per = (totals[n2] - totals[n1]) / (n2 - n1)
    return {
        "method": "callgrind",
        "value": per,
        "ir": {str(k): v for k, v in totals.items()},
        "requests": [n1, n2],
        "note": "user-space instructions (Ir) of the proxy under callgrind, 1 worker, "
        "sequential keep-alive requests on one connection, (Ir(N2)-Ir(N1))/(N2-N1); "
        "kernel work not counted; ringway runs its epoll driver there (under valgrind its "
        "io_uring worker blocks every other thread)",
    }


def perf_instructions(ctx: Ctx, proxy: Proxy, sc: Scenario, n1: int, n2: int) -> dict[str, Any]:
    """perf stat attached to the running proxy (1 worker) over N2 requests."""
    inst = proxy.start(sc, "perf", valgrind=[])  # empty wrapper: single-worker mode
    try:
        pids = ",".join(str(p) for p in proc_tree(inst.proc.pid))
        outf = ctx.tmp / f"perf-{proxy.name}.txt"
        perf = PROCS.spawn(
            ["perf", "stat", "-x,", "-e", "instructions:u", "-o", str(outf), "-p", pids],
            cpus=ctx.load_cpus,
        )
        try:
            # perf writes "# started on ..." once it has attached.
            wait_until(lambda: outf.exists() and outf.stat().st_size > 0, 10, "perf stat to attach", perf)
            sequential_requests(inst.port, ctx.origin.path(sc), n2, timeout=300)
        finally:
            PROCS.stop(perf, signal.SIGINT, grace=10)
        text = outf.read_text()
        m = re.search(r"^(\d+),[^,]*,instructions", text, re.M)
        if not m:
            raise RuntimeError(f"cannot parse perf output: {text[-300:]}")
        return {
            "method": "perf stat -e instructions:u",
            "value": int(m.group(1)) / n2,
            "requests": [n2],
            "note": "user-space instructions of all proxy processes, 1 worker, sequential keep-alive requests",
        }
    finally:
        proxy.stop(inst)


# --------------------------------------------------------------------------
# Machine information


def machine_info(ctx: Ctx | None, proxies: list[str], tools: Tools) -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions: dict[str, str] = {}
    for name in proxies:
        versions[name] = PROXY_CLASSES[name](ctx).version() if ctx else ""  # type: ignore[arg-type]
    versions["wrk"] = first_line([tools.wrk, "-v"]) if tools.wrk else "not installed"
    if tools.wrk2 and tools.wrk2 != tools.wrk:
        versions["wrk2"] = first_line([tools.wrk2, "-v"])
    versions["h2load"] = first_line([tools.h2load, "--version"]) if tools.h2load else "not installed"
    versions["valgrind"] = first_line([tools.valgrind, "--version"]) if tools.valgrind else "not installed"
    for k, v in versions.items():
        # "nginx version: nginx/1.22.1", "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." -> the version
        v = re.sub(r"^(nginx version: |nginx/|HAProxy version |ringway |wrk |h2load nghttp2/|valgrind-|envoy\s+version:\s*)+", "", v)
        versions[k] = re.split(r"\s+(Copyright|- https?://|\d{4}/\d{2}/\d{2})", v)[0].strip()
    for b, key in ((tools.bench_load, "bench-load"), (tools.bench_origin, "bench-origin")):
        versions[key] = "built from this repository" if b else "not built"
    git = "unknown"
    try:
        r = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True, timeout=10, stdin=subprocess.DEVNULL,
        )
        git = r.stdout.decode().strip() or git
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)),
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "git": git,
        "versions": versions,
    }


# --------------------------------------------------------------------------
# Reports: markdown and SVG


def sig(v: float, digits: int = 3) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    return f"{v:,.{decimals}f}"


def fmt_value(metric: str, v: float) -> str:
    if metric in ("max_rps", "achieved_rate", "instructions_per_request"):
        return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:,.0f}"
    if metric.startswith("latency_"):
        return sig(v / 1000)  # ms
    if metric in ("errors", "swaps", "reloads_ok", "reloads_failed"):
        return f"{v:,.0f}"
    if metric.endswith("_mib"):
        return f"{v:,.1f}"
    return sig(v)


def fmt_cell(metric: str, m: dict[str, Any] | None) -> str:
    if not m:
        return "–"
    if "unavailable" in m:
        return "n/a"
    if "error" in m:
        return "error"
    med, lo, hi = m["median"], m["min"], m["max"]
    if len(m["samples"]) == 1 or lo == hi:
        return fmt_value(metric, med)
    return f"{fmt_value(metric, med)} ({fmt_value(metric, lo)}–{fmt_value(metric, hi)})"


def column_label(metric: str) -> str:
    label = METRICS[metric][0]
    return f"{label} ms" if metric.startswith("latency_") else label


MD_COLUMNS_HTTP = [
    "max_rps",
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p99_us",
    "latency_p999_us",
    "peak_rss_mib",
    "errors",
    "instructions_per_request",
]
MD_COLUMNS_RELOAD = [
    "swaps",
    "reloads_ok",
    "reloads_failed",
    "errors",
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p99_us",
    "latency_p999_us",
    "peak_rss_mib",
]


def write_markdown(results: dict[str, Any], path: Path) -> None:
    mi = results["machine"]
    opt = results["options"]
    lines = [
        "# ringway benchmark results",
        "",
        f"- Machine: {mi['cpu_model']}, {mi['cpus']} CPUs, {mi['memory_gib']} GiB, Linux {mi['kernel']}",
        f"- Proxies on CPU {opt['proxy_cpus']} with {opt['workers']} worker(s) each; "
        f"load generator and origin ({opt['origin_used']}) on CPU {opt['load_cpus']}",
        f"- {opt['rounds']} round(s), proxies interleaved; {fmt_secs(opt['duration_s'])} s per measurement "
        f"after {fmt_secs(opt['warmup_s'])} s of warm-up; fixed-rate runs with {opt['rate_tool']}",
        f"- Versions: " + ", ".join(f"{k} {v}" for k, v in mi["versions"].items()),
        f"- Commit: {mi['git']}; finished {results['finished_at']} after {results['elapsed_s']:.0f} s",
        f"- Command: `{results['command']}`",
        "",
        "Cells: median over rounds (min–max). Latency: coordinated-omission corrected "
        "at the fixed offered rate (h2/gRPC: h2load --rps, not corrected). CPU µs/req: the proxy's "
        "utime+stime over the measured window / requests. RSS: peak of the summed VmRSS of the "
        "proxy's processes. Errors: socket errors, failed exchanges and non-2xx answers over both runs. "
        "Ratios: median / nginx's median (for max req/s higher is better, for the rest lower).",
        "",
    ]
    for w in results.get("warnings", []):
        lines.append(f"> warning: {w}")
    if results.get("warnings"):
        lines.append("")
    for name, scr in results["scenarios"].items():
        sc = SCENARIOS[name]
        cols = MD_COLUMNS_RELOAD if sc.ringway_only else [
            c for c in MD_COLUMNS_HTTP if c != "instructions_per_request" or name == "h1-keepalive"
        ]
        rate = scr["offered_rate"]
        lines += [f"## {name}", "", scr["summary"] + ".", ""]
        how = []
        if not sc.ringway_only:
            how.append(f"max req/s: {scr['max_tool']}, closed loop")
        how.append(f"CPU, latency: {rate:g} req/s offered by {scr['rate_tool']}")
        lines += ["- " + "; ".join(how)]
        lines += [f"- {n}" for n in scr.get("notes", [])] + [""]
        lines.append("| proxy | " + " | ".join(column_label(c) for c in cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        ratio_rows = []
        for proxy, pr in scr["proxies"].items():
            if pr["status"] in ("unsupported", "skipped"):
                lines.append(f"| {proxy} | {pr['reason']} |" + " |" * (len(cols) - 1))
                continue
            cells = [fmt_cell(c, pr["metrics"].get(c)) for c in cols]
            status = "" if pr["status"] == "ok" else f" ({pr['status']})"
            lines.append(f"| {proxy}{status} | " + " | ".join(cells) + " |")
            ratios = []
            for c in cols:
                r = (pr["metrics"].get(c) or {}).get("ratio_to_nginx")
                ratios.append(f"{r:.2f}×" if isinstance(r, (int, float)) else "–")
            ratio_rows.append(f"| {proxy} | " + " | ".join(ratios) + " |")
        lines.append("")
        if not sc.ringway_only and any("×" in r for r in ratio_rows):
            lines.append("Ratio to nginx:")
            lines.append("")
            lines.append("| proxy | " + " | ".join(METRICS[c][0] for c in cols) + " |")
            lines.append("|---|" + "---|" * len(cols))
            lines += ratio_rows
            lines.append("")
        methods = sorted({
            m["detail"]["note"] + f" (N1, N2 = {', '.join(map(str, m['detail']['requests']))})"
            for pr in scr["proxies"].values()
            for k, m in pr.get("metrics", {}).items()
            if k == "instructions_per_request" and "detail" in m
        })
        for note in methods:
            lines.append(f"- instructions/req: {note}")
        for proxy, pr in scr["proxies"].items():
            for u, m in pr.get("metrics", {}).items():
                if "unavailable" in m:
                    lines.append(f"- {proxy} {METRICS[u][0]}: n/a — {m['unavailable']}")
            for e in pr.get("errors", []):
                lines.append(f"- {proxy}: error — {e.splitlines()[0] if e else e}")
        lines.append("")
        if (Path(path).parent / f"latency-{name}.svg").exists():
            lines += [f"![latency {name}](latency-{name}.svg)", ""]
    if (Path(path).parent / "throughput.svg").exists():
        lines += ["## Max throughput", "", "![max throughput](throughput.svg)", ""]
    path.write_text("\n".join(lines))


COLORS = {"ringway": "#d62728", "nginx": "#2ca02c", "haproxy": "#1f77b4", "envoy": "#9467bd"}


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def nice_ceiling(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def nines(p: float, cap: float) -> float:
    """x position of percentile p (0..100) on the 'nines' scale: 90 -> 1, 99 -> 2."""
    if p >= 100:
        return cap
    return min(cap, -math.log10(1 - p / 100.0))


def latency_svg(name: str, rate: float, series: dict[str, list[list[float]]], path: Path) -> None:
    W, H, L, R, T, B = 760, 440, 70, 150, 40, 50
    pw, ph = W - L - R, H - T - B
    finite = [nines(p, 99) for s in series.values() for p, _ in s if p < 100]
    cap = max(3.0, math.ceil(max(finite, default=3.0) + 0.5))
    ymax = nice_ceiling(max((v for s in series.values() for _, v in s), default=1.0) / 1000)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<text x="{L}" y="22" font-size="15">{esc(name)}: latency by percentile at {rate:g} req/s</text>',
    ]
    for i in range(int(cap) + 1):
        x = L + pw * i / cap
        label = "0%" if i == 0 else ("max" if i == cap else f"{100 - 100 / 10 ** i:g}%")
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{T + ph + 16}" text-anchor="middle">{label}</text>')
    for i in range(6):
        v = ymax * i / 5
        y = T + ph - ph * i / 5
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">percentile</text>')
    out.append(
        f'<text x="16" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {T + ph / 2})">'
        "latency (ms)</text>"
    )
    for i, (proxy, spec) in enumerate(series.items()):
        color = COLORS.get(proxy, "#333")
        pts = " ".join(
            f"{L + pw * nines(p, cap) / cap:.1f},{T + ph - ph * min(v / 1000, ymax) / ymax:.1f}"
            for p, v in sorted(spec)
        )
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = T + 10 + 20 * i
        out.append(f'<line x1="{L + pw + 15}" y1="{ly}" x2="{L + pw + 40}" y2="{ly}" stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{L + pw + 46}" y="{ly + 4}">{esc(proxy)}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def throughput_svg(results: dict[str, Any], path: Path) -> None:
    panels = []
    for name, scr in results["scenarios"].items():
        if SCENARIOS[name].ringway_only:
            continue
        panels.append((name, scr))
    proxies = results["options"]["proxies"]
    pw_each, H, T, B, L = 190, 360, 50, 70, 10
    W = L + pw_each * max(1, len(panels)) + 10
    ph = H - T - B
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<text x="{L + 4}" y="20" font-size="15">max requests/s per scenario (median, whiskers min–max)</text>',
    ]
    for i, (name, scr) in enumerate(panels):
        x0 = L + i * pw_each + 45
        inner = pw_each - 60
        vals = [
            (p, scr["proxies"].get(p, {}).get("metrics", {}).get("max_rps"))
            for p in proxies
        ]
        step = nice_ceiling(max((m["max"] for _, m in vals if m and "max" in m), default=1.0) / 4)
        top = step * 4
        out.append(f'<text x="{x0 + inner / 2}" y="{T - 8}" text-anchor="middle" font-weight="bold">{esc(name)}</text>')
        for k in range(5):
            v = top * k / 4
            y = T + ph - ph * k / 4
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + inner}" y2="{y:.1f}" stroke="#ddd"/>')
            label = f"{v / 1000:g}k" if top >= 10000 else f"{v:g}"
            out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        bw = inner / max(1, len(vals))
        for j, (p, m) in enumerate(vals):
            bx = x0 + j * bw + bw * 0.1
            w = bw * 0.8
            color = COLORS.get(p, "#333")
            if m and "median" in m:
                h = ph * m["median"] / top
                out.append(
                    f'<rect x="{bx:.1f}" y="{T + ph - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}">'
                    f"<title>{esc(p)}: {m['median']:.0f} req/s</title></rect>"
                )
                ylo = T + ph - ph * m["min"] / top
                yhi = T + ph - ph * m["max"] / top
                cx = bx + w / 2
                out.append(f'<line x1="{cx:.1f}" y1="{ylo:.1f}" x2="{cx:.1f}" y2="{yhi:.1f}" stroke="black"/>')
                for yy in (ylo, yhi):
                    out.append(f'<line x1="{cx - 4:.1f}" y1="{yy:.1f}" x2="{cx + 4:.1f}" y2="{yy:.1f}" stroke="black"/>')
            else:
                out.append(f'<text x="{bx + w / 2:.1f}" y="{T + ph - 4}" text-anchor="middle" font-size="9">n/a</text>')
            out.append(
                f'<text x="{bx + w / 2:.1f}" y="{T + ph + 12}" text-anchor="end" font-size="10" '
                f'transform="rotate(-45 {bx + w / 2:.1f} {T + ph + 12})">{esc(p)}</text>'
            )
        out.append(f'<line x1="{x0}" y1="{T + ph}" x2="{x0 + inner}" y2="{T + ph}" stroke="#444"/>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def median_round_spectrum(pr: dict[str, Any]) -> list[list[float]] | None:
    """The spectrum of the round whose p99 is the median one."""
    rounds = [r for r in pr.get("rounds", []) if "rate" in r and r["rate"].get("spectrum")]
    if not rounds:
        return None
    rounds.sort(key=lambda r: r["rate"]["latency_us"]["p99"])
    return rounds[(len(rounds) - 1) // 2]["rate"]["spectrum"]


def write_svgs(results: dict[str, Any], out: Path) -> list[str]:
    written = []
    for name, scr in results["scenarios"].items():
        series = {}
        for proxy, pr in scr["proxies"].items():
            s = median_round_spectrum(pr)
            if s:
                series[proxy] = s
        if series:
            latency_svg(name, scr["offered_rate"], series, out / f"latency-{name}.svg")
            written.append(f"latency-{name}.svg")
    throughput_svg(results, out / "throughput.svg")
    written.append("throughput.svg")
    return written


# --------------------------------------------------------------------------
# Completeness check


def check_results(d: Path) -> list[str]:
    """Problems that make the results directory incomplete (empty: complete)."""
    problems: list[str] = []
    try:
        res = json.loads((d / "results.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        return [f"results.json: {e}"]
    for key in ("schema", "machine", "options", "command", "scenarios", "finished_at"):
        if key not in res:
            problems.append(f"results.json lacks {key!r}")
    if problems:
        return problems
    opt = res["options"]
    rounds = opt.get("rounds", 0)
    for key in ("cpu_model", "cpus", "kernel", "versions"):
        if not res["machine"].get(key):
            problems.append(f"machine info lacks {key!r}")
    for name in opt.get("scenarios", []):
        sc = SCENARIOS.get(name)
        scr = res["scenarios"].get(name)
        if sc is None or scr is None:
            problems.append(f"scenario {name}: missing")
            continue
        wanted = ["ringway"] if sc.ringway_only else opt["proxies"]
        for proxy in wanted:
            pr = scr["proxies"].get(proxy)
            where = f"{name}/{proxy}"
            if pr is None:
                problems.append(f"{where}: missing")
                continue
            status = pr.get("status")
            capable = CAPABILITIES.get(proxy, {}).get(sc.protocol, False)
            if status in ("unsupported", "skipped"):
                if not pr.get("reason"):
                    problems.append(f"{where}: {status} without a reason")
                if status == "unsupported" and capable:
                    problems.append(f"{where}: marked unsupported, but the capability table says it is supported")
                if status == "skipped" and proxy in REQUIRED_PROXIES and proxy in opt["proxies"]:
                    problems.append(f"{where}: skipped ({pr.get('reason')})")
                continue
            if status != "ok":
                problems.append(f"{where}: status {status!r}: {'; '.join(pr.get('errors', []))[:300]}")
            metrics = pr.get("metrics", {})
            for metric in scenario_metrics(sc):
                m = metrics.get(metric)
                if m is None:
                    problems.append(f"{where}: metric {metric} missing")
                elif "unavailable" in m:
                    if not str(m["unavailable"]).strip():
                        problems.append(f"{where}: metric {metric} unavailable without a reason")
                else:
                    vals = [m.get("median"), m.get("min"), m.get("max")] + list(m.get("samples", []))
                    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
                        problems.append(f"{where}: metric {metric} has non-numeric values: {m}")
                    expected = 1 if metric == "instructions_per_request" else rounds
                    if len(m.get("samples", [])) != expected:
                        problems.append(
                            f"{where}: metric {metric} has {len(m.get('samples', []))} samples, expected {expected}"
                        )
        has_latency = any(
            "latency_p99_us" in p.get("metrics", {}) and "median" in p["metrics"]["latency_p99_us"]
            for p in scr["proxies"].values()
        )
        if has_latency:
            svg = d / f"latency-{name}.svg"
            problems += check_svg(svg)
    problems += check_svg(d / "throughput.svg")
    md = d / "results.md"
    try:
        text = md.read_text()
        for name in opt.get("scenarios", []):
            if f"## {name}" not in text:
                problems.append(f"results.md has no section for {name}")
    except OSError as e:
        problems.append(f"results.md: {e}")
    return problems


def check_svg(path: Path) -> list[str]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"{path.name}: {e}"]
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        return [f"{path.name}: root element is {root.tag}, not svg"]
    return []


# --------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench.py",
        description="Benchmark ringway against nginx, HAProxy and Envoy (see bench-harness/README.md).",
    )
    ap.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"default: all of {', '.join(SCENARIO_ORDER)}")
    ap.add_argument("--quick", action="store_true", help="1 round of short runs, < 2 minutes (CI)")
    ap.add_argument("--out", default="results", help="output directory (default: results/)")
    ap.add_argument("--rounds", type=int, help="rounds per scenario (default 5; 1 with --quick)")
    ap.add_argument("--duration", type=float, help="seconds per measurement (default 10; 2 with --quick)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds before each measurement (default 2; 1 with --quick)")
    ap.add_argument(
        "--rate",
        type=float,
        default=10000,
        help="fixed offered rate, req/s, for the CPU and latency measurements (default 10000; "
        "h1-1mib uses 3%% of it, h1-newconn 30%%, grpc-unary 50%%)",
    )
    ap.add_argument("--workers", type=int, default=1, help="worker processes/threads per proxy (default 1)")
    ap.add_argument("--proxy-cpus", help="CPUs for the proxy (default: 1 on 2 CPUs, else the upper half)")
    ap.add_argument("--load-cpus", help="CPUs for the load generator and origin (default: 0 on 2 CPUs, else the lower half)")
    ap.add_argument("--origin", choices=["bench", "nginx"], default="bench", help="origin server (default bench: bench-origin)")
    ap.add_argument("--proxies", default="ringway,nginx,haproxy,envoy", help="comma-separated (default: ringway,nginx,haproxy,envoy; envoy only when on PATH)")
    ap.add_argument("--rate-tool", choices=["auto", "bench-load", "wrk2"], default="auto", help="fixed-rate generator for HTTP/1.1 (default: bench-load, else wrk2)")
    ap.add_argument("--instr-requests", default=None, help="N1,N2 requests for the instruction count (default 2000,6000; 200,600 with --quick)")
    ap.add_argument("--no-instructions", action="store_true", help="skip the instructions-per-request measurement")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the run's temporary directory (configs, logs)")
    ap.add_argument("--check", metavar="DIR", help="only verify that DIR holds complete results; exit 1 if not")
    a = ap.parse_args(argv)
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}; known: {', '.join(SCENARIO_ORDER)}")
    a.scenarios = [s for s in SCENARIO_ORDER if s in a.scenarios] if a.scenarios else list(SCENARIO_ORDER)
    a.proxies = [p.strip() for p in a.proxies.split(",") if p.strip()]
    for p in a.proxies:
        if p not in PROXY_CLASSES:
            ap.error(f"unknown proxy {p!r}; known: {', '.join(ALL_PROXIES)}")
    if a.rounds is None:
        a.rounds = 1 if a.quick else 5
    if a.duration is None:
        a.duration = 2.0 if a.quick else 10.0
    if a.warmup is None:
        a.warmup = 1.0 if a.quick else 2.0
    if a.instr_requests is None:
        a.instr_requests = "200,600" if a.quick else "2000,6000"
    try:
        n1, n2 = (int(x) for x in a.instr_requests.split(","))
        assert 0 < n1 < n2
    except (ValueError, AssertionError):
        ap.error("--instr-requests takes N1,N2 with 0 < N1 < N2")
    a.instr_requests = (n1, n2)
    if a.rounds < 1 or a.duration <= 0 or a.rate <= 0 or a.workers < 1:
        ap.error("--rounds, --duration, --rate and --workers must be positive")
    return a


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.check:
        problems = check_results(Path(args.check))
        if problems:
            print(f"results in {args.check} are INCOMPLETE:")
            for p in problems:
                print(f"  - {p}")
            return 1
        res = json.loads((Path(args.check) / "results.json").read_text())
        n = sum(len(s["proxies"]) for s in res["scenarios"].values())
        print(f"results in {args.check} are complete: {len(res['scenarios'])} scenarios, {n} scenario/proxy entries")
        return 0
    install_signal_handlers()
    try:
        return run(args)
    except Interrupted as e:
        log(f"interrupted ({e}); stopping every process started")
        return 130
    finally:
        PROCS.stop_all()


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    default_proxy, default_load = default_cpu_split()
    proxy_cpus = parse_cpu_list(args.proxy_cpus) if args.proxy_cpus else default_proxy
    load_cpus = parse_cpu_list(args.load_cpus) if args.load_cpus else default_load
    warnings: list[str] = []
    if set(proxy_cpus) & set(load_cpus):
        warnings.append(f"proxy CPUs {proxy_cpus} overlap load CPUs {load_cpus}: figures are not isolated")
    w = raise_fd_limit()
    if w:
        warnings.append(w)
    # This process (samplers, probes) runs beside the load generator.
    try:
        os.sched_setaffinity(0, load_cpus)
    except OSError as e:
        warnings.append(f"could not pin the harness to {load_cpus}: {e}")

    tools = detect_tools()
    if not tools.wrk:
        raise SystemExit("wrk is not installed (scripts/bench.sh installs it)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("latency-*.svg")) + [out / "throughput.svg", out / "results.md", out / "results.json"]:
        old.unlink(missing_ok=True)
    shutil.rmtree(out / "configs", ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix="ringway-bench-"))
    if not args.keep_tmp:
        atexit.register(shutil.rmtree, tmp, True)

    ctx = Ctx(
        args=args, tools=tools, tmp=tmp, out=out,
        proxy_cpus=proxy_cpus, load_cpus=load_cpus, workers=args.workers,
        duration=args.duration, warmup=args.warmup, rounds=args.rounds,
        rate=args.rate, quick=args.quick,
    )
    if args.rate_tool == "auto":
        ctx.rate_tool = "bench-load" if tools.bench_load else ("wrk2" if tools.wrk2 else "none")
    else:
        ctx.rate_tool = args.rate_tool
    if ctx.rate_tool == "none":
        warnings.append("no fixed-rate generator: build bench-load (cargo build --release -p bench-harness)")
    origin_used = args.origin
    if args.origin == "bench" and not tools.bench_origin:
        warnings.append("bench-origin is not built; using nginx as the origin")
        origin_used = "nginx"

    command = os.environ.get("BENCH_COMMAND") or shlex.join([sys.executable, *sys.argv])
    log(f"proxies on CPU {cpu_list_str(proxy_cpus)}, load+origin on CPU {cpu_list_str(load_cpus)}; "
        f"origin {origin_used}; fixed rate via {ctx.rate_tool}; output in {out}")
    for w in warnings:
        log(f"warning: {w}")
    machine = machine_info(ctx, args.proxies, tools)

    results: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "command": command,
        "argv": sys.argv,
        "started_at": started_at,
        "machine": machine,
        "options": {
            "scenarios": args.scenarios,
            "proxies": args.proxies,
            "quick": args.quick,
            "rounds": args.rounds,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rate": args.rate,
            "workers": args.workers,
            "proxy_cpus": cpu_list_str(proxy_cpus),
            "load_cpus": cpu_list_str(load_cpus),
            "origin": args.origin,
            "origin_used": origin_used,
            "rate_tool": ctx.rate_tool,
            "instructions": "off" if args.no_instructions else (
                "perf" if tools.perf_instructions else ("callgrind" if tools.valgrind else "unavailable")
            ),
            "instr_requests": list(args.instr_requests),
        },
        "warnings": warnings,
        "scenarios": {},
    }
    failures = 0
    ctx.origin = BenchOriginServer(ctx) if origin_used == "bench" else NginxOrigin(ctx)
    results["options"]["origin_command"] = ctx.origin.command
    proxies = {name: PROXY_CLASSES[name](ctx) for name in args.proxies}
    try:
        for name in args.scenarios:
            sc = SCENARIOS[name]
            failures += run_scenario(ctx, sc, proxies, results)
            write_outputs(results, out, started, partial=True)
    finally:
        ctx.origin.stop()
    write_outputs(results, out, started, partial=False)
    problems = check_results(out)
    elapsed = time.monotonic() - started
    log(f"done in {elapsed:.0f} s: {out / 'results.md'}")
    if problems:
        log("results are incomplete:\n  " + "\n  ".join(problems))
    return 1 if failures or problems else 0


def run_scenario(ctx: Ctx, sc: Scenario, proxies: dict[str, Proxy], results: dict[str, Any]) -> int:
    rate = ctx.scenario_rate(sc)
    scr: dict[str, Any] = {
        "summary": sc.summary,
        "protocol": sc.protocol,
        "connections": sc.connections,
        "streams_per_connection": sc.streams,
        "body_bytes": sc.body_bytes,
        "offered_rate": rate,
        "origin_path": ctx.origin.path(sc),
        "max_tool": "wrk" if sc.protocol == "h1" else "h2load",
        "rate_tool": ctx.rate_tool if sc.protocol == "h1" else "h2load --rps",
        "notes": [],
        "proxies": {},
    }
    if sc.protocol != "h1":
        scr["notes"].append(
            "latency at the fixed rate from h2load --rps and its per-request log: "
            "not coordinated-omission corrected"
        )
    results["scenarios"][sc.name] = scr
    names = ["ringway"] if sc.ringway_only else list(proxies)
    runnable = []
    for name in names:
        proxy = proxies.get(name)
        if proxy is None:
            scr["proxies"][name] = {"status": "skipped", "reason": f"{name} is not in --proxies"}
        elif not CAPABILITIES[name].get(sc.protocol):
            scr["proxies"][name] = {"status": "unsupported", "reason": UNSUPPORTED_REASON.get(name, "not supported")}
        elif proxy.binary() is None:
            scr["proxies"][name] = {"status": "skipped", "reason": f"{proxy.binary_name} is not installed (not on PATH)"}
        elif sc.protocol != "h1" and not ctx.tools.h2load:
            scr["proxies"][name] = {"status": "skipped", "reason": "h2load is not installed (package nghttp2-client)"}
        else:
            scr["proxies"][name] = {"status": "ok", "rounds": [], "errors": []}
            runnable.append(name)
    failures = 0
    for rnd in range(ctx.rounds):
        k = rnd % max(1, len(runnable))
        order = runnable[k:] + runnable[:k]  # rotate: no proxy always goes first
        for name in order:
            log(f"{sc.name} round {rnd + 1}/{ctx.rounds}: {name}")
            pr = scr["proxies"][name]
            try:
                if sc.ringway_only:
                    rec = run_reload_round(ctx, proxies[name], sc, rnd + 1)  # type: ignore[arg-type]
                else:
                    rec = run_http_round(ctx, proxies[name], sc, rnd + 1)
                rec["values"] = round_metrics(sc, rec)
                pr["rounds"].append(rec)
                v = rec["values"]
                log(
                    f"  {name}: "
                    + (f"max {v['max_rps']:.0f} req/s, " if "max_rps" in v else "")
                    + f"{v['cpu_us_per_request']:.2f} CPU µs/req, p99 {v['latency_p99_us'] / 1000:.2f} ms "
                    f"at {rate:g}/s, peak RSS {v['peak_rss_mib']:.1f} MiB, errors {v['errors']:.0f}"
                    + (f", swaps {v['swaps']:.0f} (ok {v['reloads_ok']:.0f})" if "swaps" in v else "")
                )
            except Interrupted:
                raise
            except Exception as e:  # noqa: BLE001 - record and go on with the others
                failures += 1
                pr["errors"].append(f"round {rnd + 1}: {e}")
                log(f"  {name} FAILED: {e}")
    # Instructions per request (h1-keepalive only): deterministic, once per proxy.
    instr: dict[str, dict[str, Any]] = {}
    if sc.name == "h1-keepalive":
        for name in runnable:
            if ctx.args.no_instructions:
                instr[name] = {"unavailable": "not measured (--no-instructions)"}
                continue
            log(f"{sc.name}: instructions per request, {name}")
            try:
                r = instructions_per_request(ctx, proxies[name], sc)
                instr[name] = r
                log(f"  {name}: {r['value']:.0f} instructions/request ({r['method']})")
            except Interrupted:
                raise
            except Exception as e:  # noqa: BLE001
                failures += 1
                scr["proxies"][name]["errors"].append(f"instructions: {e}")
                instr[name] = {"error": str(e)}
                log(f"  {name} instructions FAILED: {e}")
    # Aggregate.
    for name in runnable:
        pr = scr["proxies"][name]
        metrics: dict[str, Any] = {}
        for metric in scenario_metrics(sc):
            if metric == "instructions_per_request":
                r = instr.get(name, {})
                if "value" in r:
                    metrics[metric] = summarize([r["value"]]) | {"method": r["method"], "detail": r}
                elif "unavailable" in r:
                    metrics[metric] = {"unavailable": r["unavailable"]}
                continue
            unreliable = [rec["rate"]["unreliable"] for rec in pr["rounds"] if rec["rate"].get("unreliable")]
            if metric in RATE_METRICS and unreliable:
                metrics[metric] = {"unavailable": unreliable[0]}
                continue
            samples = [rec["values"][metric] for rec in pr["rounds"] if metric in rec["values"]]
            if samples:
                metrics[metric] = summarize(samples)
        for metric, m in metrics.items():
            m["unit"] = METRICS[metric][1]
        pr["metrics"] = metrics
        if pr["errors"]:
            pr["status"] = "failed"
    base = scr["proxies"].get("nginx", {}).get("metrics", {})
    for name in runnable:
        for metric, m in scr["proxies"][name]["metrics"].items():
            b = base.get(metric, {}).get("median")
            if "median" in m:
                m["ratio_to_nginx"] = (m["median"] / b) if b else None
    for name in runnable:
        utils = [r["max"]["proxy_cpu_utilization"] for r in scr["proxies"][name]["rounds"] if "max" in r]
        if utils:
            scr["proxies"][name]["max_proxy_cpu_utilization"] = statistics.median(utils)
            if statistics.median(utils) < 0.9:
                scr["notes"].append(
                    f"{name}'s max req/s is not CPU-bound: {name} was {statistics.median(utils):.0%} busy "
                    "during the max-throughput runs, so the load generator or the origin set the limit"
                )
    # The offered rate must be below every proxy's max.
    for name in runnable:
        for rec in scr["proxies"][name]["rounds"]:
            ach = rec["rate"].get("achieved_rate", 0)
            if ach < 0.95 * rate:
                w = (f"{sc.name}: {name} answered {ach:.0f}/s of the {rate:g}/s offered in round "
                     f"{rec['round']} (saturated?)")
                results["warnings"].append(w)
                log(f"warning: {w}")
        mx = scr["proxies"][name]["metrics"].get("max_rps", {}).get("median")
        if mx and rate > 0.8 * mx:
            w = f"{sc.name}: offered rate {rate:g}/s is over 80% of {name}'s max {mx:.0f}/s; lower --rate"
            results["warnings"].append(w)
            log(f"warning: {w}")
    return failures


def write_outputs(results: dict[str, Any], out: Path, started: float, partial: bool) -> None:
    results["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["partial"] = partial
    tmpf = out / "results.json.tmp"
    tmpf.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmpf, out / "results.json")
    write_svgs(results, out)
    write_markdown(results, out / "results.md")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
