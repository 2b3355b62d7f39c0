"""Fixed-sample intervals for rates and differences of rates (``shadow summary``'s flags).

- Wilson score interval for one proportion.
- Newcombe's hybrid score intervals for a difference of proportions: method 10 of Newcombe
  (1998) for independent samples, and his method for paired samples (same events answered by
  production and the candidate) with the phi correlation correction.

They hold for one look at a fixed sample. ``shadow gate``, which release pipelines poll again and
again, decides on confidence sequences instead (``shadow.report.sequential``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

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
