"""The gate's statistics: textbook values and simulated coverage."""

from __future__ import annotations

import numpy as np
import pytest

from shadow.report.stats import (
    bootstrap_mean,
    bootstrap_quantile,
    bootstrap_ratio,
    mann_whitney_greater,
    newcombe_independent,
    newcombe_paired,
    wilson,
    z_value,
)


def test_critical_values() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.99) == pytest.approx(2.575829, abs=1e-6)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0), (81, 263, 0.2553, 0.3662)],
)
def test_wilson_textbook_values(x: int, n: int, low: float, high: float) -> None:
    interval = wilson(x, n, 0.95)
    assert (interval.low, interval.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_newcombe_independent_textbook_value() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80, method 10 gives 0.0524 to 0.3339.
    interval = newcombe_independent(56, 70, 48, 80, 0.95)
    assert interval.estimate == pytest.approx(0.2)
    assert (interval.low, interval.high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))


def coverage(simulate, truth: float, trials: int = 1500, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        interval = simulate(rng)
        hits += interval.low <= truth <= interval.high
    return hits / trials


def test_wilson_covers_the_truth_about_95_percent_of_the_time() -> None:
    share = coverage(lambda rng: wilson(int(rng.binomial(200, 0.1)), 200, 0.95), 0.1)
    assert 0.93 <= share <= 0.975


def test_paired_newcombe_covers_the_truth_and_is_narrower_than_unpaired() -> None:
    # Correlated pairs: the candidate copies production 90% of the time, else draws afresh at 0.85.
    def draw(rng):
        production = rng.random(300) < 0.9
        fresh = rng.random(300) < 0.85
        candidate = np.where(rng.random(300) < 0.9, production, fresh)
        a = int(np.sum(candidate & production))
        b = int(np.sum(candidate & ~production))
        c = int(np.sum(~candidate & production))
        d = 300 - a - b - c
        return production, candidate, (a, b, c, d)

    truth = 0.1 * (0.85 - 0.9)  # E[candidate] - E[production]
    share = coverage(lambda rng: newcombe_paired(*draw(rng)[2], 0.95), truth)
    assert 0.93 <= share <= 0.99
    production, candidate, cells = draw(np.random.default_rng(1))
    paired = newcombe_paired(*cells, 0.95)
    unpaired = newcombe_independent(int(candidate.sum()), 300, int(production.sum()), 300, 0.95)
    assert paired.high - paired.low < unpaired.high - unpaired.low


def test_mann_whitney_sees_a_shift_and_not_its_absence() -> None:
    rng = np.random.default_rng(3)
    base = rng.lognormal(6.5, 0.4, 500)
    assert mann_whitney_greater(base * 1.3, rng.lognormal(6.5, 0.4, 500)) < 1e-6
    assert mann_whitney_greater(rng.lognormal(6.5, 0.4, 500), rng.lognormal(6.5, 0.4, 500)) > 0.01
    assert mann_whitney_greater([1, 1, 1], [1, 1, 1]) == pytest.approx(1.0)
    assert mann_whitney_greater([], [1.0]) == 1.0


def test_bootstrap_intervals_contain_known_ratios() -> None:
    rng = np.random.default_rng(5)
    reference = rng.lognormal(6.5, 0.35, 2000)
    paired = bootstrap_ratio(reference * 1.25, reference, statistic="quantile", q=0.95, paired=True,
                             confidence=0.95, resamples=500, seed=0)  # fmt: skip
    assert paired.estimate == pytest.approx(1.25)
    assert paired.low == pytest.approx(1.25) and paired.high == pytest.approx(1.25)
    independent = bootstrap_ratio(rng.lognormal(6.5, 0.35, 2000) * 1.25, reference, statistic="mean", paired=False,
                                  confidence=0.95, resamples=500, seed=0)  # fmt: skip
    assert independent.low < 1.25 < independent.high
    again = bootstrap_ratio(rng.lognormal(6.5, 0.35, 2000), reference, statistic="mean", paired=False,
                            confidence=0.95, resamples=500, seed=0)  # fmt: skip
    assert again.low < 1.0 < again.high


def test_bootstrap_is_repeatable_by_seed() -> None:
    values = list(np.random.default_rng(9).normal(10, 2, 300))
    first = bootstrap_quantile(values, 0.5, confidence=0.95, resamples=300, seed=4)
    assert first == bootstrap_quantile(values, 0.5, confidence=0.95, resamples=300, seed=4)
    mean = bootstrap_mean(values, confidence=0.95, resamples=300, seed=4)
    assert mean.low < float(np.mean(values)) < mean.high
