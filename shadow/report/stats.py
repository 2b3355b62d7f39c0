"""Statistics behind ``shadow gate``: intervals for rates, differences of rates, quantiles and means.

- Wilson score interval for one proportion.
- Newcombe's hybrid score intervals for a difference of proportions: method 10 of Newcombe
  (1998) for independent samples, and his method for paired samples (same events answered by
  production and the candidate) with the phi correlation correction.
- Percentile bootstrap intervals for ratios of quantiles and of means (paired when both
  samples come from the same events, independent otherwise), seeded for repeatability.
- Mann-Whitney U (normal approximation with tie correction) as the rank test of "the candidate's
  values tend to be larger".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

_NORMAL = NormalDist()


def z_value(confidence: float) -> float:
    """Two-sided critical value, e.g. 1.96 for 0.95."""
    return _NORMAL.inv_cdf(1 - (1 - confidence) / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    low: float
    high: float


def wilson(successes: int, n: int, confidence: float) -> Interval:
    """Wilson score interval for ``successes / n`` (n > 0)."""
    if n <= 0:
        raise ValueError("n must be positive")
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe_independent(x1: int, n1: int, x2: int, n2: int, confidence: float) -> Interval:
    """Interval for p1 - p2 from independent samples (Newcombe 1998, method 10)."""
    a, b = wilson(x1, n1, confidence), wilson(x2, n2, confidence)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def newcombe_paired(both: int, only_first: int, only_second: int, neither: int, confidence: float) -> Interval:
    """Interval for p1 - p2 when each unit has both outcomes (Newcombe 1998, paired, method 10).

    ``p1 = (both + only_first) / n`` and ``p2 = (both + only_second) / n``.
    """
    n = both + only_first + only_second + neither
    if n <= 0:
        raise ValueError("no pairs")
    a = wilson(both + only_first, n, confidence)
    b = wilson(both + only_second, n, confidence)
    d = a.estimate - b.estimate
    # phi, corrected as Newcombe recommends; 0 when a margin is empty.
    product = (both + only_first) * (only_second + neither) * (both + only_second) * (only_first + neither)
    phi = 0.0
    if product > 0:
        numerator = float(both * neither - only_first * only_second)
        if numerator > 0:
            numerator = max(numerator - n / 2, 0.0)
        phi = numerator / math.sqrt(product)
    dl = (a.estimate - a.low) ** 2 - 2 * phi * (a.estimate - a.low) * (b.high - b.estimate) + (b.high - b.estimate) ** 2
    du = (a.high - a.estimate) ** 2 - 2 * phi * (a.high - a.estimate) * (b.estimate - b.low) + (b.estimate - b.low) ** 2
    return Interval(d, max(-1.0, d - math.sqrt(max(dl, 0.0))), min(1.0, d + math.sqrt(max(du, 0.0))))


def mann_whitney_greater(candidate: Sequence[float], reference: Sequence[float]) -> float:
    """One-sided p-value that candidate values tend to be larger than reference values."""
    n1, n2 = len(candidate), len(reference)
    if n1 == 0 or n2 == 0:
        return 1.0
    values = np.concatenate([np.asarray(candidate, dtype=float), np.asarray(reference, dtype=float)])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    # Average ranks for ties.
    _, starts, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = starts + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    u1 = ranks[:n1].sum() - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    tie_term = float((counts**3 - counts).sum()) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if variance <= 0:
        return 1.0
    z = (u1 - n1 * n2 / 2.0 - 0.5) / math.sqrt(variance)  # continuity correction
    return 1.0 - _NORMAL.cdf(z)


def _resample_stat(
    values: NDArray[np.float64], rng: np.random.Generator, resamples: int, statistic: str, q: float
) -> NDArray[np.float64]:
    out = np.empty(resamples)
    chunk = max(1, min(resamples, 2_000_000 // max(len(values), 1)))
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        picks = values[rng.integers(0, len(values), size=(size, len(values)))]
        out[done : done + size] = np.quantile(picks, q, axis=1) if statistic == "quantile" else picks.mean(axis=1)
        done += size
    return out


def bootstrap_ratio(
    candidate: Sequence[float],
    reference: Sequence[float],
    *,
    statistic: str,
    q: float = 0.5,
    paired: bool,
    confidence: float,
    resamples: int,
    seed: int,
) -> Interval:
    """Percentile bootstrap interval for statistic(candidate) / statistic(reference).

    ``statistic`` is "quantile" (at ``q``) or "mean". Paired samples (same events, same order)
    are resampled together.
    """
    cand = np.asarray(candidate, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if len(cand) == 0 or len(ref) == 0:
        raise ValueError("empty sample")
    rng = np.random.default_rng(seed)

    def stat(values: NDArray[np.float64]) -> float:
        return float(np.quantile(values, q) if statistic == "quantile" else values.mean())

    base = stat(ref)
    estimate = stat(cand) / base if base else math.inf
    if paired:
        if len(cand) != len(ref):
            raise ValueError("paired samples must have the same length")
        ratios = np.empty(resamples)
        chunk = max(1, min(resamples, 2_000_000 // len(cand)))
        done = 0
        while done < resamples:
            size = min(chunk, resamples - done)
            picks = rng.integers(0, len(cand), size=(size, len(cand)))
            if statistic == "quantile":
                top, bottom = np.quantile(cand[picks], q, axis=1), np.quantile(ref[picks], q, axis=1)
            else:
                top, bottom = cand[picks].mean(axis=1), ref[picks].mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios[done : done + size] = top / bottom
            done += size
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = _resample_stat(cand, rng, resamples, statistic, q) / _resample_stat(
                ref, rng, resamples, statistic, q
            )
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) == 0:
        return Interval(estimate, math.inf, math.inf)
    alpha = 1 - confidence
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(low), float(high))


def bootstrap_quantile(values: Sequence[float], q: float, *, confidence: float, resamples: int, seed: int) -> Interval:
    """Percentile bootstrap interval for the ``q`` quantile of ``values``."""
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        raise ValueError("empty sample")
    rng = np.random.default_rng(seed)
    draws = _resample_stat(data, rng, resamples, "quantile", q)
    alpha = 1 - confidence
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Interval(float(np.quantile(data, q)), float(low), float(high))


def bootstrap_quantile_difference(
    candidate: Sequence[float], reference: Sequence[float], q: float, *, confidence: float, resamples: int, seed: int
) -> Interval:
    """Interval for quantile(candidate) - quantile(reference), independent samples."""
    cand, ref = np.asarray(candidate, dtype=float), np.asarray(reference, dtype=float)
    if len(cand) == 0 or len(ref) == 0:
        raise ValueError("empty sample")
    rng = np.random.default_rng(seed)
    draws = _resample_stat(cand, rng, resamples, "quantile", q) - _resample_stat(ref, rng, resamples, "quantile", q)
    alpha = 1 - confidence
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Interval(float(np.quantile(cand, q) - np.quantile(ref, q)), float(low), float(high))


def bootstrap_mean(values: Sequence[float], *, confidence: float, resamples: int, seed: int) -> Interval:
    """Percentile bootstrap interval for the mean of ``values``."""
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        raise ValueError("empty sample")
    rng = np.random.default_rng(seed)
    draws = _resample_stat(data, rng, resamples, "mean", 0.5)
    alpha = 1 - confidence
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Interval(float(data.mean()), float(low), float(high))
