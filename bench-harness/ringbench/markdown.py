"""results.md: the run's header, then per scenario a table of the figures
("median (min–max)"), the ratios to nginx and the notes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .scenarios import METRICS, SCENARIOS
from .util import fmt_secs


def sig(v: float, digits: int = 3) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    return f"{v:,.{decimals}f}"


def fmt_value(metric: str, v: float) -> str:
    if metric in ("max_rps", "achieved_rate", "instructions_per_request"):
        return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:,.0f}"
    if metric.startswith("latency_"):
        return sig(v / 1000)  # ms
    if metric in ("errors", "swaps", "reloads_ok", "reloads_failed"):
        return f"{v:,.0f}"
    if metric.endswith("_mib"):
        return f"{v:,.1f}"
    return sig(v)


def fmt_cell(metric: str, m: dict[str, Any] | None) -> str:
    if not m:
        return "–"
    if "unavailable" in m:
        return "n/a"
    if "error" in m:
        return "error"
    med, lo, hi = m["median"], m["min"], m["max"]
    if len(m["samples"]) == 1 or lo == hi:
        return fmt_value(metric, med)
    return f"{fmt_value(metric, med)} ({fmt_value(metric, lo)}–{fmt_value(metric, hi)})"


def column_label(metric: str) -> str:
    label = METRICS[metric][0]
    return f"{label} ms" if metric.startswith("latency_") else label


MD_COLUMNS_HTTP = [
    "max_rps",
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p99_us",
    "latency_p999_us",
    "peak_rss_mib",
    "errors",
    "instructions_per_request",
]
MD_COLUMNS_RELOAD = [
    "swaps",
    "reloads_ok",
    "reloads_failed",
    "errors",
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p99_us",
    "latency_p999_us",
    "peak_rss_mib",
]


def header(results: dict[str, Any]) -> list[str]:
    mi = results["machine"]
    opt = results["options"]
    lines = [
        "# ringway benchmark results",
        "",
        f"- Machine: {mi['cpu_model']}, {mi['cpus']} CPUs, {mi['memory_gib']} GiB, Linux {mi['kernel']}",
        f"- Proxies on CPU {opt['proxy_cpus']} with {opt['workers']} worker(s) each; "
        f"load generator and origin ({opt['origin_used']}) on CPU {opt['load_cpus']}",
        f"- {opt['rounds']} round(s), proxies interleaved; {fmt_secs(opt['duration_s'])} s per measurement "
        f"after {fmt_secs(opt['warmup_s'])} s of warm-up; fixed-rate runs with {opt['rate_tool']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in mi["versions"].items()),
        f"- Commit: {mi['git']}; finished {results['finished_at']} after {results['elapsed_s']:.0f} s",
        f"- Command: `{results['command']}`",
        "",
        "Cells: median over rounds (min–max). Latency: coordinated-omission corrected "
        "at the fixed offered rate (h2/gRPC: h2load --rps, not corrected). CPU µs/req: the proxy's "
        "utime+stime over the measured window / requests. RSS: peak of the summed VmRSS of the "
        "proxy's processes. Errors: socket errors, failed exchanges and non-2xx answers over both runs. "
        "Ratios: median / nginx's median (for max req/s higher is better, for the rest lower).",
        "",
    ]
    for w in results.get("warnings", []):
        lines.append(f"> warning: {w}")
    if results.get("warnings"):
        lines.append("")
    return lines


def scenario_section(name: str, scr: dict[str, Any], out_dir: Path) -> list[str]:
    sc = SCENARIOS[name]
    cols = MD_COLUMNS_RELOAD if sc.ringway_only else [
        c for c in MD_COLUMNS_HTTP if c != "instructions_per_request" or sc.instructions
    ]
    rate = scr["offered_rate"]
    lines = [f"## {name}", "", scr["summary"] + ".", ""]
    how = []
    if not sc.ringway_only:
        how.append(f"max req/s: {scr['max_tool']}, closed loop")
    how.append(f"CPU, latency: {rate:g} req/s offered by {scr['rate_tool']}")
    lines += ["- " + "; ".join(how)]
    lines += [f"- {n}" for n in scr.get("notes", [])] + [""]
    lines.append("| proxy | " + " | ".join(column_label(c) for c in cols) + " |")
    lines.append("|---|" + "---|" * len(cols))
    ratio_rows = []
    for proxy, pr in scr["proxies"].items():
        if pr["status"] in ("unsupported", "skipped"):
            lines.append(f"| {proxy} | {pr['reason']} |" + " |" * (len(cols) - 1))
            continue
        cells = [fmt_cell(c, pr["metrics"].get(c)) for c in cols]
        status = "" if pr["status"] == "ok" else f" ({pr['status']})"
        lines.append(f"| {proxy}{status} | " + " | ".join(cells) + " |")
        ratios = []
        for c in cols:
            r = (pr["metrics"].get(c) or {}).get("ratio_to_nginx")
            ratios.append(f"{r:.2f}×" if isinstance(r, (int, float)) else "–")
        ratio_rows.append(f"| {proxy} | " + " | ".join(ratios) + " |")
    lines.append("")
    if not sc.ringway_only and any("×" in r for r in ratio_rows):
        lines.append("Ratio to nginx:")
        lines.append("")
        lines.append("| proxy | " + " | ".join(METRICS[c][0] for c in cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        lines += ratio_rows
        lines.append("")
    methods = sorted({
        m["detail"]["note"] + f" (N1, N2 = {', '.join(map(str, m['detail']['requests']))})"
        for pr in scr["proxies"].values()
        for k, m in pr.get("metrics", {}).items()
        if k == "instructions_per_request" and "detail" in m
    })
    for note in methods:
        lines.append(f"- instructions/req: {note}")
    for proxy, pr in scr["proxies"].items():
        for u, m in pr.get("metrics", {}).items():
            if "unavailable" in m:
                lines.append(f"- {proxy} {METRICS[u][0]}: n/a — {m['unavailable']}")
        for e in pr.get("errors", []):
            lines.append(f"- {proxy}: error — {e.splitlines()[0] if e else e}")
    lines.append("")
    if (out_dir / f"latency-{name}.svg").exists():
        lines += [f"![latency {name}](latency-{name}.svg)", ""]
    return lines


def write_markdown(results: dict[str, Any], path: Path) -> None:
    lines = header(results)
    out_dir = Path(path).parent
    for name, scr in results["scenarios"].items():
        lines += scenario_section(name, scr, out_dir)
    if (out_dir / "throughput.svg").exists():
        lines += ["## Max throughput", "", "![max throughput](throughput.svg)", ""]
    path.write_text("\n".join(lines))
