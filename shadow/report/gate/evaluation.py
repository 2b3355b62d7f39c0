"""A policy evaluated for one candidate over a window: rows read from the store, rules decided, one verdict.

The third floor of ``shadow.report.gate``: the only module of the package that reads ClickHouse
(the SQL pack's ``comparison_sequence`` and ``candidate_coverage``). Rows come in the order the
comparisons arrived, from the window's start: the rules' confidence sequences are over that order.
``comparison_sequence`` leaves out rows skipped while a circuit breaker was open: they are not
comparisons, so they neither count towards ``min_samples`` nor move a rate (the failures that opened
the breaker are rows of their own and do count). Verdict: ``rollback`` when a critical rule fails or
more rules fail than ``allowed_failures``; ``promote`` when every rule passes; ``hold`` otherwise (not
enough data, inconclusive, or a policy problem). With ``workflow_min_comparisons``, each workflow with
that many comparisons is judged on its own too: any rollback rolls back, promote needs them all.
"""

from __future__ import annotations

from collections import Counter
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
    workflows: tuple[WorkflowResult, ...] = field(default=())
    """Each workflow judged on its own (``workflow_min_comparisons``), beside the pooled rules."""

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
            "workflows": [w.to_dict() for w in self.workflows],
        }


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    """One workflow judged on its own."""

    workflow: str
    verdict: Verdict
    compared: int
    rules: tuple[RuleResult, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "verdict": self.verdict.value,
            "compared": self.compared,
            "reasons": list(self.reasons),
            "rules": [r.to_dict() for r in self.rules],
        }


def decide(rules: list[RuleResult], allowed_failures: int) -> tuple[Verdict, float, list[str]]:
    """The verdict, the score (0-1: a pass earns its weight, inconclusive or insufficient half) and the reasons.

    Rules that are not applicable are left out; with none left the verdict is hold.
    """
    credit = {
        Outcome.PASS: 1.0,
        Outcome.INCONCLUSIVE: 0.5,
        Outcome.INSUFFICIENT: 0.5,
        Outcome.POLICY: 0.5,
        Outcome.FAIL: 0.0,
    }
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
    reasons = [_hold_reason(r) for r in rules if r.outcome is not Outcome.PASS]
    return Verdict.HOLD, score, reasons


def _hold_reason(rule: RuleResult) -> str:
    if rule.outcome is Outcome.POLICY:
        return f"{rule.name}: policy problem (the control lane itself cannot meet the threshold)"
    if rule.outcome is Outcome.INCONCLUSIVE and rule.needed:
        return f"{rule.name}: inconclusive, about {rule.needed:,} more comparisons to decide"
    return f"{rule.name}: {rule.outcome.value}"


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
            store, "comparison_sequence", start=start, end=end, candidate=name, workflow=workflow, tenant=tenant,
            limit=limit,
        )  # fmt: skip
    if len(workflows) > 1:
        # One sequence in the order the comparisons arrived, as the confidence sequences assume.
        rows.sort(key=lambda r: (r["occurred_at"], r["event_id"]))
        del rows[limit:]
    return rows


def combine(pooled: Verdict, workflows: list[WorkflowResult]) -> tuple[Verdict, list[str]]:
    """The verdict with workflows judged on their own: any rollback rolls back, promote needs them all."""
    rolled_back = [w.workflow for w in workflows if w.verdict is Verdict.ROLLBACK]
    if rolled_back:
        return Verdict.ROLLBACK, [f"workflow {name} rolls back on its own" for name in rolled_back]
    if pooled is Verdict.PROMOTE:
        holding = [w.workflow for w in workflows if w.verdict is not Verdict.PROMOTE]
        if holding:
            return Verdict.HOLD, [f"workflow {name} is not decided on its own yet" for name in holding]
    return pooled, []


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
    # Workflows judged on their own as well: those with enough comparisons (all when the policy names none).
    counts = Counter(str(r["workflow"]) for r in rows)
    own = []
    if policy.workflow_min_comparisons is not None and not workflow:
        own = sorted(name for name, n in counts.items() if n >= policy.workflow_min_comparisons)
    # False rollbacks are bounded over all rules and groups together (the pooled comparisons and each
    # workflow judged on its own; each gets an equal share: Bonferroni), false promotions per rule; both
    # over every poll, as the bounds are confidence sequences. The groups are the policy's workflows when
    # it names them (a number fixed in advance), else those with enough comparisons so far.
    groups = 1 + (len(policy.workflows) if own and policy.workflows else len(own))
    ctx = RuleContext(
        alpha_rollback=policy.false_rollback / (len(policy.rules) * groups),
        alpha_promote=policy.false_promotion,
        min_samples=policy.min_samples,
        max_loop_lag_ms=policy.max_loop_lag_ms,
    )
    results = [evaluate_rule(rule, rows, control, ctx) for rule in policy.rules]
    if not rows:
        verdict, score, reasons = Verdict.HOLD, 0.0, [f"no comparisons of {candidate} in this window"]
    else:
        verdict, score, reasons = decide(results, policy.allowed_failures)
    judged: list[WorkflowResult] = []
    for name in own:
        mine = [r for r in rows if r["workflow"] == name]
        theirs = [r for r in control if r["workflow"] == name]
        rules = [evaluate_rule(rule, mine, theirs, ctx) for rule in policy.rules]
        w_verdict, _, w_reasons = decide(rules, policy.allowed_failures)
        judged.append(WorkflowResult(name, w_verdict, len(mine), tuple(rules), tuple(w_reasons)))
    if judged:
        verdict, more = combine(verdict, judged)
        reasons = more + [r for r in reasons if r != "every rule passed" or verdict is Verdict.PROMOTE]
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
        workflows=tuple(judged),
    )
