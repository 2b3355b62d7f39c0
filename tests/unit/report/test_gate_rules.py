"""The gate's rules floor: threshold and regression decisions, references, and rules on plain rows."""

from __future__ import annotations

import random

import pytest

from shadow.report.gate.policy import METRICS, RuleSettings
from shadow.report.gate.rules import (
    Outcome,
    RuleContext,
    as_regression,
    decide_regression,
    decide_threshold,
    evaluate_rule,
    reference_of,
)
from shadow.report.stats import Interval

CTX = RuleContext(confidence=0.99, min_samples=50, resamples=500, seed=0)


def rule(metric: str, **condition: object) -> RuleSettings:
    return RuleSettings.model_validate({"name": metric, "metric": metric, **condition})


@pytest.mark.parametrize(
    ("interval", "outcome"),
    [
        (Interval(0.97, 0.95, 0.99), Outcome.PASS),  # estimate meets the bound
        (Interval(0.95, 0.93, 0.97), Outcome.PASS),  # exactly on the bound
        (Interval(0.94, 0.92, 0.96), Outcome.INCONCLUSIVE),  # misses, but the interval reaches it
        (Interval(0.90, 0.88, 0.94), Outcome.FAIL),  # the whole interval misses
    ],
)
def test_a_minimum(interval: Interval, outcome: Outcome) -> None:
    assert decide_threshold(rule("tool_args_agreement", min=0.95), interval) is outcome


@pytest.mark.parametrize(
    ("interval", "outcome"),
    [
        (Interval(0.01, 0.0, 0.03), Outcome.PASS),
        (Interval(0.03, 0.01, 0.05), Outcome.INCONCLUSIVE),
        (Interval(0.05, 0.021, 0.08), Outcome.FAIL),
    ],
)
def test_a_maximum(interval: Interval, outcome: Outcome) -> None:
    assert decide_threshold(rule("timeout_rate", max=0.02), interval) is outcome


@pytest.mark.parametrize(
    ("regression", "outcome"),
    [
        (Interval(-0.02, -0.05, 0.01), Outcome.PASS),  # better than the reference
        (Interval(0.10, 0.02, 0.18), Outcome.PASS),  # exactly the tolerance
        (Interval(0.12, 0.05, 0.20), Outcome.INCONCLUSIVE),  # beyond, but the interval reaches back
        (Interval(0.12, 0.10, 0.20), Outcome.INCONCLUSIVE),  # the low end on the tolerance is not beyond it
        (Interval(0.30, 0.11, 0.50), Outcome.FAIL),  # all of it beyond
    ],
)
def test_a_regression(regression: Interval, outcome: Outcome) -> None:
    assert decide_regression(0.10, regression) is outcome


def test_a_regression_is_positive_when_worse() -> None:
    # A valid-JSON rate going down by 3 points (higher is better) is a regression of +3 points.
    assert as_regression(Interval(-0.03, -0.05, -0.01), higher_is_better=True) == Interval(0.03, 0.01, 0.05)
    # Latency going up (lower is better) stays as it is.
    assert as_regression(Interval(0.2, 0.1, 0.3), higher_is_better=False) == Interval(0.2, 0.1, 0.3)


@pytest.mark.parametrize(
    ("settings", "has_control", "against"),
    [
        ({"metric": "tool_args_agreement", "min": 0.95}, True, "threshold"),
        ({"metric": "json_valid_rate", "max_regression": 0.01}, True, "production"),
        ({"metric": "json_valid_rate", "max_regression": 0.01, "against": "control"}, False, "control"),
        ({"metric": "tool_args_agreement", "max_regression": 0.01}, False, "control"),  # only the candidate has it
        ({"metric": "similarity_p10", "max_regression": 0.05}, True, "control"),
        ({"metric": "latency_p95", "max_regression": 0.1}, True, "control"),  # replayed vs replayed
        ({"metric": "latency_p95", "max_regression": 0.1}, False, "production"),
        ({"metric": "cost_per_request", "max_regression": 0.08}, True, "production"),
    ],
)
def test_what_a_rule_compares_with(settings: dict, has_control: bool, against: str) -> None:
    settings = {"name": "r", **settings}
    r = RuleSettings.model_validate(settings)
    assert reference_of(r, METRICS[r.metric], has_control) == against


