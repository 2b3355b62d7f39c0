"""Confidence sequences for the gate: confseq's values, coverage at every look, power, edge cases.

Coverage is checked at every time of every stream without calling the public functions n times: each
sequence excludes the truth at time t exactly when its test martingale at the truth has crossed 1/α by
then (or, for quantiles, when a count of values on one side of the truth reaches the boundary's rank).
``test_*_duality`` tests pin that equivalence against the public functions on prefixes.

Allowance: a stream misses when any look misses. With a valid sequence the number of missing streams is
at most Binomial(streams, α_low + α_high), so a test fails only beyond α·streams + 3 standard deviations
(one run in ~700 for a sequence exactly at level; the seeds are fixed, so the figures below never move).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from shadow.report import sequential
from shadow.report.sequential import (
    SeqInterval,
    comparisons_needed,
    independent_difference_cs,
    mean_cs,
    mean_ratio_cs,
    paired_difference_cs,
    quantile_cs,
    quantile_ratio_cs,
    rate_cs,
)

pytestmark = pytest.mark.timeout(60)

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "confseq_reference.json").read_text("utf-8"))
STREAMS, HORIZON, ALPHA = 400, 5_000, 0.05  # α per side: two-sided 0.10
TIMES = np.arange(1, HORIZON + 1)
Z_90 = 1.6448536269514722


def _allowance(streams: int, alpha: float) -> float:
    """Largest miss rate a valid sequence passes with: α + 3 binomial standard deviations."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / streams)


# ------------------------------------------------------------------------------------- confseq


def test_reference_was_made_with_our_tuning() -> None:
    assert REFERENCE["t_opt"] == sequential.T_OPT
    assert REFERENCE["bet_truncation"] == sequential.BET_TRUNCATION


@pytest.mark.parametrize("case", REFERENCE["betting"], ids=lambda c: f"{c['name']}-{c['alpha_low']}")
def test_betting_bounds_match_confseq(case: dict) -> None:
    # confseq scans a grid of 1/breaks and widens by one step; we bisect, so ours lies within that step.
    step = (case["hi"] - case["lo"]) / REFERENCE["breaks"]
    got = mean_cs(
        np.array(case["x"]), case["lo"], case["hi"], alpha_low=case["alpha_low"], alpha_high=case["alpha_high"]
    )
    assert case["low"] - 1e-12 <= got.low <= case["low"] + step + 1e-12
    assert case["high"] - step - 1e-12 <= got.high <= case["high"] + 1e-12


def test_beta_binomial_mixture_matches_confseq() -> None:
    # 300 alternatives stand in for confseq's integral: within 0.005 in log M over t = 1..100,000.
    for value in REFERENCE["log_mixture"]:
        ours = float(sequential._log_upper_mixture(value["count"], value["t"], value["p"], value["alpha"]))
        assert ours == pytest.approx(value["log_mixture"], abs=5e-3), value


def test_boundary_ranks_match_confseq() -> None:
    for bound in REFERENCE["mixture_bound"]:
        t, p = bound["t"], bound["p"]
        expected = t + 1 if bound["never_crosses"] else math.ceil(t * p + bound["bound"])
        assert int(sequential._upper_ranks([t], p, bound["alpha"])[0]) == expected, bound


@pytest.mark.parametrize("case", REFERENCE["rate"], ids=lambda c: f"{c['successes']}/{c['n']}-{c['alpha_low']}")
def test_rate_bounds_match_confseq(case: dict) -> None:
    flags = np.r_[np.ones(case["successes"]), np.zeros(case["n"] - case["successes"])]
    got = rate_cs(flags, alpha_low=case["alpha_low"], alpha_high=case["alpha_high"])
    assert got.low == pytest.approx(case["low"], abs=1e-5)
    assert got.high == pytest.approx(case["high"], abs=1e-5)


