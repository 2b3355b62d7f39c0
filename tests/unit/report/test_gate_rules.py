"""The gate's rules floor: threshold and regression decisions, references, and rules on plain rows."""

from __future__ import annotations

import itertools
import random

import pytest

from shadow.report.gate.policy import METRICS, RuleSettings
from shadow.report.gate.rules import (
    Interval,
    Outcome,
    RuleContext,
    as_regression,
    decide_regression,
    decide_threshold,
    evaluate_rule,
    needed_comparisons,
    reference_of,
)

CTX = RuleContext(alpha_rollback=0.01, alpha_promote=0.05, min_samples=50)


def rule(metric: str, **condition: object) -> RuleSettings:
    return RuleSettings.model_validate({"name": metric, "metric": metric, **condition})


@pytest.mark.parametrize(
    ("interval", "outcome"),
    [
        (Interval(0.97, 0.95, 0.99), Outcome.PASS),  # all of it meets the bound
        (Interval(0.97, 0.94, 0.99), Outcome.INCONCLUSIVE),  # the estimate meets it, the low bound does not
        (Interval(0.94, 0.92, 0.96), Outcome.INCONCLUSIVE),  # misses, but the interval reaches it
        (Interval(0.90, 0.88, 0.94), Outcome.FAIL),  # the whole interval misses
    ],
)
def test_a_minimum(interval: Interval, outcome: Outcome) -> None:
    assert decide_threshold(rule("tool_args_agreement", min=0.95), interval) is outcome


@pytest.mark.parametrize(
    ("interval", "outcome"),
    [
        (Interval(0.01, 0.0, 0.02), Outcome.PASS),
        (Interval(0.01, 0.0, 0.03), Outcome.INCONCLUSIVE),
        (Interval(0.03, 0.01, 0.05), Outcome.INCONCLUSIVE),
        (Interval(0.05, 0.021, 0.08), Outcome.FAIL),
    ],
)
def test_a_maximum(interval: Interval, outcome: Outcome) -> None:
    assert decide_threshold(rule("timeout_rate", max=0.02), interval) is outcome


