"""The gate's policy floor: the metric catalogue, what a metric reads from a row, and policy files."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from shadow.errors import ConfigError
from shadow.report.gate.policy import (
    METRICS,
    Kind,
    PolicySettings,
    RuleSettings,
    eligible_rows,
    load_policy,
    row_flag,
    row_numbers,
)

ROOT = Path(__file__).resolve().parents[3]


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_policy_loads() -> None:
    policy = load_policy(ROOT / "deploy" / "gate-policy.yaml")
    assert policy.name == "default-rollout" and policy.min_samples == 200
    assert [r.metric for r in policy.rules if r.critical] == ["json_valid_rate", "latency_p95", "tool_args_agreement"]


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"policy file .*nope\.yaml does not exist"):
        load_policy(tmp_path / "nope.yaml")


def test_a_policy_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_policy(policy_file(tmp_path, "rules: [unclosed\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  - {name: x, metric: nope, min: 1}\n", "unknown metric 'nope'; known: cost_per_request, "),
        ("rules:\n  - {name: x, metric: refusal_rate}\n", "give exactly one of max_regression, min, max"),
        ("rules:\n  - {name: x, metric: refusal_rate, min: 0, max: 1}\n", "give exactly one of"),
        ("rules:\n  - {name: x, metric: timeout_rate, against: production, max_regression: 0.01}\n",
         "timeout_rate has no production counterpart"),
        ("rules:\n  - {name: x, metric: refusal_rate, max_regression: -0.1}\n", "max_regression"),
        ("rules:\n  - {name: x, metric: refusal_rate, max: 0.1, colour: red}\n", "colour"),
        ("rules: []\n", "rules"),
        ("false_rollback: 0.6\nrules:\n  - {name: x, metric: refusal_rate, max: 0.1}\n", "false_rollback"),
        ("confidence: 0.95\nrules:\n  - {name: x, metric: refusal_rate, max: 0.1}\n",
         "confidence is no longer a policy setting; it was replaced by false_rollback and false_promotion"),
        ("bootstrap_resamples: 2000\nrules:\n  - {name: x, metric: refusal_rate, max: 0.1}\n",
         "intervals are confidence sequences now"),
    ],
)  # fmt: skip
def test_an_invalid_policy_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="is invalid") as caught:
        load_policy(policy_file(tmp_path, text))
    assert message in str(caught.value)


def test_the_readme_lists_exactly_the_catalogue() -> None:
    # RuleSettings.metric points readers to the README's list: it must not drift from METRICS.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("\nMetrics: ") :].split("\n\n", 1)[0]
    assert set(re.findall(r"`([a-z0-9_]+)`", paragraph)) == set(METRICS)
    assert "README" in (RuleSettings.model_fields["metric"].description or "")


def test_every_comparison_against_production_has_a_production_column() -> None:
    for metric in METRICS.values():
        if metric.kind in (Kind.PAIRED_RATE, Kind.RATIO):
            assert metric.production, metric.name
        if metric.kind is Kind.RATE:
            assert not metric.production, metric.name


def test_policy_defaults() -> None:
    policy = PolicySettings(rules=[RuleSettings(name="r", metric="refusal_rate", max=0.1)])
    assert (policy.false_rollback, policy.false_promotion, policy.min_samples, policy.allowed_failures) == (
        0.01,
        0.05,
        100,
        0,
    )
    assert (policy.workflows, policy.max_loop_lag_ms) == ([], 50.0)
    assert policy.rules[0].against == "auto"


def row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "ok",
        "error_kind": "",
        "production_json_valid": None,
        "candidate_json_valid": None,
        "production_json_extracted": None,
        "candidate_json_extracted": None,
        "production_schema_valid": None,
        "production_tool_calls": 0,
        "candidate_tool_calls": 0,
    }
    return {**base, **values}


def test_json_rows_are_those_where_json_is_in_play() -> None:
    json_valid = METRICS["json_valid_rate"]
    rows = [
        row(production_json_valid=True),
        row(candidate_json_extracted=True),
        row(production_schema_valid=False),
        row(),  # plain text on both sides
        row(status="candidate_error", production_json_valid=True),  # failures are not JSON answers
    ]
    assert eligible_rows(rows, json_valid) == rows[:3]


def test_tool_rows_and_all_rows() -> None:
    rows = [row(production_tool_calls=2), row(candidate_tool_calls=1), row(), row(status="both_error")]
    assert eligible_rows(rows, METRICS["tool_args_agreement"]) == rows[:2]
    assert eligible_rows(rows, METRICS["error_rate"]) == rows
    assert eligible_rows(rows, METRICS["refusal_rate"]) == rows[:3]


@pytest.mark.parametrize(
    ("values", "key", "flag"),
    [
        ({"status": "candidate_error"}, "candidate_error", True),
        ({"status": "both_error"}, "production_error", True),
        ({"status": "production_error"}, "candidate_error", False),
        ({"status": "candidate_error", "error_kind": "timeout"}, "timeout", True),
        ({"status": "candidate_error", "error_kind": "http_429"}, "timeout", False),
        ({"truncated": 1}, "truncated", True),
        ({"truncated": None}, "truncated", None),
    ],
)
def test_row_flags(values: dict[str, object], key: str, flag: bool | None) -> None:
    assert row_flag(row(**values), key) is flag


def test_row_numbers_leave_out_missing_and_non_finite_values() -> None:
    rows = [{"x": 1}, {"x": None}, {"x": math.nan}, {"x": math.inf}, {}, {"x": 2.5}]
    assert row_numbers(rows, "x") == [1.0, 2.5]
