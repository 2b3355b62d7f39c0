"""A policy evaluated for one candidate over a window: rows read from the store, rules decided, one verdict.

The third floor of ``shadow.report.gate``: the only module of the package that reads ClickHouse
(the SQL pack's ``comparison_values`` and ``candidate_coverage``). ``comparison_values`` leaves out
rows skipped while a circuit breaker was open: they are not comparisons, so they neither count
towards ``min_samples`` nor move a rate (the failures that opened the breaker are rows of their
own and do count). Verdict: ``rollback`` when a critical rule fails or more rules fail than
``allowed_failures``; ``promote`` when every rule passes; ``hold`` otherwise (not enough data, or
inconclusive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shadow.report.gate.policy import PolicySettings, Row
from shadow.report.gate.rules import Outcome, RuleContext, RuleResult, evaluate_rule
from shadow.report.queries import run_query
from shadow.storage.store import ClickHouseStore


class Verdict(StrEnum):
    PROMOTE = "promote"
    HOLD = "hold"
    ROLLBACK = "rollback"


EXIT_CODES = {Verdict.PROMOTE: 0, Verdict.ROLLBACK: 1, Verdict.HOLD: 2}


@dataclass(frozen=True, slots=True)
class GateResult:
    candidate: str
    verdict: Verdict
    score: float
    rules: tuple[RuleResult, ...]
    policy: str
    window: dict[str, str | None]
    compared: int
    control_rows: int
    reasons: tuple[str, ...] = field(default=())
    workflow: str | None = None  # the one workflow judged; None = the policy's workflows (all when it names none)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "verdict": self.verdict.value,
            "score": round(self.score, 4),
            "policy": self.policy,
            "window": self.window,
            "workflow": self.workflow,
            "compared": self.compared,
            "control_rows": self.control_rows,
            "reasons": list(self.reasons),
            "rules": [r.to_dict() for r in self.rules],
        }


def decide(rules: list[RuleResult], allowed_failures: int) -> tuple[Verdict, float, list[str]]:
    """The verdict, the score (0-1: a pass earns its weight, inconclusive or insufficient half) and the reasons.

    Rules that are not applicable are left out; with none left the verdict is hold.
    """
    credit = {Outcome.PASS: 1.0, Outcome.INCONCLUSIVE: 0.5, Outcome.INSUFFICIENT: 0.5, Outcome.FAIL: 0.0}
    rules = [r for r in rules if r.outcome is not Outcome.NOT_APPLICABLE]
    if not rules:
        return Verdict.HOLD, 0.0, ["no rule applies to the comparisons in this window"]
    total = sum(r.weight for r in rules)
    score = sum(r.weight * credit[r.outcome] for r in rules) / total
    critical = [r.name for r in rules if r.critical and r.outcome is Outcome.FAIL]
    failed = [r.name for r in rules if r.outcome is Outcome.FAIL]
    if critical:
        return Verdict.ROLLBACK, score, [f"critical rule failed: {name}" for name in critical]
    if len(failed) > allowed_failures:
        return Verdict.ROLLBACK, score, [f"rule failed: {name}" for name in failed]
    if all(r.outcome is Outcome.PASS for r in rules):
        return Verdict.PROMOTE, score, ["every rule passed"]
    reasons = [f"{r.name}: {r.outcome.value}" for r in rules if r.outcome is not Outcome.PASS]
    return Verdict.HOLD, score, reasons


def judged_workflows(policy: PolicySettings, workflow: str | None) -> list[str | None]:
    """The workflows to read (``None`` = all): the policy's, narrowed to ``workflow`` when one is asked for.

    A workflow the policy leaves out gives no workflow at all: the gate then holds for want of data.
    """
    if not workflow:
        return list(policy.workflows) or [None]
    return [workflow] if not policy.workflows or workflow in policy.workflows else []


def _read_rows(
    store: ClickHouseStore,
    name: str,
    workflows: list[str | None],
    start: datetime,
    end: datetime,
    tenant: str | None,
    limit: int,
) -> list[Row]:
    rows: list[Row] = []
    for workflow in workflows:
        rows += run_query(
            store, "comparison_values", start=start, end=end, candidate=name, workflow=workflow, tenant=tenant,
            limit=limit,
        )  # fmt: skip
    return rows


def evaluate_gate(
    store: ClickHouseStore,
    policy: PolicySettings,
    candidate: str,
    start: datetime,
    end: datetime,
    *,
    tenant: str | None = None,
    workflow: str | None = None,
) -> GateResult:
    """Evaluate ``policy`` for ``candidate`` over ``[start, end)``.

    Args:
        tenant: only this tenant's comparisons (``None`` = all).
        workflow: only this workflow's comparisons, the candidate's and the control lane's alike
            (``None`` or ``""`` = the policy's ``workflows``, all when it names none).
    """
    workflows = judged_workflows(policy, workflow)
    rows = _read_rows(store, candidate, workflows, start, end, tenant, policy.max_rows)
    lanes = run_query(store, "candidate_coverage", start=start, end=end, candidate=None, workflow=None, tenant=tenant)
    controls = sorted({r["candidate"] for r in lanes if r["role"] == "control" and r["candidate"] != candidate})
    # The control lane over the same traffic: the workflows and APIs the candidate answered.
    scope = {(r["workflow"], r["api"]) for r in rows}
    control = [
        r
        for name in controls
        for r in _read_rows(store, name, workflows, start, end, tenant, policy.max_rows)
        if (r["workflow"], r["api"]) in scope
    ]
    # Family-wise confidence: with k rules each interval is built at 1 - alpha/k (Bonferroni).
    ctx = RuleContext(
        confidence=1 - (1 - policy.confidence) / len(policy.rules),
        min_samples=policy.min_samples,
        resamples=policy.bootstrap_resamples,
        seed=policy.seed,
    )
    results = [evaluate_rule(rule, rows, control, ctx) for rule in policy.rules]
    if not rows:
        verdict, score, reasons = Verdict.HOLD, 0.0, [f"no comparisons of {candidate} in this window"]
    else:
        verdict, score, reasons = decide(results, policy.allowed_failures)
    return GateResult(
        candidate=candidate,
        verdict=verdict,
        score=score,
        rules=tuple(results),
        policy=policy.name,
        window={"from": start.isoformat(), "to": end.isoformat()},
        compared=len(rows),
        control_rows=len(control),
        reasons=tuple(reasons),
        workflow=workflow or None,
    )
