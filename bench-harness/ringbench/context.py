"""The run context: options, CPUs, durations and the tools found on this
machine (load generators, valgrind, whether perf counts instructions)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .scenarios import Scenario
from .util import TARGET, which_or


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
