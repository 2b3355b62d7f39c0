"""What a gate can measure and what a policy asks of it: the metric catalogue and the policy file.

The first floor of ``shadow.report.gate``: the catalogue says, for each metric, which columns of a
comparison row it reads and which rows count; ``load_policy`` turns a YAML policy into settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shadow.config import format_config_error
from shadow.errors import ConfigError

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
    eligible: str = "ok"  # which rows count: "ok" (both answered), "all", "json", "tools"
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
        Metric("ttft_p50", Kind.RATIO, False, "median time to first token (streamed calls)", "candidate_ttft_ms",
               "production_ttft_ms", q=0.5),
        Metric("ttft_p95", Kind.RATIO, False, "95th percentile time to first token (streamed calls)",
               "candidate_ttft_ms", "production_ttft_ms", q=0.95),
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


# --- what a metric reads from comparison rows --------------------------------------------------


def eligible_rows(rows: list[Row], metric: Metric) -> list[Row]:
    """The rows ``metric`` is measured on (``Metric.eligible``)."""
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


def row_flag(row: Row, key: str) -> bool | None:
    """A rate's yes/no for one row: a flag column, or a definition key (``candidate_error``, ``timeout``)."""
    if key == "candidate_error":
        return row["status"] in ("candidate_error", "both_error")
    if key == "production_error":
        return row["status"] in ("production_error", "both_error")
    if key == "timeout":
        return bool(row["error_kind"] == "timeout")
    value = row.get(key)
    return None if value is None else bool(value)


def row_numbers(rows: list[Row], key: str) -> list[float]:
    """The finite values of column ``key`` (NULL, NaN and infinities left out)."""
    return [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]


# --- the policy file ---------------------------------------------------------------------------


class RuleSettings(BaseModel):
    """One rule of a gate policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="what the rule is called in reports")
    metric: str = Field(description="a metric of the catalogue (the README's gate section lists them)")
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


# Settings of earlier policies that anytime-valid decisions replaced, and what replaced them.
_REPLACED = {
    "confidence": "false_rollback and false_promotion (error rates that hold however often the gate is polled)",
    "bootstrap_resamples": "nothing: intervals are confidence sequences now, computed exactly, not resampled",
    "seed": "nothing: intervals are confidence sequences now, with no randomness",
}


class PolicySettings(BaseModel):
    """A gate policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="policy", description="shown in gate results")
    false_rollback: float = Field(
        default=0.01,
        gt=0,
        lt=0.5,
        description="chance of rolling back a candidate that meets every rule, over all rules and all polls "
        "together (split evenly across the rules)",
    )
    false_promotion: float = Field(
        default=0.05,
        gt=0,
        lt=0.5,
        description="chance, per rule, of passing a rule that the candidate in truth breaks, however often "
        "the gate is polled",
    )
    min_samples: int = Field(default=100, gt=0, description="comparisons a rule needs before it can pass or fail")
    allowed_failures: int = Field(default=0, ge=0, description="non-critical rule failures tolerated (then: hold)")
    max_rows: int = Field(
        default=50_000, gt=0, description="comparisons read per candidate: the first ones of the window, in order"
    )
    max_loop_lag_ms: float | None = Field(
        default=50.0,
        ge=0,
        description="latency samples taken while the worker's event loop ran this late (the row's "
        "candidate_loop_lag_ms) are left out of latency rules: the worker, not the candidate, made them "
        "slow; null keeps every sample",
    )
    workflows: list[str] = Field(default_factory=list, description="workflows the gate looks at; empty = all")
    workflow_min_comparisons: int | None = Field(
        default=None,
        gt=0,
        description="judge each workflow with at least this many comparisons on its own as well: promote only "
        "when every such workflow passes too, roll back when any fails (a small workflow's regression is not "
        "averaged away); null judges the pooled comparisons only",
    )
    rules: list[RuleSettings] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _replaced_settings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, replacement in _REPLACED.items():
                if key in data:
                    raise ValueError(f"{key} is no longer a policy setting; it was replaced by {replacement}")
        return data


def load_policy(path: str | Path) -> PolicySettings:
    """Read and validate a YAML policy file.

    Raises:
        ConfigError: the file is missing, is not YAML, or does not validate (each bad field named).
    """
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
