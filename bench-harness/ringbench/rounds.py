"""One round of a scenario for one proxy: a fresh proxy, max throughput,
then the fixed rate (for ringway-reload: under config swaps and SIGHUP),
memory sampled throughout; and the round's metric values."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from .context import Ctx
from .measure import fixed_rate, h2load_max, wrk_max
from .procfs import MemSampler, cpu_seconds, proc_tree
from .proxies import Proxy, Ringway
from .proxies.ringway import ringway_config
from .scenarios import RELOAD_INTERVAL_S, Scenario
from .util import HOST, tail, wait_until


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
    rec["command"] = inst.command
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
