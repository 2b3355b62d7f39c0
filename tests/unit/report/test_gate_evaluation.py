"""The gate's evaluation floor without a store: the verdict from rule outcomes, workflows, exit codes."""

from __future__ import annotations

import pytest

from shadow.report.gate.evaluation import (
    EXIT_CODES,
    GateResult,
    Verdict,
    WorkflowResult,
    combine,
    decide,
    judged_workflows,
)
from shadow.report.gate.policy import PolicySettings, RuleSettings
from shadow.report.gate.rules import Outcome, RuleResult


def result(
    name: str, outcome: Outcome, *, critical: bool = False, weight: float = 1.0, needed: int | None = None
) -> RuleResult:
    return RuleResult(name=name, metric="refusal_rate", against="production", critical=critical, outcome=outcome,
                      estimate=None, interval=None, threshold="", n=0, reference_n=None, reason="",
                      weight=weight, needed=needed)  # fmt: skip


def test_every_rule_passing_promotes() -> None:
    assert decide([result("a", Outcome.PASS), result("b", Outcome.PASS)], 0) == (
        Verdict.PROMOTE,
        1.0,
        ["every rule passed"],
    )


def test_a_critical_failure_rolls_back_whatever_the_allowance() -> None:
    verdict, score, reasons = decide([result("a", Outcome.FAIL, critical=True), result("b", Outcome.PASS)], 5)
    assert (verdict, score, reasons) == (Verdict.ROLLBACK, 0.5, ["critical rule failed: a"])


def test_non_critical_failures_up_to_the_allowance_hold() -> None:
    rules = [result("a", Outcome.FAIL), result("b", Outcome.FAIL), result("c", Outcome.PASS)]
    assert decide(rules, 2)[0] is Verdict.HOLD
    verdict, _, reasons = decide(rules, 1)
    assert verdict is Verdict.ROLLBACK and reasons == ["rule failed: a", "rule failed: b"]


def test_inconclusive_or_insufficient_rules_hold_with_half_credit() -> None:
    rules = [result("a", Outcome.PASS), result("b", Outcome.INCONCLUSIVE), result("c", Outcome.INSUFFICIENT)]
    verdict, score, reasons = decide(rules, 0)
    assert verdict is Verdict.HOLD and score == pytest.approx(2 / 3)
    assert reasons == ["b: inconclusive", "c: insufficient"]


def test_rules_that_do_not_apply_are_left_out() -> None:
    rules = [result("a", Outcome.PASS), result("b", Outcome.NOT_APPLICABLE)]
    assert decide(rules, 0)[:2] == (Verdict.PROMOTE, 1.0)
    verdict, score, reasons = decide([result("b", Outcome.NOT_APPLICABLE)], 0)
    assert (verdict, score) == (Verdict.HOLD, 0.0) and "no rule applies" in reasons[0]


def test_weights_count_in_the_score() -> None:
    rules = [result("a", Outcome.PASS, weight=3), result("b", Outcome.INCONCLUSIVE, weight=1)]
    assert decide(rules, 0)[1] == pytest.approx((3 + 0.5) / 4)


def policy(workflows: list[str]) -> PolicySettings:
    return PolicySettings(workflows=workflows, rules=[RuleSettings(name="r", metric="refusal_rate", max=0.1)])


@pytest.mark.parametrize(
    ("workflows", "asked", "read"),
    [
        ([], None, [None]),  # all
        ([], "", [None]),
        (["a", "b"], None, ["a", "b"]),
        ([], "b", ["b"]),
        (["a", "b"], "b", ["b"]),
        (["a"], "b", []),  # outside the policy: nothing to judge
    ],
)
def test_judged_workflows(workflows: list[str], asked: str | None, read: list[str | None]) -> None:
    assert judged_workflows(policy(workflows), asked) == read


def test_exit_codes_and_the_json_shape() -> None:
    # The exit codes are also the values of shadow serve's shadow_gate_verdict gauge.
    assert EXIT_CODES == {Verdict.PROMOTE: 0, Verdict.ROLLBACK: 1, Verdict.HOLD: 2}
    gate = GateResult(candidate="c", verdict=Verdict.HOLD, score=0.123456, rules=(result("a", Outcome.PASS),),
                      policy="p", window={"from": "x", "to": None}, compared=3, control_rows=0,
                      reasons=("why",), workflow="search")  # fmt: skip
    assert gate.exit_code == 2
    data = gate.to_dict()
    assert list(data) == ["candidate", "verdict", "score", "policy", "window", "workflow", "compared",
                          "control_rows", "reasons", "rules", "workflows"]  # fmt: skip
    assert (data["verdict"], data["score"], data["workflow"], data["reasons"]) == ("hold", 0.1235, "search", ["why"])
    assert data["rules"][0]["outcome"] == "pass"


def test_a_hold_says_what_each_undecided_rule_needs() -> None:
    rules = [result("a", Outcome.INCONCLUSIVE, needed=1234), result("b", Outcome.POLICY), result("c", Outcome.PASS)]
    verdict, score, reasons = decide(rules, 0)
    assert verdict is Verdict.HOLD and score == pytest.approx(2 / 3)
    assert reasons == [
        "a: inconclusive, about 1,234 more comparisons to decide",
        "b: policy problem (the control lane itself cannot meet the threshold)",
    ]


def workflow(name: str, verdict: Verdict) -> WorkflowResult:
    return WorkflowResult(name, verdict, 500, (), ())


@pytest.mark.parametrize(
    ("pooled", "each", "verdict"),
    [
        (Verdict.PROMOTE, [Verdict.PROMOTE, Verdict.PROMOTE], Verdict.PROMOTE),
        (Verdict.PROMOTE, [Verdict.PROMOTE, Verdict.HOLD], Verdict.HOLD),  # promote needs every workflow
        (Verdict.PROMOTE, [Verdict.PROMOTE, Verdict.ROLLBACK], Verdict.ROLLBACK),  # a small workflow's regression
        (Verdict.HOLD, [Verdict.PROMOTE], Verdict.HOLD),
        (Verdict.ROLLBACK, [Verdict.PROMOTE], Verdict.ROLLBACK),
    ],
)
def test_workflows_judged_on_their_own(pooled: Verdict, each: list[Verdict], verdict: Verdict) -> None:
    judged = [workflow(f"w{i}", v) for i, v in enumerate(each)]
    assert combine(pooled, judged)[0] is verdict
