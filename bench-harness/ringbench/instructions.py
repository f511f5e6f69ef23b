"""Instructions per request: the proxy (one worker) under callgrind, run
twice with N1 and N2 sequential requests on one connection (HTTP/1.1
keep-alive requests, or gRPC unary calls on one h2c connection), the figure
being (Ir(N2) - Ir(N1)) / (N2 - N1); or perf stat attached to it when the
CPU's counters are exposed."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Any

from .context import Ctx
from .measure import h2load_base
from .parsers import parse_callgrind_total, parse_h2load, parse_perf_instructions
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


def sequential_grpc(ctx: Ctx, sc: Scenario, port: int, n: int, timeout: float) -> None:
    """`n` gRPC unary calls (the scenario's request) one after another on one
    h2c connection: h2load -c1 -m1 -n N. h2load runs outside valgrind and has
    no request timeout of its own, so the proxy's slowness there is fine."""
    one = Scenario(sc.name, sc.protocol, "", connections=1, streams=1)
    cmd = h2load_base(ctx, one) + ["-n", str(n), f"http://{HOST}:{port}{ctx.origin.path(sc)}"]
    rc, out, err = PROCS.run(cmd, timeout=timeout, cpus=ctx.load_cpus)
    if rc != 0:
        raise RuntimeError(f"h2load exited {rc}: {(out + err).strip()[-500:]}")
    res = parse_h2load(out)
    if res["requests"]["succeeded"] != n or res["errors"]:
        raise RuntimeError(f"h2load: {res['requests']}, status {res['status']}")


#: How each protocol's sequential requests are sent, for the notes.
DRIVERS = {
    "h1": "sequential keep-alive requests on one connection",
    "grpc": "sequential gRPC unary calls on one h2c connection (h2load -c1 -m1 -n N)",
}


def drive(ctx: Ctx, sc: Scenario, port: int, n: int, timeout: float) -> None:
    """`n` sequential requests of the scenario's kind through the proxy."""
    if sc.protocol == "h1":
        sequential_requests(port, ctx.origin.path(sc), n, timeout)
    elif sc.protocol == "grpc":
        sequential_grpc(ctx, sc, port, n, timeout)
    else:
        raise RuntimeError(f"no sequential driver for {sc.protocol}")


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


def callgrind_note(sc: Scenario) -> str:
    return (
        "user-space instructions (Ir) of the proxy under callgrind, 1 worker, "
        f"{DRIVERS[sc.protocol]}, (Ir(N2)-Ir(N1))/(N2-N1); "
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
        # One directory per scenario, proxy and N: every file in it is summed.
        outdir = ctx.tmp / f"callgrind-{sc.name}-{proxy.name}-{n}"
        outdir.mkdir(parents=True, exist_ok=True)
        vg = [
            ctx.tools.valgrind,
            "--tool=callgrind",
            "-q",
            f"--callgrind-out-file={outdir}/callgrind.out.%p",
        ]
        inst = proxy.start(sc, f"callgrind-{sc.name}-{n}", valgrind=vg)
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
        "note": callgrind_note(sc),
    }


def perf_instructions(ctx: Ctx, proxy: Proxy, sc: Scenario, n1: int, n2: int) -> dict[str, Any]:
    """perf stat attached to the running proxy (1 worker) over N2 requests."""
    inst = proxy.start(sc, f"perf-{sc.name}", valgrind=[])  # empty wrapper: single-worker mode
    try:
        pids = ",".join(str(p) for p in proc_tree(inst.proc.pid))
        outf = ctx.tmp / f"perf-{sc.name}-{proxy.name}.txt"
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
            "note": f"user-space instructions of all proxy processes, 1 worker, {DRIVERS[sc.protocol]}",
        }
    finally:
        proxy.stop(inst)
