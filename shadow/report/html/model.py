"""The report's input: typed, immutable values that ``report_data`` builds and ``render_report`` shows.

Every number may be None (no data) and every list may be empty; NaN and ±inf are shown as None
would be. ``from_dict`` builds each value from plain data shaped like the SQL pack's rows and
``GateResult.to_dict()`` (a JSON fixture, a row from ClickHouse): missing keys take their
defaults, a number that is not a number becomes None, times are ISO 8601 text (naive = UTC).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shadow.report.formatting import finite

__all__ = [
    "CandidateScore",
    "Distribution",
    "GateRuleResult",
    "GateVerdict",
    "HourlyRates",
    "ReportData",
    "WorstExample",
    "to_utc",
]

Number = int | float | None


def _number(value: Any) -> Number:
    """Ints stay ints (``data-value`` shows them without a decimal point), other numbers become floats."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    return value if isinstance(value, int | float) else float(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list | tuple) else ()


def _floats(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(number for number in map(finite, value) if number is not None)


def _mappings(value: Any) -> Iterable[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list | tuple) else []


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _time(value: Any) -> datetime | None:
    """An aware datetime (its offset kept; naive = UTC) from a datetime or ISO 8601 text; None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """One candidate's scorecard over the window (all workflows): a row of the ``scorecard`` query."""

    candidate: str
    role: str = "candidate"  # "candidate" or "control" (production's model replayed: the noise floor)
    compared: Number = None
    error_rate: Number = None
    timeout_rate: Number = None
    production_json_valid_rate: Number = None
    candidate_json_valid_rate: Number = None
    json_broken: Number = None
    production_schema_valid_rate: Number = None
    candidate_schema_valid_rate: Number = None
    tool_name_agreement: Number = None
    tool_args_agreement: Number = None
    tool_f1: Number = None
    similarity_p10: Number = None
    similarity_p50: Number = None
    length_ratio_p50: Number = None
    length_ratio_p90: Number = None
    truncations: Number = None
    production_refusal_rate: Number = None
    candidate_refusal_rate: Number = None
    production_latency_p50_ms: Number = None
    production_latency_p95_ms: Number = None
    production_latency_p99_ms: Number = None
    candidate_latency_p50_ms: Number = None
    candidate_latency_p95_ms: Number = None
    candidate_latency_p99_ms: Number = None
    production_cost_per_request_usd: Number = None
    candidate_cost_per_request_usd: Number = None

    @property
    def is_control(self) -> bool:
        return self.role == "control"

    def figure(self, metric: str) -> Number:
        """The value of one scorecard metric by its column name."""
        value: Number = getattr(self, metric)
        return value

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> CandidateScore:
        """From a scorecard row; columns the report does not show are ignored."""
        values = {f.name: _number(row.get(f.name)) for f in fields(cls) if f.name not in ("candidate", "role")}
        return cls(_text(row.get("candidate")), _text(row.get("role")), **values)


@dataclass(frozen=True, slots=True)
class GateRuleResult:
    """One rule of a gate verdict, as ``RuleResult.to_dict()`` has it."""

    name: str
    metric: str
    against: str = ""
    outcome: str = ""  # "pass", "fail", "inconclusive", "insufficient" or "policy_problem"
    estimate: Number = None
    interval: tuple[Number, Number] | None = None
    threshold: str = ""
    n: Number = None
    reason: str = ""
    unit: str = ""  # of estimate and interval: points, relative, rate, ms, usd, number ("" = by the metric)

    @classmethod
    def from_dict(cls, rule: Mapping[str, Any]) -> GateRuleResult:
        interval = rule.get("interval")
        bounds = interval if isinstance(interval, list | tuple) and len(interval) == 2 else None
        return cls(
            name=_text(rule.get("name")),
            metric=_text(rule.get("metric")),
            against=_text(rule.get("against")),
            outcome=_text(rule.get("outcome")),
            estimate=_number(rule.get("estimate")),
            interval=(_number(bounds[0]), _number(bounds[1])) if bounds is not None else None,
            threshold=_text(rule.get("threshold")),
            n=_number(rule.get("n")),
            reason=_text(rule.get("reason")),
            unit=_text(rule.get("unit")),
        )


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """One candidate's gate result, as ``GateResult.to_dict()`` has it."""

    candidate: str
    verdict: str  # "promote", "hold" or "rollback"
    score: Number = None
    rules: tuple[GateRuleResult, ...] = ()

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> GateVerdict:
        return cls(
            candidate=_text(result.get("candidate")),
            verdict=_text(result.get("verdict")),
            score=_number(result.get("score")),
            rules=tuple(GateRuleResult.from_dict(rule) for rule in _mappings(result.get("rules"))),
        )


@dataclass(frozen=True, slots=True)
class Distribution:
    """One candidate's per-comparison values (successful comparisons), binned by the charts."""

    similarity: tuple[float, ...] = ()
    length_ratio: tuple[float, ...] = ()
    candidate_latency_ms: tuple[float, ...] = ()
    production_latency_ms: tuple[float, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.similarity or self.length_ratio or self.candidate_latency_ms or self.production_latency_ms)

    @classmethod
    def from_dict(cls, lists: Mapping[str, Any]) -> Distribution:
        return cls(**{f.name: _floats(lists.get(f.name)) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class HourlyRates:
    """One candidate's figures over one hour: a row of the ``timeseries`` query."""

    hour: datetime | None  # UTC; None when unreadable (such rows are left out of the charts)
    candidate: str
    compared: Number = None
    error_rate: Number = None
    json_broken_rate: Number = None
    tool_args_mismatch_rate: Number = None
    refusal_rate: Number = None
    candidate_latency_p95_ms: Number = None

    def figure(self, metric: str) -> Number:
        value: Number = getattr(self, metric)
        return value

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> HourlyRates:
        values = {f.name: _number(row.get(f.name)) for f in fields(cls) if f.name not in ("hour", "candidate")}
        hour = _time(row.get("hour"))
        return cls(to_utc(hour) if hour else None, _text(row.get("candidate")), **values)


@dataclass(frozen=True, slots=True)
class WorstExample:
    """A comparison worth reading: a row of the ``worst_examples`` query."""

    candidate: str
    workflow: str = ""
    event_id: str = ""
    reason: str = ""
    similarity: Number = None
    production_text: str = ""
    candidate_text: str = ""
    json_diff_paths: tuple[str, ...] = ()
    tool_diff_paths: tuple[str, ...] = ()
    production_tool_calls: str = ""  # raw JSON of the tool calls, "" when there are none
    candidate_tool_calls: str = ""

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> WorstExample:
        return cls(
            candidate=_text(row.get("candidate")),
            workflow=_text(row.get("workflow")),
            event_id=_text(row.get("event_id")),
            reason=_text(row.get("reason")),
            similarity=_number(row.get("similarity")),
            production_text=_text(row.get("production_text")),
            candidate_text=_text(row.get("candidate_text")),
            json_diff_paths=_texts(row.get("json_diff_paths")),
            tool_diff_paths=_texts(row.get("tool_diff_paths")),
            production_tool_calls=_text(row.get("production_tool_calls")),
            candidate_tool_calls=_text(row.get("candidate_tool_calls")),
        )


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything ``shadow report`` shows: built by ``shadow.report.data.report_data``."""

    title: str = "shadow report"
    generated_at: datetime | None = None
    window_start: datetime | None = None  # None: from the beginning
    window_end: datetime | None = None  # None: until now
    candidates: tuple[CandidateScore, ...] = ()  # scorecard order; controls have role "control"
    gate: tuple[GateVerdict, ...] = ()
    distributions: Mapping[str, Distribution] = field(default_factory=dict)  # by candidate name
    timeseries: tuple[HourlyRates, ...] = ()
    worst: tuple[WorstExample, ...] = ()

    @property
    def controls(self) -> set[str]:
        """Names of the control lanes among the candidates."""
        return {row.candidate for row in self.candidates if row.is_control}

    def has_data(self) -> bool:
        return bool(self.candidates or self.gate or self.timeseries or self.worst or self.distributions)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportData:
        """From plain data (e.g. a JSON fixture) shaped as the fields are, with the window as
        ``{"from": ISO | None, "to": ISO | None}``."""
        window = data.get("window")
        start, end = (window.get("from"), window.get("to")) if isinstance(window, Mapping) else (None, None)
        distributions = data.get("distributions")
        return cls(
            title=_text(data.get("title")),
            generated_at=_time(data.get("generated_at")),
            window_start=_time(start),
            window_end=_time(end),
            candidates=tuple(CandidateScore.from_dict(row) for row in _mappings(data.get("candidates"))),
            gate=tuple(GateVerdict.from_dict(result) for result in _mappings(data.get("gate"))),
            distributions={
                str(name): Distribution.from_dict(lists if isinstance(lists, Mapping) else {})
                for name, lists in (distributions.items() if isinstance(distributions, Mapping) else ())
            },
            timeseries=tuple(HourlyRates.from_dict(row) for row in _mappings(data.get("timeseries"))),
            worst=tuple(WorstExample.from_dict(row) for row in _mappings(data.get("worst"))),
        )
