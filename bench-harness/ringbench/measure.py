"""The load measurements of one proxy: max throughput (wrk, h2load closed
loop) and a fixed offered rate (bench-load, wrk2 or h2load --rps) with the
proxy's CPU time over the generator's measured window."""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from .context import Ctx
from .parsers import parse_bench_load, parse_h2load, parse_h2load_log, parse_wrk, parse_wrk2
from .procfs import cpu_seconds, proc_tree, sched_cpu_seconds
from .procs import PROCS, cpu_list_str
from .scenarios import H2LOAD_RATE_TOLERANCE, Scenario
from .util import fmt_secs


def wrk_command(tool: str, ctx: Ctx, sc: Scenario, url: str, duration: float,
                rate: float | None = None) -> list[str]:
    """wrk's command line, or wrk2's with its fixed `rate`."""
    cmd = [
        tool,
        "-t", str(min(ctx.load_threads, sc.connections)),
        "-c", str(sc.connections),
        "-d", f"{max(1, round(duration))}s",
    ]
    if rate is not None:
        cmd += ["-R", f"{rate:g}"]
    cmd += ["--timeout", "5s", "--latency"]
    if sc.new_connection:
        cmd += ["-H", "Connection: close"]
    cmd.append(url)
    return cmd


def wrk_max(ctx: Ctx, url: str, sc: Scenario, duration: float) -> dict[str, Any]:
    assert ctx.tools.wrk
    cmd = wrk_command(ctx.tools.wrk, ctx, sc, url, duration)
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
    if sc.protocol in ("h2", "grpc"):
        cmd, res, cpu = _h2load_rate(ctx, url, sc, proxy_root, duration, rate)
    elif ctx.rate_tool == "bench-load":
        cmd, res, cpu = _bench_load_rate(ctx, url, sc, proxy_root, duration, rate)
    elif ctx.rate_tool == "wrk2":
        cmd, res, cpu = _wrk2_rate(ctx, url, sc, proxy_root, duration, rate)
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


def _h2load_rate(ctx: Ctx, url: str, sc: Scenario, proxy_root: int, duration: float, rate: float):
    per_client = rate / sc.connections
    logf = ctx.tmp / f"h2load-{time.monotonic_ns()}.log"
    cmd = h2load_base(ctx, sc) + [
        "--rps", f"{per_client:g}",
        "-D", str(max(1, round(duration))),
        "--warm-up-time", str(max(1, round(ctx.warmup))),
        "--log-file", str(logf),
        url,
    ]
    warmup = max(1, round(ctx.warmup))
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
    return cmd, res, cpu


def _bench_load_rate(ctx: Ctx, url: str, sc: Scenario, proxy_root: int, duration: float, rate: float):
    assert ctx.tools.bench_load
    cmd = [
        ctx.tools.bench_load,
        "--url", url,
        "--rate", f"{rate:g}",
        "--duration", fmt_secs(duration),
        "--connections", str(sc.connections),
        "--threads", str(min(ctx.load_threads, sc.connections)),
        "--cpus", cpu_list_str(ctx.load_cpus),
        "--warmup", fmt_secs(ctx.warmup),
        "--timeout-ms", "5000",
        "--json",
    ]
    if sc.new_connection:
        cmd.append("--new-connection-per-request")
    rc, out, err, cpu = timed_load(ctx, cmd, proxy_root, ctx.warmup, duration + ctx.warmup + 60)
    if rc != 0:
        raise RuntimeError(f"bench-load exited {rc}: {err.strip()[-800:]}")
    res = parse_bench_load(out)
    res["requests_measured"] = res["requests"]
    res["tool"] = "bench-load"
    res["latency_corrected"] = True
    return cmd, res, cpu


def _wrk2_rate(ctx: Ctx, url: str, sc: Scenario, proxy_root: int, duration: float, rate: float):
    assert ctx.tools.wrk2
    cmd = wrk_command(ctx.tools.wrk2, ctx, sc, url, duration, rate)
    # wrk2 has no warm-up: the whole run is measured.
    rc, out, err, cpu = timed_load(ctx, cmd, proxy_root, 0.0, duration + 60)
    if rc != 0:
        raise RuntimeError(f"wrk2 exited {rc}: {err.strip()[-500:]}")
    res = parse_wrk2(out)
    res["requests_measured"] = res["requests"]
    res["achieved_rate"] = res["rps"]
    res["tool"] = "wrk2"
    res["latency_corrected"] = True
    return cmd, res, cpu


def h2load_log_latency(logf: Path, parsed: dict[str, Any]) -> dict[str, Any]:
    """Latency percentiles from h2load's --log-file (see parse_h2load_log)."""
    try:
        with open(logf) as f:
            return parse_h2load_log(f, parsed["requests"]["done"])
    except OSError as e:
        raise RuntimeError(f"h2load wrote no log file: {e}") from None