@pytest.mark.parametrize("case", REFERENCE["quantile_ranks"], ids=lambda c: f"{c['n']}-{c['q']}-{c['alpha_low']}")
def test_quantile_ranks_match_confseq(case: dict) -> None:
    n = case["n"]
    values = np.random.default_rng(n).permutation(np.arange(1.0, n + 1))  # the value is its rank
    got = quantile_cs(values, case["q"], alpha_low=case["alpha_low"], alpha_high=case["alpha_high"])
    assert got.low == (case["low_rank"] if case["low_rank"] is not None else -math.inf)
    assert got.high == (case["high_rank"] if case["high_rank"] is not None else math.inf)


def test_normal_mixture_boundary_matches_confseq() -> None:
    for bound in REFERENCE["normal_bound"]:
        ours = float(sequential._normal_margin([bound["t"]], bound["alpha"])[0]) * bound["t"]
        assert ours == pytest.approx(bound["bound"], rel=1e-6), bound


# ------------------------------------------------------------------------ coverage at every look


def _rate_misses(successes: np.ndarray, p: float) -> np.ndarray:
    """Per stream: did rate_cs exclude p at any time (successes: cumulative, streams x time)?"""
    times = TIMES[: successes.shape[1]]
    above = successes >= sequential._upper_ranks(times, p, ALPHA)
    below = times - successes >= sequential._upper_ranks(times, 1 - p, ALPHA)
    return (above | below).any(axis=1)


def _hedged_log_capital(x: np.ndarray, m: float) -> np.ndarray:
    """log K_t(m) at every t for the lower side of mean_cs on x in [0, 1]."""
    stakes = np.minimum(sequential._hedged_bets(x, ALPHA), sequential.BET_TRUNCATION / m)
    return np.cumsum(np.log1p(stakes * (x - m)))


def _difference_misses(d: np.ndarray, theta: float) -> bool:
    """Did paired_difference_cs on d in {-1, 0, 1} exclude theta at any time?"""
    x, m = (d + 1) / 2, (theta + 1) / 2
    crossed = max(_hedged_log_capital(x, m).max(), _hedged_log_capital(1 - x, 1 - m).max())
    return bool(crossed >= math.log(1 / ALPHA))


def test_rate_sequence_covers_at_every_look_and_wilson_does_not() -> None:
    p = 0.95
    flags = np.random.default_rng(11).random((STREAMS, HORIZON)) < p
    successes = np.cumsum(flags, axis=1)
    misses = _rate_misses(successes, p).mean()
    # The same streams, a 90 % Wilson interval looked at every 50 comparisons.
    looks = TIMES[49::50]
    observed = successes[:, 49::50] / looks
    denominator = 1 + Z_90**2 / looks
    centre = (observed + Z_90**2 / (2 * looks)) / denominator
    half = Z_90 * np.sqrt(observed * (1 - observed) / looks + Z_90**2 / (4 * looks**2)) / denominator
    wilson_misses = ((centre - half > p) | (centre + half < p)).any(axis=1).mean()
    assert misses == pytest.approx(18 / STREAMS)  # against α = 0.10
    assert misses <= _allowance(STREAMS, 2 * ALPHA)
    assert wilson_misses == pytest.approx(224 / STREAMS)  # peeking at a fixed-n 90 % interval
    assert wilson_misses > _allowance(STREAMS, 2 * ALPHA)


def test_rate_duality() -> None:
    rng = np.random.default_rng(12)
    for p in (0.95, 0.5):
        flags = rng.random((10, 2_000)) < p
        successes = np.cumsum(flags, axis=1)
        above = successes >= sequential._upper_ranks(TIMES[:2_000], p, ALPHA)
        below = TIMES[:2_000] - successes >= sequential._upper_ranks(TIMES[:2_000], 1 - p, ALPHA)
        for stream in range(10):
            for t in (1, 7, 60, 400, 1_999):
                got = rate_cs(flags[stream, :t], alpha_low=ALPHA, alpha_high=ALPHA)
                assert (got.low > p) == above[stream, t - 1]
                assert (got.high < p) == below[stream, t - 1]


