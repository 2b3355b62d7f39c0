"""Fixed-sample statistics (shadow summary, and the naive baseline of the gate calibration): textbook values and simulated coverage."""

from __future__ import annotations

import numpy as np
import pytest

from shadow.report.stats import (
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
