"""The SVG charts: latency by percentile at the fixed rate per scenario
(latency-<scenario>.svg, "nines" x axis) and max throughput per scenario
and proxy (throughput.svg)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .scenarios import SCENARIOS

COLORS = {"ringway": "#d62728", "nginx": "#2ca02c", "haproxy": "#1f77b4", "envoy": "#9467bd"}


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def nice_ceiling(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def nines(p: float, cap: float) -> float:
    """x position of percentile p (0..100) on the 'nines' scale: 90 -> 1, 99 -> 2."""
    if p >= 100:
        return cap
    return min(cap, -math.log10(1 - p / 100.0))


def latency_svg(name: str, rate: float, series: dict[str, list[list[float]]], path: Path) -> None:
    W, H, L, R, T, B = 760, 440, 70, 150, 40, 50
    pw, ph = W - L - R, H - T - B
    finite = [nines(p, 99) for s in series.values() for p, _ in s if p < 100]
    cap = max(3.0, math.ceil(max(finite, default=3.0) + 0.5))
    ymax = nice_ceiling(max((v for s in series.values() for _, v in s), default=1.0) / 1000)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<text x="{L}" y="22" font-size="15">{esc(name)}: latency by percentile at {rate:g} req/s</text>',
    ]
    for i in range(int(cap) + 1):
        x = L + pw * i / cap
        label = "0%" if i == 0 else ("max" if i == cap else f"{100 - 100 / 10 ** i:g}%")
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{T + ph + 16}" text-anchor="middle">{label}</text>')
    for i in range(6):
        v = ymax * i / 5
        y = T + ph - ph * i / 5
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">percentile</text>')
    out.append(
        f'<text x="16" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {T + ph / 2})">'
        "latency (ms)</text>"
    )
    for i, (proxy, spec) in enumerate(series.items()):
        color = COLORS.get(proxy, "#333")
        pts = " ".join(
            f"{L + pw * nines(p, cap) / cap:.1f},{T + ph - ph * min(v / 1000, ymax) / ymax:.1f}"
            for p, v in sorted(spec)
        )
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = T + 10 + 20 * i
        out.append(f'<line x1="{L + pw + 15}" y1="{ly}" x2="{L + pw + 40}" y2="{ly}" stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{L + pw + 46}" y="{ly + 4}">{esc(proxy)}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def throughput_svg(results: dict[str, Any], path: Path) -> None:
    panels = []
    for name, scr in results["scenarios"].items():
        if SCENARIOS[name].ringway_only:
            continue
        panels.append((name, scr))
    proxies = results["options"]["proxies"]
    pw_each, H, T, B, L = 190, 360, 50, 70, 10
    W = L + pw_each * max(1, len(panels)) + 10
    ph = H - T - B
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<text x="{L + 4}" y="20" font-size="15">max requests/s per scenario (median, whiskers min–max)</text>',
    ]
    for i, (name, scr) in enumerate(panels):
        x0 = L + i * pw_each + 45
        inner = pw_each - 60
        vals = [
            (p, scr["proxies"].get(p, {}).get("metrics", {}).get("max_rps"))
            for p in proxies
        ]
        step = nice_ceiling(max((m["max"] for _, m in vals if m and "max" in m), default=1.0) / 4)
        top = step * 4
        out.append(f'<text x="{x0 + inner / 2}" y="{T - 8}" text-anchor="middle" font-weight="bold">{esc(name)}</text>')
        for k in range(5):
            v = top * k / 4
            y = T + ph - ph * k / 4
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + inner}" y2="{y:.1f}" stroke="#ddd"/>')
            label = f"{v / 1000:g}k" if top >= 10000 else f"{v:g}"
            out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        bw = inner / max(1, len(vals))
        for j, (p, m) in enumerate(vals):
            bx = x0 + j * bw + bw * 0.1
            w = bw * 0.8
            color = COLORS.get(p, "#333")
            if m and "median" in m:
                h = ph * m["median"] / top
                out.append(
                    f'<rect x="{bx:.1f}" y="{T + ph - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}">'
                    f"<title>{esc(p)}: {m['median']:.0f} req/s</title></rect>"
                )
                ylo = T + ph - ph * m["min"] / top
                yhi = T + ph - ph * m["max"] / top
                cx = bx + w / 2
                out.append(f'<line x1="{cx:.1f}" y1="{ylo:.1f}" x2="{cx:.1f}" y2="{yhi:.1f}" stroke="black"/>')
                for yy in (ylo, yhi):
                    out.append(f'<line x1="{cx - 4:.1f}" y1="{yy:.1f}" x2="{cx + 4:.1f}" y2="{yy:.1f}" stroke="black"/>')
            else:
                out.append(f'<text x="{bx + w / 2:.1f}" y="{T + ph - 4}" text-anchor="middle" font-size="9">n/a</text>')
            out.append(
                f'<text x="{bx + w / 2:.1f}" y="{T + ph + 12}" text-anchor="end" font-size="10" '
                f'transform="rotate(-45 {bx + w / 2:.1f} {T + ph + 12})">{esc(p)}</text>'
            )
        out.append(f'<line x1="{x0}" y1="{T + ph}" x2="{x0 + inner}" y2="{T + ph}" stroke="#444"/>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def median_round_spectrum(pr: dict[str, Any]) -> list[list[float]] | None:
    """The spectrum of the round whose p99 is the median one."""
    rounds = [r for r in pr.get("rounds", []) if "rate" in r and r["rate"].get("spectrum")]
    if not rounds:
        return None
    rounds.sort(key=lambda r: r["rate"]["latency_us"]["p99"])
    return rounds[(len(rounds) - 1) // 2]["rate"]["spectrum"]


def write_svgs(results: dict[str, Any], out: Path) -> list[str]:
    written = []
    for name, scr in results["scenarios"].items():
        series = {}
        for proxy, pr in scr["proxies"].items():
            s = median_round_spectrum(pr)
            if s:
                series[proxy] = s
        if series:
            latency_svg(name, scr["offered_rate"], series, out / f"latency-{name}.svg")
            written.append(f"latency-{name}.svg")
    throughput_svg(results, out / "throughput.svg")
    written.append("throughput.svg")
    return written