def test_paired_difference_covers_at_every_look() -> None:
    rng = np.random.default_rng(13)
    misses = 0
    for _ in range(STREAMS):
        u = rng.random(HORIZON)  # candidate worse on 3 % of events, better on 1 %: θ = -0.02
        misses += _difference_misses(np.where(u < 0.03, -1.0, np.where(u < 0.04, 1.0, 0.0)), -0.02)
    assert misses == 19  # of 400 streams, against α = 0.10
    assert misses / STREAMS <= _allowance(STREAMS, 2 * ALPHA)


def test_independent_difference_covers_at_every_look() -> None:
    rng = np.random.default_rng(14)
    misses = 0
    for _ in range(STREAMS):  # two lanes, 0.93 vs 0.95, paired by arrival
        cand, ref = rng.random(HORIZON) < 0.93, rng.random(HORIZON) < 0.95
        misses += _difference_misses(cand.astype(float) - ref, -0.02)
    assert misses == 26  # of 400
    assert misses / STREAMS <= _allowance(STREAMS, 2 * ALPHA)


def test_difference_duality() -> None:
    rng = np.random.default_rng(15)
    for _ in range(10):
        cand, ref = rng.random(3_000) < 0.9, rng.random(3_000) < 0.95
        x = (cand.astype(float) - ref + 1) / 2
        for theta in (-0.2, -0.05, 0.0, 0.02):
            low_capital = _hedged_log_capital(x, (theta + 1) / 2)
            high_capital = _hedged_log_capital(1 - x, (1 - theta) / 2)
            for t in (3, 100, 900, 3_000):
                got = independent_difference_cs(cand[:t], ref[:t], alpha_low=ALPHA, alpha_high=ALPHA)
                assert (got.low > theta) == (low_capital[t - 1] >= math.log(1 / ALPHA))
                assert (got.high < theta) == (high_capital[t - 1] >= math.log(1 / ALPHA))


def _quantile_misses(values: np.ndarray, q: float, truth: float) -> np.ndarray:
    """Per stream: did quantile_cs exclude the true q-quantile at any time (values: streams x time)?"""
    times = TIMES[: values.shape[1]]
    high_misses = np.cumsum(values < truth, axis=1) >= sequential._upper_ranks(times, q, ALPHA)
    low_misses = np.cumsum(values > truth, axis=1) >= sequential._upper_ranks(times, 1 - q, ALPHA)
    return (high_misses | low_misses).any(axis=1)


def test_quantile_covers_at_every_look() -> None:
    rng = np.random.default_rng(16)
    misses = _quantile_misses(rng.lognormal(0, 0.5, (STREAMS, HORIZON)), 0.95, math.exp(0.5 * Z_90)).mean()
    assert misses == pytest.approx(13 / STREAMS)  # against α = 0.10
    assert misses <= _allowance(STREAMS, 2 * ALPHA)
    # Ties: a median of five values, where 1{X < θ} has mean below q (one-sided mixtures stay valid).
    ties = _quantile_misses(rng.integers(0, 5, (STREAMS, 2_000)).astype(float), 0.5, 2.0).mean()
    assert ties == 0.0  # P(X < 2) = P(X > 2) = 0.4: both counts drift away from their boundaries


def test_quantile_duality() -> None:
    rng = np.random.default_rng(17)
    values = rng.lognormal(0, 1, (10, 3_000))
    for truth in (1.5, 5.0, 6.0):
        times = TIMES[:3_000]
        high_misses = np.cumsum(values < truth, axis=1) >= sequential._upper_ranks(times, 0.95, ALPHA)
        low_misses = np.cumsum(values > truth, axis=1) >= sequential._upper_ranks(times, 0.05, ALPHA)
        for stream in range(10):
            for t in (5, 80, 700, 3_000):
                got = quantile_cs(values[stream, :t], 0.95, alpha_low=ALPHA, alpha_high=ALPHA)
                assert (got.high < truth) == high_misses[stream, t - 1]
                assert (got.low > truth) == low_misses[stream, t - 1]


