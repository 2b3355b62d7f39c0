"""Time-uniform confidence sequences for ``shadow gate`` (issue 11): bounds that stay valid however often
the gate is polled while comparisons accumulate.

A confidence sequence (CS) covers the parameter at every time at once, P(∃t: θ ∉ CS_t) ≤ α, so release
pipelines may poll the gate every minute and stop at any look. Each function takes the observations in
arrival order (numpy arrays) and returns the CS at the last time n. ``low`` and ``high`` are separate
one-sided sequences, each at its own α (a two-sided 1 - α sequence is ``alpha_low = alpha_high = α/2``).
The sets are those of time n, not intersected with earlier times: measured with confseq's hedged sequence,
the intersection narrows a 0.95 rate at n = 1,000 by 3 % (0.0448 to 0.0434), and an intersection can go empty when the
candidate's behaviour drifts, which the gate would then have to explain.

Methods, and why (widths of two-sided 95 % sequences, α = 0.025 a side, at n = 1,000 / 5,000; the
alternatives measured with confseq 0.0.11):

- ``rate_cs``: the one-sided beta-binomial mixture of Howard, Ramdas, McAuliffe & Sekhon (AoS 2021,
  conjugate mixtures; confseq ``beta_binomial_log_mixture(is_one_sided=True)``). For a 0.95 rate it is
  0.042 / 0.019 wide, against 0.045 / 0.025 for hedged-capital betting and 0.051 / 0.024 for the
  predictable plug-in empirical Bernstein sequence (Wilson's fixed-n interval, not time-uniform:
  0.027 / 0.012). The
  truncated Beta mixing distribution is laid on 300 alternatives: a finite mixture of likelihood ratios
  is itself a test martingale, so the discretisation costs no validity; tests/reference pins it to confseq.
- ``quantile_cs``: Howard & Ramdas (Bernoulli 2022), a fixed quantile: the order statistics at the ranks
  where that mixture on the process 1{X_i < θ} (and 1{X_i > θ}) crosses 1/α. One-sided mixtures keep it
  valid with ties (a count whose mean is below p only lowers a mixture of alternatives above p).
- ``mean_cs``, ``paired_difference_cs``, ``independent_difference_cs``: hedged-capital betting
  (Waudby-Smith & Ramdas, JRSSB 2024; confseq ``hedged_cs`` with its defaults). Its bets follow the empirical
  variance, which a fixed mixture cannot, and a difference of flags is mostly zeros: for a 2-point paired
  drop (-1 on 2.5 % of events, +1 on 0.5 %) it is 0.036 / 0.018 wide, empirical Bernstein 0.044 / 0.019.
- ``independent_difference_cs`` pairs the i-th candidate flag with the i-th control flag. The lanes are
  independent streams, so the pairs are i.i.d. in [-1, 1] with mean rate(cand) - rate(ref); a CS indexed
  by the number of complete pairs is valid at any wall-clock time, since that number is a time of its own.
  This spends the full α on one sequence (two 0.95 lanes' rate sequences at α/2 each, subtracted, are
  41 % / 29 % wider) but leaves the excess of the longer lane unused: n is the shorter lane's length.
- ``quantile_ratio_cs``: a quantile sequence per lane at half of each α, divided (union bound).
- ``mean_ratio_cs``: the asymptotic CS of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (AoS 2024; for
  i.i.d. means) with the one-sided (half-normal) normal-mixture boundary of Howard et al. (2021) tuned at
  t* = T_OPT, inverted Fieller-style: the ratio r is excluded when the sequence for the mean of
  cand - r·ref excludes 0. Unpaired lanes are paired by arrival as above. Only asymptotically valid
  (unbounded costs admit no finite-sample sequence without a known moment bound), and silent, [0, inf],
  for its first ASYMPTOTIC_BURN_IN pairs.

Arrival order matters: every method assumes the next observation's mean does not depend on when it
arrives. If failures arrive late (a timeout takes longer than an answer), early looks are optimistic.

Place in the flow: pure numpy on what the report queries return; no I/O. ``comparisons_needed`` turns an
undecided interval into the number of further comparisons it is expected to need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Kind = Literal[
    "rate", "mean", "paired_difference", "independent_difference", "quantile", "quantile_ratio", "mean_ratio"
]

T_OPT = 2_000
"""Comparisons (pairs, events per lane) at which the mixture boundaries are tightest. The gate decides
between 10^3 and 10^4 comparisons, and a mixture tuned at t* loses little elsewhere: confseq's Bernoulli
sequence at n = 5,000 is 0.0184 wide tuned at 5,000 and 0.0192 tuned at 1,000 (4 %)."""
ASYMPTOTIC_BURN_IN = 30
"""Pairs before ``mean_ratio_cs`` reports more than [0, inf]: the asymptotic sequence trusts the sample
variance, which at one pair is 0 (every stream would miss at t = 1). Simulated with lognormal costs, the
streams that miss after 10 pairs are no more than those that miss after 30 or 100."""
BET_TRUNCATION = 0.5
"""Hedged capital never stakes more than half its wealth on one observation (Waudby-Smith & Ramdas' c)."""
_ALTERNATIVES = np.exp(np.linspace(math.log(1e-6), math.log(0.999), 300))  # (q - p) / (1 - p), 4.7 % apart
_STEPS = 50  # bisection halvings: 2^-50 of the parameter's range
_FOREVER = 10**12  # comparisons beyond which comparisons_needed answers None
_KINDS: frozenset[str] = frozenset(get_args(Kind))
_LOG_SCALE_KINDS = frozenset({"quantile_ratio", "mean_ratio"})


@dataclass(frozen=True, slots=True)
class SeqInterval:
    """A confidence sequence at its last time.

    ``low`` holds uniformly over time with probability ≥ 1 - alpha_low, ``high`` with ≥ 1 - alpha_high.
    ``n`` counts the observations used: for two samples, the pairs (the shorter lane's length).
    """

    estimate: float
    low: float
    high: float
    n: int


# ---------------------------------------------------------------------------------------------- inputs


def _check_alphas(alpha_low: float, alpha_high: float) -> None:
    for name, alpha in (("alpha_low", alpha_low), ("alpha_high", alpha_high)):
        if not 0 < alpha < 1:  # also rejects nan
            raise ValueError(f"{name} must lie in (0, 1), got {alpha!r}")


def _observations(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (observations in arrival order), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} has no observations (n = 0): a confidence sequence starts at the first one")
    finite = np.isfinite(array)
    if not finite.all():
        position = int(np.argmin(finite))
        raise ValueError(f"{name}[{position}] is {float(array[position])!r}, not a finite number")
    return array


def _flags(values: ArrayLike, name: str) -> FloatArray:
    array = _observations(values, name)
    wrong = (array != 0) & (array != 1)
    if wrong.any():
        position = int(np.argmax(wrong))
        raise ValueError(f"{name}[{position}] is {float(array[position])!r}; flags are 0 or 1")
    return array


def _nonnegative(values: ArrayLike, name: str) -> FloatArray:
    array = _observations(values, name)
    if (array < 0).any():
        position = int(np.argmax(array < 0))
        raise ValueError(f"{name}[{position}] is {float(array[position])!r}; values must be ≥ 0")
    return array


def _same_events(cand: FloatArray, ref: FloatArray) -> None:
    if cand.size != ref.size:
        raise ValueError(f"paired samples come from the same events: {cand.size} candidate vs {ref.size} reference")


def _check_q(q: float) -> None:
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got {q!r}")


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator for values ≥ 0; x/0 is inf and 0/0 is nan (no ratio to estimate)."""
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else math.nan


# ------------------------------------------------------------------------------ hedged-capital betting


def _hedged_bets(x: FloatArray, alpha: float) -> FloatArray:
    """Predictable plug-in bets for x in [0, 1] (WSR's λ^PrPl; confseq ``lambda_predmix_eb``, α per side).

    A regularised running mean and variance (one fake observation at 1/2 with variance 1/4), lagged one
    step so the bet on x_i uses x_1..x_{i-1} only.
    """
    t = np.arange(1, x.size + 1, dtype=np.float64)
    mean = np.minimum((0.5 + np.cumsum(x)) / (t + 1), 1.0)
    variance = (0.25 + np.cumsum((x - mean) ** 2)) / (t + 1)
    lagged = np.concatenate(([0.25], variance[:-1]))
    bets: FloatArray = np.sqrt(2 * math.log(1 / alpha) / (t * np.log1p(t) * lagged))
    return bets


def _hedged_lower(x: FloatArray, alpha: float) -> float:
    """Lower bound at time n of a one-sided hedged-capital CS for the mean of x in [0, 1].

    The capital K_n(m) = Π (1 + λ_i (x_i - m)) with λ_i = min(bet_i, c/m) is a test martingale when the
    mean is m (Ville: it reaches 1/α with probability ≤ α, ever). Every factor falls as m rises, so the
    excluded m form an interval [0, low) and bisection finds its end.
    """
    bets = _hedged_bets(x, alpha)
    threshold = math.log(1 / alpha)

    def excluded(m: float) -> bool:
        stakes = bets if m == 0 else np.minimum(bets, BET_TRUNCATION / m)
        return float(np.log1p(stakes * (x - m)).sum()) >= threshold

    if not excluded(0.0):
        return 0.0
    low, high = 0.0, 1.0  # K_n(1) ≤ 1: m = 1 is never excluded
    for _ in range(_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if excluded(middle) else (low, middle)
    return low


def mean_cs(x: ArrayLike, lo: float, hi: float, *, alpha_low: float, alpha_high: float) -> SeqInterval:
    """Mean of observations known to lie in [lo, hi]: hedged-capital betting, one sequence per side.

    Raises ValueError for no observations, one outside [lo, hi], lo ≥ hi or an α outside (0, 1).
    """
    _check_alphas(alpha_low, alpha_high)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"the range [lo, hi] must be finite with lo < hi, got [{lo!r}, {hi!r}]")
    values = _observations(x, "x")
    outside = (values < lo) | (values > hi)
    if outside.any():
        position = int(np.argmax(outside))
        raise ValueError(f"x[{position}] = {float(values[position])!r} lies outside [{lo!r}, {hi!r}]")
    scaled = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    low = _hedged_lower(scaled, alpha_low)
    high = 1.0 - _hedged_lower(1.0 - scaled, alpha_high)
    width = hi - lo
    return SeqInterval(float(values.mean()), lo + width * low, min(hi, lo + width * high), int(values.size))


def paired_difference_cs(
    cand_flags: ArrayLike, ref_flags: ArrayLike, *, alpha_low: float, alpha_high: float
) -> SeqInterval:
    """Mean of cand - ref per event (candidate vs production on the same events), in [-1, 1]."""
    cand, ref = _flags(cand_flags, "cand_flags"), _flags(ref_flags, "ref_flags")
    _same_events(cand, ref)
    return mean_cs(cand - ref, -1.0, 1.0, alpha_low=alpha_low, alpha_high=alpha_high)


def independent_difference_cs(
    cand_flags: ArrayLike, ref_flags: ArrayLike, *, alpha_low: float, alpha_high: float
) -> SeqInterval:
    """rate(cand) - rate(ref) from two independent lanes (candidate vs control).

    The i-th flag of each lane form a pair (module docstring: valid at any time, n is the shorter lane).
    The estimate uses every flag of both lanes, so with unbalanced lanes it can sit slightly outside the
    bounds, which come from the pairs.
    """
    cand, ref = _flags(cand_flags, "cand_flags"), _flags(ref_flags, "ref_flags")
    pairs = min(cand.size, ref.size)
    paired = mean_cs(cand[:pairs] - ref[:pairs], -1.0, 1.0, alpha_low=alpha_low, alpha_high=alpha_high)
    return SeqInterval(float(cand.mean() - ref.mean()), paired.low, paired.high, pairs)


# ------------------------------------------------------------------------------ beta-binomial mixture


def _logsumexp(values: FloatArray) -> FloatArray:
    top = np.max(values, axis=-1, keepdims=True)
    summed: FloatArray = (top + np.log(np.exp(values - top).sum(axis=-1, keepdims=True)))[..., 0]
    return summed


def _log_upper_mixture(count: ArrayLike, t: ArrayLike, p: float, alpha: float) -> FloatArray:
    """log M_t after ``count`` ones in ``t`` draws: the one-sided beta-binomial mixture against rate p.

    M_t = Σ_k w_k (q_k/p)^count ((1-q_k)/(1-p))^(t-count) over alternatives q_k in (p, 1), with w_k the
    Beta(r/(1-p), r/p) density (mean p) on a geometric grid of q - p, normalised to sum 1; r is confseq's
    ``BetaBinomialMixture::optimal_r`` for v_opt = T_OPT p(1-p). M is a test martingale for rates p and a
    supermartingale for rates below p; it grows with ``count``. ``count`` and ``t`` broadcast.
    """
    two_log = 2 * math.log(1 / (2 * alpha))
    rho = T_OPT * p * (1 - p) / (two_log + math.log1p(two_log))
    r = max(rho - p * (1 - p), 1e-3 * p * (1 - p))
    q = p + (1 - p) * _ALTERNATIVES
    log_weights = (r / (1 - p) - 1) * np.log(q) + (r / p - 1) * np.log1p(-q) + np.log(q - p)  # dq = (q-p) dlog
    log_weights -= _logsumexp(log_weights)
    ones = np.asarray(count, dtype=np.float64)[..., None]
    zeros = np.asarray(t, dtype=np.float64)[..., None] - ones
    return _logsumexp(log_weights + ones * np.log(q / p) + zeros * (np.log1p(-q) - math.log1p(-p)))


def _upper_ranks(t: ArrayLike, p: float, alpha: float) -> IntArray:
    """For each t, the smallest count k with M_t(k) ≥ 1/α (t + 1 when none).

    Ville: P(∃t: #{i ≤ t: Y_i = 1} ≥ k_t) ≤ α for 0/1 draws Y_i whose mean is at most p. Vectorised
    integer bisection over t (log2 t halvings), O(len(t) · 300) each.
    """
    times = np.asarray(t, dtype=np.int64)
    threshold = math.log(1 / alpha)
    low = np.zeros_like(times)  # M_t(0) < 1: zero ones never cross
    high = times + 1
    while (high - low > 1).any():
        middle = (low + high) // 2
        crossed = _log_upper_mixture(middle, times, p, alpha) >= threshold
        high = np.where(crossed, middle, high)
        low = np.where(crossed, low, middle)
    return high


def _rate_lower(successes: int, n: int, alpha: float) -> float:
    """inf{p : M_n(p) < 1/α}: rates that low would have made this many successes unlikely at some time."""
    if successes == 0:
        return 0.0
    threshold = math.log(1 / alpha)
    low, high = 0.0, successes / n  # at the MLE every likelihood ratio is ≤ 1, so p̂ is never excluded
    for _ in range(_STEPS):
        middle = (low + high) / 2
        excluded = float(_log_upper_mixture(successes, n, middle, alpha)) >= threshold
        low, high = (middle, high) if excluded else (low, middle)
    return low


def rate_cs(flags: ArrayLike, *, alpha_low: float, alpha_high: float) -> SeqInterval:
    """Bernoulli rate from 0/1 flags: one-sided beta-binomial mixtures, bounds in [0, 1]."""
    _check_alphas(alpha_low, alpha_high)
    values = _flags(flags, "flags")
    n, successes = int(values.size), int(values.sum())
    low = _rate_lower(successes, n, alpha_low)
    high = 1.0 - _rate_lower(n - successes, n, alpha_high)
    return SeqInterval(successes / n, low, high, n)


# ---------------------------------------------------------------------------------------- quantiles


def _quantile_bounds(values: FloatArray, q: float, alpha_low: float, alpha_high: float) -> SeqInterval:
    """The order statistics that bound the q-quantile θ = inf{x : F(x) ≥ q} uniformly over time.

    ``high`` = X_(k) with k from the mixture on 1{X_i < θ} (mean ≤ q): X_(k) < θ needs k values below θ.
    ``low`` = X_(n+1-k') with k' from the mixture on 1{X_i > θ} (mean ≤ 1 - q): X_(n+1-k') > θ needs k'
    values above θ. -inf / inf when the rank falls outside 1..n.
    """
    ordered = np.sort(values)
    n = int(ordered.size)
    above = int(_upper_ranks([n], q, alpha_high)[0])
    below = n + 1 - int(_upper_ranks([n], 1 - q, alpha_low)[0])
    high = float(ordered[above - 1]) if above <= n else math.inf
    low = float(ordered[below - 1]) if below >= 1 else -math.inf
    rank = min(max(math.ceil(n * q - 1e-9), 1), n)  # inverse of the empirical CDF
    return SeqInterval(float(ordered[rank - 1]), low, high, n)


def quantile_cs(values: ArrayLike, q: float, *, alpha_low: float, alpha_high: float) -> SeqInterval:
    """q-quantile (Howard & Ramdas 2022); the estimate is the empirical quantile X_(⌈nq⌉).

    The bounds are order statistics, -inf / inf while too few values are in to reach a rank.
    """
    _check_alphas(alpha_low, alpha_high)
    _check_q(q)
    return _quantile_bounds(_observations(values, "values"), q, alpha_low, alpha_high)


def quantile_ratio_cs(cand: ArrayLike, ref: ArrayLike, q: float, *, alpha_low: float, alpha_high: float) -> SeqInterval:
    """quantile_q(cand) / quantile_q(ref) from independent lanes of values ≥ 0 (latencies).

    low = cand's lower bound / ref's upper bound, each at alpha_low / 2; high likewise at alpha_high / 2.
    Bounds lie in [0, inf]; high is inf while the reference's lower bound is still 0 or -inf. The estimate
    is the ratio of the empirical quantiles (nan when both are 0).
    """
    _check_alphas(alpha_low, alpha_high)
    _check_q(q)
    cand_values, ref_values = _nonnegative(cand, "cand"), _nonnegative(ref, "ref")
    c = _quantile_bounds(cand_values, q, alpha_low / 2, alpha_high / 2)
    r = _quantile_bounds(ref_values, q, alpha_high / 2, alpha_low / 2)
    low = 0.0 if r.high == math.inf else _ratio(max(c.low, 0.0), r.high)
    high = _ratio(c.high, max(r.low, 0.0)) if c.high > 0 else 0.0
    return SeqInterval(_ratio(c.estimate, r.estimate), 0.0 if math.isnan(low) else low, high, min(c.n, r.n))


# ------------------------------------------------------------------------------ asymptotic, unbounded


def _normal_cdf(z: FloatArray) -> FloatArray:
    """Φ(z) from Numerical Recipes' erfc (fractional error < 1.2e-7 everywhere)."""
    x = np.abs(z) / math.sqrt(2)
    s = 1 / (1 + 0.5 * x)
    poly = -1.13520398 + s * (1.48851587 + s * (-0.82215223 + s * 0.17087277))
    poly = 0.09678418 + s * (-0.18628806 + s * (0.27886807 + s * poly))
    poly = -1.26551223 + s * (1.00002368 + s * (0.37409196 + s * poly))
    tail = 0.5 * s * np.exp(-x * x + poly)  # Φ(-|z|)
    cdf: FloatArray = np.where(z >= 0, 1 - tail, tail)
    return cdf


def _normal_margin(t: ArrayLike, alpha: float) -> FloatArray:
    """u(t) / t for a sum of t standardised terms: the one-sided normal-mixture boundary at level α.

    log M = ½ log(4ρ/(t+ρ)) + s²/(2(t+ρ)) + log Φ(s/√(t+ρ)) (confseq ``OneSidedNormalMixture``, with
    v = t), ρ tuned so the boundary is tightest at t* = T_OPT. Solved for z = s/√(t+ρ) by Newton's
    method, which from the start above the root descends monotonically (z²/2 + log Φ(z) is convex and
    increasing for z ≥ 0).
    """
    times = np.asarray(t, dtype=np.float64)
    two_log = 2 * math.log(1 / (2 * alpha))
    rho = T_OPT / (two_log + math.log1p(two_log))
    target = math.log(1 / alpha) - 0.5 * np.log(4 * rho / (times + rho))
    z = np.sqrt(2 * (target + math.log(2)))  # log Φ ≥ -log 2 for z ≥ 0
    for _ in range(30):
        cdf = _normal_cdf(z)
        density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        z = z - (z * z / 2 + np.log(cdf) - target) / (z + density / cdf)
    margin: FloatArray = z * np.sqrt(times + rho) / times
    return margin


def _fieller_root(moments: tuple[float, float, float, float, float], margin: float, *, lower: bool) -> float:
    """End of {r : |mean(c - r·f)| ≤ margin · sd(c - r·f)} on the given side, clipped to [0, inf].

    (c̄ - r f̄)² = margin² (s_cc - 2 r s_cf + r² s_ff) is a quadratic in r; when the reference mean is
    not itself within reach of 0 (a > 0) its roots bracket the estimate, else that side is unbounded.
    """
    mean_c, mean_f, s_cc, s_ff, s_cf = moments
    m2 = margin * margin
    a = mean_f * mean_f - m2 * s_ff
    if a <= 0:
        return 0.0 if lower else math.inf
    b = mean_c * mean_f - m2 * s_cf
    c = mean_c * mean_c - m2 * s_cc
    root = math.sqrt(max(b * b - a * c, 0.0))
    return max((b - root) / a if lower else (b + root) / a, 0.0)


def mean_ratio_cs(cand: ArrayLike, ref: ArrayLike, *, paired: bool, alpha_low: float, alpha_high: float) -> SeqInterval:
    """mean(cand) / mean(ref) for values ≥ 0 without an upper bound (cost, tokens): asymptotic CS.

    ``paired``: the same events in the same order; otherwise the lanes are paired by arrival and n is the
    shorter one. Bounds lie in [0, inf], and are exactly that for the first ASYMPTOTIC_BURN_IN pairs. The
    estimate uses every value; it is nan when both means are 0. With no spread at all (every value equal)
    the sequence shrinks to the estimate.
    """
    _check_alphas(alpha_low, alpha_high)
    cand_values, ref_values = _nonnegative(cand, "cand"), _nonnegative(ref, "ref")
    if paired:
        _same_events(cand_values, ref_values)
    pairs = min(cand_values.size, ref_values.size)
    estimate = _ratio(float(cand_values.mean()), float(ref_values.mean()))
    if pairs < ASYMPTOTIC_BURN_IN:
        return SeqInterval(estimate, 0.0, math.inf, pairs)
    c, f = cand_values[:pairs], ref_values[:pairs]
    dc, df = c - c.mean(), f - f.mean()
    moments = (float(c.mean()), float(f.mean()), float(dc @ dc) / pairs, float(df @ df) / pairs, float(dc @ df) / pairs)
    low = _fieller_root(moments, float(_normal_margin([pairs], alpha_low)[0]), lower=True)
    high = _fieller_root(moments, float(_normal_margin([pairs], alpha_high)[0]), lower=False)
    return SeqInterval(estimate, low, high, pairs)


# ------------------------------------------------------------------------------------- planning


def comparisons_needed(
    kind: Kind, interval: SeqInterval, *, margin: float, alpha_low: float, alpha_high: float
) -> int | None:
    """How many more comparisons an undecided rule needs before one bound clears ``margin``.

    Args:
        kind: which function made ``interval``; ratios are extrapolated on the log scale.
        interval: the sequence now, at ``interval.n`` comparisons (pairs for two-sample kinds).
        margin: the tolerance on the parameter's own scale, e.g. -0.02 for a rate difference, 1.3 for
            a p95 ratio. An estimate above it waits for ``low`` to rise past it (at alpha_low), one
            below it for ``high`` to fall under it (at alpha_high).
        alpha_low, alpha_high: those the interval was made with.

    Assumes the estimate stays put and the distance from it to the bound shrinks as the one-sided
    normal-mixture boundary does, which every sequence here follows up to its spread. Returns 0 when
    the bound already clears ``margin``; None when it never would (the estimate sits on ``margin``) or
    cannot be told (the bound is still infinite, or 0 for a ratio).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
    _check_alphas(alpha_low, alpha_high)
    if interval.n < 1:
        raise ValueError("the interval has no observations (n = 0)")
    estimate, low, high = interval.estimate, interval.low, interval.high
    if estimate > margin and low > margin:
        return 0
    if estimate < margin and high < margin:
        return 0
    if estimate == margin or math.isnan(estimate):  # on the tolerance, or no estimate: never decides
        return None
    if kind in _LOG_SCALE_KINDS:
        if margin <= 0 or not 0 < estimate < math.inf:
            return None
        with np.errstate(divide="ignore"):
            estimate, low, high, margin = (float(v) for v in np.log([estimate, max(low, 0.0), high, margin]))
    above = estimate > margin
    gap = abs(estimate - margin)
    spread = estimate - low if above else high - estimate
    if not math.isfinite(spread) or spread <= 0:
        return None
    alpha = alpha_low if above else alpha_high
    n = interval.n
    target = float(_normal_margin([n], alpha)[0]) * gap / spread
    far = 2 * n
    while float(_normal_margin([far], alpha)[0]) > target:
        far *= 2
        if far > _FOREVER:
            return None
    near = n  # the margin at n is above target, at far below: bisect for the first t below
    while far - near > 1:
        middle = (near + far) // 2
        near, far = (near, middle) if float(_normal_margin([middle], alpha)[0]) <= target else (middle, far)
    return far - n


# ------------------------------------------------------------------------ every look at once (paths)

Side = Literal["low", "high"]


def mean_excluded(x: ArrayLike, lo: float, hi: float, theta: float, *, alpha: float, side: Side) -> NDArray[np.bool_]:
    """For every t: does ``mean_cs`` on the first t values exclude ``theta`` by its bound on ``side``
    (``low > theta`` or ``high < theta``) at ``alpha``? One pass: the capital at ``theta`` crosses 1/α.

    What a simulation of a gate polled at many times needs (the functions above give one time).
    """
    _check_alphas(alpha, alpha)
    values = _observations(x, "x")
    scaled = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    m = (theta - lo) / (hi - lo)
    if side == "high":
        scaled, m = 1.0 - scaled, 1.0 - m
    if m < 0:
        return np.ones(values.size, dtype=bool)
    if m >= 1:
        return np.zeros(values.size, dtype=bool)
    bets = _hedged_bets(scaled, alpha)
    stakes = bets if m == 0 else np.minimum(bets, BET_TRUNCATION / m)
    crossed: NDArray[np.bool_] = np.cumsum(np.log1p(stakes * (scaled - m))) >= math.log(1 / alpha)
    return crossed


def rate_excluded(
    flags: ArrayLike, p: float, *, alpha: float, side: Side, at: ArrayLike | None = None
) -> NDArray[np.bool_]:
    """For every t (or each t in ``at``; 0 gives False): does ``rate_cs`` on the first t flags exclude
    ``p`` by its bound on ``side``?"""
    _check_alphas(alpha, alpha)
    values = _flags(flags, "flags")
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    times = np.arange(1, values.size + 1) if at is None else np.asarray(at, dtype=np.int64)
    counted = times > 0
    ones = np.concatenate(([0.0], np.cumsum(values)))[times]
    if side == "low":
        low_excludes: NDArray[np.bool_] = counted & (ones >= _upper_ranks(times, p, alpha))
        return low_excludes
    high_excludes: NDArray[np.bool_] = counted & (times - ones >= _upper_ranks(times, 1 - p, alpha))
    return high_excludes


def quantile_bounds_at(
    values: ArrayLike, q: float, times: ArrayLike, *, alpha_low: float, alpha_high: float
) -> tuple[FloatArray, FloatArray]:
    """(low, high) of ``quantile_cs`` on the first t values, for each t in ``times``."""
    _check_alphas(alpha_low, alpha_high)
    _check_q(q)
    data = _observations(values, "values")
    looks = np.asarray(times, dtype=np.int64)
    above = _upper_ranks(looks, q, alpha_high)
    below = looks + 1 - _upper_ranks(looks, 1 - q, alpha_low)
    low, high = np.full(looks.size, -math.inf), np.full(looks.size, math.inf)
    for i, t in enumerate(looks.tolist()):
        ordered = np.sort(data[:t])
        if above[i] <= t:
            high[i] = ordered[above[i] - 1]
        if below[i] >= 1:
            low[i] = ordered[below[i] - 1]
    return low, high


def mean_ratio_excluded(
    cand: ArrayLike, ref: ArrayLike, ratio: float, *, alpha: float, side: Side
) -> NDArray[np.bool_]:
    """For every t: does ``mean_ratio_cs`` (lanes paired by arrival) exclude ``ratio`` on ``side``?

    ``low > ratio`` exactly when the sequence for the mean of cand - ratio·ref lies above 0, and the
    reference mean is clear of 0 (else the bound is 0); ``high < ratio`` when it lies below 0.
    """
    _check_alphas(alpha, alpha)
    c, f = _nonnegative(cand, "cand"), _nonnegative(ref, "ref")
    pairs = min(c.size, f.size)
    c, f = c[:pairs], f[:pairs]
    times = np.arange(1, pairs + 1, dtype=np.float64)
    margin = _normal_margin(times, alpha)

    def mean_and_sd(v: FloatArray) -> tuple[FloatArray, FloatArray]:
        mean = np.cumsum(v) / times
        return mean, np.sqrt(np.maximum(np.cumsum(v * v) / times - mean**2, 0.0))

    d_mean, d_sd = mean_and_sd(c - ratio * f)
    f_mean, f_sd = mean_and_sd(f)
    clear = f_mean > margin * f_sd  # the reference mean is within reach of 0 otherwise
    started = times >= ASYMPTOTIC_BURN_IN
    if side == "low":
        return started & clear & (d_mean - margin * d_sd > 0)
    return started & clear & (d_mean + margin * d_sd < 0)
