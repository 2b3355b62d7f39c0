"""Seeded simulations of a gate polled again and again: false rollbacks, and how long decisions take.

Release pipelines poll the gate every minute while comparisons accumulate; its error rates must hold
over every poll. This module draws streams of comparisons (a candidate and the control lane answering
the same events), polls the policy's rules after every ``every`` comparisons up to ``horizon``, and
records at which poll a run first rolls back and first promotes. ``tests/unit/report/test_gate_calibration.py``
checks the false-rollback rate of A/A runs; ``python -m shadow.report.gate.simulation`` prints the
calibration and power tables of the README.

A rule is decided at a poll exactly as ``shadow.report.gate.rules`` decides it (same sequences, same
error rates, the control lane as the reference), computed for every poll in one pass per run with the
path functions of ``shadow.report.sequential`` (tested against the one-time functions). One
simplification makes the false-rollback count conservative: a rule counts as failed when its
favourable bound is beyond the tolerance, without also asking that its estimate be (which the gate
does).

The simulated policy is ``deploy/gate-policy.yaml``'s: JSON validity (1 point, critical), p95 latency
(10%, critical), cost per request (8%), tool-argument agreement (≥ 95%, critical), refusal rate
(1 point), error rate (2 points); its schema rule has nothing to judge (no schema asked for).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shadow.report.sequential import mean_excluded, mean_ratio_excluded, quantile_bounds_at, rate_excluded

Flags = NDArray[np.bool_]
Paths = dict[str, Flags]  # per rule: a decision at each poll
Draws = dict[str, NDArray[np.float64] | Flags]  # per lane: what it answered for each event


@dataclass(frozen=True, slots=True)
class Lane:
    """How one lane answers: rates of valid JSON, refusals, errors and tool-argument agreement,
    a latency multiplier (lognormal around 800 ms) and a cost multiplier."""

    json_valid: float = 0.97
    refusal: float = 0.02
    error: float = 0.01
    tool_agreement: float = 0.98
    latency: float = 1.0
    cost: float = 1.0


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules simulated, with the policy's error rates (deploy/gate-policy.yaml by default)."""

    false_rollback: float = 0.01
    false_promotion: float = 0.05
    min_samples: int = 200
    rules: int = 7  # the false-rollback rate is split across all of the policy's rules
    json_tolerance: float = 0.01
    latency_tolerance: float = 0.10
    cost_tolerance: float = 0.08
    tool_minimum: float = 0.95
    refusal_tolerance: float = 0.01
    error_tolerance: float = 0.02


@dataclass(frozen=True, slots=True)
class Run:
    """When one run first rolled back and first promoted (comparisons at that poll; None: never)."""

    rollback_at: int | None
    promote_at: int | None
    failed_rules: tuple[str, ...]  # the rules that failed at the first rollback

    @property
    def decided(self) -> tuple[str, int] | None:
        """The run's decision as ``shadow serve`` latches it: the first of rollback and promote."""
        if self.rollback_at is not None and (self.promote_at is None or self.rollback_at <= self.promote_at):
            return "rollback", self.rollback_at
        return ("promote", self.promote_at) if self.promote_at is not None else None


def _draw(rng: np.random.Generator, lane: Lane, n: int, tools: Flags) -> Draws:
    return {
        "json": rng.random(n) < lane.json_valid,
        "refusal": rng.random(n) < lane.refusal,
        "error": rng.random(n) < lane.error,
        "agree": (rng.random(n) < lane.tool_agreement)[tools],
        "latency": rng.lognormal(math.log(800), 0.35, n) * lane.latency,
        "cost": 0.002 * rng.uniform(0.8, 1.2, n) * lane.cost,
    }


def _at_polls(path: Flags, polls: NDArray[np.int64]) -> Flags:
    """A per-comparison path read at the polls (comparisons so far)."""
    picked: Flags = path[polls - 1]
    return picked


def _tool_polls(tools: Flags, polls: NDArray[np.int64]) -> NDArray[np.int64]:
    """Tool-calling comparisons among the first t, at each poll t."""
    counts: NDArray[np.int64] = np.cumsum(tools, dtype=np.int64)[polls - 1]
    return counts


