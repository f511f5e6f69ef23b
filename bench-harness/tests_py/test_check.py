"""ringbench.check's error counting on hand-made results documents."""

from __future__ import annotations

from ringbench.check import error_problems, round_error_counts


def clean_round(n: int = 1) -> dict:
    return {
        "round": n,
        "max": {"errors": 0, "non_2xx": 0, "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}},
        "rate": {"errors": 0, "non_2xx": 0, "tool": "bench-load"},
        "values": {"errors": 0.0},
    }


def doc(rounds: list[dict], samples: list[float] | None = None) -> dict:
    metrics = {"errors": {"median": 0, "min": 0, "max": 0, "samples": samples or [0.0]}}
    return {"scenarios": {"h1-keepalive": {"proxies": {
        "ringway": {"status": "ok", "rounds": rounds, "metrics": metrics},
        "envoy": {"status": "skipped", "reason": "envoy is not installed (not on PATH)"},
    }}}}


def test_clean_results_have_no_error_problems():
    assert round_error_counts(clean_round()) == {}
    assert error_problems(doc([clean_round()])) == []


def test_each_kind_of_count_is_reported():
    rec = clean_round(2)
    rec["max"]["socket_errors"]["timeout"] = 3
    rec["rate"]["non_2xx"] = 2
    assert round_error_counts(rec) == {"max.socket_errors.timeout": 3, "rate.non_2xx": 2}
    h2 = {"round": 1, "rate": {"errors": 0, "non_2xx": 0,
                               "requests": {"failed": 1, "errored": 1, "timeout": 0}}}
    assert round_error_counts(h2) == {"rate.requests.failed": 1, "rate.requests.errored": 1}
    reload = {"round": 1, "rate": {"errors": 0, "non_2xx": 0}, "reload": {"reloads_failed": 1}}
    assert round_error_counts(reload) == {"reload.reloads_failed": 1}
    problems = error_problems(doc([clean_round(1), rec]))
    assert problems == ["h1-keepalive/ringway round 2: max.socket_errors.timeout 3, rate.non_2xx 2"]


def test_metric_samples_count_when_rounds_are_gone():
    assert error_problems(doc([], samples=[0.0, 4.0])) == ["h1-keepalive/ringway: errors 4"]
