"""Reference values from Steve Howard's confseq 0.0.11 for tests/unit/test_sequential.py.

confseq is never a project dependency: build it in a throw-away venv (it needs Boost's headers and a
C++ compiler; its Python modules need numpy < 2), then run this script there:

    apt-get install libboost-dev
    python3 -m venv /tmp/confseq-venv
    /tmp/confseq-venv/bin/pip install "pybind11>=2.10" scikit-build cmake "numpy<2" "scipy<1.14" \
        matplotlib multiprocess "pandas<2.2"
    /tmp/confseq-venv/bin/pip install --no-build-isolation confseq==0.0.11   # or the sdist's path
    /tmp/confseq-venv/bin/python tests/reference/make_confseq_reference.py

It writes tests/reference/confseq_reference.json. The inputs are fixed seeded draws stored in the file
(rounded to 6 digits, and the rounded values are what confseq saw), so the test needs no confseq.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from confseq.betting import betting_lower_cs, hedged_cs
from confseq.boundaries import beta_binomial_log_mixture, beta_binomial_mixture_bound, normal_mixture_bound
from scipy.optimize import brentq

OUT = Path(__file__).with_name("confseq_reference.json")
T_OPT = 2_000  # shadow.report.sequential.T_OPT; the test checks they agree
BET_TRUNCATION = 0.5  # confseq's default trunc_scale, shadow's BET_TRUNCATION
BREAKS = 2_000  # confseq's grid for betting sequences: bounds are exact to 1 / BREAKS


def _betting_cases() -> list[dict[str, object]]:
    rng = np.random.default_rng(20261201)
    samples = {
        "bernoulli_0.9": (rng.random(400) < 0.9).astype(float),
        "beta_2_5": rng.beta(2, 5, 300),
        "paired_difference": rng.choice([-1.0, 0.0, 1.0], size=400, p=[0.06, 0.91, 0.03]),
        "all_ones": np.ones(60),
        "uniform_short": rng.random(25),
    }
    ranges = {"paired_difference": (-1.0, 1.0), "uniform_short": (0.0, 1.0)}
    cases = []
    for name, raw in samples.items():
        x = np.round(raw, 6)
        lo, hi = ranges.get(name, (0.0, 1.0))
        scaled = (x - lo) / (hi - lo)
        for alpha_low, alpha_high in ((0.025, 0.025), (0.01, 0.1)):
            low = betting_lower_cs(scaled, alpha=alpha_low, breaks=BREAKS, trunc_scale=BET_TRUNCATION)[-1]
            high = 1 - betting_lower_cs(1 - scaled, alpha=alpha_high, breaks=BREAKS, trunc_scale=BET_TRUNCATION)[-1]
            cases.append(
                {
                    "name": name,
                    "x": x.tolist(),
                    "lo": lo,
                    "hi": hi,
                    "alpha_low": alpha_low,
                    "alpha_high": alpha_high,
                    "low": lo + (hi - lo) * low,
                    "high": lo + (hi - lo) * high,
                }
            )
        # The two-sided hedged CS (theta = 1/2) is the pair of one-sided ones at alpha / 2 each.
        low, high = hedged_cs(scaled, alpha=0.05, breaks=BREAKS, running_intersection=False, trunc_scale=BET_TRUNCATION)
        cases.append(
            {
                "name": f"{name} (hedged_cs)",
                "x": x.tolist(),
                "lo": lo,
                "hi": hi,
                "alpha_low": 0.025,
                "alpha_high": 0.025,
                "low": lo + (hi - lo) * low[-1],
                "high": lo + (hi - lo) * high[-1],
            }
        )
    return cases


def _log_mixture(count: float, t: float, p: float, alpha: float) -> float:
    s, v = count - t * p, t * p * (1 - p)
    return beta_binomial_log_mixture(s, v, T_OPT * p * (1 - p), p, 1 - p, alpha, True)


def _mixture_values() -> list[dict[str, float]]:
    values = []
    for p in (0.05, 0.5, 0.93, 0.95, 0.99):
        for t in (1, 10, 100, 1_000, 5_000, 100_000):
            for z in (-1.0, 0.0, 1.0, 2.0, 3.0):
                count = min(max(round(t * p + z * math.sqrt(t * p * (1 - p))), 0), t)
                for alpha in (0.025, 0.05):
                    values.append(
                        {
                            "p": p,
                            "t": t,
                            "count": count,
                            "alpha": alpha,
                            "log_mixture": _log_mixture(count, t, p, alpha),
                        }
                    )
    return values


def _mixture_bounds() -> list[dict[str, float]]:
    bounds = []
    for p in (0.05, 0.5, 0.93, 0.95, 0.99):
        for t in (10, 100, 1_000, 5_000, 100_000):
            for alpha in (0.01, 0.025, 0.05):
                v = t * p * (1 - p)
                s = beta_binomial_mixture_bound(v, alpha, T_OPT * p * (1 - p), p, 1 - p, alpha, True)
                # confseq returns its cap v/g = t(1 - p) (count = t) when no count up to t crosses 1/alpha.
                bounds.append({"p": p, "t": t, "alpha": alpha, "bound": s, "never_crosses": s >= t * (1 - p) - 1e-9})
    return bounds


def _rate_lower(successes: int, n: int, alpha: float) -> float:
    if successes == 0:
        return 0.0
    excess = lambda p: _log_mixture(successes, n, p, alpha) - math.log(1 / alpha)  # noqa: E731
    return brentq(excess, 1e-12, min(successes / n, 1 - 1e-12), xtol=1e-12)


def _rates() -> list[dict[str, float]]:
    rates = []
    for successes, n in ((950, 1_000), (4_750, 5_000), (0, 20), (20, 20), (37, 100), (93, 100), (1, 3)):
        for alpha_low, alpha_high in ((0.025, 0.025), (0.01, 0.1)):
            rates.append(
                {
                    "successes": successes,
                    "n": n,
                    "alpha_low": alpha_low,
                    "alpha_high": alpha_high,
                    "low": _rate_lower(successes, n, alpha_low),
                    "high": 1 - _rate_lower(n - successes, n, alpha_high),
                }
            )
    return rates


def _quantile_ranks() -> list[dict[str, float]]:
    """Ranks of the fixed-quantile sequence (confseq demo/quantiles.py, with one-sided boundaries).

    None where confseq's boundary sits at its cap (no count up to n crosses): no order statistic bounds
    the quantile yet, which the demo's formula would report as the extreme value instead.
    """
    ranks = []
    for n in (20, 200, 1_000, 5_000):
        for q in (0.5, 0.9, 0.95, 0.99):
            for alpha_low, alpha_high in ((0.025, 0.025), (0.01, 0.05)):
                v = q * (1 - q) * n
                below = beta_binomial_mixture_bound(v, alpha_low, q * (1 - q) * T_OPT, 1 - q, q, alpha_low, True)
                above = beta_binomial_mixture_bound(v, alpha_high, q * (1 - q) * T_OPT, q, 1 - q, alpha_high, True)
                ranks.append(
                    {
                        "n": n,
                        "q": q,
                        "alpha_low": alpha_low,
                        "alpha_high": alpha_high,
                        "low_rank": None if below >= n * q - 1e-9 else math.floor(n * q - below) + 1,
                        "high_rank": None if above >= n * (1 - q) - 1e-9 else math.ceil(n * q + above),
                    }
                )
    return ranks


def _normal_bounds() -> list[dict[str, float]]:
    return [
        {"t": t, "alpha": alpha, "bound": normal_mixture_bound(t, alpha, T_OPT, alpha, True)}
        for t in (1, 10, 100, 1_000, 2_000, 10_000, 100_000)
        for alpha in (0.01, 0.025, 0.05)
    ]


def main() -> None:
    reference = {
        "source": "confseq 0.0.11 (github.com/gostevehoward/confseq), built from the PyPI sdist",
        "t_opt": T_OPT,
        "bet_truncation": BET_TRUNCATION,
        "breaks": BREAKS,
        "betting": _betting_cases(),
        "log_mixture": _mixture_values(),
        "mixture_bound": _mixture_bounds(),
        "rate": _rates(),
        "quantile_ranks": _quantile_ranks(),
        "normal_bound": _normal_bounds(),
    }
    OUT.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