RULES = ("json", "refusal", "error", "latency", "cost", "tools")


def simulate_run(rng: np.random.Generator, candidate: Lane, control: Lane, policy: Policy, horizon: int,
                 every: int, only: tuple[str, ...] = RULES) -> Run:  # fmt: skip
    """One stream of ``horizon`` events, polled after every ``every``; ``only`` these rules are judged
    (the others count as passing: for the power of one rule alone)."""
    polls = np.arange(every, horizon + 1, every, dtype=np.int64)
    tools = rng.random(horizon) < 0.5
    cand, ref = _draw(rng, candidate, horizon, tools), _draw(rng, control, horizon, tools)
    a_r, a_p = policy.false_rollback / policy.rules, policy.false_promotion
    fails: Paths = {}
    passes: Paths = {}

    # Paired rates against the control lane: the per-event difference candidate - control.
    for name, higher_is_better, tolerance in (
        ("json", True, policy.json_tolerance),
        ("refusal", False, policy.refusal_tolerance),
        ("error", False, policy.error_tolerance),
    ):
        if name not in only:
            continue
        d = cand[name].astype(np.float64) - ref[name]
        if higher_is_better:  # regression = -d: fails when d's high bound < -tolerance
            fail = mean_excluded(d, -1, 1, -tolerance, alpha=a_r, side="high")
            ok = mean_excluded(d, -1, 1, -tolerance, alpha=a_p, side="low")
        else:
            fail = mean_excluded(d, -1, 1, tolerance, alpha=a_r, side="low")
            ok = mean_excluded(d, -1, 1, tolerance, alpha=a_p, side="high")
        fails[name], passes[name] = _at_polls(fail, polls), _at_polls(ok, polls)

    if "latency" in only:
        _latency(cand, ref, polls, a_r, a_p, policy, fails, passes)
    if "cost" in only:
        # Cost per request: the ratio of means, lanes paired by arrival.
        limit = 1 + policy.cost_tolerance
        fail = mean_ratio_excluded(cand["cost"], ref["cost"], limit, alpha=a_r, side="low")
        fails["cost"] = _at_polls(fail, polls)
        passes["cost"] = _at_polls(mean_ratio_excluded(cand["cost"], ref["cost"], limit, alpha=a_p, side="high"), polls)
    if "tools" in only:
        _tools(cand, ref, tools, polls, a_r, a_p, policy, fails, passes)
    return _first_decisions(polls, policy, fails, passes)


