"""One rule decided on an interval: rate, quantile and ratio rules, threshold and regression decisions.

The second floor of ``shadow.report.gate``: pure functions of comparison rows (no store), so
``evaluate_gate`` feeds them rows read from ClickHouse and tests feed them plain dicts.
A rule *fails* when its whole interval is beyond the allowed amount, *passes* when its estimate is
within it, and is *inconclusive* otherwise; too few comparisons make it *insufficient*, none at all
*not applicable*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shadow.report.gate.policy import (
    METRICS,
    Kind,
    Metric,
    Row,
    RuleSettings,
    eligible_rows,
    row_flag,
    row_numbers,
)
from shadow.report.stats import (
    Interval,
    bootstrap_mean,
    bootstrap_quantile,
    bootstrap_quantile_difference,
    bootstrap_ratio,
    mann_whitney_greater,
    newcombe_independent,
    newcombe_paired,
    wilson,
)


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    INSUFFICIENT = "insufficient"
    NOT_APPLICABLE = "not_applicable"  # nothing in the window the rule can judge (no schema, no tool calls)


@dataclass(frozen=True, slots=True)
class RuleResult:
    name: str
    metric: str
    against: str
    critical: bool
    outcome: Outcome
    estimate: float | None
    interval: tuple[float, float] | None
    threshold: str
    n: int
    reference_n: int | None
    reason: str
    p_value: float | None = None
    weight: float = 1.0
    unit: str = "number"  # of estimate and interval: points, relative, rate, ms, usd, number

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "unit": self.unit,
            "against": self.against,
            "critical": self.critical,
            "outcome": self.outcome.value,
            "estimate": self.estimate,
            "interval": list(self.interval) if self.interval else None,
            "threshold": self.threshold,
            "n": self.n,
            "reference_n": self.reference_n,
            "p_value": self.p_value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What every rule of one evaluation shares: per-rule confidence (after Bonferroni) and bootstrap settings."""

    confidence: float
    min_samples: int
    resamples: int
    seed: int


@dataclass(frozen=True, slots=True)
class _Decision:
    """What evaluating one rule produced, before it is dressed as a RuleResult."""

    outcome: Outcome
    reason: str
    n: int
    reference_n: int | None = None
    interval: Interval | None = None
    p_value: float | None = None


def _describe_threshold(rule: RuleSettings, metric: Metric) -> str:
    if rule.min is not None:
        return f">= {rule.min:g}"
    if rule.max is not None:
        return f"<= {rule.max:g}"
    assert rule.max_regression is not None
    if metric.kind is Kind.RATIO:
        return f"regression <= {rule.max_regression:.0%}"
    if metric.kind in (Kind.PAIRED_RATE, Kind.RATE):
        return f"regression <= {rule.max_regression * 100:g} points"
    return f"regression <= {rule.max_regression:g}"


def reference_of(rule: RuleSettings, metric: Metric, has_control: bool) -> str:
    """What a rule compares with: "threshold", "production" or "control"."""
    if rule.max_regression is None:
        return "threshold"
    if rule.against != "auto":
        return rule.against
    # Replayed latency compares with replayed latency (production's was measured in production);
    # what only the candidate has (agreement, similarity) compares with the control lane.
    if metric.kind in (Kind.RATE, Kind.QUANTILE):
        return "control"
    return "control" if metric.name.startswith("latency") and has_control else "production"


def decide_threshold(rule: RuleSettings, interval: Interval) -> Outcome:
    """A ``min``/``max`` rule: fail when the whole interval misses the bound, pass when the estimate meets it."""
    if rule.min is not None:
        if interval.high < rule.min:
            return Outcome.FAIL
        return Outcome.PASS if interval.estimate >= rule.min else Outcome.INCONCLUSIVE
    assert rule.max is not None
    if interval.low > rule.max:
        return Outcome.FAIL
    return Outcome.PASS if interval.estimate <= rule.max else Outcome.INCONCLUSIVE


def decide_regression(tolerance: float, regression: Interval) -> Outcome:
    """A ``max_regression`` rule on a regression interval (positive = worse): fail when all of it is beyond."""
    if regression.low > tolerance:
        return Outcome.FAIL
    return Outcome.PASS if regression.estimate <= tolerance + 1e-12 else Outcome.INCONCLUSIVE


