"""ringbench.parsers on captured outputs of wrk, h2load and bench-load
(samples/README.md says how each was produced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringbench import parsers

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


# -- wrk ---------------------------------------------------------------------


def test_wrk_duration_units():
    assert parsers.wrk_duration_us("61.12us") == pytest.approx(61.12)
    assert parsers.wrk_duration_us("5.38ms") == pytest.approx(5380)
    assert parsers.wrk_duration_us("2s") == pytest.approx(2e6)
    assert parsers.wrk_duration_us("1.5m") == pytest.approx(90e6)
    with pytest.raises(ValueError):
        parsers.wrk_duration_us("-nan%")


def test_wrk_clean_run():
    r = parsers.parse_wrk(sample("wrk-ok.txt"))
    assert r["rps"] == pytest.approx(199107.78)
    assert r["requests"] == 199684
    assert r["elapsed_s"] == pytest.approx(1.00)
    assert r["latency_mean_us"] == pytest.approx(61.12)
    assert r["latency_max_us"] == pytest.approx(5380)
    assert r["latency_percentiles_us"] == pytest.approx({"50": 32, "75": 35, "90": 38, "99": 815})
    assert r["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert r["non_2xx"] == 0
    assert r["errors"] == 0


def test_wrk_non_2xx_answers_are_errors():
    r = parsers.parse_wrk(sample("wrk-non2xx.txt"))
    assert r["requests"] == 212590
    assert r["non_2xx"] == 212590
    assert r["errors"] == 212590


def test_wrk_socket_timeouts_are_errors():
    r = parsers.parse_wrk(sample("wrk-timeouts.txt"))
    assert r["requests"] == 8
    assert r["elapsed_s"] == pytest.approx(3.01)
    assert r["rps"] == pytest.approx(2.66)
    assert r["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 8}
    assert r["latency_mean_us"] == 0
    assert r["errors"] == 8


def test_wrk_without_a_summary_is_rejected():
    with pytest.raises(ValueError, match="Requests/sec"):
        parsers.parse_wrk(sample("wrk-connect.txt"))


def test_wrk2_recorded_latency_and_spectrum():
    r = parsers.parse_wrk2(sample("wrk2-latency.txt"))
    assert r["requests"] == 20000
    assert r["rps"] == pytest.approx(10000)
    assert r["latency_us"] == pytest.approx({"p50": 980, "p90": 1720, "p99": 2910, "p999": 5430})
    assert r["spectrum"][0] == pytest.approx([0.0, 101])
    assert r["spectrum"][-1] == pytest.approx([100.0, 7900])
    assert len(r["spectrum"]) == 7
    assert r["socket_errors"]["read"] == 2 and r["socket_errors"]["timeout"] == 1
    assert r["errors"] == 3


def test_wrk2_parser_needs_the_hdr_histogram():
    with pytest.raises(ValueError, match="HdrHistogram"):
        parsers.parse_wrk2(sample("wrk-ok.txt"))


# -- h2load ------------------------------------------------------------------


def test_h2load_timed_run():
    r = parsers.parse_h2load(sample("h2load-ok.txt"))
    assert r["elapsed_s"] == pytest.approx(2.00)
    assert r["rps"] == pytest.approx(294624.0)
    assert r["requests"] == {
        "total": 294624, "started": 294624, "done": 294624, "succeeded": 294624,
        "failed": 0, "errored": 0, "timeout": 0,
    }
    assert r["status"] == {"2xx": 294624, "3xx": 0, "4xx": 0, "5xx": 0}
    assert r["non_2xx"] == 0
    assert r["errors"] == 0


def test_h2load_5xx_answers_are_errors():
    r = parsers.parse_h2load(sample("h2load-5xx.txt"))
    assert r["elapsed_s"] == pytest.approx(0.00289)
    assert r["requests"]["done"] == 200
    assert r["requests"]["failed"] == 200
    assert r["status"]["5xx"] == 200
    assert r["non_2xx"] == 200
    assert r["errors"] == 200  # h2load's "failed" already holds the 5xx answers


def test_h2load_sequential_grpc_calls():
    r = parsers.parse_h2load(sample("h2load-grpc-seq.txt"))
    assert r["requests"]["succeeded"] == 20
    assert r["status"]["2xx"] == 20
    assert r["errors"] == 0


def test_h2load_without_a_summary_is_rejected():
    with pytest.raises(ValueError, match="finished in"):
        parsers.parse_h2load("starting benchmark...\nNo protocol negotiated. Aborted.\n")


def test_h2load_log_latency_keeps_the_measured_rows():
    text = sample("h2load-log.tsv")
    rows = [line.split("\t") for line in text.splitlines() if line]
    lat = sorted(float(r[2]) for r in rows)
    r = parsers.parse_h2load_log(text.splitlines(), done=len(rows))
    assert r["logged_rows"] == len(rows) == 200
    assert r["latency_us"]["min"] == lat[0]
    assert r["latency_us"]["max"] == lat[-1]
    assert r["latency_us"]["p50"] == lat[99]  # nearest rank: ceil(0.5 * 200) - 1
    assert r["spectrum"][0] == [0.0, lat[0]] and r["spectrum"][-1] == [100.0, lat[-1]]
    # Warm-up rows come first (by start time) and are dropped by count.
    last = parsers.parse_h2load_log(text.splitlines(), done=10)
    by_start = sorted((int(r[0]), float(r[2])) for r in rows)[-10:]
    assert last["latency_us"]["max"] == max(v for _, v in by_start)


def test_h2load_log_without_rows_is_rejected():
    with pytest.raises(ValueError):
        parsers.parse_h2load_log([], done=0)


# -- bench-load --------------------------------------------------------------


def test_bench_load_clean_run():
    r = parsers.parse_bench_load(sample("bench-load-ok.json"))
    assert (r["requests"], r["responses_2xx"], r["non_2xx"], r["errors"]) == (500, 500, 0, 0)
    assert r["achieved_rate"] == pytest.approx(500)
    assert r["latency_us"]["p50"] == 29
    assert r["spectrum"][0][0] == 0 and r["spectrum"][-1][0] == 100


def test_bench_load_counts_non_2xx_apart_from_errors():
    r = parsers.parse_bench_load(sample("bench-load-non2xx.json"))
    assert (r["responses_2xx"], r["non_2xx"], r["errors"]) == (0, 200, 0)


def test_bench_load_timeouts_are_errors():
    r = parsers.parse_bench_load(sample("bench-load-errors.json"))
    assert (r["requests"], r["errors"], r["responses_2xx"]) == (20, 20, 0)


def test_bench_load_rejects_incomplete_json():
    with pytest.raises(ValueError, match="lacks 'spectrum'"):
        parsers.parse_bench_load('{"requests": 1, "responses_2xx": 1, "non_2xx": 0, "errors": 0, '
                                 '"achieved_rate": 1, "latency_us": {}}')
    with pytest.raises(ValueError, match="no JSON"):
        parsers.parse_bench_load("bench-load: cannot connect\n")


# -- percentiles, callgrind, perf -----------------------------------------


def test_percentile_is_nearest_rank():
    vals = [float(v) for v in range(1, 101)]
    assert parsers.percentile(vals, 0) == 1
    assert parsers.percentile(vals, 50) == 50
    assert parsers.percentile(vals, 99.9) == 100
    assert parsers.percentile(vals, 100) == 100
    with pytest.raises(ValueError):
        parsers.percentile([], 50)


def test_callgrind_totals():
    # The first and last lines of a real output file (ringway, gRPC, N = 6000).
    assert parsers.parse_callgrind_total(sample("callgrind-head-tail.out")) == 542095831
    assert parsers.parse_callgrind_total("events: Ir\nfl=(1) x\nfn=(1) main\n3 4\ntotals: 5105408\n") == 5105408
    assert parsers.parse_callgrind_total("events: Ir\nsummary: 12158723\n\nfl=(1)\n") == 12158723
    assert parsers.parse_callgrind_total("events: Ir\n") is None


def test_perf_stat_csv():
    text = "# started on Sun Dec  7 11:20:00 2026\n\n1234567,,instructions:u,1000000,100.00,,\n"
    assert parsers.parse_perf_instructions(text) == 1234567
    with pytest.raises(ValueError):
        parsers.parse_perf_instructions("<not supported>,,instructions:u,0,100.00,,\n")