def _ratio_exclusions(cand: np.ndarray, ref: np.ndarray, ratio: float) -> np.ndarray:
    """At each t: does the sequence for the mean of cand - ratio·ref exclude 0? mean_ratio_cs excludes
    ``ratio`` exactly then, once the reference mean is clear of 0 (else it reports 0 / inf)."""
    d = cand - ratio * ref
    times = TIMES[: d.size]
    mean = np.cumsum(d) / times
    sd = np.sqrt(np.maximum(np.cumsum(d * d) / times - mean**2, 0.0))
    reach = sequential._normal_margin(times, ALPHA) * sd
    return (mean - reach > 0) | (mean + reach < 0)


def _ratio_misses(cand: np.ndarray, ref: np.ndarray, ratio: float) -> bool:
    """Did mean_ratio_cs exclude ``ratio`` at any time from ASYMPTOTIC_BURN_IN on (or a superset)?"""
    return bool(_ratio_exclusions(cand, ref, ratio)[sequential.ASYMPTOTIC_BURN_IN - 1 :].any())


def test_mean_ratio_covers_at_every_look() -> None:
    rng = np.random.default_rng(18)
    paired = independent = 0
    for _ in range(STREAMS):
        ref = rng.lognormal(0, 1, HORIZON)  # heavy-ish costs; the candidate ~15 % dearer per event
        paired += _ratio_misses(ref * rng.lognormal(0.1, 0.3, HORIZON), ref, math.exp(0.1 + 0.045))
        independent += _ratio_misses(rng.lognormal(0.2, 1, HORIZON), rng.lognormal(0, 1, HORIZON), math.exp(0.2))
    assert paired == 19  # of 400: asymptotic, yet within α = 0.10
    assert paired / STREAMS <= _allowance(STREAMS, 2 * ALPHA)
    assert independent == 22  # of 400
    assert independent / STREAMS <= _allowance(STREAMS, 2 * ALPHA)


def test_mean_ratio_duality() -> None:
    rng = np.random.default_rng(19)
    for _ in range(10):
        ref = rng.lognormal(0, 1, 2_000)
        cand = ref * rng.lognormal(0.1, 0.3, 2_000)
        for ratio in (1.0, 1.1, 1.16, 1.3):
            excluded = _ratio_exclusions(cand, ref, ratio)
            for t in (30, 200, 2_000):
                got = mean_ratio_cs(cand[:t], ref[:t], paired=True, alpha_low=ALPHA, alpha_high=ALPHA)
                assert (not got.low <= ratio <= got.high) == excluded[t - 1]


# ------------------------------------------------------------------------------------------- power


def test_a_two_point_paired_drop_is_caught() -> None:
    # Production at 0.95; on the same events the candidate fails 2.5 % more and recovers 0.5 %: 0.93.
    # Rule: roll back once the candidate is surely more than 0.5 points worse (high < -0.005).
    rng = np.random.default_rng(20)
    caught = 0
    for _ in range(50):
        production = rng.random(2_500) < 0.95
        u = rng.random(2_500)
        candidate = np.where(production, u >= 0.025 / 0.95, u < 0.005 / 0.05)
        got = paired_difference_cs(candidate, production, alpha_low=ALPHA, alpha_high=ALPHA)
        caught += got.high < -0.005
    assert caught >= 45  # 90 % of seeds within 2,500 comparisons (median ~1,200)


def test_a_thirty_percent_p95_latency_rise_is_caught() -> None:
    # Control lane lognormal(0, 0.5) ms; candidate 1.3x. Rule: p95 ratio surely above 1.1.
    rng = np.random.default_rng(21)
    caught = 0
    for _ in range(50):
        got = quantile_ratio_cs(1.3 * rng.lognormal(0, 0.5, 2_500), rng.lognormal(0, 0.5, 2_500), 0.95,
                                alpha_low=ALPHA, alpha_high=ALPHA)  # fmt: skip
        caught += got.low > 1.1
    assert caught >= 45  # 90 % of seeds within 2,500 per lane (median ~1,750)


# -------------------------------------------------------------------------------------- planning