# --- rules on plain rows --------------------------------------------------------------------------


def comparison(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "workflow": "w",
        "api": "a",
        "status": "ok",
        "error_kind": "",
        "production_json_valid": True,
        "candidate_json_valid": True,
        "production_json_extracted": False,
        "candidate_json_extracted": False,
        "production_schema_valid": None,
        "production_tool_calls": 1,
        "candidate_tool_calls": 1,
        "tool_args_match": True,
        "production_latency_ms": 1000.0,
        "candidate_latency_ms": 1000.0,
    }
    return {**base, **values}


def test_json_validity_against_production() -> None:
    json_rule = rule("json_valid_rate", against="production", max_regression=0.01)
    same = [comparison() for _ in range(400)]
    worse = [comparison(candidate_json_valid=i % 5 != 0) for i in range(400)]  # 20 points fewer valid answers

    passed = evaluate_rule(json_rule, same, [], CTX)
    assert (passed.outcome, passed.against, passed.unit, passed.n) == (Outcome.PASS, "production", "points", 400)
    failed = evaluate_rule(json_rule, worse, [], CTX)
    assert failed.outcome is Outcome.FAIL
    assert failed.estimate == pytest.approx(0.2) and failed.interval[0] > 0.01
    assert "Regressed beyond the allowed amount" in failed.reason and failed.threshold == "regression <= 1 points"


def test_too_few_rows_are_insufficient_and_none_not_applicable() -> None:
    json_rule = rule("json_valid_rate", against="production", max_regression=0.01)
    few = evaluate_rule(json_rule, [comparison() for _ in range(10)], [], CTX)
    assert few.outcome is Outcome.INSUFFICIENT and few.n == 10 and "fewer than the 50 required" in few.reason
    plain_text = [comparison(production_json_valid=False, candidate_json_valid=False) for _ in range(100)]
    assert evaluate_rule(json_rule, plain_text, [], CTX).outcome is Outcome.NOT_APPLICABLE
    lower_floor = rule("json_valid_rate", against="production", max_regression=0.01, min_samples=5)
    assert evaluate_rule(lower_floor, [comparison() for _ in range(10)], [], CTX).outcome is Outcome.PASS


def test_a_control_rule_without_a_control_lane_is_insufficient() -> None:
    agreement = rule("tool_args_agreement", max_regression=0.01)
    result = evaluate_rule(agreement, [comparison() for _ in range(100)], [], CTX)
    assert (result.outcome, result.against, result.reference_n) == (Outcome.INSUFFICIENT, "control", 0)


def test_tool_agreement_against_a_threshold() -> None:
    agreement = rule("tool_args_agreement", min=0.95)
    rows = [comparison(tool_args_match=i % 5 != 0) for i in range(500)]  # 80% agree
    result = evaluate_rule(agreement, rows, [], CTX)
    assert (result.outcome, result.unit) == (Outcome.FAIL, "rate")
    assert result.estimate == pytest.approx(0.8) and result.interval[1] < 0.95


def test_latency_against_the_control_lane_needs_the_rank_test_too() -> None:
    rng = random.Random(1)
    control = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3)) for _ in range(300)]
    slow = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3) * 1.5) for _ in range(300)]
    same = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3)) for _ in range(300)]
    latency = rule("latency_p95", max_regression=0.10)

    failed = evaluate_rule(latency, slow, control, CTX)
    assert (failed.outcome, failed.against, failed.unit) == (Outcome.FAIL, "control", "relative")
    assert failed.interval[0] > 0.10 and failed.p_value < 0.01
    assert evaluate_rule(latency, same, control, CTX).outcome is not Outcome.FAIL