def _latency(cand: Draws, ref: Draws, polls: NDArray[np.int64], a_r: float, a_p: float, policy: Policy,
             fails: Paths, passes: Paths) -> None:  # fmt: skip
    """p95 latency: quantile(candidate) / quantile(control), a sequence per lane at half of each alpha."""
    c_low, c_high = quantile_bounds_at(cand["latency"], 0.95, polls, alpha_low=a_r / 2, alpha_high=a_p / 2)
    r_low, r_high = quantile_bounds_at(ref["latency"], 0.95, polls, alpha_low=a_p / 2, alpha_high=a_r / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_low = np.where(np.isinf(r_high), 0.0, np.maximum(c_low, 0) / r_high)
        ratio_high = np.where(r_low > 0, c_high / np.where(r_low > 0, r_low, 1), np.inf)
    fails["latency"] = ratio_low - 1 > policy.latency_tolerance
    passes["latency"] = ratio_high - 1 <= policy.latency_tolerance


def _tools(cand: Draws, ref: Draws, tools: Flags, polls: NDArray[np.int64], a_r: float, a_p: float,
           policy: Policy, fails: Paths, passes: Paths) -> None:  # fmt: skip
    """Tool-argument agreement >= minimum, judged against the control lane's own agreement: it fails
    only where the candidate is also shown worse than the control lane (lanes paired by arrival)."""
    seen = _tool_polls(tools, polls)
    agree, own = cand["agree"], ref["agree"]
    worse = mean_excluded(agree.astype(np.float64) - own, -1, 1, 0.0, alpha=a_r, side="high")
    below = rate_excluded(agree, policy.tool_minimum, alpha=a_r, side="high", at=seen)
    meets = rate_excluded(agree, policy.tool_minimum, alpha=a_p, side="low", at=seen)
    has = seen > 0
    fails["tools"] = has & worse[np.maximum(seen - 1, 0)] & below
    passes["tools"] = meets


def _first_decisions(polls: NDArray[np.int64], policy: Policy, fails: Paths, passes: Paths) -> Run:
    enough = polls >= policy.min_samples
    failed = np.zeros(polls.size, dtype=bool)
    for path in fails.values():
        failed |= path
    failed &= enough
    passed = enough.copy()
    for path in passes.values():
        passed &= path
    rollback = int(polls[np.argmax(failed)]) if failed.any() else None
    promote = int(polls[np.argmax(passed)]) if passed.any() else None
    at = int(np.argmax(failed))
    names = tuple(sorted(name for name, path in fails.items() if failed.any() and path[at]))
    return Run(rollback, promote, names)


def simulate(candidate: Lane, control: Lane, *, runs: int, seed: int, policy: Policy | None = None,
             horizon: int = 5_000, every: int = 50, only: tuple[str, ...] = RULES) -> list[Run]:  # fmt: skip
    """``runs`` seeded runs of a candidate against the control lane."""
    rng = np.random.default_rng(seed)
    return [simulate_run(rng, candidate, control, policy or Policy(), horizon, every, only) for _ in range(runs)]


def percentile_at(times: list[int | None], share: float) -> int | None:
    """Comparisons by which ``share`` of the runs had decided (None: fewer than that ever did)."""
    decided = sorted(t for t in times if t is not None)
    needed = math.ceil(share * len(times))
    return decided[needed - 1] if needed <= len(decided) else None


SCENARIOS: tuple[tuple[str, Lane, tuple[str, ...], int], ...] = (
    # (label, the candidate, the rules judged, comparisons per run)
    ("A/A: the production model replayed, every rule", Lane(), RULES, 10_000),
    ("JSON validity -2 points (0.97 -> 0.95), its rule alone", Lane(json_valid=0.95), ("json",), 60_000),
    ("JSON validity -5 points (0.97 -> 0.92), its rule alone", Lane(json_valid=0.92), ("json",), 10_000),
    ("p95 latency +30% (every latency x1.3), its rule alone", Lane(latency=1.3), ("latency",), 10_000),
    ("p95 latency +6% (within the 10% tolerance), its rule alone", Lane(latency=1.06), ("latency",), 10_000),
    ("cost per request +20%, its rule alone", Lane(cost=1.2), ("cost",), 10_000),
)


def _table(runs: int, seed: int) -> str:
    control = Lane()
    lines = [
        f"{runs} seeded runs per scenario, polled after every 50 comparisons; the policy of "
        "deploy/gate-policy.yaml (false_rollback 0.01 over its 7 rules, false_promotion 0.05 per rule, "
        "min_samples 200); lanes answer each event independently (the worst case for paired rates)",
        "",
        "| scenario | runs up to | rolled back | promoted | rolled back by (median / 90% of runs) "
        "| promoted by (median / 90%) |",
        "|---|---|---|---|---|---|",
    ]
    for i, (label, lane, only, horizon) in enumerate(SCENARIOS):

        def fmt(value: int | None, horizon: int = horizon) -> str:
            return f"{value:,}" if value is not None else f"> {horizon:,}"

        results = simulate(lane, control, runs=runs, seed=seed + i, horizon=horizon, only=only)
        decisions = [r.decided for r in results]
        rolled = [d[1] if d is not None and d[0] == "rollback" else None for d in decisions]
        promoted = [d[1] if d is not None and d[0] == "promote" else None for d in decisions]
        lines.append(
            f"| {label} | {horizon:,} | {sum(r is not None for r in rolled) / runs:.1%} "
            f"| {sum(p is not None for p in promoted) / runs:.1%} "
            f"| {fmt(percentile_at(rolled, 0.5))} / {fmt(percentile_at(rolled, 0.9))} "
            f"| {fmt(percentile_at(promoted, 0.5))} / {fmt(percentile_at(promoted, 0.9))} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Calibration and power tables of shadow gate (README).")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.stdout.write(_table(args.runs, args.seed) + "\n")


if __name__ == "__main__":
    main()
