"""The command line of bench.py: options and defaults (--quick), `--check
DIR`, and the signal handling around a run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .check import check_errors, check_results
from .procs import PROCS, Interrupted, install_signal_handlers
from .proxies import PROXY_CLASSES
from .runner import run
from .scenarios import ALL_PROXIES, SCENARIO_ORDER, SCENARIOS
from .util import log


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
    ap.add_argument("--check", metavar="DIR", help="only verify that DIR holds complete results without errors; exit 1 if not")
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


def check_main(d: str) -> int:
    problems = check_results(Path(d))
    errors = check_errors(Path(d))
    if problems:
        print(f"results in {d} are INCOMPLETE:")
        for p in problems:
            print(f"  - {p}")
    if errors:
        print(f"results in {d} recorded ERRORS (every count must be zero):")
        for e in errors:
            print(f"  - {e}")
    if problems or errors:
        return 1
    res = json.loads((Path(d) / "results.json").read_text())
    n = sum(len(s["proxies"]) for s in res["scenarios"].values())
    print(f"results in {d} are complete: {len(res['scenarios'])} scenarios, {n} scenario/proxy entries, "
          "no errors recorded")
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.check:
        return check_main(args.check)
    install_signal_handlers()
    try:
        return run(args)
    except Interrupted as e:
        log(f"interrupted ({e}); stopping every process started")
        return 130
    finally:
        PROCS.stop_all()
