"""``shadow gate``: promote, hold or roll back a candidate, by a policy of statistical rules.

A policy (YAML) lists rules such as "JSON validity: no regression > 1 point" or "p95 latency:
no regression > 10%". Each rule is decided on an interval, not on a raw comparison:

- rates: Wilson intervals; differences of rates: Newcombe intervals (paired against production,
  whose answer to the same event is in the same row; independent against the control lane);
- latency, cost and tokens: percentile-bootstrap intervals of the candidate/reference ratio of a
  quantile or a mean, with a Mann-Whitney rank test that must agree before a regression fails;
- similarity and length ratio: bootstrap intervals of quantiles.

A rule *fails* when its whole interval is beyond the allowed amount, *passes* when its estimate
is within it, and is *inconclusive* otherwise; with fewer than ``min_samples`` comparisons it is
*insufficient*, and with none at all (no schema asked for, no tool calls) *not applicable*, which
leaves it out of the verdict. Confidence is family-wise: with k rules each interval is built at 1 - alpha/k
(Bonferroni), so an A/A comparison rarely fails any rule by chance.

Verdict: ``rollback`` when a critical rule fails or more rules fail than ``allowed_failures``;
``promote`` when every rule passes; ``hold`` otherwise (not enough data, or inconclusive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from io import StringIO
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shadow.config import format_config_error
from shadow.errors import ConfigError
from shadow.report.queries import run_query
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
from shadow.storage.store import ClickHouseStore

Row = dict[str, Any]


class Kind(StrEnum):
    PAIRED_RATE = "paired_rate"  # candidate and production on the same rows
    RATE = "rate"  # the candidate's own rate (against thresholds or the control lane)
    RATIO = "ratio"  # a quantile or mean of the candidate relative to the reference
    QUANTILE = "quantile"  # a quantile of the candidate's own per-comparison score


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    kind: Kind
    higher_is_better: bool
    description: str
    candidate: str = ""  # column (or rate definition key)
    production: str = ""  # the production column for paired rates and production references
    eligible: str = "ok"  # which rows count: "ok" (both answered), "all", "tools"
    statistic: str = "quantile"  # for RATIO: "quantile" or "mean"
    q: float = 0.5


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("json_valid_rate", Kind.PAIRED_RATE, True, "share of JSON answers that are valid JSON",
               "candidate_json_valid", "production_json_valid", eligible="json"),
        Metric("schema_valid_rate", Kind.PAIRED_RATE, True, "share of answers that follow the requested schema",
               "candidate_schema_valid", "production_schema_valid"),
        Metric("refusal_rate", Kind.PAIRED_RATE, False, "share of answers that refuse",
               "candidate_refusal", "production_refusal"),
        Metric("error_rate", Kind.PAIRED_RATE, False, "share of calls that failed (timeouts, 429, 5xx, bad bodies)",
               "candidate_error", "production_error", eligible="all"),
        Metric("timeout_rate", Kind.RATE, False, "share of calls that timed out", "timeout", eligible="all"),
        Metric("truncation_rate", Kind.RATE, False, "share of answers cut off at the token limit", "truncated"),
        Metric("tool_name_agreement", Kind.RATE, True, "share of tool-calling answers calling the same tools",
               "tool_names_match", eligible="tools"),
        Metric("tool_args_agreement", Kind.RATE, True,
               "share of tool-calling answers with the same tools and arguments", "tool_args_match",
               eligible="tools"),
        Metric("latency_p50", Kind.RATIO, False, "median latency", "candidate_latency_ms", "production_latency_ms",
               q=0.5),
        Metric("latency_p95", Kind.RATIO, False, "95th percentile latency", "candidate_latency_ms",
               "production_latency_ms", q=0.95),
        Metric("latency_p99", Kind.RATIO, False, "99th percentile latency", "candidate_latency_ms",
               "production_latency_ms", q=0.99),
        Metric("cost_per_request", Kind.RATIO, False, "mean cost per request", "candidate_cost_usd",
               "production_cost_usd", statistic="mean"),
        Metric("output_tokens_per_request", Kind.RATIO, False, "mean output tokens per request",
               "candidate_output_tokens", "production_output_tokens", statistic="mean"),
        Metric("similarity_p10", Kind.QUANTILE, True, "10th percentile of similarity to production", "similarity",
               q=0.1),
        Metric("similarity_p50", Kind.QUANTILE, True, "median similarity to production", "similarity", q=0.5),
        Metric("length_ratio_p50", Kind.QUANTILE, False, "median candidate/production length", "length_ratio",
               q=0.5),
        Metric("length_ratio_p90", Kind.QUANTILE, False, "90th percentile candidate/production length",
               "length_ratio", q=0.9),
    )
}  # fmt: skip


class RuleSettings(BaseModel):
    """One rule of a gate policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="what the rule is called in reports")
    metric: str = Field(description="one of the metrics `shadow gate --metrics` lists")
    against: Literal["production", "control", "auto"] = Field(
        default="auto",
        description="reference for max_regression: auto = the control lane for latency (when one exists) and "
        "for metrics production has no value of, production otherwise",
    )
    max_regression: float | None = Field(
        default=None,
        ge=0,
        description="largest allowed regression: points (0.01 = 1 point) for rates, relative (0.10 = 10%) "
        "for latency, cost and tokens, absolute for similarity and length ratio",
    )
    min: float | None = Field(default=None, description="the candidate's value must be at least this")
    max: float | None = Field(default=None, description="the candidate's value must be at most this")
    critical: bool = Field(default=False, description="a failure rolls back on its own")
    min_samples: int | None = Field(default=None, gt=0, description="overrides the policy's min_samples")
    weight: float = Field(default=1.0, gt=0, description="weight in the score")

    @model_validator(mode="after")
    def _one_condition(self) -> RuleSettings:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(sorted(METRICS))}")
        conditions = [c for c in (self.max_regression, self.min, self.max) if c is not None]
        if len(conditions) != 1:
            raise ValueError("give exactly one of max_regression, min, max")
        metric = METRICS[self.metric]
        if self.max_regression is not None and metric.kind is Kind.RATE and self.against == "production":
            raise ValueError(f"{self.metric} has no production counterpart; compare it with the control or a threshold")
        return self


