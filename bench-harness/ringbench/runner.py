"""A whole run: CPUs and limits, tools, origin, then every scenario with the
proxies interleaved and rotated per round, the instruction counts, and the
results written after each scenario."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .aggregate import aggregate_scenario
from .check import check_errors, check_results
from .context import Ctx, detect_tools
from .instructions import instructions_per_request
from .machine import machine_info
from .origins import BenchOriginServer, NginxOrigin
from .procs import Interrupted, cpu_list_str, default_cpu_split, parse_cpu_list, raise_fd_limit
from .proxies import PROXY_CLASSES, Proxy
from .report import write_outputs
from .rounds import round_metrics, run_http_round, run_reload_round
from .scenarios import CAPABILITIES, SCENARIOS, UNSUPPORTED_REASON, Scenario
from .util import log

SCHEMA_VERSION = 1


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
    errors = check_errors(out)
    elapsed = time.monotonic() - started
    log(f"done in {elapsed:.0f} s: {out / 'results.md'}")
    if problems:
        log("results are incomplete:\n  " + "\n  ".join(problems))
    if errors:
        log("errors were recorded:\n  " + "\n  ".join(errors))
    return 1 if failures or problems or errors else 0


def new_scenario_record(ctx: Ctx, sc: Scenario) -> dict[str, Any]:
    scr: dict[str, Any] = {
        "summary": sc.summary,
        "protocol": sc.protocol,
        "connections": sc.connections,
        "streams_per_connection": sc.streams,
        "body_bytes": sc.body_bytes,
        "offered_rate": ctx.scenario_rate(sc),
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
    return scr


def runnable_proxies(ctx: Ctx, sc: Scenario, proxies: dict[str, Proxy], scr: dict[str, Any]) -> list[str]:
    """The proxies that can run `sc`; the others get a skipped/unsupported entry."""
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
    return runnable


def run_scenario(ctx: Ctx, sc: Scenario, proxies: dict[str, Proxy], results: dict[str, Any]) -> int:
    rate = ctx.scenario_rate(sc)
    scr = new_scenario_record(ctx, sc)
    results["scenarios"][sc.name] = scr
    runnable = runnable_proxies(ctx, sc, proxies, scr)
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
    # Instructions per request: deterministic, once per proxy.
    instr: dict[str, dict[str, Any]] = {}
    if sc.instructions:
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
    aggregate_scenario(sc, rate, scr, runnable, instr, results)
    return failures
