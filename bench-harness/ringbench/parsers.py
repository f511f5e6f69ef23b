"""Pure parsers of the load generators' and counters' output: wrk, wrk2,
h2load (summary and --log-file), bench-load --json, callgrind's totals and
perf stat -x. Strict: a missing field is an error, not a zero, except for
wrk's optional error lines. Also the percentile arithmetic they share."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable

_UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def wrk_duration_us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_US[m.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    m = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'Requests/sec:' line:\n" + out[-2000:])
    res: dict[str, Any] = {"rps": float(m.group(1))}
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'N requests in' line:\n" + out[-2000:])
    res["requests"] = int(m.group(1))
    res["elapsed_s"] = float(m.group(2)) * _UNIT_US[m.group(3)] / 1e6
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+", out, re.M)
    if not m:
        raise ValueError("wrk output has no 'Latency' line:\n" + out[-2000:])
    res["latency_mean_us"] = wrk_duration_us(m.group(1))
    res["latency_max_us"] = wrk_duration_us(m.group(3))
    errs = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if m:
        errs = dict(zip(errs, map(int, m.groups())))
    res["socket_errors"] = errs
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    pcts = {}
    for pm in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M):
        pcts[pm.group(1)] = wrk_duration_us(pm.group(2))
    res["latency_percentiles_us"] = pcts
    res["errors"] = sum(errs.values()) + res["non_2xx"]
    return res


def parse_wrk2(out: str) -> dict[str, Any]:
    """wrk2 --latency: the HdrHistogram recorded-latency section and spectrum."""
    res = parse_wrk(out)
    sec = out.split("Latency Distribution (HdrHistogram - Recorded Latency)", 1)
    if len(sec) != 2:
        raise ValueError("wrk2 output has no 'Latency Distribution (HdrHistogram - Recorded Latency)'")
    body = sec[1]
    pct = {}
    for m in re.finditer(r"^\s*([\d.]+)%\s+(\S+)\s*$", body.split("Detailed Percentile spectrum", 1)[0], re.M):
        pct[float(m.group(1))] = wrk_duration_us(m.group(2))
    need = {50.0: "p50", 90.0: "p90", 99.0: "p99", 99.9: "p999"}
    lat = {}
    for p, key in need.items():
        if p not in pct:
            raise ValueError(f"wrk2 output lacks the {p}% percentile")
        lat[key] = pct[p]
    spectrum = []
    for m in re.finditer(r"^\s+([\d.]+)\s+([01]\.\d+)\s+(\d+)\s+(\S+)\s*$", body, re.M):
        spectrum.append([float(m.group(2)) * 100.0, float(m.group(1)) * 1e3])  # ms -> us
    res["latency_us"] = lat
    res["spectrum"] = spectrum
    return res


def parse_h2load(out: str) -> dict[str, Any]:
    """h2load's summary. Its "failed" already counts every request that did
    not end in a 2xx/3xx answer: the errored ones (timeouts included) and
    the 4xx/5xx answers; 3xx answers count as "succeeded". So the errors are
    failed + 3xx (adding errored, timeout or 4xx/5xx again would count them
    twice)."""
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", out)
    if not m:
        raise ValueError("h2load output has no 'finished in' line:\n" + out[-2000:])
    res: dict[str, Any] = {
        "elapsed_s": float(m.group(1)) * _UNIT_US[m.group(2)] / 1e6,
        "rps": float(m.group(3)),
    }
    m = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        out,
    )
    if not m:
        raise ValueError("h2load output has no 'requests:' line:\n" + out[-2000:])
    keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
    res["requests"] = dict(zip(keys, map(int, m.groups())))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not m:
        raise ValueError("h2load output has no 'status codes:' line:\n" + out[-2000:])
    res["status"] = dict(zip(["2xx", "3xx", "4xx", "5xx"], map(int, m.groups())))
    r = res["requests"]
    non_2xx = res["status"]["3xx"] + res["status"]["4xx"] + res["status"]["5xx"]
    res["non_2xx"] = non_2xx
    res["errors"] = r["failed"] + res["status"]["3xx"]
    return res


BENCH_LOAD_KEYS = ("requests", "responses_2xx", "non_2xx", "errors", "achieved_rate", "latency_us", "spectrum")


def parse_bench_load(out: str) -> dict[str, Any]:
    """bench-load --json: one JSON object with every documented key.
    Unlike the other parsers, `errors` does not include `non_2xx`."""
    try:
        res = json.loads(out)
    except json.JSONDecodeError as e:
        raise ValueError(f"bench-load printed no JSON ({e}): {out[-500:]}") from None
    if not isinstance(res, dict):
        raise ValueError(f"bench-load printed {type(res).__name__}, not a JSON object")
    for key in BENCH_LOAD_KEYS:
        if key not in res:
            raise ValueError(f"bench-load JSON lacks {key!r}")
    return res


def percentile(sorted_vals: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an ascending list."""
    if not sorted_vals:
        raise ValueError("no values")
    if p <= 0:
        return sorted_vals[0]
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


SPECTRUM_PCTS = [0.0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100.0]


def latency_summary(lat_us: list[float]) -> tuple[dict[str, float], list[list[float]]]:
    s = sorted(lat_us)
    lat = {
        "min": s[0],
        "mean": sum(s) / len(s),
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "p999": percentile(s, 99.9),
        "max": s[-1],
    }
    return lat, [[p, percentile(s, p)] for p in SPECTRUM_PCTS]


def parse_h2load_log(lines: Iterable[str], done: int) -> dict[str, Any]:
    """Latency percentiles from h2load's --log-file lines (columns: start µs
    since epoch, status, µs until the end of the response). Rows of the
    warm-up are dropped by count: the last `done` rows (h2load's "done" for
    the measured period) are the measured ones."""
    rows = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) >= 3:
            rows.append((int(parts[0]), int(parts[1]), int(parts[2])))
    rows.sort()
    measured = rows[-done:] if 0 < done <= len(rows) else rows
    lat = [float(r[2]) for r in measured if r[1] >= 0]
    if not lat:
        raise ValueError("h2load logged no completed request")
    summary, spectrum = latency_summary(lat)
    return {"latency_us": summary, "spectrum": spectrum, "logged_rows": len(rows)}


def parse_callgrind_total(text: str) -> int | None:
    """The event total (Ir) of one callgrind output file, or None."""
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def parse_perf_instructions(text: str) -> int:
    """The instructions count from `perf stat -x, -e instructions:u`."""
    m = re.search(r"^(\d+),[^,]*,instructions", text, re.M)
    if not m:
        raise ValueError(f"cannot parse perf output: {text[-300:]}")
    return int(m.group(1))
