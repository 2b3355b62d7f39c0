"""The path functions of ``shadow.report.sequential`` agree with the one-time functions at every look."""

from __future__ import annotations

import numpy as np
import pytest

from shadow.report.sequential import (
    mean_cs,
    mean_excluded,
    mean_ratio_cs,
    mean_ratio_excluded,
    quantile_bounds_at,
    quantile_cs,
    rate_cs,
    rate_excluded,
)

LOOKS = (1, 2, 9, 50, 333, 1_000, 2_500)
ALPHA = 0.01


@pytest.mark.parametrize("theta", [-0.3, -0.02, 0.0, 0.01, 0.2])
def test_mean_excluded_is_mean_cs_at_every_look(theta: float) -> None:
    rng = np.random.default_rng(1)
    u = rng.random(2_500)
    d = np.where(u < 0.04, -1.0, np.where(u < 0.05, 1.0, 0.0))  # a paired difference of flags
    low, high = (mean_excluded(d, -1, 1, theta, alpha=ALPHA, side=side) for side in ("low", "high"))
    for t in LOOKS:
        got = mean_cs(d[:t], -1, 1, alpha_low=ALPHA, alpha_high=ALPHA)
        assert low[t - 1] == (got.low > theta), (t, got)
        assert high[t - 1] == (got.high < theta), (t, got)


@pytest.mark.parametrize("p", [0.5, 0.9, 0.95, 0.97])
def test_rate_excluded_is_rate_cs_at_every_look(p: float) -> None:
    flags = np.random.default_rng(2).random(2_500) < 0.95
    low, high = (rate_excluded(flags, p, alpha=ALPHA, side=side) for side in ("low", "high"))
    for t in LOOKS:
        got = rate_cs(flags[:t], alpha_low=ALPHA, alpha_high=ALPHA)
        assert low[t - 1] == (got.low > p) and high[t - 1] == (got.high < p), (t, got)


def test_quantile_bounds_at_are_quantile_cs_at_every_look() -> None:
    values = np.random.default_rng(3).lognormal(0, 0.5, 2_500)
    low, high = quantile_bounds_at(values, 0.95, LOOKS, alpha_low=0.002, alpha_high=0.05)
    for i, t in enumerate(LOOKS):
        got = quantile_cs(values[:t], 0.95, alpha_low=0.002, alpha_high=0.05)
        assert (low[i], high[i]) == (got.low, got.high)


@pytest.mark.parametrize("ratio", [0.8, 1.0, 1.1, 1.16, 1.5])
def test_mean_ratio_excluded_is_mean_ratio_cs_at_every_look(ratio: float) -> None:
    rng = np.random.default_rng(4)
    ref = rng.lognormal(0, 1, 2_500)
    cand = ref * rng.lognormal(0.1, 0.3, 2_500)
    low, high = (mean_ratio_excluded(cand, ref, ratio, alpha=ALPHA, side=side) for side in ("low", "high"))
    for t in (*LOOKS[3:], 30, 31):
        got = mean_ratio_cs(cand[:t], ref[:t], paired=True, alpha_low=ALPHA, alpha_high=ALPHA)
        assert low[t - 1] == (got.low > ratio) and high[t - 1] == (got.high < ratio), (t, got)
    assert not low[:29].any() and not high[:29].any()  # silent before the burn-in


def test_a_rate_outside_zero_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="p must lie in"):
        rate_excluded([1, 0], 1.0, alpha=ALPHA, side="low")


def test_rate_excluded_at_some_looks_only() -> None:
    flags = np.random.default_rng(5).random(3_000) < 0.95
    every = rate_excluded(flags, 0.97, alpha=ALPHA, side="high")
    looks = np.array([0, 1, 40, 999, 3_000])
    some = rate_excluded(flags, 0.97, alpha=ALPHA, side="high", at=looks)
    assert some.tolist() == [False, *every[looks[1:] - 1].tolist()]
