"""What is measured: the scenarios, which protocols each proxy is measured
on, and the metrics table (names, labels, units, which way is better)."""

from __future__ import annotations

from dataclasses import dataclass

# What each proxy can do. Flip an entry when a proxy gains a protocol; the
# reason is what the results show for a protocol it does not speak yet.
CAPABILITIES: dict[str, dict[str, bool]] = {
    "ringway": {"h1": True, "h2": True, "grpc": True},
    "nginx": {"h1": True, "h2": True, "grpc": True},
    "haproxy": {"h1": True, "h2": True, "grpc": True},
    "envoy": {"h1": True, "h2": True, "grpc": True},
}
UNSUPPORTED_REASON: dict[str, str] = {}
ALL_PROXIES = ["ringway", "nginx", "haproxy", "envoy"]
# Proxies that must have complete results wherever they are capable (--check):
# the others may be skipped when not installed.
REQUIRED_PROXIES = ("ringway", "nginx", "haproxy")


@dataclass(frozen=True)
class Scenario:
    name: str
    protocol: str  # "h1" | "h2" | "grpc"
    summary: str
    connections: int
    streams: int = 1  # concurrent streams per connection (h2, gRPC)
    body_bytes: int = 128
    rate_scale: float = 1.0  # offered rate = --rate x rate_scale
    new_connection: bool = False
    ringway_only: bool = False
    instructions: bool = False  # also count instructions per request


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "h1-keepalive",
            "h1",
            "HTTP/1.1 keep-alive, 128-byte responses, 64 client connections",
            connections=64,
            instructions=True,
        ),
        Scenario(
            "h1-1mib",
            "h1",
            "HTTP/1.1 keep-alive, 1 MiB responses, 16 client connections",
            connections=16,
            body_bytes=1 << 20,
            rate_scale=0.03,
        ),
        Scenario(
            "h1-newconn",
            "h1",
            "HTTP/1.1, a new client connection per request (Connection: close), "
            "128-byte responses, 64 concurrent",
            connections=64,
            new_connection=True,
            rate_scale=0.3,
        ),
        Scenario(
            "h2-multiplexed",
            "h2",
            "HTTP/2 cleartext (prior knowledge) from the client, 4 connections x "
            "32 concurrent streams, 128-byte responses; HTTP/1.1 keep-alive to the origin",
            connections=4,
            streams=32,
        ),
        Scenario(
            "grpc-unary",
            "grpc",
            "gRPC unary calls over h2c, 4 connections x 32 concurrent streams, "
            "64-byte request and 128-byte response messages; h2c to the origin",
            connections=4,
            streams=32,
            rate_scale=0.5,
            instructions=True,
        ),
        Scenario(
            "ringway-reload",
            "h1",
            "ringway alone: constant-rate HTTP/1.1 keep-alive load (64 connections) "
            "while the configuration file is rewritten and SIGHUP sent every 150 ms",
            connections=64,
            ringway_only=True,
        ),
    ]
}
SCENARIO_ORDER = list(SCENARIOS)
RELOAD_INTERVAL_S = 0.15
# h2load --rps is trusted when it achieves the target within this fraction.
H2LOAD_RATE_TOLERANCE = 0.10
GRPC_PATH = "/ringway.bench.Bench/Unary"

# Metric name -> (label, unit, better: "higher" | "lower" | None).
METRICS: dict[str, tuple[str, str, str | None]] = {
    "max_rps": ("max req/s", "req/s", "higher"),
    "cpu_us_per_request": ("CPU µs/req", "µs", "lower"),
    "latency_p50_us": ("p50", "µs", "lower"),
    "latency_p90_us": ("p90", "µs", "lower"),
    "latency_p99_us": ("p99", "µs", "lower"),
    "latency_p999_us": ("p99.9", "µs", "lower"),
    "achieved_rate": ("achieved req/s", "req/s", None),
    "peak_rss_mib": ("peak RSS MiB", "MiB", "lower"),
    "vmhwm_mib": ("VmHWM MiB", "MiB", "lower"),
    "errors": ("errors", "count", "lower"),
    "instructions_per_request": ("instructions/req", "instructions", "lower"),
    "swaps": ("config swaps", "count", None),
    "reloads_ok": ("reloads ok", "count", None),
    "reloads_failed": ("reloads failed", "count", "lower"),
}
RATE_METRICS = [
    "cpu_us_per_request",
    "latency_p50_us",
    "latency_p90_us",
    "latency_p99_us",
    "latency_p999_us",
    "achieved_rate",
]
MEMORY_METRICS = ["peak_rss_mib", "vmhwm_mib"]
# Counts that must be zero in every round (`--check` fails otherwise).
ERROR_METRICS = ["errors", "reloads_failed"]


def scenario_metrics(sc: Scenario) -> list[str]:
    """The metrics every capable proxy must have for this scenario."""
    if sc.ringway_only:
        return ["swaps", "reloads_ok", "reloads_failed", "errors"] + RATE_METRICS + MEMORY_METRICS
    names = ["max_rps"] + RATE_METRICS + MEMORY_METRICS + ["errors"]
    if sc.instructions:
        names.append("instructions_per_request")
    return names