def as_regression(difference: Interval, higher_is_better: bool) -> Interval:
    """candidate - reference, turned so that positive means worse."""
    if higher_is_better:
        return Interval(-difference.estimate, -difference.high, -difference.low)
    return difference


_OUTCOME_WORDS = {
    Outcome.PASS: "Within the allowed regression",
    Outcome.FAIL: "Regressed beyond the allowed amount",
    Outcome.INCONCLUSIVE: "May have regressed; the data cannot tell yet",
}


def _fmt(value: float, metric: Metric) -> str:
    if metric.kind in (Kind.PAIRED_RATE, Kind.RATE):
        return f"{value:.1%}"
    return f"{value:.4g}"


def _threshold_decision(rule: RuleSettings, metric: Metric, interval: Interval, n: int) -> _Decision:
    outcome = decide_threshold(rule, interval)
    bound = f"at least {rule.min:g}" if rule.min is not None else f"at most {rule.max:g}"
    words = {
        Outcome.PASS: "Meets the threshold",
        Outcome.FAIL: "Misses the threshold beyond doubt",
        Outcome.INCONCLUSIVE: "Misses the threshold, but within the uncertainty",
    }[outcome]
    reason = (
        f"{words}. {metric.description}: {_fmt(interval.estimate, metric)}, interval "
        f"[{_fmt(interval.low, metric)}, {_fmt(interval.high, metric)}], required {bound}"
    )
    return _Decision(outcome, reason, n, None, interval)


def _too_few(n: int, needed: int, what: str = "eligible comparisons", reference_n: int | None = None) -> _Decision:
    if n == 0:
        return _Decision(Outcome.NOT_APPLICABLE, f"No {what} in this window: the rule does not apply", 0, reference_n)
    return _Decision(Outcome.INSUFFICIENT, f"{n} {what}, fewer than the {needed} required", n, reference_n)


def _rate_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    eligible = eligible_rows(rows, metric)
    flags = [f for f in (row_flag(r, metric.candidate) for r in eligible) if f is not None]
    if against == "threshold":
        if len(flags) < need:
            return _too_few(len(flags), need)
        return _threshold_decision(rule, metric, wilson(sum(flags), len(flags), ctx.confidence), len(flags))
    if against == "production":
        pairs = [(row_flag(r, metric.candidate), row_flag(r, metric.production)) for r in eligible]
        both = [(c, p) for c, p in pairs if c is not None and p is not None]
        n = len(both)
        if n < need:
            return _too_few(n, need, "comparisons with both answers")
        a = sum(1 for c, p in both if c and p)
        b = sum(1 for c, p in both if c and not p)
        c_only = sum(1 for c, p in both if not c and p)
        difference = newcombe_paired(a, b, c_only, n - a - b - c_only, ctx.confidence)  # candidate - production
        reference_rate, reference_n = (a + c_only) / n, n
    else:
        reference = [
            f for f in (row_flag(r, metric.candidate) for r in eligible_rows(control, metric)) if f is not None
        ]
        n = len(flags)
        if n < need or len(reference) < need:
            return _too_few(min(n, len(reference)), need, "comparisons (candidate or control lane)", len(reference))
        difference = newcombe_independent(sum(flags), n, sum(reference), len(reference), ctx.confidence)
        reference_rate, reference_n = sum(reference) / len(reference), len(reference)
    regression = as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    outcome = decide_regression(rule.max_regression, regression)
    reason = (
        f"{_OUTCOME_WORDS[outcome]}. {metric.description}: candidate {reference_rate + difference.estimate:.1%} vs "
        f"{against} {reference_rate:.1%}; regression {regression.estimate * 100:+.2f} points, interval "
        f"[{regression.low * 100:+.2f}, {regression.high * 100:+.2f}], allowed {rule.max_regression * 100:g}"
    )
    return _Decision(outcome, reason, n, reference_n, regression)


def _quantile_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    values = row_numbers(eligible_rows(rows, metric), metric.candidate)
    if len(values) < need:
        return _too_few(len(values), need, "comparisons with a value")
    if against == "threshold":
        interval = bootstrap_quantile(
            values, metric.q, confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed
        )
        return _threshold_decision(rule, metric, interval, len(values))
    reference = row_numbers(eligible_rows(control, metric), metric.candidate) if against == "control" else []
    if len(reference) < need:
        return _too_few(len(reference), need, "control-lane comparisons with a value", len(reference))
    difference = bootstrap_quantile_difference(
        values, reference, metric.q, confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed
    )
    regression = as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    outcome = decide_regression(rule.max_regression, regression)
    reason = (
        f"{_OUTCOME_WORDS[outcome]}. {metric.description}: candidate minus control {difference.estimate:+.3f}; "
        f"regression interval [{regression.low:+.3f}, {regression.high:+.3f}], allowed {rule.max_regression:g}"
    )
    return _Decision(outcome, reason, len(values), len(reference), regression)


