"""Instructions per request: the proxy (one worker) under callgrind, run
twice with N1 and N2 sequential requests on one connection, the figure being
(Ir(N2) - Ir(N1)) / (N2 - N1); or perf stat attached to it when the CPU's
counters are exposed."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Any

from .context import Ctx
from .parsers import parse_callgrind_total, parse_perf_instructions
from .procfs import proc_tree
from .procs import PROCS
from .proxies import Proxy
from .scenarios import Scenario
from .util import HOST, log, tail, wait_until


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


def drive(ctx: Ctx, sc: Scenario, port: int, n: int, timeout: float) -> None:
    """`n` sequential requests of the scenario's kind through the proxy."""
    sequential_requests(port, ctx.origin.path(sc), n, timeout)


def callgrind_total(files: list[Path]) -> int:
    total = 0
    found = False
    for f in files:
        v = parse_callgrind_total(f.read_text(errors="replace"))
        if v is not None:
            total += v
            found = True
    if not found:
        raise RuntimeError(f"no 'summary:'/'totals:' line in {[str(f) for f in files]}")
    return total


CALLGRIND_NOTE = (
    "user-space instructions (Ir) of the proxy under callgrind, 1 worker, "
    "sequential keep-alive requests on one connection, (Ir(N2)-Ir(N1))/(N2-N1); "
    "kernel work not counted; ringway runs its epoll driver there (under valgrind its "
    "io_uring worker blocks every other thread)"
)


def instructions_per_request(ctx: Ctx, proxy: Proxy, sc: Scenario) -> dict[str, Any]:
    n1, n2 = ctx.args.instr_requests
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
            drive(ctx, sc, inst.port, n, timeout=300)
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
        "note": CALLGRIND_NOTE,
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
            drive(ctx, sc, inst.port, n2, timeout=300)
        finally:
            PROCS.stop(perf, signal.SIGINT, grace=10)
        try:
            count = parse_perf_instructions(outf.read_text())
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return {
            "method": "perf stat -e instructions:u",
            "value": count / n2,
            "requests": [n2],
            "note": "user-space instructions of all proxy processes, 1 worker, sequential keep-alive requests",
        }
    finally:
        proxy.stop(inst)
