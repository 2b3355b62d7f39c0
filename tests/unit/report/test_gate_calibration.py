"""The gate's error rates over repeated polls, by seeded simulation (``shadow.report.gate.simulation``).

Release pipelines poll the gate after every few comparisons; these runs poll the policy of
deploy/gate-policy.yaml after every 50 comparisons up to 5,000, as the acceptance of issue 11 asks.
"""

from __future__ import annotations

import math

import numpy as np

from shadow.report.gate.simulation import Lane, Policy, simulate
from shadow.report.stats import newcombe_paired

RUNS = 200


def allowance(rate: float, runs: int) -> float:
    """The rate plus three binomial standard deviations: what ``runs`` runs may show by chance."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / runs)


def test_a_a_runs_polled_every_50_comparisons_rarely_roll_back() -> None:
    runs = simulate(Lane(), Lane(), runs=RUNS, seed=101)
    rolled_back = sum(r.rollback_at is not None for r in runs)
    print(f"A/A: {rolled_back} of {RUNS} runs rolled back at some poll (policy: at most 1%)")
    assert rolled_back / RUNS <= 0.01


def test_at_the_tolerance_itself_false_rollbacks_stay_under_the_policys_rate() -> None:
    # The hardest case for the rollback side: every rule's true regression sits exactly on its tolerance
    # (A/A with zero tolerances; tool agreement judged against the control lane). With a 10% budget the
    # observed rate must stay within it (and be seen at all, so this check can fail).
    policy = Policy(false_rollback=0.10, json_tolerance=0.0, latency_tolerance=0.0, cost_tolerance=0.0,
                    refusal_tolerance=0.0, error_tolerance=0.0)  # fmt: skip
    runs = simulate(Lane(), Lane(), runs=RUNS, seed=102, policy=policy)
    rolled_back = sum(r.rollback_at is not None for r in runs)
    print(f"A/A on the tolerance: {rolled_back} of {RUNS} runs rolled back (budget 10%)")
    assert 0 < rolled_back / RUNS <= allowance(0.10, RUNS)


def test_a_fixed_sample_interval_polled_as_often_rolls_back_far_more() -> None:
    # What the gate did before: a fixed-n interval (Newcombe, paired) decided at every poll. On the same
    # kind of A/A streams, with one rule, a zero tolerance and a 5% one-sided budget, it rolls back in far
    # more than 5% of runs; the confidence sequence (the same rule in the simulation) stays within 5%.
    rng = np.random.default_rng(103)
    naive = 0
    for _ in range(RUNS):
        production = rng.random(5_000) < 0.97
        candidate = rng.random(5_000) < 0.97
        both = np.cumsum(production & candidate)
        only_c = np.cumsum(candidate & ~production)
        only_p = np.cumsum(production & ~candidate)
        for t in range(200, 5_001, 50):
            a, b, c = int(both[t - 1]), int(only_c[t - 1]), int(only_p[t - 1])
            if newcombe_paired(a, b, c, t - a - b - c, 0.90).high < 0:  # one side at 5%
                naive += 1
                break
    policy = Policy(false_rollback=0.05, rules=1, json_tolerance=0.0, latency_tolerance=1e6,
                    cost_tolerance=1e6, refusal_tolerance=1.0, error_tolerance=1.0, tool_minimum=0.01)  # fmt: skip
    sequences = sum("json" in r.failed_rules for r in simulate(Lane(), Lane(), runs=RUNS, seed=104, policy=policy))
    print(f"polled fixed-n interval: {naive} of {RUNS} runs; confidence sequence: {sequences} of {RUNS}")
    assert naive / RUNS > 0.15
    assert sequences / RUNS <= allowance(0.05, RUNS)


def test_a_thirty_percent_slower_candidate_is_rolled_back_and_never_promoted() -> None:
    runs = simulate(Lane(latency=1.3), Lane(), runs=50, seed=105)
    decisions = [r.decided for r in runs]
    assert all(d is not None and d[0] == "rollback" for d in decisions), decisions
    assert all("latency" in r.failed_rules for r in runs)


def test_a_candidate_within_the_tolerance_but_not_shown_so_is_never_promoted_early() -> None:
    # 6% slower with a 10% tolerance: the bound reaches past 10% for thousands of comparisons. No run may
    # promote before 1,000 comparisons, and none may roll back at all (+6% is within the tolerance).
    runs = simulate(Lane(latency=1.06), Lane(), runs=50, seed=106)
    assert all(r.rollback_at is None for r in runs)
    assert all(r.promote_at is None or r.promote_at >= 1_000 for r in runs)
