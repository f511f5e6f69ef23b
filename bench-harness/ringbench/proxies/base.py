"""What every proxy has in common: start one for a scenario (config file
written, saved under OUT/configs, pinned, optionally under valgrind with one
worker), wait until a request goes through it, stop it."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..context import Ctx
from ..measure import h2load_base
from ..procs import PROCS, Interrupted
from ..scenarios import Scenario
from ..util import HOST, first_line, free_port, http_get, port_open, tail, wait_until


@dataclass
class Instance:
    proxy: str
    proc: subprocess.Popen
    port: int
    log: Path
    config: Path
    admin_port: int | None = None
    command: str = ""


def worker_masks(cpus: list[int], workers: int) -> list[int]:
    return [cpus[i % len(cpus)] for i in range(workers)]


class Proxy:
    name = ""
    binary_name = ""
    #: Where a distribution installs it when it is not on PATH.
    sbin: str | None = None
    version_flag = "--version"
    #: Cut from the version line (e.g. "nginx version: ").
    version_prefix = ""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

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
        inst = Instance(self.name, proc, port, logf, cfg, command=shlex.join(cmd))
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
