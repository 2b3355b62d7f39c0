"""One rule decided on confidence sequences: rate, quantile and ratio rules, thresholds and regressions.

The second floor of ``shadow.report.gate``: pure functions of comparison rows (no store), so
``evaluate_gate`` feeds them rows read from ClickHouse, in the order they arrived, and tests feed
them plain dicts.

Every interval is a *confidence sequence* (``shadow.report.sequential``): it holds at every number
of comparisons at once, so a rule may be looked at after every new comparison without its error
rates growing. Each rule has two one-sided bounds on its *regression* (positive = worse than the
reference or the threshold allows), at two error rates:

- the *good-side* bound, at ``RuleContext.alpha_rollback``: when even it is beyond the tolerance,
  the rule **fails** (a regression beyond the tolerance is shown; the estimate is beyond it too);
- the *bad-side* bound, at ``RuleContext.alpha_promote``: when it is within the tolerance, the rule
  **passes** (non-inferiority is shown: no regression beyond the tolerance is left possible);
- otherwise the rule is **inconclusive**, and ``RuleResult.needed`` estimates how many more
  comparisons it takes to decide, if the estimate stays where it is.

Too few comparisons make a rule *insufficient*, none at all *not applicable*. A threshold rule on a
rate that the control lane itself (the production model replayed) cannot meet is a *policy* problem:
the threshold is stricter than the model's agreement with itself, and the candidate is judged against
the control lane's own rate instead of failing for it.
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
from shadow.report.sequential import (
    SeqInterval,
    comparisons_needed,
    independent_difference_cs,
    mean_ratio_cs,
    paired_difference_cs,
    quantile_cs,
    quantile_ratio_cs,
    rate_cs,
)


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    INSUFFICIENT = "insufficient"
    NOT_APPLICABLE = "not_applicable"  # nothing in the window the rule can judge (no schema, no tool calls)
    POLICY = "policy_problem"  # the control lane itself cannot meet the rule's threshold


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate and its two one-sided bounds (``low`` and ``high``), as a rule reports them."""

    estimate: float
    low: float
    high: float


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
    needed: int | None = None
    """Further comparisons an inconclusive rule is expected to need (None: decided, or never at this estimate)."""
    weight: float = 1.0
    unit: str = "number"  # of estimate and interval: points, relative, rate, ms, usd, number
    discounted: int = 0
    """Latency samples left out because the worker's loop ran late during the call."""

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
            "needed": self.needed,
            "discounted": self.discounted,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What every rule of one evaluation shares: its error rates (per rule) and sample floors.

    ``alpha_rollback`` bounds the chance that the rule fails a candidate that meets it, over every
    poll (the policy's ``false_rollback`` split across its rules); ``alpha_promote`` bounds the
    chance that it passes a candidate that breaks it.
    """

    alpha_rollback: float
    alpha_promote: float
    min_samples: int
    max_loop_lag_ms: float | None = None


@dataclass(frozen=True, slots=True)
class _Decision:
    """What evaluating one rule produced, before it is dressed as a RuleResult."""

    outcome: Outcome
    reason: str
    n: int
    reference_n: int | None = None
    interval: Interval | None = None
    needed: int | None = None
    discounted: int = 0


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
    """What a rule compares with: "threshold", "production" or "control".

    ``auto`` takes the control lane (replayed vs replayed: the noise floor) wherever one exists,
    production otherwise; what only the candidate has (agreement, similarity) always the control lane.
    """
    if rule.max_regression is None:
        return "threshold"
    if rule.against != "auto":
        return rule.against
    if metric.kind in (Kind.RATE, Kind.QUANTILE):
        return "control"
    return "control" if has_control else "production"


# --- decisions on bounds ---------------------------------------------------------------------------


def decide_regression(tolerance: float, regression: Interval) -> Outcome:
    """A regression interval (positive = worse): fail when its low bound is beyond the tolerance,
    pass when its high bound is within it, inconclusive otherwise."""
    if regression.low > tolerance and regression.estimate > tolerance:
        return Outcome.FAIL
    if regression.high <= tolerance + 1e-12:
        return Outcome.PASS
    return Outcome.INCONCLUSIVE


def decide_threshold(rule: RuleSettings, value: Interval) -> Outcome:
    """A ``min``/``max`` rule: fail when the whole interval misses the bound, pass when all of it meets it."""
    if rule.min is not None:
        if value.high < rule.min:
            return Outcome.FAIL
        return Outcome.PASS if value.low >= rule.min else Outcome.INCONCLUSIVE
    assert rule.max is not None
    if value.low > rule.max:
        return Outcome.FAIL
    return Outcome.PASS if value.high <= rule.max else Outcome.INCONCLUSIVE


def as_regression(difference: Interval, higher_is_better: bool) -> Interval:
    """candidate - reference, turned so that positive means worse."""
    if higher_is_better:
        return Interval(-difference.estimate, -difference.high, -difference.low)
    return difference


def sides(higher_is_better: bool, ctx: RuleContext) -> dict[str, float]:
    """The alphas of a candidate-minus-reference interval's two bounds: the bound a rollback needs
    (the good side of the regression) at ``alpha_rollback``, the one a promotion needs at ``alpha_promote``."""
    if higher_is_better:  # regression = -difference: its low bound is the difference's high bound
        return {"alpha_low": ctx.alpha_promote, "alpha_high": ctx.alpha_rollback}
    return {"alpha_low": ctx.alpha_rollback, "alpha_high": ctx.alpha_promote}


def needed_comparisons(n: int, regression: Interval, tolerance: float, ctx: RuleContext) -> int | None:
    """Further comparisons an undecided rule is expected to need, if its estimate stays put.

    ``shadow.report.sequential.comparisons_needed`` on the regression: the bound that would decide
    it (the low one, at ``alpha_rollback``, when the estimate is beyond the tolerance; else the high
    one, at ``alpha_promote``) is assumed to close in on the estimate as the normal-mixture boundary
    shrinks. 0 when decided; None when the estimate sits on the tolerance (it never decides there)
    or a bound is still unbounded.
    """
    if n <= 0:
        return None
    return comparisons_needed(
        "mean",
        SeqInterval(regression.estimate, regression.low, regression.high, n),
        margin=tolerance,
        alpha_low=ctx.alpha_rollback,
        alpha_high=ctx.alpha_promote,
    )


# --- sentences ----------------------------------------------------------------------------------

_OUTCOME_WORDS = {
    Outcome.PASS: "Within the allowed regression",
    Outcome.FAIL: "Regressed beyond the allowed amount",
    Outcome.INCONCLUSIVE: "Not decided yet",
}


def _fmt(value: float, metric: Metric) -> str:
    if metric.kind in (Kind.PAIRED_RATE, Kind.RATE):
        return f"{value:.1%}"
    return f"{value:.4g}"


def _more(needed: int | None) -> str:
    if needed is None:
        return "; the estimate sits on the tolerance: more data will not decide it"
    return f"; about {needed:,} more comparisons to decide" if needed else ""


def _regression_decision(
    tolerance: float,
    regression: Interval,
    n: int,
    reference_n: int | None,
    text: str,
    ctx: RuleContext,
    discounted: int = 0,
) -> _Decision:
    outcome = decide_regression(tolerance, regression)
    needed = needed_comparisons(n, regression, tolerance, ctx) if outcome is Outcome.INCONCLUSIVE else None
    more = _more(needed) if outcome is Outcome.INCONCLUSIVE else ""
    return _Decision(outcome, f"{_OUTCOME_WORDS[outcome]}. {text}{more}", n, reference_n, regression, needed,
                     discounted)  # fmt: skip


def _threshold_decision(
    rule: RuleSettings, metric: Metric, value: Interval, n: int, ctx: RuleContext, note: str = ""
) -> _Decision:
    outcome = decide_threshold(rule, value)
    bound = f"at least {rule.min:g}" if rule.min is not None else f"at most {rule.max:g}"
    words = {
        Outcome.PASS: "Meets the threshold",
        Outcome.FAIL: "Misses the threshold beyond doubt",
        Outcome.INCONCLUSIVE: "Not decided yet",
    }[outcome]
    needed = None
    if outcome is Outcome.INCONCLUSIVE:
        # As a regression past the threshold: positive = on the wrong side of it.
        limit = rule.min if rule.min is not None else rule.max
        assert limit is not None
        regression = as_regression(Interval(value.estimate - limit, value.low - limit, value.high - limit),
                                   rule.min is not None)  # fmt: skip
        needed = needed_comparisons(n, regression, 0.0, ctx)
    reason = (
        f"{words}. {metric.description}: {_fmt(value.estimate, metric)}, bounds "
        f"[{_fmt(value.low, metric)}, {_fmt(value.high, metric)}], required {bound}{note}"
        + (_more(needed) if outcome is Outcome.INCONCLUSIVE else "")
    )
    return _Decision(outcome, reason, n, None, value, needed)


def _too_few(n: int, needed: int, what: str = "eligible comparisons", reference_n: int | None = None) -> _Decision:
    if n == 0:
        return _Decision(Outcome.NOT_APPLICABLE, f"No {what} in this window: the rule does not apply", 0, reference_n)
    return _Decision(Outcome.INSUFFICIENT, f"{n} {what}, fewer than the {needed} required", n, reference_n,
                     needed=needed - n)  # fmt: skip


def _interval(cs: SeqInterval) -> Interval:
    return Interval(cs.estimate, cs.low, cs.high)


# --- the rules by kind -------------------------------------------------------------------------------


def _paired_flags(rows: list[Row], reference: list[Row], key: str, reference_key: str) -> tuple[list[bool], list[bool]]:
    """(candidate flag, reference flag) of the events both answered, in the candidate's order.

    ``reference`` empty: the reference is the same row's ``reference_key`` (production).
    """
    if not reference:
        pairs = [(row_flag(r, key), row_flag(r, reference_key)) for r in rows]
    else:
        by_event = {r["event_id"]: row_flag(r, reference_key) for r in reference}
        pairs = [(row_flag(r, key), by_event.get(r["event_id"])) for r in rows]
    both = [(c, p) for c, p in pairs if c is not None and p is not None]
    return [c for c, _ in both], [p for _, p in both]


def _rate_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    eligible = eligible_rows(rows, metric)
    flags = [f for f in (row_flag(r, metric.candidate) for r in eligible) if f is not None]
    if against == "threshold":
        return _rate_threshold(rule, metric, flags, control, ctx, need)
    if metric.kind is Kind.PAIRED_RATE:
        # The same events answered by both: production in the same row, or the control lane's row.
        reference_rows = eligible_rows(control, metric) if against == "control" else []
        reference_key = metric.candidate if against == "control" else metric.production
        cand, ref = _paired_flags(eligible, reference_rows, metric.candidate, reference_key)
        n = len(cand)
        if n < need:
            return _too_few(n, need, f"comparisons with both answers ({against})")
        difference = _interval(paired_difference_cs(cand, ref, **sides(metric.higher_is_better, ctx)))
        reference_rate, reference_n = sum(ref) / n, n
    else:
        ref = [f for f in (row_flag(r, metric.candidate) for r in eligible_rows(control, metric)) if f is not None]
        n = len(flags)
        if n < need or len(ref) < need:
            return _too_few(min(n, len(ref)), need, "comparisons (candidate or control lane)", len(ref))
        difference = _interval(independent_difference_cs(flags, ref, **sides(metric.higher_is_better, ctx)))
        reference_rate, reference_n = sum(ref) / len(ref), len(ref)
    regression = as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    text = (
        f"{metric.description}: candidate {reference_rate + difference.estimate:.1%} vs {against} "
        f"{reference_rate:.1%}; regression {regression.estimate * 100:+.2f} points, bounds "
        f"[{regression.low * 100:+.2f}, {regression.high * 100:+.2f}], allowed {rule.max_regression * 100:g}"
    )
    return _regression_decision(rule.max_regression, regression, n, reference_n, text, ctx)


def _rate_threshold(
    rule: RuleSettings, metric: Metric, flags: list[bool], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    """A rate against a fixed threshold, judged against the control lane's own rate when there is one."""
    if len(flags) < need:
        return _too_few(len(flags), need)
    value = _interval(rate_cs(flags, alpha_low=_low_alpha(rule, ctx), alpha_high=_high_alpha(rule, ctx)))
    ref = [f for f in (row_flag(r, metric.candidate) for r in eligible_rows(control, metric)) if f is not None]
    if len(ref) < need:
        return _threshold_decision(rule, metric, value, len(flags), ctx)
    own = _interval(rate_cs(ref, alpha_low=_low_alpha(rule, ctx), alpha_high=_high_alpha(rule, ctx)))
    if decide_threshold(rule, own) is not Outcome.FAIL:
        decision = _threshold_decision(rule, metric, value, len(flags), ctx, f"; the control lane: {own.estimate:.1%}")
        if decision.outcome is not Outcome.FAIL:
            return decision
        # Fail only where the candidate is also worse than the control lane (its noise floor).
        difference = _interval(independent_difference_cs(flags, ref, **sides(metric.higher_is_better, ctx)))
        if as_regression(difference, metric.higher_is_better).low > 0:
            return decision
        reason = decision.reason.replace(
            "Misses the threshold beyond doubt", "Misses the threshold, but is not shown worse than the control lane"
        )
        return _Decision(Outcome.INCONCLUSIVE, reason, len(flags), len(ref), value)
    # The production model replayed cannot meet the threshold: the policy asks for more than the model's
    # agreement with itself. Judge the candidate against the control lane (no regression) instead.
    difference = _interval(independent_difference_cs(flags, ref, **sides(metric.higher_is_better, ctx)))
    regression = as_regression(difference, metric.higher_is_better)
    bound = f"at least {rule.min:g}" if rule.min is not None else f"at most {rule.max:g}"
    reason = (
        f"Policy problem: the control lane's own {metric.description} is {own.estimate:.1%} "
        f"(bounds [{own.low:.1%}, {own.high:.1%}]), so it cannot meet the threshold ({bound}); "
        f"against the control lane the candidate's regression is {regression.estimate * 100:+.2f} points, "
        f"bounds [{regression.low * 100:+.2f}, {regression.high * 100:+.2f}]"
    )
    if regression.low > 0:
        return _Decision(Outcome.FAIL, f"Worse than the control lane. {reason}", len(flags), len(ref), regression)
    return _Decision(Outcome.POLICY, reason, len(flags), len(ref), regression)


def _low_alpha(rule: RuleSettings, ctx: RuleContext) -> float:
    """The alpha of a value's low bound: what a ``max`` rule fails on, or a ``min`` rule passes on."""
    return ctx.alpha_rollback if rule.max is not None else ctx.alpha_promote


def _high_alpha(rule: RuleSettings, ctx: RuleContext) -> float:
    return ctx.alpha_rollback if rule.min is not None else ctx.alpha_promote


def _quantile_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    values = row_numbers(eligible_rows(rows, metric), metric.candidate)
    if len(values) < need:
        return _too_few(len(values), need, "comparisons with a value")
    if against == "threshold":
        value = _interval(quantile_cs(values, metric.q, alpha_low=_low_alpha(rule, ctx),
                                      alpha_high=_high_alpha(rule, ctx)))  # fmt: skip
        return _threshold_decision(rule, metric, value, len(values), ctx)
    reference = row_numbers(eligible_rows(control, metric), metric.candidate) if against == "control" else []
    if len(reference) < need:
        return _too_few(len(reference), need, "control-lane comparisons with a value", len(reference))
    # quantile(candidate) - quantile(control): a sequence per lane, each at half the alpha of its side.
    alphas = sides(metric.higher_is_better, ctx)
    cand = quantile_cs(values, metric.q, alpha_low=alphas["alpha_low"] / 2, alpha_high=alphas["alpha_high"] / 2)
    ref = quantile_cs(reference, metric.q, alpha_low=alphas["alpha_high"] / 2, alpha_high=alphas["alpha_low"] / 2)
    difference = Interval(cand.estimate - ref.estimate, cand.low - ref.high, cand.high - ref.low)
    regression = as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    text = (
        f"{metric.description}: candidate minus control {difference.estimate:+.3f}; regression bounds "
        f"[{regression.low:+.3f}, {regression.high:+.3f}], allowed {rule.max_regression:g}"
    )
    return _regression_decision(rule.max_regression, regression, min(len(values), len(reference)), len(reference),
                                text, ctx)  # fmt: skip


def _latency_rows(rows: list[Row], metric: Metric, ctx: RuleContext) -> tuple[list[Row], int]:
    """Rows whose candidate latency (or time to first token) the worker did not inflate, and how many were left
    out."""
    if not metric.candidate.endswith(("latency_ms", "ttft_ms")) or ctx.max_loop_lag_ms is None:
        return rows, 0
    limit = ctx.max_loop_lag_ms
    kept = [r for r in rows if (r.get("candidate_loop_lag_ms") or 0.0) <= limit]
    return kept, len(rows) - len(kept)


def _ratio_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: RuleContext, need: int
) -> _Decision:
    eligible, discounted = _latency_rows(eligible_rows(rows, metric), metric, ctx)
    if against == "production":
        usable = [r for r in eligible if r.get(metric.candidate) is not None and r.get(metric.production) is not None]
        values = [float(r[metric.candidate]) for r in usable]
        reference = [float(r[metric.production]) for r in usable]
    else:
        values = row_numbers(eligible, metric.candidate)
        kept, control_discounted = _latency_rows(eligible_rows(control, metric), metric, ctx)
        discounted += control_discounted
        reference = row_numbers(kept, metric.candidate) if against == "control" else []
    if len(values) < need:
        return _too_few(len(values), need, "comparisons with a value")
    if against == "threshold":
        low, high = _low_alpha(rule, ctx), _high_alpha(rule, ctx)
        if metric.statistic == "quantile":
            value = _interval(quantile_cs(values, metric.q, alpha_low=low, alpha_high=high))
        else:  # the mean, as a ratio to 1
            value = _interval(mean_ratio_cs(values, [1.0] * len(values), paired=True, alpha_low=low, alpha_high=high))
        return _threshold_decision(rule, metric, value, len(values), ctx)
    if len(reference) < need:
        return _too_few(len(reference), need, f"{against} values", len(reference))
    alphas = sides(False, ctx)  # a ratio's regression is the ratio - 1: lower is better
    if metric.statistic == "quantile":
        ratio = quantile_ratio_cs(values, reference, metric.q, **alphas)
    else:
        ratio = mean_ratio_cs(values, reference, paired=against == "production", **alphas)
    regression = Interval(ratio.estimate - 1, ratio.low - 1, ratio.high - 1)
    assert rule.max_regression is not None
    text = (
        f"{metric.description}: candidate/{against} {ratio.estimate:.3f} ({regression.estimate:+.1%}), bounds "
        f"[{regression.low:+.1%}, {regression.high:+.1%}], allowed {rule.max_regression:+.0%}"
    )
    if discounted:
        text += f"; {discounted:,} samples left out (the worker's loop ran over {ctx.max_loop_lag_ms:g} ms late)"
    return _regression_decision(rule.max_regression, regression, min(len(values), len(reference)), len(reference),
                                text, ctx, discounted)  # fmt: skip


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
    """Decide one rule for a candidate's rows (and the control lane's rows, when the rule uses them).

    Rows are in the order the comparisons arrived: the confidence sequences are over that order.
    """
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
        needed=decision.needed,
        weight=rule.weight,
        unit=_unit(metric, against),
        discounted=decision.discounted,
    )