def test_comparisons_needed_predicts_when_a_rate_decides() -> None:
    # A stream whose rate stays exactly 0.95: at 1,000 the low bound is under 0.93; the forecast says when
    # it rises past, and the real sequence agrees within a quarter.
    pattern = np.array([1.0] * 19 + [0.0])
    now = rate_cs(np.tile(pattern, 50), alpha_low=ALPHA, alpha_high=ALPHA)
    more = comparisons_needed("rate", now, margin=0.93, alpha_low=ALPHA, alpha_high=ALPHA)
    assert more is not None and more > 0
    early = rate_cs(np.tile(pattern, (1_000 + int(0.75 * more)) // 20), alpha_low=ALPHA, alpha_high=ALPHA)
    late = rate_cs(np.tile(pattern, (1_000 + int(1.25 * more)) // 20 + 1), alpha_low=ALPHA, alpha_high=ALPHA)
    assert early.low < 0.93 < late.low


def test_comparisons_needed_sides_and_edges() -> None:
    undecided = SeqInterval(estimate=-0.02, low=-0.05, high=0.01, n=500)
    assert comparisons_needed("paired_difference", undecided, margin=-0.06, alpha_low=ALPHA, alpha_high=ALPHA) == 0
    assert comparisons_needed("paired_difference", undecided, margin=-0.02, alpha_low=ALPHA, alpha_high=ALPHA) is None
    worse = comparisons_needed("paired_difference", undecided, margin=0.0, alpha_low=ALPHA, alpha_high=ALPHA)
    nearer = comparisons_needed("paired_difference", undecided, margin=0.005, alpha_low=ALPHA, alpha_high=ALPHA)
    assert worse is not None and nearer is not None and worse > nearer > 0
    ratio = SeqInterval(estimate=1.3, low=1.05, high=1.6, n=800)
    assert comparisons_needed("quantile_ratio", ratio, margin=1.1, alpha_low=ALPHA, alpha_high=ALPHA) > 0
    unbounded = SeqInterval(estimate=1.3, low=0.0, high=math.inf, n=20)
    assert comparisons_needed("mean_ratio", unbounded, margin=1.1, alpha_low=ALPHA, alpha_high=ALPHA) is None
    with pytest.raises(ValueError, match="kind"):
        comparisons_needed("median", ratio, margin=1.1, alpha_low=ALPHA, alpha_high=ALPHA)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ edges


CALLS = {
    "mean": lambda a, b: mean_cs(a, 0.0, 1.0, alpha_low=ALPHA, alpha_high=ALPHA),
    "rate": lambda a, b: rate_cs(a, alpha_low=ALPHA, alpha_high=ALPHA),
    "paired_difference": lambda a, b: paired_difference_cs(a, b, alpha_low=ALPHA, alpha_high=ALPHA),
    "independent_difference": lambda a, b: independent_difference_cs(a, b, alpha_low=ALPHA, alpha_high=ALPHA),
    "quantile": lambda a, b: quantile_cs(a, 0.95, alpha_low=ALPHA, alpha_high=ALPHA),
    "quantile_ratio": lambda a, b: quantile_ratio_cs(a, b, 0.95, alpha_low=ALPHA, alpha_high=ALPHA),
    "mean_ratio": lambda a, b: mean_ratio_cs(a, b, paired=True, alpha_low=ALPHA, alpha_high=ALPHA),
}


@pytest.mark.parametrize("kind", CALLS)
def test_no_observations_is_an_error(kind: str) -> None:
    with pytest.raises(ValueError, match=r"no observations \(n = 0\)"):
        CALLS[kind](np.array([]), np.array([1.0]))


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, math.nan])
def test_alpha_outside_zero_one_is_an_error(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha_high must lie in"):
        rate_cs([1, 0, 1], alpha_low=0.05, alpha_high=alpha)


def test_bad_inputs_name_the_observation() -> None:
    with pytest.raises(ValueError, match=r"flags\[2\] is 2.0"):
        rate_cs([1, 0, 2], alpha_low=ALPHA, alpha_high=ALPHA)
    with pytest.raises(ValueError, match=r"x\[1\] = 1.5 lies outside"):
        mean_cs([0.5, 1.5], 0.0, 1.0, alpha_low=ALPHA, alpha_high=ALPHA)
    with pytest.raises(ValueError, match="same events"):
        paired_difference_cs([1, 0], [1], alpha_low=ALPHA, alpha_high=ALPHA)
    with pytest.raises(ValueError, match=r"ref\[0\] is -1.0"):
        mean_ratio_cs([1.0], [-1.0], paired=True, alpha_low=ALPHA, alpha_high=ALPHA)
    with pytest.raises(ValueError, match="q must lie in"):
        quantile_cs([1.0], 1.0, alpha_low=ALPHA, alpha_high=ALPHA)
    with pytest.raises(ValueError, match="not a finite number"):
        quantile_cs([1.0, math.nan], 0.5, alpha_low=ALPHA, alpha_high=ALPHA)


def test_all_observations_equal() -> None:
    ones = np.ones(200)
    rate = rate_cs(ones, alpha_low=ALPHA, alpha_high=ALPHA)
    assert rate.estimate == rate.high == 1.0 and 0.9 < rate.low < 1.0
    same = paired_difference_cs(ones, ones, alpha_low=ALPHA, alpha_high=ALPHA)
    assert same.estimate == 0.0 and -0.1 < same.low < 0 < same.high < 0.1
    flat = quantile_cs(np.full(500, 7.0), 0.95, alpha_low=ALPHA, alpha_high=ALPHA)
    assert (flat.estimate, flat.low, flat.high) == (7.0, 7.0, 7.0)
    costs = mean_ratio_cs(np.full(100, 2.0), np.full(100, 1.0), paired=True, alpha_low=ALPHA, alpha_high=ALPHA)
    assert (costs.estimate, costs.low, costs.high) == (2.0, 2.0, 2.0)


def test_bounds_stay_in_the_parameters_range() -> None:
    rng = np.random.default_rng(22)
    for _ in range(20):
        n = int(rng.integers(1, 40))
        a, b = rng.random(n) < rng.random(), rng.random(n) < rng.random()
        for got, lowest, highest in (
            (rate_cs(a, alpha_low=ALPHA, alpha_high=ALPHA), 0.0, 1.0),
            (paired_difference_cs(a, b, alpha_low=ALPHA, alpha_high=ALPHA), -1.0, 1.0),
            (independent_difference_cs(a, b[: max(1, n // 2)], alpha_low=ALPHA, alpha_high=ALPHA), -1.0, 1.0),
            (quantile_ratio_cs(rng.random(n), rng.random(n), 0.5, alpha_low=ALPHA, alpha_high=ALPHA), 0.0, math.inf),
            (mean_ratio_cs(rng.random(n + 30), rng.random(n + 30), paired=False, alpha_low=ALPHA, alpha_high=ALPHA),
             0.0, math.inf),
        ):  # fmt: skip
            assert lowest <= got.low <= got.high <= highest


def test_early_and_lopsided_answers() -> None:
    few = quantile_cs([3.0, 1.0, 2.0], 0.95, alpha_low=ALPHA, alpha_high=ALPHA)
    assert (few.estimate, few.low, few.high) == (3.0, -math.inf, math.inf)
    burn_in = mean_ratio_cs(np.ones(10), np.ones(12), paired=False, alpha_low=ALPHA, alpha_high=ALPHA)
    assert (burn_in.low, burn_in.high, burn_in.n) == (0.0, math.inf, 10)
    lanes = independent_difference_cs(np.ones(100), np.zeros(40), alpha_low=ALPHA, alpha_high=ALPHA)
    assert (lanes.estimate, lanes.n) == (1.0, 40)
    assert math.isnan(mean_ratio_cs([0.0] * 40, [0.0] * 40, paired=True, alpha_low=ALPHA, alpha_high=ALPHA).estimate)


def test_one_sided_alphas_are_separate() -> None:
    flags = np.random.default_rng(23).random(3_000) < 0.95
    both = rate_cs(flags, alpha_low=0.05, alpha_high=0.05)
    strict_low = rate_cs(flags, alpha_low=0.001, alpha_high=0.05)
    assert strict_low.low < both.low and strict_low.high == both.high
