"""`--check DIR`: is DIR a complete set of results (every requested
scenario, every capable proxy, every metric with one numeric sample per
round or "n/a" with a reason, results.md and the SVGs parse), and is every
error count it recorded zero (socket errors, failed or timed-out requests,
non-2xx answers, failed reloads)?"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

from typing import Any

from .scenarios import CAPABILITIES, ERROR_METRICS, REQUIRED_PROXIES, SCENARIOS, scenario_metrics


def check_results(d: Path) -> list[str]:
    """Problems that make the results directory incomplete (empty: complete)."""
    problems: list[str] = []
    try:
        res = json.loads((d / "results.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        return [f"results.json: {e}"]
    for key in ("schema", "machine", "options", "command", "scenarios", "finished_at"):
        if key not in res:
            problems.append(f"results.json lacks {key!r}")
    if problems:
        return problems
    opt = res["options"]
    rounds = opt.get("rounds", 0)
    for key in ("cpu_model", "cpus", "kernel", "versions"):
        if not res["machine"].get(key):
            problems.append(f"machine info lacks {key!r}")
    for name in opt.get("scenarios", []):
        sc = SCENARIOS.get(name)
        scr = res["scenarios"].get(name)
        if sc is None or scr is None:
            problems.append(f"scenario {name}: missing")
            continue
        wanted = ["ringway"] if sc.ringway_only else opt["proxies"]
        for proxy in wanted:
            pr = scr["proxies"].get(proxy)
            where = f"{name}/{proxy}"
            if pr is None:
                problems.append(f"{where}: missing")
                continue
            status = pr.get("status")
            capable = CAPABILITIES.get(proxy, {}).get(sc.protocol, False)
            if status in ("unsupported", "skipped"):
                if not pr.get("reason"):
                    problems.append(f"{where}: {status} without a reason")
                if status == "unsupported" and capable:
                    problems.append(f"{where}: marked unsupported, but the capability table says it is supported")
                if status == "skipped" and proxy in REQUIRED_PROXIES and proxy in opt["proxies"]:
                    problems.append(f"{where}: skipped ({pr.get('reason')})")
                continue
            if status != "ok":
                problems.append(f"{where}: status {status!r}: {'; '.join(pr.get('errors', []))[:300]}")
            metrics = pr.get("metrics", {})
            for metric in scenario_metrics(sc):
                m = metrics.get(metric)
                if m is None:
                    problems.append(f"{where}: metric {metric} missing")
                elif "unavailable" in m:
                    if not str(m["unavailable"]).strip():
                        problems.append(f"{where}: metric {metric} unavailable without a reason")
                else:
                    vals = [m.get("median"), m.get("min"), m.get("max")] + list(m.get("samples", []))
                    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
                        problems.append(f"{where}: metric {metric} has non-numeric values: {m}")
                    expected = 1 if metric == "instructions_per_request" else rounds
                    if len(m.get("samples", [])) != expected:
                        problems.append(
                            f"{where}: metric {metric} has {len(m.get('samples', []))} samples, expected {expected}"
                        )
        has_latency = any(
            "latency_p99_us" in p.get("metrics", {}) and "median" in p["metrics"]["latency_p99_us"]
            for p in scr["proxies"].values()
        )
        if has_latency:
            svg = d / f"latency-{name}.svg"
            problems += check_svg(svg)
    problems += check_svg(d / "throughput.svg")
    md = d / "results.md"
    try:
        text = md.read_text()
        for name in opt.get("scenarios", []):
            if f"## {name}" not in text:
                problems.append(f"results.md has no section for {name}")
    except OSError as e:
        problems.append(f"results.md: {e}")
    return problems


def check_svg(path: Path) -> list[str]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"{path.name}: {e}"]
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        return [f"{path.name}: root element is {root.tag}, not svg"]
    return []


# Where a round records error counts: the generator's parsed output of the
# max-throughput run ("max") and of the fixed-rate run ("rate") -- wrk's
# socket errors and non-2xx, h2load's failed/errored/timeout requests and
# non-2xx, bench-load's errors and non-2xx -- and the reload counts.
_COUNT_KEYS = ("errors", "non_2xx")
_NESTED_COUNT_KEYS = {
    "socket_errors": ("connect", "read", "write", "timeout"),
    "requests": ("failed", "errored", "timeout"),
}


def round_error_counts(rec: dict[str, Any]) -> dict[str, int]:
    """The nonzero error counts of one round record, by where they were
    recorded ("rate.non_2xx", "max.socket_errors.timeout", ...)."""
    found: dict[str, int] = {}
    for part in ("max", "rate"):
        run = rec.get(part)
        if not isinstance(run, dict):
            continue
        for key in _COUNT_KEYS:
            v = run.get(key)
            if isinstance(v, (int, float)) and v > 0:
                found[f"{part}.{key}"] = int(v)
        for key, subkeys in _NESTED_COUNT_KEYS.items():
            sub = run.get(key)
            if not isinstance(sub, dict):
                continue
            for sk in subkeys:
                v = sub.get(sk)
                if isinstance(v, (int, float)) and v > 0:
                    found[f"{part}.{key}.{sk}"] = int(v)
    failed = (rec.get("reload") or {}).get("reloads_failed")
    if isinstance(failed, (int, float)) and failed > 0:
        found["reload.reloads_failed"] = int(failed)
    return found


def error_problems(res: dict[str, Any]) -> list[str]:
    """Every nonzero error count in a results.json document."""
    problems: list[str] = []
    for name, scr in res.get("scenarios", {}).items():
        for proxy, pr in scr.get("proxies", {}).items():
            where = f"{name}/{proxy}"
            per_round = False
            for rec in pr.get("rounds", []):
                counts = round_error_counts(rec)
                if counts:
                    per_round = True
                    listed = ", ".join(f"{k} {v}" for k, v in counts.items())
                    problems.append(f"{where} round {rec.get('round', '?')}: {listed}")
            if per_round:
                continue
            for metric in ERROR_METRICS:
                m = pr.get("metrics", {}).get(metric) or {}
                bad = [v for v in m.get("samples", []) if isinstance(v, (int, float)) and v > 0]
                if bad:
                    problems.append(f"{where}: {metric} {', '.join(f'{v:g}' for v in bad)}")
    return problems


def check_errors(d: Path) -> list[str]:
    """Nonzero error counts recorded in DIR/results.json (empty: none)."""
    try:
        res = json.loads((d / "results.json").read_text())
    except (OSError, json.JSONDecodeError):
        return []  # check_results reports an unreadable results.json
    return error_problems(res)