class PolicySettings(BaseModel):
    """A gate policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="policy", description="shown in gate results")
    confidence: float = Field(default=0.95, gt=0.5, lt=1, description="family-wise confidence of all rules together")
    min_samples: int = Field(default=100, gt=0, description="comparisons a rule needs before it can pass or fail")
    allowed_failures: int = Field(default=0, ge=0, description="non-critical rule failures tolerated (then: hold)")
    bootstrap_resamples: int = Field(default=2000, ge=100, description="bootstrap resamples per interval")
    seed: int = Field(default=0, description="seed of the bootstrap, for repeatable verdicts")
    max_rows: int = Field(default=50_000, gt=0, description="comparisons read per candidate (a deterministic sample)")
    workflows: list[str] = Field(default_factory=list, description="workflows the gate looks at; empty = all")
    rules: list[RuleSettings] = Field(min_length=1)


def load_policy(path: str | Path) -> PolicySettings:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"policy file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"policy file {path} is not valid YAML: {exc}") from exc
    try:
        return PolicySettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"policy file {path} is invalid:\n{format_config_error(exc)}") from exc


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    INSUFFICIENT = "insufficient"
    NOT_APPLICABLE = "not_applicable"  # nothing in the window the rule can judge (no schema, no tool calls)


class Verdict(StrEnum):
    PROMOTE = "promote"
    HOLD = "hold"
    ROLLBACK = "rollback"


EXIT_CODES = {Verdict.PROMOTE: 0, Verdict.ROLLBACK: 1, Verdict.HOLD: 2}


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
class GateResult:
    candidate: str
    verdict: Verdict
    score: float
    rules: tuple[RuleResult, ...]
    policy: str
    window: dict[str, str | None]
    compared: int
    control_rows: int
    reasons: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "verdict": self.verdict.value,
            "score": round(self.score, 4),
            "policy": self.policy,
            "window": self.window,
            "compared": self.compared,
            "control_rows": self.control_rows,
            "reasons": list(self.reasons),
            "rules": [r.to_dict() for r in self.rules],
        }


# --- per-row values ---------------------------------------------------------------------------


def _eligible(rows: list[Row], metric: Metric) -> list[Row]:
    if metric.eligible == "all":
        return rows
    ok = [r for r in rows if r["status"] == "ok"]
    if metric.eligible == "json":
        # Where JSON is in play: either side answered JSON (valid or wrapped) or a schema was asked for.
        keys = (
            "production_json_valid",
            "production_json_extracted",
            "candidate_json_valid",
            "candidate_json_extracted",
        )
        return [r for r in ok if any(r.get(k) for k in keys) or r.get("production_schema_valid") is not None]
    if metric.eligible == "tools":
        return [r for r in ok if (r["production_tool_calls"] or 0) > 0 or (r["candidate_tool_calls"] or 0) > 0]
    return ok


def _flag(row: Row, key: str) -> bool | None:
    if key == "candidate_error":
        return row["status"] in ("candidate_error", "both_error")
    if key == "production_error":
        return row["status"] in ("production_error", "both_error")
    if key == "timeout":
        return bool(row["error_kind"] == "timeout")
    value = row.get(key)
    return None if value is None else bool(value)


def _numbers(rows: list[Row], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]


# --- rule evaluation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
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


def _decide_threshold(rule: RuleSettings, interval: Interval) -> Outcome:
    if rule.min is not None:
        if interval.high < rule.min:
            return Outcome.FAIL
        return Outcome.PASS if interval.estimate >= rule.min else Outcome.INCONCLUSIVE
    assert rule.max is not None
    if interval.low > rule.max:
        return Outcome.FAIL
    return Outcome.PASS if interval.estimate <= rule.max else Outcome.INCONCLUSIVE


def _decide_regression(tolerance: float, regression: Interval) -> Outcome:
    if regression.low > tolerance:
        return Outcome.FAIL
    return Outcome.PASS if regression.estimate <= tolerance + 1e-12 else Outcome.INCONCLUSIVE


def _as_regression(difference: Interval, higher_is_better: bool) -> Interval:
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
    outcome = _decide_threshold(rule, interval)
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
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: _Context, need: int
) -> _Decision:
    eligible = _eligible(rows, metric)
    flags = [f for f in (_flag(r, metric.candidate) for r in eligible) if f is not None]
    if against == "threshold":
        if len(flags) < need:
            return _too_few(len(flags), need)
        return _threshold_decision(rule, metric, wilson(sum(flags), len(flags), ctx.confidence), len(flags))
    if against == "production":
        pairs = [(_flag(r, metric.candidate), _flag(r, metric.production)) for r in eligible]
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
        reference = [f for f in (_flag(r, metric.candidate) for r in _eligible(control, metric)) if f is not None]
        n = len(flags)
        if n < need or len(reference) < need:
            return _too_few(min(n, len(reference)), need, "comparisons (candidate or control lane)", len(reference))
        difference = newcombe_independent(sum(flags), n, sum(reference), len(reference), ctx.confidence)
        reference_rate, reference_n = sum(reference) / len(reference), len(reference)
    regression = _as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    outcome = _decide_regression(rule.max_regression, regression)
    reason = (
        f"{_OUTCOME_WORDS[outcome]}. {metric.description}: candidate {reference_rate + difference.estimate:.1%} vs "
        f"{against} {reference_rate:.1%}; regression {regression.estimate * 100:+.2f} points, interval "
        f"[{regression.low * 100:+.2f}, {regression.high * 100:+.2f}], allowed {rule.max_regression * 100:g}"
    )
    return _Decision(outcome, reason, n, reference_n, regression)


def _quantile_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: _Context, need: int
) -> _Decision:
    values = _numbers(_eligible(rows, metric), metric.candidate)
    if len(values) < need:
        return _too_few(len(values), need, "comparisons with a value")
    if against == "threshold":
        interval = bootstrap_quantile(
            values, metric.q, confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed
        )
        return _threshold_decision(rule, metric, interval, len(values))
    reference = _numbers(_eligible(control, metric), metric.candidate) if against == "control" else []
    if len(reference) < need:
        return _too_few(len(reference), need, "control-lane comparisons with a value", len(reference))
    difference = bootstrap_quantile_difference(
        values, reference, metric.q, confidence=ctx.confidence, resamples=ctx.resamples, seed=ctx.seed
    )
    regression = _as_regression(difference, metric.higher_is_better)
    assert rule.max_regression is not None
    outcome = _decide_regression(rule.max_regression, regression)
    reason = (
        f"{_OUTCOME_WORDS[outcome]}. {metric.description}: candidate minus control {difference.estimate:+.3f}; "
        f"regression interval [{regression.low:+.3f}, {regression.high:+.3f}], allowed {rule.max_regression:g}"
    )
    return _Decision(outcome, reason, len(values), len(reference), regression)


def _ratio_rule(
    rule: RuleSettings, metric: Metric, against: str, rows: list[Row], control: list[Row], ctx: _Context, need: int
) -> _Decision:
    eligible = _eligible(rows, metric)
    if against == "production":
        usable = [r for r in eligible if r.get(metric.candidate) is not None and r.get(metric.production) is not None]
        values = [float(r[metric.candidate]) for r in usable]
        reference = [float(r[metric.production]) for r in usable]
        paired = True
    else:
        values = _numbers(eligible, metric.candidate)
        reference = _numbers(_eligible(control, metric), metric.candidate) if against == "control" else []
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
    outcome = _decide_regression(rule.max_regression, regression)
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


def evaluate_rule(rule: RuleSettings, rows: list[Row], control: list[Row], ctx: _Context) -> RuleResult:
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


def decide(rules: list[RuleResult], allowed_failures: int) -> tuple[Verdict, float, list[str]]:
    """The verdict and score from the rule outcomes."""
    credit = {Outcome.PASS: 1.0, Outcome.INCONCLUSIVE: 0.5, Outcome.INSUFFICIENT: 0.5, Outcome.FAIL: 0.0}
    rules = [r for r in rules if r.outcome is not Outcome.NOT_APPLICABLE]
    if not rules:
        return Verdict.HOLD, 0.0, ["no rule applies to the comparisons in this window"]
    total = sum(r.weight for r in rules)
    score = sum(r.weight * credit[r.outcome] for r in rules) / total
    critical = [r.name for r in rules if r.critical and r.outcome is Outcome.FAIL]
    failed = [r.name for r in rules if r.outcome is Outcome.FAIL]
    if critical:
        return Verdict.ROLLBACK, score, [f"critical rule failed: {name}" for name in critical]
    if len(failed) > allowed_failures:
        return Verdict.ROLLBACK, score, [f"rule failed: {name}" for name in failed]
    if all(r.outcome is Outcome.PASS for r in rules):
        return Verdict.PROMOTE, score, ["every rule passed"]
    reasons = [f"{r.name}: {r.outcome.value}" for r in rules if r.outcome is not Outcome.PASS]
    return Verdict.HOLD, score, reasons


def evaluate_gate(
    store: ClickHouseStore,
    policy: PolicySettings,
    candidate: str,
    start: datetime,
    end: datetime,
    *,
    tenant: str | None = None,
) -> GateResult:
    """Evaluate ``policy`` for ``candidate`` over ``[start, end)``."""
    workflows: list[str | None] = list(policy.workflows) or [None]

    def values(name: str) -> list[Row]:
        out: list[Row] = []
        for workflow in workflows:
            out += run_query(
                store, "comparison_values", start=start, end=end, candidate=name, workflow=workflow, tenant=tenant,
                limit=policy.max_rows,
            )  # fmt: skip
        return out

    rows = values(candidate)
    lanes = run_query(store, "candidate_coverage", start=start, end=end, candidate=None, workflow=None, tenant=tenant)
    controls = sorted({r["candidate"] for r in lanes if r["role"] == "control" and r["candidate"] != candidate})
    # The control lane over the same traffic: the workflows and APIs the candidate answered.
    scope = {(r["workflow"], r["api"]) for r in rows}
    control = [r for name in controls for r in values(name) if (r["workflow"], r["api"]) in scope]
    k = len(policy.rules)
    ctx = _Context(
        confidence=1 - (1 - policy.confidence) / k,
        min_samples=policy.min_samples,
        resamples=policy.bootstrap_resamples,
        seed=policy.seed,
    )
    results = [evaluate_rule(rule, rows, control, ctx) for rule in policy.rules]
    if not rows:
        verdict, score, reasons = Verdict.HOLD, 0.0, [f"no comparisons of {candidate} in this window"]
    else:
        verdict, score, reasons = decide(results, policy.allowed_failures)
    return GateResult(
        candidate=candidate,
        verdict=verdict,
        score=score,
        rules=tuple(results),
        policy=policy.name,
        window={"from": start.isoformat(), "to": end.isoformat()},
        compared=len(rows),
        control_rows=len(control),
        reasons=tuple(reasons),
    )


_VERDICT_STYLE = {Verdict.PROMOTE: "bold green", Verdict.HOLD: "bold yellow", Verdict.ROLLBACK: "bold red"}
_OUTCOME_STYLE = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.INCONCLUSIVE: "yellow",
    Outcome.INSUFFICIENT: "dim",
    Outcome.NOT_APPLICABLE: "dim",
}


def render_gate(result: GateResult, width: int | None = None, color: bool = True) -> str:
    """The gate result for people: the verdict, then one line per rule."""
    console = Console(file=StringIO(), width=width or 200, force_terminal=color, color_system="auto" if color else None)
    console.print(
        Text.assemble(
            (f"{result.verdict.value.upper()}", _VERDICT_STYLE[result.verdict]),
            f"  {result.candidate} — score {result.score:.2f}, policy {result.policy}, "
            f"{result.compared:,} comparisons ({result.control_rows:,} control-lane), "
            f"window {result.window['from']} → {result.window['to']}",
        )
    )
    for reason in result.reasons:
        console.print(f"  · {reason}")
    table = Table(header_style="bold", show_lines=False)
    for name in ("rule", "outcome", "against", "estimate", "interval", "threshold", "n", "reason"):
        table.add_column(name, overflow="fold", justify="right" if name in ("n",) else "left")
    for rule in result.rules:
        estimate = "–" if rule.estimate is None else f"{rule.estimate:+.4g}"
        interval = "–" if rule.interval is None else f"[{rule.interval[0]:+.4g}, {rule.interval[1]:+.4g}]"
        table.add_row(
            rule.name + (" (critical)" if rule.critical else ""),
            Text(rule.outcome.value, style=_OUTCOME_STYLE[rule.outcome]),
            rule.against,
            estimate,
            interval,
            rule.threshold,
            f"{rule.n:,}",
            rule.reason,
        )
    console.print(table)
    return str(console.file.getvalue())  # type: ignore[attr-defined]