@pytest.mark.parametrize(
    ("regression", "outcome"),
    [
        (Interval(-0.02, -0.05, 0.01), Outcome.PASS),  # better than the reference, and shown within
        (Interval(0.05, 0.02, 0.10), Outcome.PASS),  # the high bound exactly on the tolerance
        (Interval(0.064, -0.05, 0.178), Outcome.INCONCLUSIVE),  # the latency case: the estimate within,
        # the bound far beyond: the data cannot exclude a +17.8% regression, so it is not a pass
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
    ("regression", "needed"),
    [
        (Interval(0.0, -0.02, 0.02), 0),  # decided already: nothing more needed
        (Interval(0.05, 0.04, 0.06), None),  # on the tolerance: never decides
    ],
)
def test_needed_comparisons_edges(regression: Interval, needed: int | None) -> None:
    assert needed_comparisons(1000, regression, 0.05 if needed is None else 0.03, CTX) == needed


def test_needed_comparisons_grow_as_the_estimate_nears_the_tolerance() -> None:
    # Width 0.04 at n = 1,000; the bound must move to within 0.02 (about 4x the data in all) or 0.01 (16x):
    # a little less or more, as the boundary's shape has it.
    far = needed_comparisons(1000, Interval(0.0, -0.04, 0.04), 0.02, CTX)
    near = needed_comparisons(1000, Interval(0.0, -0.04, 0.04), 0.01, CTX)
    assert far is not None and near is not None
    assert 3_000 <= 1_000 + far <= 5_000 < 14_000 <= 1_000 + near <= 25_000


@pytest.mark.parametrize(
    ("settings", "has_control", "against"),
    [
        ({"metric": "tool_args_agreement", "min": 0.95}, True, "threshold"),
        ({"metric": "json_valid_rate", "max_regression": 0.01}, True, "control"),  # the noise floor by default
        ({"metric": "json_valid_rate", "max_regression": 0.01}, False, "production"),
        ({"metric": "json_valid_rate", "max_regression": 0.01, "against": "control"}, False, "control"),
        ({"metric": "tool_args_agreement", "max_regression": 0.01}, False, "control"),  # only the candidate has it
        ({"metric": "similarity_p10", "max_regression": 0.05}, True, "control"),
        ({"metric": "latency_p95", "max_regression": 0.1}, True, "control"),  # replayed vs replayed
        ({"metric": "latency_p95", "max_regression": 0.1}, False, "production"),
        ({"metric": "cost_per_request", "max_regression": 0.08}, True, "control"),
        ({"metric": "cost_per_request", "max_regression": 0.08, "against": "production"}, True, "production"),
    ],
)
def test_what_a_rule_compares_with(settings: dict, has_control: bool, against: str) -> None:
    settings = {"name": "r", **settings}
    r = RuleSettings.model_validate(settings)
    assert reference_of(r, METRICS[r.metric], has_control) == against


# --- rules on plain rows --------------------------------------------------------------------------


_IDS = itertools.count()


def comparison(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": f"auto-{next(_IDS)}",
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
    same = [comparison() for _ in range(1500)]
    worse = [comparison(candidate_json_valid=i % 5 != 0) for i in range(400)]  # 20 points fewer valid answers

    passed = evaluate_rule(json_rule, same, [], CTX)
    assert (passed.outcome, passed.against, passed.unit, passed.n) == (Outcome.PASS, "production", "points", 1500)
    # The same with few comparisons: nothing is shown yet either way.
    early = evaluate_rule(json_rule, same[:60], [], CTX)
    assert early.outcome is Outcome.INCONCLUSIVE and early.needed is not None and early.needed > 0
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
    assert evaluate_rule(lower_floor, [comparison() for _ in range(10)], [], CTX).outcome is Outcome.INCONCLUSIVE


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


def test_tool_agreement_is_judged_against_the_control_lanes_own_agreement() -> None:
    agreement = rule("tool_args_agreement", min=0.95)
    # The production model replayed agrees with production only 80% of the time: no model can meet
    # 95% here. A candidate as good as the control lane is a policy problem, not a rollback.
    control = [comparison(event_id=f"e{i}", tool_args_match=i % 5 != 0) for i in range(2000)]
    as_good = [comparison(event_id=f"e{i}", tool_args_match=(i + 2) % 5 != 0) for i in range(2000)]
    result = evaluate_rule(agreement, as_good, control, CTX)
    assert result.outcome is Outcome.POLICY and "cannot meet the threshold" in result.reason
    # One clearly worse than the control lane still fails.
    worse = [comparison(event_id=f"e{i}", tool_args_match=i % 2 == 0) for i in range(2000)]
    failed = evaluate_rule(agreement, worse, control, CTX)
    assert failed.outcome is Outcome.FAIL and "Worse than the control lane" in failed.reason


def test_a_paired_rate_against_the_control_lane_pairs_by_event() -> None:
    json_rule = rule("json_valid_rate", max_regression=0.01)  # auto: the control lane when there is one
    control = [comparison(event_id=f"e{i}", candidate_json_valid=True) for i in range(600)]
    worse = [comparison(event_id=f"e{i}", candidate_json_valid=i % 5 != 0) for i in range(600)]
    result = evaluate_rule(json_rule, worse, control, CTX)
    assert (result.outcome, result.against, result.n) == (Outcome.FAIL, "control", 600)
    elsewhere = [comparison(event_id=f"x{i}") for i in range(600)]  # no event in common
    assert evaluate_rule(json_rule, elsewhere, control, CTX).outcome is Outcome.NOT_APPLICABLE


def test_latency_against_the_control_lane() -> None:
    rng = random.Random(1)
    control = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3)) for _ in range(3000)]
    slow = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3) * 1.5) for _ in range(3000)]
    same = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3)) for _ in range(3000)]
    latency = rule("latency_p95", max_regression=0.10)

    failed = evaluate_rule(latency, slow, control, CTX)
    assert (failed.outcome, failed.against, failed.unit) == (Outcome.FAIL, "control", "relative")
    assert failed.interval[0] > 0.10
    assert evaluate_rule(latency, same, control, CTX).outcome is not Outcome.FAIL


def test_an_estimate_within_the_tolerance_is_not_a_pass_while_the_bound_reaches_past_it() -> None:
    # The case: p95 measured +6% with too few samples to exclude +10%: hold, never promote.
    rng = random.Random(2)
    control = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.4)) for _ in range(300)]
    slower = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.4) * 1.06) for _ in range(300)]
    result = evaluate_rule(rule("latency_p95", max_regression=0.10), slower, control, CTX)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.interval[1] > 0.10 and result.needed is not None and result.needed > 0
    assert "more comparisons to decide" in result.reason


def test_latency_samples_the_worker_inflated_are_left_out() -> None:
    ctx = RuleContext(alpha_rollback=0.01, alpha_promote=0.05, min_samples=50, max_loop_lag_ms=50)
    rng = random.Random(3)
    control = [comparison(candidate_latency_ms=rng.lognormvariate(6.7, 0.3)) for _ in range(2000)]
    # The same candidate, but a third of its calls were read 2 s late by a saturated worker.
    rows = []
    for i in range(2000):
        late = i % 3 == 0
        latency = rng.lognormvariate(6.7, 0.3) + (2000 if late else 0)
        rows.append(comparison(candidate_latency_ms=latency, candidate_loop_lag_ms=2000.0 if late else 3.0))
    latency = rule("latency_p95", max_regression=0.10)
    kept = evaluate_rule(latency, rows, control, ctx)
    assert kept.outcome is not Outcome.FAIL and kept.discounted == 667 and "left out" in kept.reason
    everything = evaluate_rule(latency, rows, control, CTX)  # no limit: the inflated samples count
    assert everything.outcome is Outcome.FAIL and everything.discounted == 0