def _ratio_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    eligible = eligible_rows(rows, metric)
    if against == "production":
        usable = [r for r in eligible if r.get(metric.candidate) is not None and r.get(metric.production) is not None]
        values = [float(r[metric.candidate]) for r in usable]
        reference = [float(r[metric.production]) for r in usable]
        paired = True
    else:
        values = row_numbers(eligible, metric.candidate)
        reference = row_numbers(eligible_rows(control, metric), metric.candidate) if against == "control" else []
        paired = False
    if len(values) < need:
        return _too_few(len(values), need, "comparisons with a value")
    if against == "threshold":
        if metric.statistic == "quantile":
            interval = bootstrap_quantile(values, metric.q, confidence=ctx.confidence, resamples=ctx.resamples,
                                          seed=ctx.seed)  # fmt: skip
        else:
            interval = bootstrap_mean(values, confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed)
        return _threshold_decision(rule, metric, interval, len(values))
    if len(reference) < need:
        return _too_few(len(reference), need, f"{against} values", len(reference))
    ratio = bootstrap_ratio(values, reference, statistic=metric.statistic, q=metric.q, paired=paired,
                            confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed)  # fmt: skip
    regression = Interval(ratio.estimate - 1, ratio.low - 1, ratio.high - 1)
    p_value = mann_whitney_greater(values, reference)
    assert rule.max_regression is not None
    outcome = decide_regression(rule.max_regression, regression)
    if outcome is Outcome.FAIL and p_value >= 1 - ctx.confidence:
        # The statistic moved beyond the tolerance but the distributions do not differ: not enough to roll back.
        outcome = Outcome.INCONCLUSIVE
    reason = (
        f"{_OUTCOME_WORDS[outcome]}. {metric.description}: candidate/{against} {ratio.estimate:.3f} "
        f"({regression.estimate:+.1%}), interval [{regression.low:+.1%}, {regression.high:+.1%}], allowed "
        f"{rule.max_regression:+.0%}; rank test p={p_value:.3g}"
    )
    return _Decision(outcome, reason, len(values), len(reference), regression, p_value)


_EVALUATORS = {
    Kind.PAIRED_RATE: _rate_rule,
    Kind.RATE: _rate_rule,
    Kind.QUANTILE: _quantile_rule,
    Kind.RATIO: _ratio_rule,
}


def _unit(metric: Metric, against: str) -> str:
    """What the estimate and interval of a rule measure."""
    rate = metric.kind in (Kind.PAIRED_RATE, Kind.RATE)
    if against != "threshold":
        return "points" if rate else ("relative" if metric.kind is Kind.RATIO else "number")
    if rate:
        return "rate"
    if metric.candidate.endswith("_ms"):
        return "ms"
    return "usd" if metric.candidate.endswith("_usd") else "number"


def evaluate_rule(rule: RuleSettings, rows: list[Row], control: list[Row], ctx: RuleContext) -> RuleResult:
    """Decide one rule for a candidate's rows (and the control lane's rows, when the rule uses them)."""
    metric = METRICS[rule.metric]
    against = reference_of(rule, metric, bool(control))
    if against == "control" and not control:
        decision = _Decision(Outcome.INSUFFICIENT, "No control-lane comparisons in this window to compare with", 0, 0)
    else:
        need = rule.min_samples or ctx.min_samples
        decision = _EVALUATORS[metric.kind](rule, metric, against, rows, control, ctx, need)
    interval = decision.interval
    return RuleResult(
        name=rule.name,
        metric=metric.name,
        against=against,
        critical=rule.critical,
        outcome=decision.outcome,
        estimate=interval.estimate if interval else None,
        interval=(interval.low, interval.high) if interval else None,
        threshold=_describe_threshold(rule, metric),
        n=decision.n,
        reference_n=decision.reference_n,
        reason=decision.reason,
        p_value=decision.p_value,
        weight=rule.weight,
        unit=_unit(metric, against),
    )
