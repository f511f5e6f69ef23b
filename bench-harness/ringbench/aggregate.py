"""From rounds to figures: per scenario and proxy, each metric's median,
min, max and samples, its ratio to nginx, and the notes and warnings the
figures call for (proxy not CPU-bound at max, offered rate too high)."""

from __future__ import annotations

import statistics
from typing import Any

from .scenarios import METRICS, RATE_METRICS, Scenario, scenario_metrics
from .util import log


def summarize(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


def proxy_metrics(sc: Scenario, pr: dict[str, Any], instr: dict[str, Any]) -> dict[str, Any]:
    """The metrics of one proxy's rounds (and its instruction count)."""
    metrics: dict[str, Any] = {}
    for metric in scenario_metrics(sc):
        if metric == "instructions_per_request":
            if "value" in instr:
                metrics[metric] = summarize([instr["value"]]) | {"method": instr["method"], "detail": instr}
            elif "unavailable" in instr:
                metrics[metric] = {"unavailable": instr["unavailable"]}
            continue
        unreliable = [rec["rate"]["unreliable"] for rec in pr["rounds"] if rec["rate"].get("unreliable")]
        if metric in RATE_METRICS and unreliable:
            metrics[metric] = {"unavailable": unreliable[0]}
            continue
        samples = [rec["values"][metric] for rec in pr["rounds"] if metric in rec["values"]]
        if samples:
            metrics[metric] = summarize(samples)
    for metric, m in metrics.items():
        m["unit"] = METRICS[metric][1]
    return metrics


def aggregate_scenario(
    sc: Scenario,
    rate: float,
    scr: dict[str, Any],
    runnable: list[str],
    instr: dict[str, dict[str, Any]],
    results: dict[str, Any],
) -> None:
    """Fills in scr["proxies"][*]["metrics"], the ratios, notes and warnings."""
    for name in runnable:
        pr = scr["proxies"][name]
        pr["metrics"] = proxy_metrics(sc, pr, instr.get(name, {}))
        if pr["errors"]:
            pr["status"] = "failed"
    base = scr["proxies"].get("nginx", {}).get("metrics", {})
    for name in runnable:
        for metric, m in scr["proxies"][name]["metrics"].items():
            b = base.get(metric, {}).get("median")
            if "median" in m:
                m["ratio_to_nginx"] = (m["median"] / b) if b else None
    for name in runnable:
        utils = [r["max"]["proxy_cpu_utilization"] for r in scr["proxies"][name]["rounds"] if "max" in r]
        if utils:
            scr["proxies"][name]["max_proxy_cpu_utilization"] = statistics.median(utils)
            if statistics.median(utils) < 0.9:
                scr["notes"].append(
                    f"{name}'s max req/s is not CPU-bound: {name} was {statistics.median(utils):.0%} busy "
                    "during the max-throughput runs, so the load generator or the origin set the limit"
                )
    # The offered rate must be below every proxy's max.
    for name in runnable:
        for rec in scr["proxies"][name]["rounds"]:
            ach = rec["rate"].get("achieved_rate", 0)
            if ach < 0.95 * rate:
                w = (f"{sc.name}: {name} answered {ach:.0f}/s of the {rate:g}/s offered in round "
                     f"{rec['round']} (saturated?)")
                results["warnings"].append(w)
                log(f"warning: {w}")
        mx = scr["proxies"][name]["metrics"].get("max_rps", {}).get("median")
        if mx and rate > 0.8 * mx:
            w = f"{sc.name}: offered rate {rate:g}/s is over 80% of {name}'s max {mx:.0f}/s; lower --rate"
            results["warnings"].append(w)
            log(f"warning: {w}")
