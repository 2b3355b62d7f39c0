"""The report's typed input built from plain data: what a JSON fixture or a SQL row may hold."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from shadow.report.html import (
    CandidateScore,
    Distribution,
    GateRuleResult,
    GateVerdict,
    HourlyRates,
    ReportData,
    WorstExample,
    render_report,
)


def test_missing_keys_take_their_defaults() -> None:
    data = ReportData.from_dict({"candidates": [{"candidate": "only", "role": "candidate"}]})
    assert data.title == "" and data.generated_at is None
    assert data.window_start is None and data.window_end is None
    assert data.candidates == (CandidateScore("only", "candidate"),)
    assert data.gate == () and data.distributions == {} and data.timeseries == () and data.worst == ()


def test_numbers_keep_their_type_and_anything_else_is_none() -> None:
    row = CandidateScore.from_dict(
        {"candidate": "c", "role": "control", "compared": 12, "error_rate": Decimal("0.25"), "timeout_rate": "0.1",
         "tool_f1": True, "similarity_p50": math.nan, "json_broken": None, "not_a_column": 3}
    )  # fmt: skip
    assert row.is_control
    assert row.compared == 12 and isinstance(row.compared, int)
    assert row.error_rate == 0.25 and isinstance(row.error_rate, float)
    assert row.timeout_rate is None and row.tool_f1 is None and row.json_broken is None
    assert row.similarity_p50 is not None and math.isnan(row.similarity_p50)  # shown as None would be


def test_times_are_read_as_utc() -> None:
    data = ReportData.from_dict(
        {"generated_at": "2026-11-23T09:00:12Z", "window": {"from": "2026-11-22T09:00:00", "to": "yesterday"}}
    )
    assert data.generated_at == datetime(2026, 11, 23, 9, 0, 12, tzinfo=UTC)
    assert data.window_start == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert data.window_end is None
    hour = HourlyRates.from_dict({"hour": "2026-11-23T10:00:00+02:00", "candidate": "c", "compared": 3})
    assert hour.hour == datetime(2026, 11, 23, 8, tzinfo=UTC) and hour.hour.tzinfo == UTC
    assert HourlyRates.from_dict({"hour": "not an hour", "candidate": "c"}).hour is None
    moment = datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=2)))
    assert HourlyRates.from_dict({"hour": moment, "candidate": "c"}).hour == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_gate_results_as_gate_result_to_dict_has_them() -> None:
    verdict = GateVerdict.from_dict(
        {"candidate": "c", "verdict": "hold", "score": 0.5, "policy": "p", "compared": 10,
         "rules": [{"name": "errors", "metric": "error_rate", "unit": "points", "outcome": "pass", "estimate": 0.01,
                    "interval": [0.0, 0.02], "threshold": "≤ +2.0 pp", "n": 10, "reason": "fine", "p_value": None},
                   {"name": "no interval", "metric": "x", "interval": [1.0]}, "not a rule"]}
    )  # fmt: skip
    first, second = verdict.rules
    assert first == GateRuleResult(
        "errors", "error_rate", "", "pass", 0.01, (0.0, 0.02), "≤ +2.0 pp", 10, "fine", "points"
    )
    assert second.interval is None and second.outcome == ""
    assert verdict.score == 0.5 and verdict.verdict == "hold"


def test_distributions_keep_finite_numbers_only() -> None:
    lists = Distribution.from_dict({"similarity": [0.5, None, math.nan, "x", 1], "length_ratio": "oops"})
    assert lists.similarity == (0.5, 1.0) and lists.length_ratio == ()
    assert lists and not Distribution()


def test_worst_examples_keep_their_texts_and_paths() -> None:
    example = WorstExample.from_dict(
        {"candidate": "c", "event_id": "e", "similarity": None, "production_text": None,
         "json_diff_paths": ["$.a", 3, "$.b"], "tool_diff_paths": None}
    )  # fmt: skip
    assert example == WorstExample("c", "", "e", "", None, "", "", ("$.a", "$.b"), (), "", "")


def test_plain_data_with_missing_keys_renders_as_dashes() -> None:
    row = {"candidate": "only", "role": "candidate", "compared": None, "error_rate": float("nan")}
    page = render_report(ReportData.from_dict({"candidates": [row], "window": {"from": None, "to": None}}))
    assert 'data-metric="error_rate" data-value="null">–<' in page
    assert 'data-metric="tool_f1" data-value="null">–<' in page
    assert "all time" in page
