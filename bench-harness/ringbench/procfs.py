"""/proc probes: CPU time (utime+stime, schedstat) and memory (VmRSS, VmHWM)
of a process and of a process tree, and a thread sampling peak RSS."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def proc_tree(root: int) -> list[int]:
    """`root` and all its descendants (via /proc/PID/task/*/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if not os.path.exists(f"/proc/{pid}"):
            continue
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
                except OSError:
                    pass
        except OSError:
            pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """Sum of utime+stime (seconds) over `pids`, all threads included; a
    process that is gone counts zero."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / CLK_TCK


def pid_cpu_seconds(pid: int) -> float:
    """utime+stime (seconds) of one live process, all its threads; raises
    if it is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def pid_rss_kib(pid: int) -> int:
    """Resident set of one live process (from /proc/PID/statm), KiB."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB


def sched_cpu_seconds(pids: list[int]) -> float:
    """Sum of on-CPU time from /proc/PID/task/*/schedstat (ns precision)."""
    ns = 0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                        ns += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            pass
    return ns / 1e9


def mem_kib(pids: list[int]) -> tuple[int, int]:
    """(sum of VmRSS, sum of VmHWM) in KiB over `pids`."""
    rss = hwm = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return rss, hwm


class MemSampler(threading.Thread):
    """Samples the summed VmRSS / VmHWM of a process tree every 100 ms."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.stop_event = threading.Event()
        self.peak_rss_kib = 0
        self.peak_hwm_kib = 0
        self.samples = 0
        self.max_procs = 0

    def sample(self) -> None:
        pids = proc_tree(self.root)
        rss, hwm = mem_kib(pids)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        self.peak_hwm_kib = max(self.peak_hwm_kib, hwm)
        self.max_procs = max(self.max_procs, len(pids))
        self.samples += 1

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def finish(self) -> dict[str, Any]:
        self.sample()  # last one, processes still alive
        self.stop_event.set()
        self.join(timeout=5)
        return {
            "peak_rss_kib": self.peak_rss_kib,
            "vmhwm_kib": self.peak_hwm_kib,
            "samples": self.samples,
            "processes": self.max_procs,
        }
