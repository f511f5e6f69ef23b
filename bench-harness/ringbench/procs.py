"""Process supervision: every process the harness starts is pinned with
taskset, runs in its own session, dies with the harness (PR_SET_PDEATHSIG via
setpriv), is tracked by PID and stopped on exit, error or signal. Also the
CPU-list and open-file-limit helpers that pinning needs."""

from __future__ import annotations

import atexit
import os
import resource
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


class Interrupted(BaseException):
    """Raised from a signal handler so that every `finally` runs."""


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


def default_cpu_split() -> tuple[list[int], list[int]]:
    """(proxy CPUs, load CPUs): on 2 CPUs 1 and 0; else the upper and lower half."""
    avail = sorted(os.sched_getaffinity(0))
    if len(avail) == 1:
        return avail, avail
    half = len(avail) // 2
    return avail[half:], avail[:half]


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
