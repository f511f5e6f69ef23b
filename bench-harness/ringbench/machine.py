"""What the results were measured on: CPU model, cores, memory, kernel, the
version of every proxy and tool, and the git commit."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from .context import Ctx, Tools
from .proxies import PROXY_CLASSES
from .util import REPO, first_line


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
